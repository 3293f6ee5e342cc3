"""Isolated sessions: `X-Mock-Session: NAME` selects its own invoices (and clock), created on first
use from the fixtures; without the header, the shared `default` session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.frontend.conftest import (
    CONTROL,
    ORG_A,
    ORG_B,
    SESSION_HEADER,
    USER_A,
    USER_B,
    assert_envelope_error,
    body_for,
    created,
    headers,
)


def total(client, session: str | None, user=USER_A) -> int:
    response = client.get("/api/invoices", headers=headers(user, session=session))
    assert response.status_code == 200, response.text
    return response.json()["data"]["_meta"]["total_items"]


def test_two_sessions_see_only_their_own_invoices(client):
    first = [created(client, session="alpha") for _ in range(3)]
    second = [created(client, session="beta")]
    assert total(client, "alpha") == 3
    assert total(client, "beta") == 1
    assert total(client, None) == 0, "the default session is untouched"
    for invoice in first:
        assert (
            client.get(f"/api/invoices/{invoice['uid']}", headers=headers(session="alpha")).status_code == 200
        )
        across = client.get(f"/api/invoices/{invoice['uid']}", headers=headers(session="beta"))
        assert_envelope_error(across, 404, invoice["uid"])
        assert client.get(f"/api/invoices/{invoice['uid']}", headers=headers()).status_code == 404
    assert (
        client.get(f"/api/invoices/{second[0]['uid']}", headers=headers(session="alpha")).status_code == 404
    )
    listed = client.get("/api/invoices", headers=headers(session="alpha")).json()["data"]["items"]
    assert {item["uid"] for item in listed} == {invoice["uid"] for invoice in first}


def test_invoice_numbers_restart_per_session(client):
    numbers = {
        name: [created(client, session=name)["invoice_number"] for _ in range(2)] for name in ("a", "b")
    }
    default = created(client)["invoice_number"]
    assert numbers["a"] == numbers["b"], numbers
    assert default == numbers["a"][0]
    assert numbers["a"][0] != numbers["a"][1]


def test_a_supplied_number_is_unique_per_session_not_across_sessions(client):
    body = body_for(invoice_number="INV-SESSION-1")
    assert client.post("/api/invoices", json=body, headers=headers(session="one")).status_code == 200
    assert client.post("/api/invoices", json=body, headers=headers(session="two")).status_code == 200
    assert_envelope_error(client.post("/api/invoices", json=body, headers=headers(session="one")), 409)


def test_visibility_rules_hold_inside_a_session(client):
    mine = created(client, body_for(ORG_B), user=USER_B, session="vis")
    assert (
        client.get(f"/api/invoices/{mine['uid']}", headers=headers(USER_A, session="vis")).status_code == 404
    )
    assert total(client, "vis", USER_B) == 1
    assert total(client, "vis", USER_A) == 0


def test_a_session_is_created_on_first_use_from_the_fixtures(client):
    assert total(client, "fresh") == 0
    sessions = client.get(f"{CONTROL}/sessions").json()["data"]
    assert "fresh" in {s["session"] for s in sessions}
    invoice = created(client, body_for(ORG_A), session="fresh")
    assert invoice["parties"]  # the fixtures' world is there: parties resolved


@pytest.mark.parametrize(
    "name",
    ["has space", "slash/name", "x" * 65, "ünïcode", "semi;colon"],
    ids=["space", "slash", "65 chars", "non-ascii", "semicolon"],
)
def test_invalid_session_name_is_400_in_the_envelope(client, name):
    raw_headers = [
        (b"authorization", f"Bearer {USER_A.token}".encode()),
        (SESSION_HEADER.lower().encode(), name.encode("utf-8")),
    ]
    response = client.get("/api/invoices", headers=raw_headers)
    assert_envelope_error(response, 400, SESSION_HEADER)


@pytest.mark.parametrize("name", ["a", "A-b_c.1", "x" * 64])
def test_valid_session_names(client, name):
    assert total(client, name) == 0


def test_max_sessions_is_enforced_with_the_envelope(make_client):
    client = make_client(max_sessions=3)
    for name in ("s1", "s2", "s3"):
        assert total(client, name) == 0
    refused = client.get("/api/invoices", headers=headers(session="s4"))
    assert refused.status_code >= 400
    envelope = assert_envelope_error(refused, refused.status_code, SESSION_HEADER, "3")
    assert envelope["status_code"] in (429, 503, 507), envelope
    assert total(client, "s1") == 0, "existing sessions still work"
    # Dropping the sessions (reset all) makes room again.
    assert client.post(f"{CONTROL}/reset", params={"all": "true"}).status_code == 200
    assert total(client, "s4") == 0


@pytest.mark.parametrize("control", [True, False], ids=["control API", "--no-control"])
def test_too_many_sessions_suggests_the_reset_only_where_it_is_served(make_client, control: bool):
    """Issue 21: under `--no-control` the refusal named POST /__mock/reset, which is a 404 there."""
    client = make_client(max_sessions=1, control=control)
    assert total(client, "s1") == 0
    message = client.get("/api/invoices", headers=headers(session="s2")).json()["message"]
    assert ("/__mock/reset" in message) is control, message
    if not control:
        assert client.post(f"{CONTROL}/reset", params={"all": "true"}).status_code == 404


@pytest.mark.e2e
def test_parallel_runs_in_two_sessions_never_see_each_other(live_url, session_name):
    """Two test runs, 100 parallel creates each, against one real server."""
    per_session = 100
    names = [f"{session_name}-a", f"{session_name}-b"]
    with httpx.Client(base_url=live_url, timeout=60, limits=httpx.Limits(max_connections=32)) as http:

        def create(job: int) -> tuple[str, dict]:
            name = names[job % 2]
            # Both runs act as the same user for the same organization: only the session separates them.
            response = http.post("/api/invoices", json=body_for(ORG_A), headers=headers(session=name))
            assert response.status_code == 200, response.text
            return name, response.json()["data"]

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(create, range(2 * per_session)))

        for name in names:
            mine = {invoice["uid"]: invoice for owner, invoice in results if owner == name}
            assert len(mine) == per_session
            numbers = [invoice["invoice_number"] for invoice in mine.values()]
            assert len(set(numbers)) == per_session, "generated numbers are unique within a session"
            listed = http.get("/api/invoices", params={"per_page": 100}, headers=headers(session=name))
            page = listed.json()["data"]
            assert page["_meta"]["total_items"] == per_session
            assert {item["uid"] for item in page["items"]} == set(mine)
            dumped = http.get(f"{CONTROL}/invoices", headers={SESSION_HEADER: name}).json()["data"]
            assert {invoice["uid"] for invoice in dumped} == set(mine)
        # Both runs generated the same sequence of numbers, each in its own namespace.
        numbers_by_session = [
            sorted(invoice["invoice_number"] for owner, invoice in results if owner == name) for name in names
        ]
        assert numbers_by_session[0] == numbers_by_session[1]
