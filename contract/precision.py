"""The precision table of `openapi.yaml`: behaviours where two correct servers could differ.

It lives in `info.description` as a Markdown table (so every documentation tool renders it) with
one row per behaviour: `| id | behaviour | verdict | rule |`. Conformance properties cite the ids;
tests read the table through `precision_rows` to check that every cited id exists and that every
row is decided (`fixed`, `open`, or `fixed / open`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["fixed", "open", "fixed / open"]
VERDICTS: frozenset[str] = frozenset({"fixed", "open", "fixed / open"})
_ROW = re.compile(r"^\s*\|\s*(P\d{2,})\s*\|(.*)\|\s*$")


@dataclass(frozen=True)
class PrecisionRow:
    id: str
    behaviour: str
    verdict: str
    rule: str

    @property
    def open(self) -> bool:
        """Whether any part of the behaviour is left open (the kit must accept every reading)."""
        return "open" in self.verdict


class PrecisionTableError(ValueError):
    """The table is malformed: a row without four cells, a duplicate id, an unknown verdict."""


def precision_rows(spec: dict[str, Any]) -> dict[str, PrecisionRow]:
    """`{id: row}` in table order, read from `info.description`."""
    rows: dict[str, PrecisionRow] = {}
    for line in spec.get("info", {}).get("description", "").splitlines():
        match = _ROW.match(line)
        if not match:
            continue
        cells = [cell.strip() for cell in match.group(2).split(" | ")]
        if len(cells) != 3:
            raise PrecisionTableError(
                f"precision row {match.group(1)}: expected 4 cells, got {len(cells) + 1}"
            )
        row = PrecisionRow(match.group(1), *cells)
        if row.id in rows:
            raise PrecisionTableError(f"precision row {row.id} appears twice")
        if row.verdict not in VERDICTS:
            raise PrecisionTableError(
                f"row {row.id}: verdict {row.verdict!r} is not one of {sorted(VERDICTS)}"
            )
        rows[row.id] = row
    return rows
