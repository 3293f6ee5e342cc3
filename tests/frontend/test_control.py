"""The control API under /__mock (mockserver/http/control.yaml): sessions, reset, invoices dump,
fixtures, clock, request log; unreachable from the contract's paths; off with `control=False`."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import httpx
import pytest
import yaml

from mockserver.domain.fixtures import DEFAULT_FIXTURES
from tests.frontend.conftest import (
    CONTROL,
    CONTROL_SPEC,
    NOW,
    ORG_A,
    ORG_B,
    SESSION_HEADER,
    SPEC,
    USER_A,
    USER_B,
    assert_envelope_error,
    blueprint_of,
    body_for,
    created,
    headers,
)


def control(client, method: str, path: str, session: str | None = None, **kwargs) -> httpx.Response:
    request_headers = {SESSION_HEADER: session} if session else {}
    return client.request(method, f"{CONTROL}{path}", headers=request_headers, **kwargs)


def ok(response: httpx.Response):
    assert response.status_code == 200, response.text
    envelope = response.json()
    assert envelope["status"] == "success" and envelope["status_code"] == 200, envelope
    return envelope["data"]


def total(client, session: str | None, user=USER_A) -> int:
    response = client.get("/api/invoices", headers=headers(user, session=session))
    assert response.status_code == 200, response.text
    return response.json()["data"]["_meta"]["total_items"]


def raw_fixtures() -> dict:
    return yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))


def test_the_control_api_has_its_own_spec_under_mock_and_the_contract_has_none():
    assert CONTROL_SPEC["servers"][0]["url"] == CONTROL
    assert not any("__mock" in path for path in SPEC["paths"])
    assert not any("__mock" in server["url"] for server in SPEC.get("servers", []))
    operation_ids = {op["operationId"] for item in CONTROL_SPEC["paths"].values() for op in item.values()}
    assert {
        "list_sessions",
        "reset",
        "dump_invoices",
        "load_fixtures",
        "get_clock",
        "set_clock",
        "free_clock",
        "list_requests",
        "health",
    } <= operation_ids


def test_list_sessions_with_invoice_counts_and_clocks(client):
    for _ in range(2):
        created(client, session="alpha")
    created(client, session="beta")
    ok(control(client, "PUT", "/clock", "beta", json={"now": "2030-01-02T03:04:05Z"}))
    sessions = {s["session"]: s for s in ok(control(client, "GET", "/sessions"))}
    assert sessions["alpha"]["invoices"] == 2
    assert sessions["beta"]["invoices"] == 1
    assert sessions["beta"]["fixed"] is True
    assert sessions["beta"]["now"] == "2030-01-02T03:04:05Z"


def test_reset_one_session(client):
    for _ in range(2):
        created(client, session="alpha")
    kept = created(client, session="beta")
    ok(control(client, "PUT", "/clock", "alpha", json={"now": "2031-01-01T00:00:00Z"}))
    assert ok(control(client, "POST", "/reset", "alpha")) == {"reset": ["alpha"]}
    assert total(client, "alpha") == 0
    assert total(client, "beta") == 1
    assert client.get(f"/api/invoices/{kept['uid']}", headers=headers(session="beta")).status_code == 200
    clock = ok(control(client, "GET", "/clock", "alpha"))
    assert clock["now"].startswith(NOW.strftime("%Y-%m-%dT%H:%M")), "the clock is back as at start"
    assert created(client, session="alpha")["invoice_number"] == kept["invoice_number"], "numbers restart"


def test_reset_without_header_resets_the_default_session_only(client):
    created(client)
    created(client, session="other")
    assert ok(control(client, "POST", "/reset")) == {"reset": ["default"]}
    assert total(client, None) == 0
    assert total(client, "other") == 1


def test_reset_all(client):
    created(client)
    created(client, session="alpha")
    created(client, session="beta")
    result = ok(control(client, "POST", "/reset", params={"all": "true"}))
    assert {"default", "alpha", "beta"} <= set(result["reset"])
    remaining = {s["session"] for s in ok(control(client, "GET", "/sessions"))}
    assert not {"alpha", "beta"} & remaining, "named sessions are dropped"
    assert total(client, None) == 0
    assert total(client, "alpha") == 0, "and come back empty on next use"
    assert ok(control(client, "GET", "/requests", "beta")) == [], "the request log is cleared"


def test_dump_invoices_every_owner_in_creation_order(client):
    first = created(client, body_for(ORG_A), session="dump")
    second = created(client, body_for(ORG_B), user=USER_B, session="dump")
    third = created(client, body_for(ORG_A, invoice_blueprint_uid=blueprint_of(ORG_A).uid), session="dump")
    created(client, session="elsewhere")
    dumped = ok(control(client, "GET", "/invoices", "dump"))
    assert [invoice["uid"] for invoice in dumped] == [first["uid"], second["uid"], third["uid"]]
    assert dumped == [first, second, third], "full invoices, exactly as the API shows them"
    assert ok(control(client, "GET", "/invoices", "empty-session")) == []


def test_load_fixtures_replaces_the_world_and_resets_every_session(client):
    old = created(client, session="alpha")
    created(client)
    raw = raw_fixtures()
    raw["organizations"][0]["name"] = "Acme Renamed Ltd."
    new_token = "frontend-dave-token"
    raw["users"].append(
        {"token": new_token, "id": 99, "fullname": "Dave New", "email": "dave@example.test",
         "organizations": [ORG_A]}
    )  # fmt: skip
    assert raw["organizations"][0]["uid"] == ORG_A
    result = ok(control(client, "PUT", "/fixtures", json=raw))
    assert result["loaded"]["users"] == len(raw["users"])
    assert result["loaded"]["organizations"] == len(raw["organizations"])
    assert result["loaded"]["documents"] == len(raw["documents"])
    assert total(client, "alpha") == 0 and total(client, None) == 0, "every session was reset"
    assert client.get(f"/api/invoices/{old['uid']}", headers=headers(session="alpha")).status_code == 404
    response = client.post(
        "/api/invoices", json=body_for(ORG_A), headers={"Authorization": f"Bearer {new_token}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["parties"]["service_provider"]["name"] == "Acme Renamed Ltd."


@pytest.mark.parametrize(
    ("break_it", "named"),
    [
        (lambda raw: raw["documents"][0].update(organization_uid="10000000-0000-4000-8000-00000000dead"),
         ["documents[uid=", "10000000-0000-4000-8000-00000000dead"]),
        (lambda raw: raw["users"][1].pop("token"), ["users[1]", "token"]),
        (lambda raw: raw["parties"][2].update(uid="not-a-uuid"), ["parties[2]", "not-a-uuid"]),
        (lambda raw: raw.pop("organizations"), ["organizations"]),
    ],
    ids=["unknown organization", "missing token", "bad uid", "no organizations"],
)  # fmt: skip
def test_invalid_fixtures_are_422_naming_the_entry_and_change_nothing(client, break_it, named):
    kept = created(client, session="alpha")
    raw = copy.deepcopy(raw_fixtures())
    break_it(raw)
    assert_envelope_error(control(client, "PUT", "/fixtures", json=raw), 422, *named)
    again = client.get(f"/api/invoices/{kept['uid']}", headers=headers(session="alpha"))
    assert again.status_code == 200, "a refused load leaves the world and the sessions as they were"


@pytest.mark.parametrize("body", [[1, 2], "text"], ids=["array", "string"])
def test_fixtures_that_are_not_an_object_are_refused(client, body):
    response = control(client, "PUT", "/fixtures", json=body)
    assert 400 <= response.status_code < 500
    assert response.json()["status"] == "error"


def test_clock_set_drives_age_overdue_days_and_the_number_year(client):
    session = "clocked"
    fixed = ok(control(client, "PUT", "/clock", session, json={"now": "2031-02-03T12:00:00Z"}))
    assert fixed == {"session": session, "now": "2031-02-03T12:00:00Z", "fixed": True}
    assert ok(control(client, "GET", "/clock", session)) == fixed
    body = body_for(
        ORG_A,
        invoice_blueprint_uid=blueprint_of(ORG_A).uid,  # priced, so an unpaid due date is overdue
        issue_date="2031-01-01T00:00:00Z",
        due_date="2031-01-24T00:00:00Z",
    )
    invoice = created(client, body, session=session)
    assert invoice["invoice_number"].startswith("INV-2031-"), invoice["invoice_number"]
    assert invoice["age"] == 33
    assert invoice["overdue_days"] == 10

    ok(control(client, "PUT", "/clock", session, json={"now": "2031-03-03T12:00:00Z"}))
    later = client.get(f"/api/invoices/{invoice['uid']}", headers=headers(session=session)).json()["data"]
    assert (later["age"], later["overdue_days"]) == (61, 38)
    summary = client.get("/api/invoices", headers=headers(session=session)).json()["data"]["items"][0]
    assert summary["overdue_days"] == 38

    other = created(client, session="unclocked")
    assert other["invoice_number"].startswith(f"INV-{NOW.year}-"), "other sessions keep their clock"


def test_clock_free_returns_to_real_time(client):
    session = "freed"
    ok(control(client, "PUT", "/clock", session, json={"now": "2031-02-03T12:00:00Z"}))
    freed = ok(control(client, "DELETE", "/clock", session))
    assert freed["fixed"] is False
    now = datetime.fromisoformat(freed["now"].replace("Z", "+00:00"))
    assert abs((now - datetime.now(UTC)).total_seconds()) < 60
    number = created(client, session=session)["invoice_number"]
    assert number.startswith(f"INV-{datetime.now(UTC).year}-")
    assert ok(control(client, "GET", "/clock", session))["fixed"] is False


@pytest.mark.parametrize(
    "body",
    [{"now": "yesterday"}, {}, {"now": "2031-01-01T00:00:00Z", "extra": 1}, {"now": 5}],
    ids=["not a date-time", "missing", "unknown field", "number"],
)
def test_clock_set_refuses_bad_bodies_in_the_envelope(client, body):
    response = control(client, "PUT", "/clock", "bad-clock", json=body)
    assert response.status_code in (400, 422), response.text
    assert response.json()["status"] == "error"
    assert ok(control(client, "GET", "/clock", "bad-clock"))["now"].startswith(str(NOW.year))


def test_request_log_with_limit_and_session_filter(client):
    session, other = "logged", "not-logged"
    body = body_for()
    invoice = created(client, body, session=session)
    refused = client.post("/api/invoices", json={"owner_uid": ORG_A}, headers=headers(session=session))
    assert refused.status_code == 422
    client.get("/api/invoices", params={"per_page": 5}, headers=headers(session=session))
    client.get("/api/invoices", headers=headers(session=other))
    ok(control(client, "GET", "/sessions"))  # the control API's own calls are not logged

    newest_two = ok(control(client, "GET", "/requests", session, params={"limit": 2}))
    assert [(e["method"], e["path"]) for e in newest_two] == [
        ("GET", "/api/invoices"),
        ("POST", "/api/invoices"),
    ]
    assert newest_two[0]["query"] == "per_page=5"
    assert newest_two[0]["response"]["status"] == 200
    assert newest_two[1]["response"]["status"] == 422
    assert newest_two[1]["request"]["body"] == {"owner_uid": ORG_A}
    assert newest_two[1]["response"]["body"] == refused.json()

    everything = ok(control(client, "GET", "/requests", session))
    assert len(everything) == 3
    assert {e["session"] for e in everything} == {session}
    first = everything[-1]
    assert first["request"]["body"] == body
    assert first["request"]["content_type"].startswith("application/json")
    assert first["response"]["status"] == 200
    assert first["response"]["body"]["data"]["uid"] == invoice["uid"]
    assert all(e["at"].endswith("Z") for e in everything)

    theirs = ok(control(client, "GET", "/requests", other))
    assert [(e["method"], e["session"]) for e in theirs] == [("GET", other)]


@pytest.mark.parametrize("limit", ["0", "501", "many"])
def test_request_log_limit_is_validated(client, limit):
    response = control(client, "GET", "/requests", params={"limit": limit})
    assert response.status_code in (400, 422), response.text
    assert response.json()["status"] == "error"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/__mock/sessions"),
        ("POST", "/api/__mock/reset"),
        ("GET", "/api/__mock/invoices"),
        ("GET", "/api/invoices/__mock/sessions"),
        ("PUT", "/api/__mock/clock"),
    ],
)
def test_control_api_is_not_reachable_through_the_contract_paths(client, method, path):
    created(client, session="hidden")
    response = client.request(
        method, path, headers=headers(session="hidden"), json={"now": "2031-01-01T00:00:00Z"}
    )
    assert response.status_code == 404, response.text
    assert response.json()["status"] == "error"
    assert total(client, "hidden") == 1, "nothing was reset"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sessions"),
        ("POST", "/reset"),
        ("GET", "/invoices"),
        ("PUT", "/fixtures"),
        ("GET", "/clock"),
        ("DELETE", "/clock"),
        ("GET", "/requests"),
    ],
)
def test_control_false_removes_the_control_api(make_client, method, path):
    client = make_client(control=False)
    created(client)
    response = control(client, method, path, json={} if method == "PUT" else None)
    assert response.status_code == 404, response.text
    assert response.json()["status"] == "error"
    assert total(client, None) == 1, "the contract still works and nothing was reset"


def test_cli_no_control(mock_process):
    mock = mock_process("--no-control")
    assert mock.answers(), mock.stderr
    assert httpx.get(f"{mock.base_url}{CONTROL}/sessions", timeout=30).status_code == 404
    assert httpx.post(f"{mock.base_url}{CONTROL}/reset", timeout=30).status_code == 404
    response = httpx.get(f"{mock.base_url}/api/invoices", headers=headers(USER_A), timeout=30)
    assert response.status_code == 200


def test_health_shows_the_one_invoice_cap_and_no_state_file(make_client):
    client = make_client(max_invoices=5)
    created(client, session="alpha")
    created(client, session="beta")
    health = ok(control(client, "GET", "/health"))
    assert health["ok"] is True
    assert health["state_file"] is None
    assert health["invoices"] == {"stored": 2, "limit": 5}, "one count across all sessions"
    assert health["sessions"]["named"] == 2
    assert health["request_log"]["entries"] == 2
    assert 0 < health["request_log"]["bytes"] <= health["request_log"]["max_bytes"]
    ok(control(client, "POST", "/reset", "alpha"))
    assert ok(control(client, "GET", "/health"))["invoices"]["stored"] == 1
