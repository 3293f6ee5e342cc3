"""Every property follows the precision table: the rows it cites exist in openapi.yaml's table."""

from __future__ import annotations

from conformance.runner import catalog
from contract.precision import precision_rows
from contract.spec import default_spec_path, load_spec


def test_every_cited_precision_row_exists():
    rows = precision_rows(load_spec(default_spec_path()))
    cited = {p.name: p.rows for p in catalog() if p.rows}
    unknown = {name: [r for r in ids if r not in rows] for name, ids in cited.items()}
    assert not {name: ids for name, ids in unknown.items() if ids}, unknown
    assert cited  # the properties do cite rows


def test_the_report_shows_the_rows_a_property_follows():
    item = next(p for p in catalog() if p.name == "concurrent_creates_one_number")
    assert "P33" in item.rows
