"""`spec diff` classifies each kind of spec edit as it should: a table of edits and verdicts.

Each edit is applied to a fresh copy of the real `openapi.yaml`; the test asserts exactly which
changes are found: pointer, side, and whether they break. Edits inside a shared component are
reported at every operation they reach, which is where clients meet them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contract.spec import default_spec_path, load_spec
from contract.tooling.diff import diff_specs

Spec = dict[str, Any]

CREATE = "#/paths/~1api~1invoices/post"
LIST = "#/paths/~1api~1invoices/get"
BULK_UPDATE = "#/paths/~1api~1invoices/put"
BULK_DELETE = "#/paths/~1api~1invoices/delete"
GET = "#/paths/~1api~1invoices~1{invoice_uid}/get"
UPDATE = "#/paths/~1api~1invoices~1{invoice_uid}/put"
LINES = "#/paths/~1api~1invoices~1{invoice_uid}~1line_items"
# Every operation of the spec: a change to what all of them share (security, the 401 response,
# the success envelope) is reported at each one.
EVERY_OPERATION = (
    CREATE,
    LIST,
    BULK_UPDATE,
    BULK_DELETE,
    GET,
    UPDATE,
    f"{LINES}/post",
    f"{LINES}/put",
    f"{LINES}/delete",
)
BODY = f"{CREATE}/requestBody/content/application~1json/schema"
JSON_200 = "responses/200/content/application~1json/schema"
# `data` of the responses that carry a full `Invoice`: create, get and update, and each item of
# bulk update's array.
INVOICE = (
    f"{CREATE}/{JSON_200}/allOf/1/properties/data",
    f"{GET}/{JSON_200}/allOf/1/properties/data",
    f"{UPDATE}/{JSON_200}/allOf/1/properties/data",
    f"{BULK_UPDATE}/{JSON_200}/allOf/1/properties/data/items",
)
REQUEST, RESPONSE = "request", "response"
BREAKING, FINE = True, False
PING = {"responses": {"200": {"description": "Pong."}}}


def schemas(spec: Spec) -> dict[str, Any]:
    return spec["components"]["schemas"]


def request_properties(spec: Spec) -> dict[str, Any]:
    return schemas(spec)["InvoiceCreateRequest"]["properties"]


def invoice_properties(spec: Spec) -> dict[str, Any]:
    return schemas(spec)["Invoice"]["properties"]


def list_parameters(spec: Spec) -> list[dict[str, Any]]:
    return spec["paths"]["/api/invoices"]["get"]["parameters"]


def in_invoice(suffix: str, side: str, breaking: bool) -> list[tuple[str, str, bool]]:
    """The same change seen in every response that carries an `Invoice`."""
    return [(f"{data}{suffix}", side, breaking) for data in INVOICE]


def add_required_request_field(spec: Spec, default: Any = None) -> None:
    request_properties(spec)["po_number"] = {"type": "string"} | ({"default": default} if default else {})
    schemas(spec)["InvoiceCreateRequest"]["required"].append("po_number")


def remove_request_field_from_open_schema(spec: Spec) -> None:
    schemas(spec)["InvoiceCreateRequest"]["additionalProperties"] = True
    del request_properties(spec)["status"]


def add_api_key_scheme(spec: Spec) -> None:
    spec["components"]["securitySchemes"]["apiKey"] = {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


def require_api_key_too(spec: Spec) -> None:
    add_api_key_scheme(spec)
    spec["paths"]["/api/invoices"]["get"]["security"] = [{"bearerAuth": [], "apiKey": []}]


def allow_api_key_instead(spec: Spec) -> None:
    add_api_key_scheme(spec)
    spec["security"].append({"apiKey": []})


def rename_request_media_type(spec: Spec) -> None:
    content = spec["paths"]["/api/invoices"]["post"]["requestBody"]["content"]
    content["application/merge-patch+json"] = content.pop("application/json")


def describe_differently(spec: Spec) -> None:
    request_properties(spec)["currency"]["description"] = "ISO 4217 code."
    request_properties(spec)["currency"]["example"] = "EUR"
    spec["paths"]["/api/invoices"]["post"]["summary"] = "Make an invoice"


@dataclass(frozen=True)
class Edit:
    name: str
    edit: Callable[[Spec], Any]
    expected: list[tuple[str, str, bool]]
    edit_old: Callable[[Spec], Any] | None = None  # for "added" cases: take it away from OLD instead


EDITS = [
    # -- paths, operations, responses -------------------------------------------------------
    Edit(
        "path removed",
        lambda s: s["paths"].pop("/api/invoices/{invoice_uid}"),
        [("#/paths/~1api~1invoices~1{invoice_uid}", RESPONSE, BREAKING)],
    ),
    Edit(
        "path added (with two operations)",
        lambda s: s["paths"].update({"/api/ping": {"get": PING, "head": PING}}),
        [("#/paths/~1api~1ping", RESPONSE, FINE)],
    ),
    Edit("operation removed", lambda s: s["paths"]["/api/invoices"].pop("get"), [(LIST, RESPONSE, BREAKING)]),
    Edit(
        "response status removed",
        lambda s: s["paths"]["/api/invoices"]["post"]["responses"].pop("409"),
        [(f"{CREATE}/responses/409", RESPONSE, BREAKING)],
    ),
    Edit(
        "response status added",
        lambda s: s["paths"]["/api/invoices"]["get"]["responses"].update(
            {"409": {"$ref": "#/components/responses/DuplicateInvoiceNumber"}}
        ),
        [(f"{LIST}/responses/409", RESPONSE, FINE)],
    ),
    Edit(
        "response header removed",
        lambda s: s["components"]["responses"]["Unauthorized"].pop("headers"),
        [(f"{op}/responses/401/headers/WWW-Authenticate", RESPONSE, BREAKING) for op in EVERY_OPERATION],
    ),
    Edit(
        "link removed",
        lambda s: s["paths"]["/api/invoices"]["post"]["responses"]["200"].pop("links"),
        [
            (f"{CREATE}/responses/200/links/{name}", RESPONSE, BREAKING)
            for name in ("GetCreatedInvoice", "UpdateCreatedInvoice", "AddLineItemsToCreatedInvoice")
        ],
    ),
    Edit(
        "request media type removed",
        rename_request_media_type,
        [
            (f"{CREATE}/requestBody/content/application~1json", REQUEST, BREAKING),
            (f"{CREATE}/requestBody/content/application~1merge-patch+json", REQUEST, FINE),
        ],
    ),
    Edit(
        "link passes another value",
        lambda s: s["paths"]["/api/invoices"]["post"]["responses"]["200"]["links"]["GetCreatedInvoice"][
            "parameters"
        ].update(invoice_uid="$response.body#/data/document_uid"),
        [(f"{CREATE}/responses/200/links/GetCreatedInvoice/parameters/invoice_uid", RESPONSE, BREAKING)],
    ),
    # -- response fields ---------------------------------------------------------------------
    Edit(
        "response field removed",
        lambda s: (invoice_properties(s).pop("age"), schemas(s)["Invoice"]["required"].remove("age")),
        in_invoice("/properties/age", RESPONSE, BREAKING),
    ),
    Edit(
        "response field made optional",
        lambda s: schemas(s)["Invoice"]["required"].remove("status"),
        in_invoice("/properties/status", RESPONSE, BREAKING),
    ),
    Edit(
        "response field made nullable",
        lambda s: invoice_properties(s)["invoice_link"].update(nullable=True),
        in_invoice("/properties/invoice_link/nullable", RESPONSE, BREAKING),
    ),
    Edit(
        "response field added",
        lambda s: invoice_properties(s).update(po_number={"type": "string"}),
        in_invoice("/properties/po_number", RESPONSE, FINE),
    ),
    Edit(
        "response type changed",
        lambda s: invoice_properties(s)["total"].update(type="string"),
        in_invoice("/properties/total/type", RESPONSE, BREAKING),
    ),
    Edit(
        "response maxLength raised (loosened)",
        lambda s: invoice_properties(s)["currency"].update(maxLength=5),
        in_invoice("/properties/currency/maxLength", RESPONSE, BREAKING),
    ),
    Edit(
        "response maximum added (tightened)",
        lambda s: invoice_properties(s)["overdue_days"].update(maximum=3650),
        in_invoice("/properties/overdue_days/maximum", RESPONSE, FINE),
    ),
    Edit(
        "response format removed",
        lambda s: invoice_properties(s)["invoice_blueprint_uid"].pop("format"),
        in_invoice("/properties/invoice_blueprint_uid/format", RESPONSE, BREAKING),
    ),
    Edit(
        "response enum value added",
        lambda s: schemas(s)["SuccessEnvelope"]["properties"]["status"]["enum"].append("ok"),
        [(f"{op}/{JSON_200}/allOf/0/properties/status/enum", RESPONSE, BREAKING) for op in EVERY_OPERATION],
    ),
    Edit(
        "response enum value removed",
        lambda s: invoice_properties(s).update(
            invoice_type={**schemas(s)["InvoiceType"], "enum": ["ACCOUNTS_RECEIVABLE"]}
        ),
        in_invoice("/properties/invoice_type/enum", RESPONSE, FINE),
    ),
    # -- request fields ----------------------------------------------------------------------
    Edit(
        "new required request field without default",
        add_required_request_field,
        [(f"{BODY}/properties/po_number", REQUEST, BREAKING)],
    ),
    Edit(
        "new required request field with default",
        lambda s: add_required_request_field(s, default="PO-0"),
        [(f"{BODY}/properties/po_number", REQUEST, FINE)],
    ),
    Edit(
        "new optional request field",
        lambda s: request_properties(s).update(po_number={"type": "string"}),
        [(f"{BODY}/properties/po_number", REQUEST, FINE)],
    ),
    Edit(
        "request field made required",
        lambda s: schemas(s)["InvoiceCreateRequest"]["required"].append("currency"),
        [(f"{BODY}/properties/currency", REQUEST, BREAKING)],
    ),
    Edit(
        "request field removed, unknown fields refused",
        lambda s: request_properties(s).pop("status"),
        [(f"{BODY}/properties/status", REQUEST, BREAKING)],
    ),
    Edit(
        "request field removed, unknown fields allowed",
        remove_request_field_from_open_schema,
        [(f"{BODY}/additionalProperties", REQUEST, FINE), (f"{BODY}/properties/status", REQUEST, FINE)],
    ),
    Edit(
        "request type changed",
        lambda s: request_properties(s)["currency"].update(type="integer"),
        [(f"{BODY}/properties/currency/type", REQUEST, BREAKING)],
    ),
    Edit(
        # OpenAPI 3.0.3: `nullable` only has meaning beside `type`; without one it changes nothing.
        "nullable without type removed",
        lambda s: None,
        [],
        edit_old=lambda s: schemas(s)["InvoiceFieldInput"]["properties"]["value"].update(nullable=True),
    ),
    Edit(
        "nullable without type added",
        lambda s: schemas(s)["InvoiceFieldValue"]["properties"]["value"].update(nullable=True),
        [],
    ),
    Edit(
        # The per_page default went from 20 to 10 (the reference's sibling lists): a list request
        # without per_page now gets fewer items, so clients relying on 20 break.
        "query parameter default changed",
        lambda s: None,
        [(f"{LIST}/parameters/1/schema/default", REQUEST, BREAKING)],
        edit_old=lambda s: next(p for p in list_parameters(s) if p["name"] == "per_page")["schema"].update(
            default=20
        ),
    ),
    Edit(
        "request nullable removed",
        lambda s: request_properties(s)["due_date"].pop("nullable"),
        [(f"{BODY}/properties/due_date/nullable", REQUEST, BREAKING)],
    ),
    Edit(
        "request enum value added",
        lambda s: request_properties(s).update(
            invoice_type={
                **schemas(s)["InvoiceType"],
                "enum": ["ACCOUNTS_PAYABLE", "ACCOUNTS_RECEIVABLE", "CREDIT_NOTE"],
            }
        ),
        [(f"{BODY}/properties/invoice_type/enum", REQUEST, FINE)],
    ),
    Edit(
        "enum value removed from a shared component",
        lambda s: schemas(s)["InvoiceType"]["enum"].remove("ACCOUNTS_PAYABLE"),
        [
            (f"{BODY}/properties/invoice_type/enum", REQUEST, BREAKING),
            (f"{LIST}/parameters/2/schema/enum", REQUEST, BREAKING),
            *in_invoice("/properties/invoice_type/enum", RESPONSE, FINE),
        ],
    ),
    Edit(
        "request maxLength lowered",
        lambda s: request_properties(s)["currency"].update(maxLength=2),
        [(f"{BODY}/properties/currency/maxLength", REQUEST, BREAKING)],
    ),
    Edit(
        "request maxLength raised",
        lambda s: request_properties(s)["currency"].update(maxLength=5),
        [(f"{BODY}/properties/currency/maxLength", REQUEST, FINE)],
    ),
    Edit(
        "request minLength lowered",
        lambda s: request_properties(s)["currency"].update(minLength=2),
        [(f"{BODY}/properties/currency/minLength", REQUEST, FINE)],
    ),
    Edit(
        "request pattern added",
        lambda s: request_properties(s)["invoice_number"].update(pattern="^INV-"),
        [(f"{BODY}/properties/invoice_number/pattern", REQUEST, BREAKING)],
    ),
    Edit(
        "request format changed",
        lambda s: request_properties(s)["issue_date"].update(format="date"),
        [(f"{BODY}/properties/issue_date/format", REQUEST, BREAKING)],
    ),
    Edit(
        "request default changed",
        lambda s: request_properties(s)["currency"].update(default="EUR"),
        [(f"{BODY}/properties/currency/default", REQUEST, BREAKING)],
    ),
    Edit(
        "default changed in a shared component",
        lambda s: schemas(s)["InvoiceType"].update(default="ACCOUNTS_PAYABLE"),
        [
            (f"{BODY}/properties/invoice_type/default", REQUEST, BREAKING),
            (f"{LIST}/parameters/2/schema/default", REQUEST, BREAKING),
            *in_invoice("/properties/invoice_type/default", RESPONSE, BREAKING),
        ],
    ),
    # -- parameters --------------------------------------------------------------------------
    Edit(
        "parameter minimum raised",
        lambda s: list_parameters(s)[0]["schema"].update(minimum=2),
        [(f"{LIST}/parameters/0/schema/minimum", REQUEST, BREAKING)],
    ),
    Edit(
        "parameter maximum raised",
        lambda s: list_parameters(s)[1]["schema"].update(maximum=200),
        [(f"{LIST}/parameters/1/schema/maximum", REQUEST, FINE)],
    ),
    Edit(
        "parameter made required",
        lambda s: list_parameters(s)[1].update(required=True),
        [(f"{LIST}/parameters/1/required", REQUEST, BREAKING)],
    ),
    Edit(
        "required parameter added",
        lambda s: list_parameters(s).append(
            {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        [(f"{LIST}/parameters/3", REQUEST, BREAKING)],
    ),
    Edit(
        "optional parameter added",
        lambda s: list_parameters(s).append({"name": "q", "in": "query", "schema": {"type": "string"}}),
        [(f"{LIST}/parameters/3", REQUEST, FINE)],
    ),
    Edit("parameter removed", lambda s: list_parameters(s).pop(2), [(f"{LIST}/parameters/2", REQUEST, FINE)]),
    # -- security ----------------------------------------------------------------------------
    Edit(
        "security added globally",
        lambda s: None,
        [(f"{op}/security", REQUEST, BREAKING) for op in EVERY_OPERATION],
        edit_old=lambda s: s.pop("security"),
    ),
    Edit(
        "security scheme required on top (per operation)",
        require_api_key_too,
        [(f"{LIST}/security", REQUEST, BREAKING)],
    ),
    Edit(
        "security alternative added",
        allow_api_key_instead,
        [(f"{op}/security", REQUEST, FINE) for op in EVERY_OPERATION],
    ),
    Edit(
        "security removed",
        lambda s: s.pop("security"),
        [(f"{op}/security", REQUEST, FINE) for op in EVERY_OPERATION],
    ),
    Edit(
        "security scheme redefined",
        lambda s: s["components"]["securitySchemes"].update(
            bearerAuth={"type": "apiKey", "in": "header", "name": "X-Key"}
        ),
        [(f"{op}/security", REQUEST, BREAKING) for op in EVERY_OPERATION],
    ),
    # -- documentation only ------------------------------------------------------------------
    Edit("description and example changed (ignored)", describe_differently, []),
]


def test_the_table_covers_enough_edits():
    assert len(EDITS) >= 25
    assert len({edit.name for edit in EDITS}) == len(EDITS)


@pytest.mark.parametrize("case", EDITS, ids=[edit.name for edit in EDITS])
def test_edit_is_classified(case: Edit):
    old, new = load_spec(default_spec_path()), load_spec(default_spec_path())
    if case.edit_old is not None:
        case.edit_old(old)
    case.edit(new)
    changes = diff_specs(old, new)
    found = sorted((change.pointer, change.side, change.breaking) for change in changes)
    assert found == sorted(case.expected), "\n".join(f"{c.pointer}: {c.reason}" for c in changes)


def test_spec_against_itself_has_no_differences():
    assert diff_specs(load_spec(default_spec_path()), load_spec(default_spec_path())) == []


@pytest.mark.parametrize("case", EDITS, ids=[edit.name for edit in EDITS])
def test_every_change_says_why_in_one_sentence(case: Edit):
    new = load_spec(default_spec_path())
    case.edit(new)
    for change in diff_specs(load_spec(default_spec_path()), new):
        assert change.reason.endswith(".") and "\n" not in change.reason, change
        assert change.rule and change.side in ("request", "response"), change


def test_security_removal_is_reported_as_not_breaking_but_named():
    new = load_spec(default_spec_path())
    new.pop("security")
    (first, *_rest) = diff_specs(load_spec(default_spec_path()), new)
    assert first.rule == "security-removed" and not first.breaking
    assert "no longer requires authentication" in first.reason


def test_allof_of_another_length_is_compared_merged():
    """Turning a plain schema into an `allOf` extension is judged on the merged result."""
    new = load_spec(default_spec_path())
    request = schemas(new)["InvoiceCreateRequest"]
    schemas(new)["InvoiceCreateRequest"] = {"allOf": [request, {"properties": {"memo": {"type": "string"}}}]}
    changes = diff_specs(load_spec(default_spec_path()), new)
    assert [(c.pointer, c.side, c.breaking) for c in changes] == [(f"{BODY}/properties/memo", REQUEST, FINE)]
