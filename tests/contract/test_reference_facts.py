"""The facts of the API reference (shared/contract-notes.md), one table row each.

A later edit of `openapi.yaml` that drops, renames or retypes a documented field fails here
loudly, with the fact it broke.
"""

from __future__ import annotations

from typing import Any

import pytest

from contract.spec import (
    component_schema,
    default_spec_path,
    inline_refs,
    load_spec,
    operation,
    request_body_schema,
)

SPEC = load_spec(default_spec_path())
REQUEST = request_body_schema(SPEC, "create_invoice")
INVOICE = component_schema(SPEC, "Invoice")
SUMMARY = component_schema(SPEC, "InvoiceSummary")

UUID = {"type": "string", "format": "uuid"}
DATE_TIME = {"type": "string", "format": "date-time"}
INVOICE_TYPES = ["ACCOUNTS_PAYABLE", "ACCOUNTS_RECEIVABLE"]


def shape(schema: dict[str, Any]) -> dict[str, Any]:
    """The keywords a fact speaks about, without descriptions and examples."""
    return {
        k: schema[k] for k in ("type", "format", "nullable", "enum", "minLength", "maxLength") if k in schema
    }


# field, type/format facts, default (or absent), nullable
REQUEST_FACTS = [
    ("target_party_uid", UUID, None, False),
    ("owner_uid", UUID, None, False),
    ("document_uid", UUID, None, False),
    ("invoice_blueprint_uid", UUID, None, True),
    ("issue_date", DATE_TIME, None, True),
    ("due_date", DATE_TIME, None, True),
    ("invoice_number", {"type": "string"}, None, True),
    ("status", {"type": "string"}, "DRAFT", False),
    ("currency", {"type": "string", "minLength": 3, "maxLength": 3}, "USD", False),
    ("invoice_type", {"type": "string", "enum": INVOICE_TYPES}, "ACCOUNTS_RECEIVABLE", False),
    ("invoice_fields", {"type": "object"}, None, False),
]


def test_request_has_exactly_the_documented_fields():
    assert set(REQUEST["properties"]) == {row[0] for row in REQUEST_FACTS}


def test_request_required_set():
    assert set(REQUEST["required"]) == {"target_party_uid", "owner_uid", "document_uid"}


@pytest.mark.parametrize(("field", "facts", "default", "nullable"), REQUEST_FACTS)
def test_request_field(field, facts, default, nullable):
    schema = REQUEST["properties"][field]
    assert {k: v for k, v in shape(schema).items() if k != "nullable"} == facts
    assert schema.get("default") == default
    assert schema.get("nullable", False) is nullable


def test_request_invoice_fields_is_a_map_of_type_and_value():
    fields = REQUEST["properties"]["invoice_fields"]
    assert fields["type"] == "object" and "items" not in fields
    entry = fields["additionalProperties"]
    assert entry["type"] == "object"
    assert set(entry["required"]) == {"type", "value"}


INTEGER_FIELDS = [
    "subtotal_cents",
    "discount_cents",
    "tax_cents",
    "total_cents",
    "pre_payment_credit_notes_cents",
    "amount_due_cents",
    "amount_paid_cents",
    "amount_remaining_cents",
    "overdue_days",
    "age",
]
# field, type/format facts, nullable (choice 1 of the notes)
INVOICE_FACTS = [
    ("uid", UUID, False),
    ("invoice_number", {"type": "string"}, False),
    ("invoice_type", {"type": "string", "enum": INVOICE_TYPES}, False),
    ("status", {"type": "string"}, False),
    ("collection_method", {"type": "string"}, False),
    ("issue_date", DATE_TIME, True),
    ("due_date", DATE_TIME, True),
    ("paid_date", DATE_TIME, True),
    *[(name, {"type": "integer"}, False) for name in INTEGER_FIELDS],
    ("total", {"type": "number"}, False),
    ("currency", {"type": "string", "minLength": 3, "maxLength": 3}, False),
    ("invoice_link", {"type": "string"}, False),
    ("document_uid", UUID, False),
    ("invoice_blueprint_uid", UUID, True),
    ("target_party_uid", UUID, False),
    ("has_comments", {"type": "boolean"}, False),
    ("line_items", {"type": "array"}, False),
    ("invoice_fields", {"type": "array"}, False),
    ("parties", {"type": "object"}, False),
    ("integrations", {"type": "array"}, False),
    ("invoice_notes", {"type": "object"}, False),
    ("comments", {"type": "array"}, False),
]


def test_invoice_lists_every_reference_field_and_requires_all():
    names = {row[0] for row in INVOICE_FACTS}
    assert set(INVOICE["properties"]) == names
    assert set(INVOICE["required"]) == names


