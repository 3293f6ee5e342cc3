"""The spec is a valid OpenAPI 3.0.3 document, and every example in it obeys its own schema."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from contract.spec import compile_validator, default_spec_path, iter_examples, load_spec
from contract.tooling.examples import example_errors


def test_spec_has_no_yaml_anchors_or_aliases(spec_path):
    """Specmatic reads an alias (`*id001`) as the string "id001" and fails to load the example."""
    events = yaml.parse(spec_path.read_text(encoding="utf-8"))
    assert not [event for event in events if isinstance(event, yaml.AliasEvent)]


def test_spec_is_valid_openapi_3_0_3(spec_path):
    document, _ = read_from_filename(str(spec_path))
    assert document["openapi"] == "3.0.3"
    validate(document)


EXAMPLES = list(iter_examples(load_spec(default_spec_path())))


def test_spec_carries_the_documented_examples():
    pointers = {pointer for pointer, _, _ in EXAMPLES}
    body = "#/paths/~1api~1invoices/post/requestBody/content/application~1json/examples"
    assert {f"{body}/minimal", f"{body}/full"} <= pointers
    error_statuses = {
        "MalformedRequest",
        "Unauthorized",
        "Forbidden",
        "DuplicateInvoiceNumber",
        "PayloadTooLarge",
        "UnsupportedMediaType",
        "UnprocessableInvoice",
        "UnprocessableChange",
        "InvalidQuery",
        "InvoiceNotFound",
        "KeyLacksPermission",
        "TooManyRequests",
    }
    for name in error_statuses:
        assert f"#/components/responses/{name}/content/application~1json/example" in pointers, name


@pytest.mark.parametrize(("pointer", "schema", "value"), EXAMPLES, ids=[p for p, _, _ in EXAMPLES])
def test_example_validates_against_its_schema(pointer: str, schema: dict[str, Any], value: Any):
    assert example_errors(schema, value) == [], pointer


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "string", "format": "uuid"}, "not-a-uuid"),
        ({"type": "string", "format": "date-time"}, "2026-13-45"),
        ({"type": "string", "format": "email"}, "no-at-sign"),
        ({"type": "string"}, None),
    ],
)
def test_example_validator_checks_formats_and_nullability(schema, value):
    """Guards the test above: a validator that skipped formats or `nullable` would pass anything."""
    assert example_errors(schema, value)
    assert not example_errors({**schema, "nullable": True}, None)


def test_error_examples_carry_their_own_status(spec):
    for pointer, _schema, value in EXAMPLES:
        if isinstance(value, dict) and value.get("status") == "error":
            response_status = {
                "MalformedRequest": 400,
                "Unauthorized": 401,
                "Forbidden": 403,
                "InvoiceNotFound": 404,
                "DuplicateInvoiceNumber": 409,
                "PayloadTooLarge": 413,
                "UnsupportedMediaType": 415,
                "UnprocessableInvoice": 422,
                "UnprocessableChange": 422,
                "InvalidQuery": 422,
                "KeyLacksPermission": 403,
                "TooManyRequests": 429,
            }[pointer.split("/")[3]]
            assert value["status_code"] == response_status, pointer


# OpenAPI 3.0.3: `nullable: true` adds null to `type`'s types, only beside `type`; other keywords
# keep refusing null. (schema, value, valid?) — both validators must agree with each row.
NULLABLE_SEMANTICS = [
    ({"type": "string", "nullable": True}, None, True),
    ({"type": "string"}, None, False),
    ({}, None, True),  # no `type`: any JSON value, null included
    ({"description": "any"}, "NET_30", True),
    ({"nullable": True}, "NET_30", True),  # `nullable` without `type` means nothing (spec check refuses it)
    ({"type": "string", "nullable": True, "enum": ["a"]}, None, False),  # the enum still refuses null
    ({"type": "string", "nullable": True, "enum": ["a", None]}, None, True),
    ({"nullable": True, "allOf": [{"type": "object"}]}, None, False),
    ({"type": "object", "nullable": True, "allOf": [{"type": "object"}]}, None, False),
]


@pytest.mark.parametrize(("schema", "value", "valid"), NULLABLE_SEMANTICS)
def test_examples_and_compiled_validators_read_nullable_as_oas_3_0_3(schema, value, valid):
    """`spec check`'s example validator and the mock's compiled validators agree on null."""
    assert (example_errors(schema, value) == []) is valid
    assert compile_validator(schema).is_valid(value) is valid
