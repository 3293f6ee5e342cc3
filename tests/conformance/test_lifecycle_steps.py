"""The lifecycle properties' arithmetic and models, without a server: rounding half up in cents,
invoice_fields merged by key, the probe's reading of a missing route."""

from __future__ import annotations

from conformance.client import Exchange
from conformance.properties.lifecycle import (
    cents,
    fields_match,
    fields_view,
    immutable_fields,
    merged_fields,
    names_the_invoice,
)
from contract.spec import default_spec_path, load_spec


def entry(key, kind, value, stored=None):
    return {"key": key, "value": {"type": stored or kind, "original_type": kind, "value": value}}


def test_cents_round_half_up_on_the_exact_product():
    assert cents(1.5, 12345) == 18518  # 18517.5 -> up
    assert cents(2.25, 1) == 2  # 2.25 -> down
    assert cents(0.5, 1) == 1  # half -> up
    assert cents("0.1", 3) == 0
    assert cents(3, 15000) == 45000


def test_fields_merge_by_key_in_place_and_append():
    before = [entry("payment_terms", "string", "NET_30"), entry("cost_center", "number", 4711)]
    sent = {"cost_center": {"type": "string", "value": "x"}, "new": {"type": "boolean", "value": True}}
    expected = merged_fields(before, sent)
    assert [key for key, _, _ in expected] == ["payment_terms", "cost_center", "new"]
    good = [
        entry("payment_terms", "string", "NET_30"),
        entry("cost_center", "string", "x"),
        entry("new", "boolean", True),
    ]
    assert fields_match(expected, fields_view(good))
    appended_first = [good[0], good[2], good[1]]
    assert not fields_match(expected, fields_view(appended_first))
    dropped = good[1:]
    assert not fields_match(expected, fields_view(dropped))


def test_a_normalised_type_hides_the_value_from_comparison():
    """P13: when the stored type differs from the sent one, the value may be normalised too."""
    expected = merged_fields([], {"n": {"type": "int", "value": "7"}})
    assert fields_match(expected, fields_view([entry("n", "int", 7, stored="number")]))
    assert not fields_match(expected, fields_view([entry("n", "int", 7)]))


def test_immutable_fields_come_from_the_spec():
    spec = load_spec(default_spec_path())
    names = immutable_fields(spec)
    assert "owner_uid" in names and "invoice_type" in names and "status" not in names
    assert "uid" not in immutable_fields(spec, "bulk_update_invoices")
    assert "invoice_fields" in immutable_fields(spec, "bulk_update_invoices")


def answer(status, body):
    import json

    return Exchange("PUT", "http://x/api/invoices/u", {}, b"{}", status, {}, json.dumps(body))


def test_a_404_naming_the_invoice_is_a_served_route():
    missing = answer(404, {"status": "error", "status_code": 404, "message": "no route", "errors": []})
    named = answer(
        404,
        {
            "status": "error",
            "status_code": 404,
            "message": "m",
            "errors": [{"field": "invoice_uid", "message": "m", "code": "not_found"}],
        },
    )
    assert not names_the_invoice(missing)
    assert names_the_invoice(named)
