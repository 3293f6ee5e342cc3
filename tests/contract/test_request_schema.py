"""The request schema refuses what the contract refuses, and accepts the documented requests.

Each body is checked twice: with the reference OpenAPI 3.0 validator, and with the compiled
JSON Schema that the mock uses (`compile_validator`, jsonschema-rs), which must agree with it.
"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from contract.spec import compile_validator, default_spec_path, load_spec, request_body_schema

SPEC = load_spec(default_spec_path())
SCHEMA = request_body_schema(SPEC, "create_invoice")
EXAMPLES = SPEC["paths"]["/api/invoices"]["post"]["requestBody"]["content"]["application/json"]["examples"]
MINIMAL = EXAMPLES["minimal"]["value"]
FULL = EXAMPLES["full"]["value"]


def reference_valid(body: Any) -> bool:
    return OAS30Validator(SCHEMA, format_checker=oas30_format_checker).is_valid(body)


def compiled_valid(body: Any) -> bool:
    return compile_validator(SCHEMA).is_valid(body)


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = dict(base)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


VALID = {
    "minimal": MINIMAL,
    "full": FULL,
    "nulls for nullables": with_changes(
        MINIMAL, invoice_blueprint_uid=None, issue_date=None, due_date=None, invoice_number=None
    ),
    "blank invoice number": with_changes(MINIMAL, invoice_number="   "),
    "invoice field of any JSON value": with_changes(
        MINIMAL,
        invoice_fields={
            "a": {"type": "number", "value": 3.5},
            "b": {"type": "json", "value": None},
            "c": {"type": "object", "value": {"x": [1]}},
        },
    ),
    "payable": with_changes(MINIMAL, invoice_type="ACCOUNTS_PAYABLE"),
}

INVALID = {
    "missing target_party_uid": with_changes(MINIMAL, target_party_uid=...),
    "missing owner_uid": with_changes(MINIMAL, owner_uid=...),
    "missing document_uid": with_changes(MINIMAL, document_uid=...),
    "2-letter currency": with_changes(MINIMAL, currency="US"),
    "4-letter currency": with_changes(MINIMAL, currency="USDX"),
    "invoice_fields as an array": with_changes(
        MINIMAL, invoice_fields=[{"key": "a", "type": "string", "value": 1}]
    ),
    "invoice field without value": with_changes(MINIMAL, invoice_fields={"a": {"type": "string"}}),
    "invoice field with unknown key": with_changes(
        MINIMAL, invoice_fields={"a": {"type": "string", "value": "x", "extra": 1}}
    ),
    "bad uuid": with_changes(MINIMAL, owner_uid="not-a-uuid"),
    "bad date-time": with_changes(MINIMAL, issue_date="2026-03-30"),
    "unknown invoice_type": with_changes(MINIMAL, invoice_type="ACCOUNTS_SIDEWAYS"),
    "null currency": with_changes(MINIMAL, currency=None),
    "number as invoice_number": with_changes(MINIMAL, invoice_number=42),
    "unknown field": with_changes(MINIMAL, invoice_total=10),
    "array body": [MINIMAL],
}


@pytest.mark.parametrize("body", VALID.values(), ids=VALID.keys())
def test_documented_requests_are_accepted(body):
    assert reference_valid(body)
    assert compiled_valid(body)


@pytest.mark.parametrize("body", INVALID.values(), ids=INVALID.keys())
def test_invalid_requests_are_refused(body):
    assert not reference_valid(body)
    assert not compiled_valid(body)
