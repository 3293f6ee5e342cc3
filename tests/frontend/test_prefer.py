"""Scenarios by header: `Prefer: code=N`, `example=NAME`, `delay=MS` (RFC 7240 syntax).

Every expected body is the spec's own example, read from openapi.yaml.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.frontend.conftest import (
    UNKNOWN_UID,
    USER_A,
    assert_envelope_error,
    body_for,
    created,
    documented_responses,
    headers,
    operations,
)

MAX_DELAY_MS = 30_000  # the cap: 30 s


def concrete(path: str) -> str:
    return path.replace("{invoice_uid}", UNKNOWN_UID)


def example_of(response: dict[str, Any]) -> Any:
    """The documented body of a response: its `example`, else its first named example."""
    media = response["content"]["application/json"]
    if "example" in media:
        return media["example"]
    return next(iter(media["examples"].values()))["value"]


def named_examples(operation_id: str) -> dict[str, tuple[int, Any]]:
    """{example name: (status, body)} over every documented response of the operation."""
    found = {}
    for status, response in documented_responses(operation_id).items():
        media = response.get("content", {}).get("application/json", {})
        for name, example in media.get("examples", {}).items():
            found[name] = (status, example["value"])
    return found


OPERATIONS = {op_id: (method, path) for op_id, method, path in operations()}
CODE_CASES = [
    pytest.param(op_id, status, id=f"{op_id}-{status}")
    for op_id in OPERATIONS
    for status in documented_responses(op_id)
]
EXAMPLE_CASES = [
    pytest.param(op_id, name, id=f"{op_id}-{name}") for op_id in OPERATIONS for name in named_examples(op_id)
]


def call(client: Any, operation_id: str, prefer: str | list[str] | None, **options: Any) -> httpx.Response:
    method, path = OPERATIONS[operation_id]
    request_headers = list(headers(**options).items())
    for value in [prefer] if isinstance(prefer, str) else prefer or []:
        request_headers.append(("Prefer", value))
    body = body_for() if method == "POST" else None
    return client.request(method, concrete(path), json=body, headers=request_headers)


def applied(response: httpx.Response) -> set[str]:
    return {p.strip().replace('"', "") for p in response.headers.get("preference-applied", "").split(",")}


def test_every_operation_documents_several_codes():
    """The parametrisation below is not vacuous: each operation has a 200 and errors to ask for."""
    for op_id in OPERATIONS:
        statuses = documented_responses(op_id)
        assert 200 in statuses and 401 in statuses and len(statuses) >= 3, (op_id, statuses)
    assert {"created", "page"} <= {name for op in OPERATIONS for name in named_examples(op)}


@pytest.mark.parametrize(("operation_id", "status"), CODE_CASES)
def test_prefer_code_answers_the_documented_response_with_its_example(client, operation_id, status):
    documented = documented_responses(operation_id)[status]
    response = call(client, operation_id, f"code={status}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == example_of(documented)
    assert f"code={status}" in applied(response), response.headers
    if "WWW-Authenticate" in documented.get("headers", {}):
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("operation_id", "name"), EXAMPLE_CASES)
def test_prefer_example_answers_the_named_example(client, operation_id, name):
    status, body = named_examples(operation_id)[name]
    response = call(client, operation_id, f"example={name}")
    assert response.status_code == status, response.text
    assert response.json() == body
    assert f"example={name}" in applied(response), response.headers


def test_example_and_its_own_code_together(client):
    status, body = named_examples("create_invoice")["created"]
    response = call(client, "create_invoice", f"code={status}, example=created")
    assert response.status_code == status, response.text
    assert response.json() == body


def test_canned_answers_need_no_token_and_store_nothing(client):
    """The 409 screen can be built without staging a duplicate, or even having a token."""
    documented = documented_responses("create_invoice")[409]
    response = client.post("/api/invoices", json={}, headers={"Prefer": "code=409"})
    assert response.status_code == 409, response.text
    assert response.json() == example_of(documented)
    ok = call(client, "create_invoice", "example=created")
    assert ok.status_code == 200
    listed = client.get("/api/invoices", headers=headers()).json()["data"]
    assert listed["_meta"]["total_items"] == 0, "a canned 200 must not create an invoice"


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
@pytest.mark.parametrize("code", ["418", "299", "abc"])
def test_undocumented_code_is_400_naming_the_documented_codes(client, operation_id, code):
    response = call(client, operation_id, f"code={code}")
    envelope = assert_envelope_error(response, 400, code)
    for status in documented_responses(operation_id):
        assert str(status) in envelope["message"], envelope


@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_unknown_example_is_400_naming_the_documented_examples(client, operation_id):
    envelope = assert_envelope_error(call(client, operation_id, "example=nope"), 400, "nope")
    for name in named_examples(operation_id):
        assert name in envelope["message"], envelope


def test_example_of_another_operation_is_400(client):
    list_only = set(named_examples("list_invoices")) - set(named_examples("create_invoice"))
    name = sorted(list_only)[0]
    assert_envelope_error(call(client, "create_invoice", f"example={name}"), 400, name)


def test_example_with_another_code_is_400(client):
    status, _ = named_examples("create_invoice")["created"]
    other = next(s for s in documented_responses("create_invoice") if s != status)
    assert_envelope_error(call(client, "create_invoice", f"code={other}, example=created"), 400, "created")


@pytest.mark.parametrize(
    "prefer",
    ['code="422"', 'code = "422"', "CODE=422", "code=422; foo=bar"],
    ids=["quoted", "spaces", "upper-case name", "with a parameter"],
)
def test_prefer_syntax_variants(client, prefer):
    documented = documented_responses("create_invoice")[422]
    response = call(client, "create_invoice", prefer)
    assert response.status_code == 422, response.text
    assert response.json() == example_of(documented)


def test_quoted_example_name(client):
    status, body = named_examples("list_invoices")["page"]
    response = call(client, "list_invoices", 'example="page"')
    assert (response.status_code, response.json()) == (status, body)


def test_preferences_in_separate_headers_combine(live_url):
    with httpx.Client(base_url=live_url, timeout=30) as http:
        started = time.monotonic()
        response = call(http, "create_invoice", ["code=409", "delay=100"])
        elapsed = time.monotonic() - started
    assert response.status_code == 409, response.text
    assert elapsed >= 0.1


def test_unrelated_preferences_are_ignored(client, session_name):
    response = call(client, "create_invoice", "return=minimal, respond-async", session=session_name)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["document_uid"] == body_for()["document_uid"]
    assert "preference-applied" not in response.headers


# --- delay -------------------------------------------------------------------------------------


def test_delay_holds_back_the_real_response_which_still_does_the_real_thing(live_url, session_name):
    with httpx.Client(base_url=live_url, timeout=30) as http:
        started = time.monotonic()
        response = http.post(
            "/api/invoices",
            json=body_for(),
            headers=headers(session=session_name, Prefer="delay=200"),
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert elapsed >= 0.2, elapsed
        invoice = response.json()["data"]
        assert invoice["uid"] != named_examples("create_invoice")["created"][1]["data"]["uid"]
        stored = http.get(f"/api/invoices/{invoice['uid']}", headers=headers(session=session_name))
        assert stored.status_code == 200, stored.text
        assert stored.json()["data"]["invoice_number"] == invoice["invoice_number"]


@pytest.mark.parametrize("operation_id", ["get_invoice", "list_invoices"])
def test_delay_on_reads(live_url, session_name, operation_id):
    with httpx.Client(base_url=live_url, timeout=30) as http:
        started = time.monotonic()
        response = call(http, operation_id, "delay=200", session=session_name)
        elapsed = time.monotonic() - started
    assert response.status_code == (404 if operation_id == "get_invoice" else 200), response.text
    assert elapsed >= 0.2, elapsed


def test_delay_with_a_code(live_url):
    documented = documented_responses("create_invoice")[409]
    with httpx.Client(base_url=live_url, timeout=30) as http:
        started = time.monotonic()
        response = call(http, "create_invoice", "code=409, delay=100")
        elapsed = time.monotonic() - started
    assert response.status_code == 409, response.text
    assert response.json() == example_of(documented)
    assert elapsed >= 0.1, elapsed


def test_quoted_delay(live_url, session_name):
    with httpx.Client(base_url=live_url, timeout=30) as http:
        started = time.monotonic()
        response = call(http, "list_invoices", 'delay="150"', session=session_name)
        assert response.status_code == 200, response.text
        assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize("value", [str(MAX_DELAY_MS + 1), "999999999", "-5", "1.5", "abc", '""'])
def test_delay_outside_the_cap_or_not_a_number_is_400(live_url, value):
    # The client's timeout (below the cap) only keeps a mock that sleeps first from hanging the run.
    with httpx.Client(base_url=live_url, timeout=MAX_DELAY_MS / 1000 - 5) as http:
        response = call(http, "list_invoices", f"delay={value}")
    assert_envelope_error(response, 400, "delay", str(MAX_DELAY_MS))


def test_delay_zero_is_accepted(client):
    assert call(client, "list_invoices", "delay=0").status_code == 200


# --- without the header: the real behaviour ----------------------------------------------------


def test_without_prefer_the_mock_is_real(client, session_name):
    canned_201 = named_examples("create_invoice")["created"][1]
    invoice = created(client, body_for(), session=session_name)
    assert invoice["uid"] != canned_201["data"]["uid"]
    assert invoice["invoice_number"].startswith("INV-")
    again = client.get(f"/api/invoices/{invoice['uid']}", headers=headers(session=session_name))
    assert again.json()["data"] == invoice

    refused = client.post("/api/invoices", json={}, headers=headers(session=session_name))
    documented_422 = example_of(documented_responses("create_invoice")[422])
    envelope = assert_envelope_error(refused, 422, "required")
    assert envelope != documented_422

    missing = client.get(f"/api/invoices/{UNKNOWN_UID}", headers=headers(USER_A, session=session_name))
    assert_envelope_error(missing, 404, UNKNOWN_UID)
    assert "preference-applied" not in missing.headers
