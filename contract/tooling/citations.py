"""Which precision rows some test cites: a row no test names is a promise nothing holds.

A row is cited by its id (`P24`) in a test file under `tests/`, or in a kit property's `rows=`
under `conformance/properties/`; a range (`P54-P61`, `P54..P61`, or with an en or em dash) cites
every id in it.
The files are read as text, not imported: the spec tooling stays independent of the kit and the
mock (ARCHITECTURE.md), and a test is found by what it says, the way a reader would find it.

A test of this machinery (or of the table's parser) names ids as data, not as citations: a file
holding the line in `NOT_CITATIONS` is skipped, so such a test cannot make a row look held (P01 was
"cited" that way by the parser's tests alone until issue 19's mutation check found it).

Only a source checkout has the tests: installed from a wheel there is no `tests/` next to the
packages, and `uncited_rows` answers `None` (nothing to say) rather than "every row is uncited".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from contract.precision import precision_rows
from contract.tooling.model import Tally

_ID = re.compile(r"\bP(\d{2})\b")
_RANGE = re.compile("\\bP(\\d{2})\\s*(?:-|\u2013|\u2014|\\.\\.)\\s*P(\\d{2})\\b")
_ROWS_ARGUMENT = re.compile(r"\brows\s*=\s*\(([^)]*)\)")
TABLE = "#/info/description"
NOT_CITATIONS = "# precision ids in this file are test data, not citations"


def checkout_root() -> Path:
    """The directory holding the `contract` package: a repository checkout, or site-packages."""
    return Path(__file__).resolve().parent.parent.parent


def cited_ids(text: str) -> set[str]:
    """Every row id `text` names, ranges expanded."""
    ids = {f"P{number}" for number in _ID.findall(text)}
    for first, last in _RANGE.findall(text):
        ids.update(f"P{number:02d}" for number in range(int(first), int(last) + 1))
    return ids


def property_rows(text: str) -> set[str]:
    """The ids of the `rows=(...)` arguments in a kit module's source."""
    return {row for argument in _ROWS_ARGUMENT.findall(text) for row in cited_ids(argument)}


def _read(paths: Iterable[Path]) -> Iterable[str]:
    for path in sorted(paths):
        yield path.read_text(encoding="utf-8", errors="replace")


def cited_rows(root: Path) -> set[str] | None:
    """The ids cited under `root`'s `tests/` and kit properties; `None` when `root` has no `tests/`."""
    tests = root / "tests"
    if not tests.is_dir():
        return None
    cited: set[str] = set()
    for text in _read(tests.rglob("*.py")):
        if NOT_CITATIONS not in text:
            cited |= cited_ids(text)
    for text in _read((root / "conformance" / "properties").glob("*.py")):
        cited |= property_rows(text)
    return cited


def uncited_rows(spec: dict[str, Any], root: Path | None = None) -> list[str] | None:
    """The spec's row ids, in table order, that nothing under `root` cites (`None`: no tests here)."""
    cited = cited_rows(checkout_root() if root is None else root)
    if cited is None:
        return None
    return [row for row in precision_rows(spec) if row not in cited]


def check_citations(spec: dict[str, Any], root: Path | None = None) -> Tally:
    """A warning naming every uncited row (one finding for the table), or nothing outside a checkout."""
    tally = Tally()
    uncited = uncited_rows(spec, root)
    if uncited is None:
        return tally
    tally.checked = len(precision_rows(spec))
    if uncited:
        tally.add(TABLE, f"precision rows no test cites: {' '.join(uncited)}")
    return tally
