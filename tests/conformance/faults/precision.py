"""The fixed precision rows, each flipped: a correct server made to take the *other* reading of one
fixed row of openapi.yaml's precision table (issue 19, the mutation check).

A fixed row is a promise that every server behaves one way. The kit keeps it only if a server that
behaves the other way fails it: each wrapper here is that server, `breaks` starts with the row id it
flips, and tests/conformance/test_fault_variants.py proves the kit fails it over the mock and over
the second server. `test_every_fixed_row_is_flipped` there keeps the list complete. Each flip is the
reading a careful implementer would most plausibly take instead (the one the row was written to
rule out), not an arbitrary corruption.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from conformance.expect import parse_instant
from contract.spec import default_spec_path, load_spec, request_body_schema
from tests.conformance.faults.base import Fault, Request, Response, _rewrite_data, envelope_with

_CREATE_SCHEMA = request_body_schema(load_spec(default_spec_path()), "create_invoice")
_DEFAULTED = tuple(n for n, s in _CREATE_SCHEMA.get("properties", {}).items() if "default" in s)
_ENUMS = {n: s["enum"] for n, s in _CREATE_SCHEMA.get("properties", {}).items() if "enum" in s}
_UUIDS = tuple(n for n, s in _CREATE_SCHEMA.get("properties", {}).items() if s.get("format") == "uuid")
_DATES = tuple(n for n, s in _CREATE_SCHEMA.get("properties", {}).items() if s.get("format") == "date-time")
_UUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_BARE_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ASCII_BLANK = re.compile(r"^[ \t\n\r\f\v]+$")


def _sent(request: Request) -> dict[str, Any]:
    return request.json if isinstance(request.json, dict) else {}


def _with_body(request: Request, body: dict[str, Any]) -> Request:
    request.body = json.dumps(body).encode()
    return request


def body_parsed_before_auth(fault: Fault, request: Request) -> Request | Response:
    """P01 flipped: a create's body is parsed before the token is checked (malformed JSON is 400
    whatever the Authorization header says)."""
    if request.is_create and request.body:
        try:
            json.loads(request.body)
        except ValueError:
            return envelope_with(400, "the body is not valid JSON", "", "json")
    return request


def omitted_dates_filled(fault: Fault, request: Request, response: Response) -> Response:
    """P24 flipped: an omitted issue_date is filled with the moment of creation."""
    if request.is_create and "issue_date" not in _sent(request):
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _rewrite_data(response, lambda data: data.update(issue_date=now))
    return response


def bad_path_uuid_as_422(fault: Fault, request: Request) -> Request | Response:
    """P27 flipped: a get whose invoice_uid is no uuid is `422` (a validation error), not `404`."""
    if request.is_get and not _UUID.match(request.invoice_uid):
        return envelope_with(422, "invoice_uid is not a uuid", "invoice_uid", "format")
    return request


def blank_number_kept(fault: Fault, request: Request, response: Response) -> Response:
    """P05 flipped: a number of ASCII whitespace is stored as sent instead of generated (a server
    that treats only `""` as blank)."""
    number = _sent(request).get("invoice_number")
    if request.is_create and isinstance(number, str) and _ASCII_BLANK.match(number):
        return _rewrite_data(response, lambda data: data.update(invoice_number=number))
    return response


def missing_content_type_parsed(fault: Fault, request: Request) -> Request | Response:
    """P06 flipped: a create without a Content-Type header is parsed as JSON instead of `415`."""
    if request.is_create and "content-type" not in request.headers:
        request.headers["content-type"] = "application/json"
    return request


def original_type_normalised(fault: Fault, request: Request, response: Response) -> Response:
    """P13 flipped: `original_type` shows the server's normalised type (lower case), not the request's."""

    def normalise(data: dict[str, Any]) -> None:
        for entry in data.get("invoice_fields") or []:
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, dict) and isinstance(value.get("original_type"), str):
                value["original_type"] = value["original_type"].lower()

    return _rewrite_data(response, normalise)


def fields_sorted_by_key(fault: Fault, request: Request, response: Response) -> Response:
    """P16 flipped: invoice_fields come back sorted by key instead of blueprint first, request order."""

    def sort(data: dict[str, Any]) -> None:
        fields = data.get("invoice_fields")
        if isinstance(fields, list) and all(isinstance(e, dict) for e in fields):
            data["invoice_fields"] = sorted(fields, key=lambda entry: str(entry.get("key")))

    return _rewrite_data(response, sort)


def due_before_issue_refused(fault: Fault, request: Request) -> Request | Response:
    """P31 flipped: a due date before the issue date is refused (`422` on `/due_date`)."""
    sent = _sent(request)
    issue, due = sent.get("issue_date"), sent.get("due_date")
    if request.is_create and isinstance(issue, str) and isinstance(due, str):
        first, last = parse_instant(issue), parse_instant(due)
        if first is not None and last is not None and last < first:
            return envelope_with(422, "due_date must not be before issue_date", "/due_date", "order")
    return request


def null_means_default(fault: Fault, request: Request) -> Request | Response:
    """P40 flipped: `null` for a field with a default is taken as omitted (the default applies)."""
    sent = _sent(request)
    nulls = [name for name in _DEFAULTED if name in sent and sent[name] is None]
    if request.is_create and nulls:
        return _with_body(request, {k: v for k, v in sent.items() if k not in nulls})
    return request


def null_number_refused(fault: Fault, request: Request) -> Request | Response:
    """P41 flipped: `null` for the nullable invoice_number is `422` instead of "generate one"."""
    if request.is_create and "invoice_number" in _sent(request) and _sent(request)["invoice_number"] is None:
        return envelope_with(422, "invoice_number must be a string", "/invoice_number", "type")
    return request


def enums_case_insensitive(fault: Fault, request: Request) -> Request | Response:
    """P42 flipped: enum values are matched in any letter case (`accounts_receivable` accepted)."""
    sent = _sent(request)
    fixed = dict(sent)
    for name, allowed in _ENUMS.items():
        value = sent.get(name)
        if isinstance(value, str):
            fixed[name] = next((a for a in allowed if str(a).lower() == value.lower()), value)
    if request.is_create and fixed != sent:
        return _with_body(request, fixed)
    return request


def date_only_accepted(fault: Fault, request: Request) -> Request | Response:
    """P43 flipped: a date without a time is accepted as midnight UTC."""
    sent = _sent(request)
    dates = {
        n: f"{sent[n]}T00:00:00Z"
        for n in _DATES
        if isinstance(sent.get(n), str) and _DATE_ONLY.match(sent[n])
    }
    if request.is_create and dates:
        return _with_body(request, {**sent, **dates})
    return request


def bare_uuid_accepted(fault: Fault, request: Request) -> Request | Response:
    """P44 flipped: a uuid without hyphens is accepted (Python's `UUID()` takes it)."""
    sent = _sent(request)

    def hyphenate(text: str) -> str:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    uids = {
        n: hyphenate(sent[n]) for n in _UUIDS if isinstance(sent.get(n), str) and _BARE_UUID.match(sent[n])
    }
    if request.is_create and uids:
        return _with_body(request, {**sent, **uids})
    return request


def error_field_names_the_body(fault: Fault, request: Request, response: Response) -> Response:
    """P47 flipped: every `errors[].field` names the request body as a whole, not the field."""
    body = response.json
    if response.status == 422 and isinstance(body, dict) and isinstance(body.get("errors"), list):
        for entry in body["errors"]:
            if isinstance(entry, dict):
                entry["field"] = "body"
        response.set_json(body)
    return response


def single_line_as_array(fault: Fault, request: Request, response: Response) -> Response:
    """P71 flipped: a line-item request of one object is answered with an array of one LineItem."""
    if request.is_lines and isinstance(request.json, dict) and response.status == 200:
        body = response.json
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            body["data"] = [body["data"]]
            response.set_json(body)
    return response


PRECISION_FAULTS: tuple[Fault, ...] = (
    Fault(
        "body-parsed-before-auth",
        "P01: authentication first, 401 before 400",
        ("auth_required",),
        before=body_parsed_before_auth,
    ),
    Fault(
        "omitted-dates-filled",
        "P24: an omitted issue_date is null",
        ("defaults_applied",),
        after=omitted_dates_filled,
    ),
    Fault(
        "bad-path-uuid-as-422",
        "P27: an invoice_uid that is no uuid is 404",
        ("invisible_to_other_org",),
        before=bad_path_uuid_as_422,
    ),
    Fault(
        "blank-number-kept",
        "P05: a number of ASCII whitespace is generated",
        ("invoice_number_generated",),
        after=blank_number_kept,
    ),
    Fault(
        "missing-content-type-parsed",
        "P06: a create without Content-Type is 415",
        ("malformed_requests_refused",),
        before=missing_content_type_parsed,
    ),
    Fault(
        "original-type-normalised",
        "P13: original_type is exactly the request's type",
        ("invoice_fields_as_list",),
        after=original_type_normalised,
    ),
    Fault(
        "fields-sorted-by-key",
        "P16: invoice_fields in blueprint, then request order",
        ("invoice_fields_as_list",),
        after=fields_sorted_by_key,
    ),
    Fault(
        "due-before-issue-refused",
        "P31: a due date before the issue date is accepted",
        ("age_and_overdue_days",),
        before=due_before_issue_refused,
    ),
    Fault(
        "null-means-default",
        "P40: null for a field with a default is 422",
        ("field_errors_named",),
        before=null_means_default,
    ),
    Fault(
        "null-number-refused",
        "P41: a null invoice_number is the same as omitting it",
        ("invoice_number_generated",),
        before=null_number_refused,
    ),
    Fault(
        "enums-case-insensitive",
        "P42: enum values are matched exactly",
        ("field_errors_named",),
        before=enums_case_insensitive,
    ),
    Fault(
        "date-only-accepted",
        "P43: a date without a time is 422",
        ("field_errors_named",),
        before=date_only_accepted,
    ),
    Fault(
        "bare-uuid-accepted",
        "P44: a uuid without hyphens is 422",
        ("field_errors_named",),
        before=bare_uuid_accepted,
    ),
    Fault(
        "error-field-names-the-body",
        "P47: errors[].field names the field at fault",
        ("field_errors_named",),
        after=error_field_names_the_body,
    ),
    Fault(
        "single-line-as-array",
        "P71: a single line item is answered as one LineItem",
        ("line_items_priced_from_products",),
        after=single_line_as_array,
    ),
)
