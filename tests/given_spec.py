"""Edited copies of openapi.yaml, for the tests that start the mock and the kit on a given spec.

Each edit is a function of the parsed spec (a fresh copy) that changes one fact or schema; the
copy is written as YAML to a test's `tmp_path`, and `python -m mockserver --spec` /
`invoice-conformance run --spec` are started on it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from contract.spec import load_spec
from tests.world import SPEC_PATH

Edit = Callable[[dict[str, Any]], None]
BILL_FORMAT, BILL_PATTERN = "BILL-{year}-{sequence:05d}", r"^BILL-(\d{4})-(\d{5,})$"
NUMBER_MAX_LENGTH = 20


def schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]


def bill_numbers(spec: dict[str, Any]) -> None:
    """Generated numbers `BILL-2026-00001` (x-generated format and pattern)."""
    generated = schemas(spec)["InvoiceCreateRequest"]["properties"]["invoice_number"]["x-generated"]
    generated["format"], generated["pattern"] = BILL_FORMAT, BILL_PATTERN


def send_invoice_on_create(spec: dict[str, Any]) -> None:
    """New invoices say `collection_method: send_invoice` (x-on-create)."""
    schemas(spec)["Invoice"]["properties"]["collection_method"]["x-on-create"] = "send_invoice"


def tax_is_subtotal(spec: dict[str, Any]) -> None:
    """TAX lines add to subtotal_cents: `tax_cents` leaves `x-money-context-types`."""
    del schemas(spec)["LineItem"]["x-money-context-types"]["tax_cents"]


def renamed_read_scope(spec: dict[str, Any]) -> None:
    """Reading needs `invoices:view` instead of `invoices:read` (x-scopes)."""
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "x-scopes" in operation:
                operation["x-scopes"] = [
                    "invoices:view" if scope == "invoices:read" else scope for scope in operation["x-scopes"]
                ]


def short_numbers(spec: dict[str, Any]) -> None:
    """A supplied invoice_number is at most 20 characters (maxLength lowered from none)."""
    schemas(spec)["InvoiceCreateRequest"]["properties"]["invoice_number"]["maxLength"] = NUMBER_MAX_LENGTH


def required_currency(spec: dict[str, Any]) -> None:
    """`currency` becomes a required field of the create request (it had a default)."""
    request = schemas(spec)["InvoiceCreateRequest"]
    request["required"] = [*request["required"], "currency"]


def no_bulk_delete(spec: dict[str, Any]) -> None:
    """The bulk delete operation is gone from the contract."""
    del spec["paths"]["/api/invoices"]["delete"]


SERVABLE: dict[str, Edit] = {
    "bill_numbers": bill_numbers,
    "send_invoice_on_create": send_invoice_on_create,
    "tax_is_subtotal": tax_is_subtotal,
    "renamed_read_scope": renamed_read_scope,
    "short_numbers": short_numbers,
    "required_currency": required_currency,
    "no_bulk_delete": no_bulk_delete,
}


def edited_spec(folder: Path, *edits: Edit, name: str = "edited.yaml") -> Path:
    """A copy of the bundled spec with `edits` applied, written to `folder/name`."""
    spec = load_spec(SPEC_PATH)
    for edit in edits:
        edit(spec)
    return write_spec(folder / name, spec)


def write_spec(path: Path, spec: Any) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# -- edits the mock and the kit refuse at start: (edit, the pointer named, a word of the rule) ------


def openapi_31(spec: dict[str, Any]) -> None:
    spec["openapi"] = "3.1.0"


def not_openapi(spec: dict[str, Any]) -> None:
    """Valid YAML, refused by openapi-spec-validator (`info` must be an object)."""
    spec["info"] = "an invoice API"


def unhandled_operation(spec: dict[str, Any]) -> None:
    """`get_invoice` renamed: no handler of the mock has the name (the links follow the rename)."""
    text = yaml.safe_dump(spec, sort_keys=False).replace(
        "operationId: get_invoice", "operationId: fetch_invoice"
    )
    spec.clear()
    spec.update(yaml.safe_load(text))


def renamed_payable(spec: dict[str, Any]) -> None:
    """`ACCOUNTS_PAYABLE` -> `ACCOUNTS_PAYABLES`: x-client-by-invoice-type no longer covers it."""
    kinds = schemas(spec)["InvoiceType"]
    kinds["enum"] = ["ACCOUNTS_PAYABLES" if kind == "ACCOUNTS_PAYABLE" else kind for kind in kinds["enum"]]


def no_document_uid(spec: dict[str, Any]) -> None:
    """`document_uid` removed from the create request (the mock's rules read it)."""
    request = schemas(spec)["InvoiceCreateRequest"]
    del request["properties"]["document_uid"]
    request["required"] = [name for name in request["required"] if name != "document_uid"]


REFUSED: dict[str, tuple[Edit, str, str]] = {
    "openapi_31": (openapi_31, "#/openapi", "3.0.x"),
    "not_openapi": (not_openapi, "#/info", "object"),
    "unhandled_operation": (unhandled_operation, "operationId", "fetch_invoice"),
    "renamed_payable": (
        renamed_payable,
        "#/components/schemas/InvoiceParties/x-client-by-invoice-type/ACCOUNTS_PAYABLES",
        "client role",
    ),
    "no_document_uid": (
        no_document_uid,
        "#/components/schemas/InvoiceCreateRequest/properties/document_uid",
        "required property",
    ),
}
