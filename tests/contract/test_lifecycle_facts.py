"""The facts of the reference's sibling pages (shared/contract-notes.md, "Sibling endpoints" and
"More facts"), one test each: update, bulk update, bulk delete, line items, scopes and rate limits.

Each body rule is checked on the schema and with the compiled validator the mock uses, so a spec
edit that wraps a raw array in an object, drops a bound or turns cents into a decimal fails here
with the fact it broke.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from contract.facts import read_facts
from contract.spec import (
    compile_validator,
    component_schema,
    default_spec_path,
    inline_refs,
    iter_operations,
    load_spec,
    operation,
    request_body_schema,
)
from contract.world import load_world

SPEC = load_spec(default_spec_path())
WORLD = load_world()
UID = "8f14e45f-ceea-4467-9a1c-6f3e2b1a0d21"
OTHER_UID = "9a25f56a-dffb-4578-8b2d-7a4f3c2b1e32"
READS = {"get_invoice", "list_invoices"}
WRITES = {
    "create_invoice",
    "update_invoice",
    "bulk_update_invoices",
    "bulk_delete_invoices",
    "create_line_items",
    "update_line_items",
    "delete_line_items",
}


def body_schema(operation_id: str) -> dict[str, Any]:
    return request_body_schema(SPEC, operation_id)


def valid(operation_id: str, body: Any) -> bool:
    return compile_validator(body_schema(operation_id)).is_valid(body)


def request_examples(operation_id: str) -> dict[str, Any]:
    content = operation(SPEC, operation_id)["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in content["examples"].items()}


def response_examples(operation_id: str, status: str = "200") -> dict[str, Any]:
    response = inline_refs(SPEC, operation(SPEC, operation_id)["responses"][status])
    content = response["content"]["application/json"]
    return {name: example["value"] for name, example in content.get("examples", {}).items()}


def data_schema(operation_id: str) -> dict[str, Any]:
    response = inline_refs(SPEC, operation(SPEC, operation_id)["responses"]["200"])
    parts = response["content"]["application/json"]["schema"]["allOf"]
    return next(part["properties"]["data"] for part in parts if "data" in part.get("properties", {}))


# -- PUT /api/invoices/{invoice_uid} ---------------------------------------------------------


def test_update_has_the_reference_example_body_fields_and_no_owner_or_type():
    schema = body_schema("update_invoice")
    assert set(schema["properties"]) == {
        "target_party_uid",
        "document_uid",
        "invoice_blueprint_uid",
        "invoice_number",
        "status",
        "collection_method",
        "issue_date",
        "due_date",
        "paid_date",
        "currency",
        "invoice_fields",
    }
    assert schema["additionalProperties"] is False and not schema.get("required")
    assert not valid("update_invoice", {"owner_uid": "10000000-0000-4000-8000-000000000001"})
    assert not valid("update_invoice", {"invoice_type": "ACCOUNTS_PAYABLE"})
    assert valid("update_invoice", {})
    assert valid("update_invoice", {"collection_method": "charge_automatically", "invoice_fields": {}})


def test_update_answers_the_full_invoice():
    assert data_schema("update_invoice") == component_schema(SPEC, "Invoice")


# -- PUT /api/invoices -----------------------------------------------------------------------


def test_bulk_update_body_is_a_raw_array_of_the_reference_item_fields():
    schema = body_schema("bulk_update_invoices")
    assert schema["type"] == "array"
    item = schema["items"]
    assert set(item["properties"]) == {
        "uid",
        "status",
        "issue_date",
        "due_date",
        "paid_date",
        "invoice_number",
        "collection_method",
        "currency",
        "target_party_uid",
    }
    assert item["required"] == ["uid"]
    assert valid("bulk_update_invoices", [{"uid": UID, "status": "SENT"}])
    assert not valid("bulk_update_invoices", {"uid": UID, "status": "SENT"})  # not wrapped in an object
    assert not valid("bulk_update_invoices", {"items": [{"uid": UID}]})


def test_bulk_update_answers_an_array_of_invoices_with_the_count_in_the_message():
    data = data_schema("bulk_update_invoices")
    assert data["type"] == "array" and data["items"] == component_schema(SPEC, "Invoice")
    examples = response_examples("bulk_update_invoices")
    assert examples
    for body in examples.values():
        assert body["message"] == f"Successfully updated {len(body['data'])} invoice(s)"
    assert "Successfully updated 2 invoice(s)" in str(component_schema(SPEC, "InvoiceArrayEnvelope"))


# -- DELETE /api/invoices --------------------------------------------------------------------


def test_bulk_delete_body_is_a_raw_array_of_1_to_100_uids():
    schema = body_schema("bulk_delete_invoices")
    assert (schema["type"], schema["minItems"], schema["maxItems"]) == ("array", 1, 100)
    assert schema["items"] == {**schema["items"], "type": "string", "format": "uuid"}
    uids = [f"8f14e45f-ceea-4467-9a1c-{index:012x}" for index in range(101)]
    assert valid("bulk_delete_invoices", uids[:1]) and valid("bulk_delete_invoices", uids[:100])
    assert not valid("bulk_delete_invoices", [])
    assert not valid("bulk_delete_invoices", uids)
    assert not valid("bulk_delete_invoices", {"uids": uids[:2]})
    assert not valid("bulk_delete_invoices", ["not-a-uuid"])


def test_bulk_delete_answers_success_with_empty_data():
    assert set(operation(SPEC, "bulk_delete_invoices")["responses"]) >= {"200"}
    assert operation(SPEC, "bulk_delete_invoices")["responses"]["200"]["description"] == "Invoices deleted."
    assert data_schema("bulk_delete_invoices")["additionalProperties"] is False
    for body in response_examples("bulk_delete_invoices").values():
        assert body == {"status": "success", "status_code": 200, "message": "Success", "data": {}}


def test_there_is_no_single_invoice_delete():
    assert "delete" not in SPEC["paths"]["/api/invoices/{invoice_uid}"]


# -- /api/invoices/{invoice_uid}/line_items --------------------------------------------------

REFERENCE_LINE = {
    "context_type": "PRODUCT",
    "sku": "SKU-001",
    "quantity": 2,
    "unit_price": 12500,
    "currency": "USD",
}


def test_line_item_create_takes_one_object_or_an_array():
    assert valid("create_line_items", REFERENCE_LINE)
    assert valid("create_line_items", [REFERENCE_LINE, {**REFERENCE_LINE, "sku": "SKU-002"}])
    for scalar in (1, "SKU-001", None, True):
        assert not valid("create_line_items", scalar), scalar
    assert not valid("create_line_items", [])
    assert not valid("create_line_items", [REFERENCE_LINE] * 101)
    assert valid("create_line_items", [REFERENCE_LINE] * 100)


def test_line_item_fields_and_units_are_the_references():
    line = component_schema(SPEC, "LineItemCreate")
    assert set(line["properties"]) == {"context_type", "sku", "quantity", "unit_price", "currency"}
    assert set(line["properties"]["context_type"]["enum"]) == {"DISCOUNT", "PRODUCT"}
    assert line["properties"]["quantity"]["minimum"] == 0
    assert line["properties"]["currency"]["minLength"] == line["properties"]["currency"]["maxLength"] == 3
    unit_price = line["properties"]["unit_price"]
    assert unit_price["type"] == "integer" and "in cents" in unit_price["description"]
    assert not valid("create_line_items", {**REFERENCE_LINE, "unit_price": 125.0 + 0.5})
    assert not valid("create_line_items", {**REFERENCE_LINE, "quantity": -1})
    assert not valid("create_line_items", {**REFERENCE_LINE, "currency": "US"})


def test_line_item_request_examples_are_the_references():
    examples = request_examples("create_line_items")
    assert REFERENCE_LINE in examples.values()
    assert any(isinstance(value, list) and len(value) == 2 for value in examples.values())
    batch = request_examples("update_line_items")["batch"]
    assert [set(item) for item in batch] == [{"uid", "quantity"}, {"uid", "context_type", "sku"}]
    assert batch[0]["quantity"] == 3 and batch[1]["sku"] == "SKU-002"


def test_line_item_update_names_each_item_by_uid_and_is_partial():
    item = component_schema(SPEC, "LineItemUpdate")
    assert item["required"] == ["uid"]
    assert valid("update_line_items", {"uid": UID})
    assert valid("update_line_items", [{"uid": UID, "quantity": 3}, {"uid": OTHER_UID, "sku": "SKU-002"}])
    assert not valid("update_line_items", [{"quantity": 3}])
    assert not valid("update_line_items", 3)


def test_line_item_delete_is_an_array_of_at_least_one_uid():
    schema = body_schema("delete_line_items")
    assert (schema["type"], schema["minItems"]) == ("array", 1)
    assert valid("delete_line_items", [UID]) and not valid("delete_line_items", [])
    assert not valid("delete_line_items", UID)


@pytest.mark.parametrize("operation_id", ["create_line_items", "update_line_items"])
def test_line_item_answers_say_updated_successfully_sic(operation_id: str):
    examples = response_examples(operation_id)
    assert examples
    for body in examples.values():
        assert body["message"] == "Line item updated successfully"
    data = data_schema(operation_id)
    assert data["oneOf"][0] == component_schema(SPEC, "LineItem")


def test_line_item_answers_show_cents_as_major_units():
    """Requests carry cents; the LineItem shows `unit_price` and `line_total` divided by 100 (P69)."""
    created = response_examples("create_line_items")["created"]["data"]
    sent = request_examples("create_line_items")["one"]
    assert created["unit_price"] * 100 == sent["unit_price"]
    assert created["line_total"] == created["quantity"] * created["unit_price"]


# -- every operation: errors, scopes, rate limits --------------------------------------------


def all_operations() -> list[tuple[str, str, dict[str, Any]]]:
    return list(iter_operations(SPEC))


def test_the_nine_operations():
    assert {op["operationId"] for _p, _m, op in all_operations()} == READS | WRITES


@pytest.mark.parametrize(
    ("path", "method", "op"), all_operations(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_operation_lists_every_error_it_can_produce(path: str, method: str, op: dict[str, Any]):
    statuses = set(op["responses"])
    assert {"200", "401", "403", "429"} <= statuses
    if "requestBody" in op:
        assert {"400", "413", "415", "422"} <= statuses
    if "{invoice_uid}" in path or op["operationId"] in {"bulk_update_invoices", "bulk_delete_invoices"}:
        assert "404" in statuses
    if "invoice_number" in str(inline_refs(SPEC, op.get("requestBody", {}))):
        assert "409" in statuses


def test_malformed_request_covers_a_body_of_the_wrong_json_kind():
    text = " ".join(SPEC["components"]["responses"]["MalformedRequest"]["description"].split())
    for kind in ("not valid JSON", "not an object", "not an array", "neither an object nor an array"):
        assert kind in text, kind


def test_scopes_are_named_per_operation_with_the_reference_example_scope():
    scopes = read_facts(SPEC).scopes
    assert scopes == {
        **{operation_id: frozenset({"invoices:read"}) for operation_id in READS},
        **{operation_id: frozenset({"invoices:write"}) for operation_id in WRITES},
    }


def test_contract_facts_scopes_is_empty_for_an_operation_without_x_scopes():
    spec = load_spec(default_spec_path())
    del operation(spec, "get_invoice")["x-scopes"]
    assert read_facts(spec).scopes["get_invoice"] == frozenset()


def test_key_lacks_permission_is_the_references_403():
    response = SPEC["components"]["responses"]["KeyLacksPermission"]
    assert (
        response["content"]["application/json"]["example"]["message"]
        == "Key lacks permission for the resource."
    )
    assert "invoices:read" in response["description"] and "without scopes has" in response["description"]
    forbidden = SPEC["components"]["responses"]["Forbidden"]["description"]
    assert "Key lacks permission for the resource" in forbidden


def test_429_carries_retry_after_in_seconds():
    response = SPEC["components"]["responses"]["TooManyRequests"]
    header = response["headers"]["Retry-After"]
    assert header["required"] is True
    assert header["schema"]["type"] == "integer" and header["schema"]["example"] == 60
    assert response["content"]["application/json"]["example"]["status_code"] == 429


def test_401_covers_expired_and_revoked_keys():
    text = " ".join(SPEC["components"]["responses"]["Unauthorized"]["description"].split())
    assert re.search(r"unknown, expired or revoked", text)


def test_create_links_to_update_and_to_line_items():
    links = operation(SPEC, "create_invoice")["responses"]["200"]["links"]
    assert links["UpdateCreatedInvoice"] == {
        **links["UpdateCreatedInvoice"],
        "operationId": "update_invoice",
        "parameters": {"invoice_uid": "$response.body#/data/uid"},
    }
    assert links["AddLineItemsToCreatedInvoice"] == {
        **links["AddLineItemsToCreatedInvoice"],
        "operationId": "create_line_items",
        "parameters": {"invoice_uid": "$response.body#/data/uid"},
    }


# -- examples: named everywhere, and consistent with the fixtures' products --------------------


@pytest.mark.parametrize(
    ("path", "method", "op"), all_operations(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_request_and_200_has_named_examples(path: str, method: str, op: dict[str, Any]):
    if "requestBody" in op:
        assert request_examples(op["operationId"]), op["operationId"]
    assert response_examples(op["operationId"]), op["operationId"]


def line_items_in(value: Any) -> list[dict[str, Any]]:
    """Every LineItem-shaped object inside an example value."""
    if isinstance(value, list):
        return [line for item in value for line in line_items_in(item)]
    if not isinstance(value, dict):
        return []
    found = [value] if {"context_type_uid", "line_total"} <= set(value) else []
    return found + [line for item in value.values() for line in line_items_in(item)]


def test_example_lines_of_a_product_carry_the_products_name_and_type():
    products = {product.context_type_uid: product for product in WORLD.products.values()}
    lines = [
        line
        for example in SPEC["components"]["examples"].values()
        for line in line_items_in(example["value"])
    ]
    product_lines = [line for line in lines if line["context_type_uid"] in products]
    assert product_lines, "the examples show product lines"
    for line in product_lines:
        product = products[line["context_type_uid"]]
        assert (line["context_name"], line["context_type"]) == (product.name, product.context_type), line
        assert line["line_total"] == round(line["quantity"] * line["unit_price"], 2), line


def test_request_example_skus_name_products_of_the_example_invoices_owner():
    owner = request_examples("create_invoice")["full"]["owner_uid"]
    for operation_id in ("create_line_items", "update_line_items"):
        for value in request_examples(operation_id).values():
            for item in value if isinstance(value, list) else [value]:
                if "sku" in item:
                    product = WORLD.products[(owner, item["sku"])]
                    assert item.get("context_type", product.context_type) == product.context_type, item
