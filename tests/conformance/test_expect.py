"""The judges of responses accept exactly what the contract allows (no false alarms)."""

from __future__ import annotations

import json

from conformance.client import Exchange
from conformance.expect import envelope_problems, field_path, names_field, same_instant


def exchange(status: int, body: object, content_type: str = "application/json") -> Exchange:
    return Exchange(
        "GET", "http://x/api/invoices", {}, None, status, {"content-type": content_type}, json.dumps(body)
    )


def test_field_paths_as_pointer_or_dotted():
    assert field_path("/invoice_fields/a~1b/value") == ("invoice_fields", "a/b", "value")
    assert field_path("invoice_fields.terms.value") == ("invoice_fields", "terms", "value")
    assert field_path("per_page") == ("per_page",)


def test_a_field_error_must_name_the_field_not_the_body():
    def errors(*fields: str) -> dict:
        return {"errors": [{"field": f, "message": "m", "code": "c"} for f in fields]}

    assert names_field(errors("/currency"), ("currency",))
    assert names_field(errors("currency"), ("currency",))
    assert names_field(errors("/invoice_fields/k"), ("invoice_fields", "k", "value"))
    assert not names_field(errors(""), ("document_uid",))
    assert not names_field(errors("/invoice_fields"), ("invoice_fields", "k", "value"))
    assert not names_field(errors("/status"), ("currency",))


def test_dates_compare_as_instants():
    assert same_instant("2026-03-30T02:00:00+02:00", "2026-03-30T00:00:00Z")
    assert same_instant("2026-03-30T00:00:00.000Z", "2026-03-30T00:00:00+00:00")
    assert not same_instant("2026-03-30T00:00:00Z", "2026-03-30T01:00:00Z")
    assert not same_instant("2026-03-30T00:00:00Z", None)
    assert same_instant(None, None)


def test_envelope_rule():
    assert (
        envelope_problems(exchange(200, {"status": "success", "status_code": 200, "message": "", "data": {}}))
        == []
    )
    assert (
        envelope_problems(
            exchange(404, {"status": "error", "status_code": 404, "message": "m", "errors": []})
        )
        == []
    )
    assert envelope_problems(
        exchange(404, {"status": "error", "status_code": 400, "message": "m", "errors": []})
    )
    assert envelope_problems(exchange(422, {"title": "x", "status": 422}, "application/problem+json"))
