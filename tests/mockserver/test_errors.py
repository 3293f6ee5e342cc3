"""Every error path: the right status, in the API's envelope (never problem+json, never a 5xx),
naming the field and the rule."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.mockserver.support import (
    CREATE_SCHEMA,
    LIST_PARAMETERS,
    MINIMAL,
    ORG_A,
    ORG_B,
    SPEC,
    USER_A,
    USER_BOTH,
    assert_error,
    auth,
    blueprint_of,
    body_for,
    create,
    document_of,
)

MAX_BODY = 1024 * 1024  # the contract's limit (openapi.yaml, info.description choice 8)
PROPERTIES = CREATE_SCHEMA["properties"]
UUID_FIELDS = [name for name, s in PROPERTIES.items() if s.get("format") == "uuid"]
DATE_FIELDS = [name for name, s in PROPERTIES.items() if s.get("format") == "date-time"]
NOT_NULLABLE = [name for name, s in PROPERTIES.items() if not s.get("nullable")]


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def wrong_type(name: str) -> Any:
    return "a string" if PROPERTIES[name].get("type") == "object" else 42


# (id, body, field, rule): one schema rule broken per body, each 422.
SCHEMA_BREAKS: list[tuple[str, Any, str, str]] = [
    *[
        (f"missing {name}", without(MINIMAL, name), f"/{name}", "is required")
        for name in CREATE_SCHEMA["required"]
    ],
    *[
        (f"{name} of wrong type", {**MINIMAL, name: wrong_type(name)}, f"/{name}", "must be")
        for name in PROPERTIES
    ],
    *[(f"{name} null", {**MINIMAL, name: None}, f"/{name}", "must be") for name in NOT_NULLABLE],
    *[(f"{name} not a uuid", {**MINIMAL, name: "not-a-uuid"}, f"/{name}", "uuid") for name in UUID_FIELDS],
    *[
        (f"{name} a date only", {**MINIMAL, name: "2026-03-30"}, f"/{name}", "date-time")
        for name in DATE_FIELDS
    ],
    *[
        (f"{name} without zone", {**MINIMAL, name: "2026-03-30T10:00:00"}, f"/{name}", "date-time")
        for name in DATE_FIELDS
    ],
    ("currency of 2", {**MINIMAL, "currency": "US"}, "/currency", "must be exactly 3 characters, got 2"),
    ("currency of 4", {**MINIMAL, "currency": "USDX"}, "/currency", "must be exactly 3 characters, got 4"),
    (
        "unknown invoice_type",
        {**MINIMAL, "invoice_type": "ACCOUNTS_SIDEWAYS"},
        "/invoice_type",
        "must be one of",
    ),
    ("unknown field", {**MINIMAL, "invoice_total": 10}, "/invoice_total", "is not a field"),
    ("misspelt field", {**MINIMAL, "curency": "USD"}, "/curency", "is not a field"),
    (
        "invoice_fields an array",
        {**MINIMAL, "invoice_fields": [{"key": "a", "type": "string", "value": 1}]},
        "/invoice_fields",
        "must be an object",
    ),
    (
        "invoice field without value",
        {**MINIMAL, "invoice_fields": {"terms": {"type": "string"}}},
        "/invoice_fields/terms/value",
        "is required",
    ),
    (
        "invoice field without type",
        {**MINIMAL, "invoice_fields": {"terms": {"value": "NET_30"}}},
        "/invoice_fields/terms/type",
        "is required",
    ),
    (
        "invoice field not an object",
        {**MINIMAL, "invoice_fields": {"terms": "NET_30"}},
        "/invoice_fields/terms",
        "must be an object",
    ),
    (
        "invoice field type not a string",
        {**MINIMAL, "invoice_fields": {"terms": {"type": 1, "value": 2}}},
        "/invoice_fields/terms/type",
        "must be a string",
    ),
    (
        "invoice field with unknown key",
        {**MINIMAL, "invoice_fields": {"terms": {"type": "s", "value": 1, "x": 2}}},
        "/invoice_fields/terms/x",
        "is not a field",
    ),
]


@pytest.mark.parametrize(
    ("body", "field", "rule"), [c[1:] for c in SCHEMA_BREAKS], ids=[c[0] for c in SCHEMA_BREAKS]
)
def test_schema_break_is_422_naming_the_field_and_rule(client, body, field, rule):
    envelope = assert_error(create(client, body), 422, field, rule)
    assert {e["field"] for e in envelope["errors"]} == {field}


def test_currency_message_is_exact(client):
    envelope = assert_error(create(client, {**MINIMAL, "currency": "US"}), 422, "/currency")
    assert envelope["message"] == "currency: must be exactly 3 characters, got 2."
    assert envelope["errors"] == [
        {"field": "/currency", "message": "must be exactly 3 characters, got 2", "code": "min_length"}
    ]


def test_every_problem_of_a_body_is_listed(client):
    body = {**without(MINIMAL, "owner_uid"), "currency": "US", "invoice_type": "X", "extra": 1}
    envelope = assert_error(create(client, body), 422)
    assert {e["field"] for e in envelope["errors"]} == {"/owner_uid", "/currency", "/invoice_type", "/extra"}
    assert "(and 3 more problems)" in envelope["message"]


def test_schema_is_checked_before_who_may_bill_whom(client):
    body = body_for(ORG_B, currency="US")
    assert_error(create(client, body, USER_A), 422, "/currency")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"document_uid": document_of(ORG_B).uid}, "/document_uid"),
        ({"document_uid": "99999999-9999-4999-8999-999999999999"}, "/document_uid"),
        ({"invoice_blueprint_uid": blueprint_of(ORG_B).uid}, "/invoice_blueprint_uid"),
        ({"invoice_blueprint_uid": "99999999-9999-4999-8999-999999999999"}, "/invoice_blueprint_uid"),
    ],
    ids=["document of another org", "unknown document", "blueprint of another org", "unknown blueprint"],
)
def test_document_or_blueprint_not_of_the_owner_is_422(client, changes, field):
    envelope = assert_error(create(client, body_for(ORG_A, **changes), USER_BOTH), 422, field)
    assert next(iter(changes.values())) in envelope["message"]
    assert envelope["errors"][0]["code"] == "not_found"


def test_document_and_blueprint_both_wrong_are_both_listed(client):
    body = body_for(ORG_A, document_uid=document_of(ORG_B).uid, invoice_blueprint_uid=blueprint_of(ORG_B).uid)
    envelope = assert_error(create(client, body, USER_BOTH), 422)
    assert {e["field"] for e in envelope["errors"]} == {"/document_uid", "/invoice_blueprint_uid"}


JSON_TYPE = {"Content-Type": "application/json"}
NOT_OBJECTS = {
    "malformed JSON": b"{bad",
    "truncated JSON": b'{"owner_uid": ',
    "array": json.dumps([MINIMAL]).encode(),
    "string": b'"an invoice"',
    "number": b"42",
    "null": b"null",
    "boolean": b"true",
    "empty body": b"",
    "whitespace body": b"  \n ",
    "not UTF-8": b'{"status": "\xff"}',
    "NaN": json.dumps({**MINIMAL, "invoice_fields": {"x": {"type": "n", "value": "NAN"}}})
    .replace('"NAN"', "NaN")
    .encode(),
}


@pytest.mark.parametrize("content", NOT_OBJECTS.values(), ids=NOT_OBJECTS)
def test_body_that_is_not_a_json_object_is_400(client, content):
    assert_error(client.post("/api/invoices", content=content, headers={**auth(USER_A), **JSON_TYPE}), 400)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "json",
    ],
)
def test_body_that_is_not_application_json_is_415(client, content_type):
    headers = {**auth(USER_A), "Content-Type": content_type}
    envelope = assert_error(client.post("/api/invoices", content=json.dumps(MINIMAL), headers=headers), 415)
    assert content_type in envelope["message"]


def test_body_without_a_content_type_is_415(client):
    """openapi.yaml: "a content type other than `application/json` is `415`" — none at all is not JSON."""
    response = client.post("/api/invoices", content=json.dumps(MINIMAL).encode(), headers=auth(USER_A))
    assert "content-type" not in response.request.headers
    assert_error(response, 415)


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", "application/json ; charset=UTF-8"],
)
def test_json_content_type_is_matched_case_insensitively_with_parameters(client, content_type):
    headers = {**auth(USER_A), "Content-Type": content_type}
    response = client.post("/api/invoices", content=json.dumps(MINIMAL), headers=headers)
    assert response.status_code == 200, response.text


def padded(size: int) -> bytes:
    """MINIMAL as JSON, padded with trailing whitespace (still valid JSON) to exactly `size` bytes."""
    raw = json.dumps(MINIMAL).encode()
    return raw + b" " * (size - len(raw))


def test_body_of_exactly_the_limit_is_accepted(client):
    response = client.post("/api/invoices", content=padded(MAX_BODY), headers={**auth(USER_A), **JSON_TYPE})
    assert response.status_code == 200, response.text


def test_body_over_the_limit_is_413(client):
    response = client.post(
        "/api/invoices", content=padded(MAX_BODY + 1), headers={**auth(USER_A), **JSON_TYPE}
    )
    assert str(MAX_BODY) in assert_error(response, 413)["message"]


@pytest.mark.e2e
@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413_over_http(live, streamed):
    body = padded(MAX_BODY + 64 * 1024)
    content = (body[i : i + 65536] for i in range(0, len(body), 65536)) if streamed else body
    response = live.post("/api/invoices", content=content, headers={**auth(USER_A), **JSON_TYPE})
    assert ("transfer-encoding" in response.request.headers) is streamed
    assert_error(response, 413)


def _query_breaks() -> list[tuple[str, str, str]]:
    page, per_page = LIST_PARAMETERS["page"], LIST_PARAMETERS["per_page"]
    return [
        ("per_page", str(per_page["minimum"] - 1), "at least"),
        ("per_page", str(per_page["maximum"] + 1), "at most"),
        ("per_page", "abc", "integer"),
        ("per_page", "1.5", "integer"),
        ("per_page", "", "integer"),
        ("per_page", "1_0", "integer"),  # Python's int() would read it as 10
        ("per_page", "\u0661\u0662", "integer"),  # Arabic-Indic digits, also read by int()
        ("page", str(page["minimum"] - 1), "at least"),
        ("page", "-1", "at least"),
        ("page", str(page["maximum"] + 1), "at most"),
        ("page", "abc", "integer"),
        ("invoice_type", "BAD", "must be one of"),
        ("invoice_type", "accounts_receivable", "must be one of"),
    ]


@pytest.mark.parametrize(("name", "value", "rule"), _query_breaks())
def test_list_query_parameter_break_is_422_naming_the_parameter(client, name, value, rule):
    response = client.get("/api/invoices", params={name: value}, headers=auth(USER_A))
    envelope = assert_error(response, 422, name, rule)
    assert envelope["message"].startswith(f"{name}: ")


UNKNOWN_PATHS = [
    "/",
    "/api",
    "/api/invoice",
    "/api/invoices/x/y",
    "/api/v2/invoices",
    "/docs",
]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("user", [USER_A, None], ids=["with token", "without token"])
def test_unknown_path_is_404_in_the_envelope(client, path, user):
    assert_error(client.get(path, headers=auth(user) if user else {}), 404)


def test_trailing_slash_is_not_redirected_out_of_the_envelope(client):
    """Every answer is the envelope: `/api/invoices/` names no documented path (nor an invoice)."""
    response = client.get("/api/invoices/", headers=auth(USER_A), follow_redirects=False)
    assert_error(response, 404)


def _undocumented_methods() -> list[tuple[str, str, set[str]]]:
    cases = []
    for path, item in SPEC["paths"].items():
        documented = {m.upper() for m in item if m in {"get", "put", "post", "delete", "patch"}}
        concrete = path.replace("{invoice_uid}", "99999999-9999-4999-8999-999999999999")
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - documented):
            cases.append((method, concrete, documented))
    return cases


@pytest.mark.parametrize(("method", "path", "documented"), _undocumented_methods())
def test_wrong_method_is_405_with_allow_listing_the_documented_methods(client, method, path, documented):
    response = client.request(method, path, headers=auth(USER_A))
    assert_error(response, 405)
    assert {m.strip() for m in response.headers["allow"].split(",")} == documented


@dataclass
class Call:
    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=lambda: {**auth(USER_A), **JSON_TYPE})
    content: bytes | None = None


ALL_ERRORS = {
    **{
        f"422 {c[0]}": Call("POST", "/api/invoices", 422, content=json.dumps(c[1]).encode())
        for c in SCHEMA_BREAKS
    },
    **{f"400 {k}": Call("POST", "/api/invoices", 400, content=v) for k, v in NOT_OBJECTS.items()},
    "401": Call("GET", "/api/invoices", 401, headers={}),
    "403": Call("POST", "/api/invoices", 403, content=json.dumps(body_for(ORG_B)).encode()),
    "404 invoice": Call("GET", "/api/invoices/nope", 404),
    "404 path": Call("GET", "/nope", 404),
    "405": Call("PATCH", "/api/invoices", 405),
    "413": Call("POST", "/api/invoices", 413, content=padded(MAX_BODY + 1)),
    "415": Call(
        "POST", "/api/invoices", 415, headers={**auth(USER_A), "Content-Type": "text/plain"}, content=b"{}"
    ),
    **{
        f"422 {n}={v}": Call("GET", f"/api/invoices?{httpx.QueryParams({n: v})}", 422)
        for n, v, _ in _query_breaks()
    },
}


@pytest.mark.parametrize("call", ALL_ERRORS.values(), ids=ALL_ERRORS)
def test_every_error_is_the_json_envelope_never_problem_json(client, call):
    response = client.request(call.method, call.path, headers=call.headers, content=call.content)
    assert response.status_code < 500
    assert "problem" not in response.headers.get("content-type", "")
    assert_error(response, call.status)