@pytest.mark.parametrize(("field", "facts", "nullable"), INVOICE_FACTS)
def test_invoice_field(field, facts, nullable):
    schema = INVOICE["properties"][field]
    assert {k: v for k, v in shape(schema).items() if k != "nullable"} == facts
    assert schema.get("nullable", False) is nullable


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        (
            "line_items.items",
            {
                "uid",
                "invoice_uid",
                "context_type_uid",
                "context_type",
                "context_name",
                "currency",
                "quantity",
                "unit_price",
                "line_total",
            },
        ),
        ("invoice_fields.items", {"key", "value"}),
        ("invoice_fields.items.value", {"type", "original_type", "value"}),
        ("parties", {"client", "service_provider"}),
        ("parties.client", {"uid", "name", "address", "billing_contact", "role"}),
        ("parties.service_provider.billing_contact", {"uid", "party_uid", "name", "title", "email", "phone"}),
        (
            "integrations.items",
            {
                "uid",
                "entity_uid",
                "integration_name",
                "integration_uid",
                "created_at",
                "updated_at",
                "integration_metadata",
            },
        ),
        ("invoice_notes", {"invoice_memo", "invoice_footer"}),
        (
            "comments.items",
            {"uid", "text", "created_at", "last_modified_at", "resolved_by", "resolved_at", "actor"},
        ),
        ("comments.items.actor", {"id", "fullname", "avatar", "email"}),
    ],
)
def test_invoice_nested_shapes(path, fields):
    schema = INVOICE
    for step in path.split("."):
        schema = schema["items"] if step == "items" else schema["properties"][step]
    assert set(schema["properties"]) == fields
    assert set(schema["required"]) == fields


@pytest.mark.parametrize(
    ("path", "facts"),
    [
        ("line_items.items.context_type_uid", UUID),
        ("parties.client.billing_contact.email", {"type": "string", "format": "email"}),
        ("comments.items.resolved_by", {"type": "integer"}),
        ("comments.items.actor.id", {"type": "integer"}),
        ("integrations.items.integration_metadata", {"type": "object"}),
    ],
)
def test_invoice_nested_field_types(path, facts):
    schema = INVOICE
    for step in path.split("."):
        schema = schema["items"] if step == "items" else schema["properties"][step]
    assert {k: v for k, v in shape(schema).items() if k != "nullable"} == facts


def test_invoice_fields_map_in_request_comes_back_as_a_list():
    assert REQUEST["properties"]["invoice_fields"]["type"] == "object"
    assert INVOICE["properties"]["invoice_fields"]["type"] == "array"


def test_summary_is_the_documented_smaller_shape():
    ten_numbers = [name for name in INTEGER_FIELDS if name != "age"] + ["total"]
    expected = {
        "uid",
        "parent_contract",
        "invoice_number",
        *ten_numbers,
        "issue_date",
        "due_date",
        "paid_date",
        "document_uid",
        "status",
        "collection_method",
        "blueprint",
        "parties",
    }
    assert set(SUMMARY["properties"]) == expected
    assert set(SUMMARY["properties"]["parent_contract"]["properties"]) == {"filename", "uid", "is_archived"}
    assert set(SUMMARY["properties"]["blueprint"]["properties"]) == {"is_active"}
    assert set(SUMMARY["properties"]["parties"]["properties"]) == {"client"}


def envelope(schema: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {"properties": {}, "required": []}
    for part in schema["allOf"]:
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    return merged


@pytest.mark.parametrize(
    ("operation_id", "data_schema"),
    [("create_invoice", "Invoice"), ("get_invoice", "Invoice"), ("list_invoices", "InvoicePage")],
)
def test_success_envelope(operation_id, data_schema):
    response = inline_refs(SPEC, operation(SPEC, operation_id)["responses"]["200"])
    body = envelope(response["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"status", "status_code", "message", "data"}
    assert body["properties"]["status"]["enum"] == ["success"]
    assert body["properties"]["data"] == component_schema(SPEC, data_schema)


@pytest.mark.parametrize(
    ("operation_id", "statuses"),
    [
        ("create_invoice", {"200", "400", "401", "403", "409", "413", "415", "422", "429"}),
        ("get_invoice", {"200", "401", "403", "404", "429"}),
        ("list_invoices", {"200", "401", "403", "422", "429"}),
    ],
)
def test_documented_statuses_and_error_envelope(operation_id, statuses):
    """403 is also "key lacks permission" and 429 comes with Retry-After (reference's auth guide)."""
    op = operation(SPEC, operation_id)
    assert set(op["responses"]) == statuses
    error_envelope = component_schema(SPEC, "ErrorEnvelope")
    for status, response in op["responses"].items():
        if status.startswith("4"):
            response = inline_refs(SPEC, response)
            assert response["content"]["application/json"]["schema"] == error_envelope, status


def test_every_operation_uses_bearer_auth():
    assert SPEC["components"]["securitySchemes"]["bearerAuth"] == {
        **SPEC["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    assert SPEC["security"] == [{"bearerAuth": []}]
    for _path, item in SPEC["paths"].items():
        for op in item.values():
            assert op.get("security", SPEC["security"]) == [{"bearerAuth": []}]


def test_401_documents_www_authenticate():
    unauthorized = SPEC["components"]["responses"]["Unauthorized"]
    assert "WWW-Authenticate" in unauthorized["headers"]


def test_create_links_to_the_single_read():
    link = operation(SPEC, "create_invoice")["responses"]["200"]["links"]["GetCreatedInvoice"]
    assert link["operationId"] == "get_invoice"
    assert link["parameters"] == {"invoice_uid": "$response.body#/data/uid"}


def test_spec_is_openapi_3_0_3_for_connexion():
    assert SPEC["openapi"] == "3.0.3"
