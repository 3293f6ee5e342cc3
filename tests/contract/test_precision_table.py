"""The precision table in `info.description` parses, and every Choice in the spec is a rule for every server.

The conformance kit and the mock's tests cite rows by id (`P21`), so ids must be unique and stable
and every row must carry a verdict the kit knows how to honour.
"""

# precision ids in this file are test data, not citations
from __future__ import annotations

import re
from typing import Any

import pytest

from conformance.runner import catalog
from contract.precision import VERDICTS, PrecisionTableError, precision_rows
from contract.tooling.citations import cited_ids, property_rows, uncited_rows
from tests.conftest import REPO_ROOT
from tests.world import SPEC


def test_the_table_parses_with_unique_ids_in_order_and_known_verdicts():
    rows = precision_rows(SPEC)
    ids = list(rows)
    assert len(ids) >= 53
    assert ids == [f"P{number:02d}" for number in range(1, len(ids) + 1)], "ids are P01, P02, … without gaps"
    for row in rows.values():
        assert row.verdict in VERDICTS, row
        assert row.behaviour and row.rule.endswith((".", ")", "`")), row
        if row.verdict == "fixed / open":
            assert "open" in row.rule, f"{row.id} must say which part is open"


def with_description(text: str) -> dict[str, Any]:
    return {"info": {"description": text}}


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ("| P01 | a | fixed | r. |\n| P01 | b | open | r. |", "appears twice"),
        ("| P01 | a | maybe | r. |", "verdict 'maybe'"),
        ("| P01 | a | fixed |", "expected 4 cells"),
    ],
)
def test_a_malformed_table_is_refused(table: str, complaint: str):
    with pytest.raises(PrecisionTableError, match=complaint):
        precision_rows(with_description(table))


def descriptions(node: Any, pointer: str = "#") -> list[tuple[str, str]]:
    """(pointer, text) of every `description` of the API (the `x-mock` extension excluded)."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "x-mock":
                continue
            if key == "description" and isinstance(value, str):
                found.append((pointer, value))
            else:
                found.extend(descriptions(value, f"{pointer}/{key}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(descriptions(item, f"{pointer}/{index}"))
    return found


def test_every_choice_is_a_rule_for_every_server_not_what_the_mock_does():
    for pointer, text in descriptions(SPEC):
        for paragraph in text.split("\n\n"):
            if "**Choice" in paragraph:
                assert not re.search(r"\bthe mock\b", paragraph, re.IGNORECASE), (pointer, paragraph)


def test_the_real_apis_contract_holds_only_the_real_api():
    """The mock's address and its headers live in `x-mock`, not in `servers` or the API's texts."""
    assert [server["url"] for server in SPEC["servers"]] == ["https://dev.exante.app"]
    for pointer, text in descriptions(SPEC):
        for word in ("Prefer", "X-Mock-Session", "127.0.0.1", "507"):
            assert word not in text, (pointer, word)
    extension = SPEC["x-mock"]
    assert {"Prefer", "X-Mock-Session"} <= set(extension["request-headers"])
    assert "507" in extension["statuses"]
    assert extension["server"].startswith("http://127.0.0.1:")


def test_choices_cited_by_id_exist():
    rows = precision_rows(SPEC)
    cited = set(re.findall(r"\bP\d{2}\b", str(SPEC)))
    assert cited <= set(rows), sorted(cited - set(rows))


def test_every_row_is_cited_by_a_test_or_a_kit_property():
    """A row nothing cites is a promise nothing holds: `spec check` warns of it, this test fails on it."""
    assert uncited_rows(SPEC, REPO_ROOT) == []


def test_the_kit_properties_rows_read_as_text_are_the_catalogs():
    """The citations scan reads `rows=` as text (the tooling imports no kit): it must see what the kit has."""
    from_catalog = {row for item in catalog() for row in item.rows}
    from_text: set[str] = set()
    for path in (REPO_ROOT / "conformance" / "properties").glob("*.py"):
        from_text |= property_rows(path.read_text(encoding="utf-8"))
    assert from_text == from_catalog


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("holds P07 and P37", {"P07", "P37"}),
        ("P54-P57", {"P54", "P55", "P56", "P57"}),
        ("(P68\u2013P70)", {"P68", "P69", "P70"}),
        ("P01..P02, P09", {"P01", "P02", "P09"}),
        ("test_p24_lower_case, P1, P123, XP12", set()),
    ],
)
def test_citations_are_ids_and_ranges(text: str, ids: set[str]):
    assert cited_ids(text) == ids
