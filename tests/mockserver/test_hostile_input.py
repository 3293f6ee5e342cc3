"""Each class of input that once answered 5xx (issue 10) or uvicorn's plain text, one by one:
a 4xx in the envelope naming the field and the rule, and a refused control call changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mockserver.http.protocol import MAX_HEAD_BYTES, MAX_HEADERS
from tests.mockserver.support import MINIMAL, SPEC, USER_A, assert_error, auth, create_app
from tests.mockserver.test_fuzz import Answer, Junk, envelope_problem, send
from tests.servers import serve


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serve(create_app()) as base_url:
        yield int(base_url.rsplit(":", 1)[1])


def raw(
    port: int,
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> Answer:
    answer = send(port, Junk("test", method, target, tuple(headers or ()), body))
    assert answer is not None
    assert envelope_problem(answer) is None, answer
    return answer


def test_unknown_method_on_a_documented_path_is_405_with_allow(port):
    answer = raw(port, b"FROB", b"/api/invoices")
    assert answer.status == 405
    assert answer.headers["allow"] == ", ".join(sorted(m.upper() for m in SPEC["paths"]["/api/invoices"]))


def test_unknown_method_elsewhere_and_a_broken_request_line_are_400(port):
    assert raw(port, b"FROB", b"/nowhere").status == 400
    assert raw(port, b"G\xffT", b"/api/invoices").status == 400


def test_too_many_headers_is_431(port):
    headers = [(f"x-h{n}".encode(), b"v") for n in range(MAX_HEADERS + 1)]
    assert raw(port, b"GET", b"/api/invoices", headers).status == 431
    fewer = [(f"x-h{n}".encode(), b"v") for n in range(MAX_HEADERS - 5)]
    assert raw(port, b"GET", b"/api/invoices", fewer).status == 401


def test_a_header_past_the_head_limit_is_431_and_a_request_line_past_it_414(port):
    assert raw(port, b"GET", b"/api/invoices", [(b"x-big", b"a" * MAX_HEAD_BYTES)]).status == 431
    assert raw(port, b"GET", b"/" + b"a" * (MAX_HEAD_BYTES + 10)).status == 414


@pytest.mark.parametrize("field", ["owner_uid", "currency", "invoice_number"])
def test_a_lone_surrogate_is_400_naming_the_field(client, field):
    text = json.dumps({**MINIMAL, field: "__S__"}).replace('"__S__"', '"\\ud800"')
    response = client.post(
        "/api/invoices", content=text, headers={**auth(USER_A), "Content-Type": "application/json"}
    )
    assert_error(response, 400, f"/{field}", "lone surrogate")


@pytest.mark.parametrize("name", ["page", "per_page"])
def test_query_integers_of_any_length_are_422(client, name):
    response = client.get(f"/api/invoices?{name}={'9' * 5000}", headers=auth(USER_A))
    envelope = assert_error(response, 422, name, "at most")
    assert "5000 characters" in envelope["message"]


def test_request_log_limit_of_any_length_is_422(client):
    assert_error(client.get(f"/__mock/requests?limit={'9' * 5000}"), 422, "limit", "at most")


@pytest.mark.parametrize("prefer", ["code=" + "4" * 5000, "delay=" + "1" * 5000, "code=²", "delay=²"])
def test_prefer_numbers_of_any_kind_are_400(client, prefer):
    headers = {"Prefer": prefer.encode()}  # as bytes: "²" is UTF-8 on the wire
    assert_error(client.get("/api/invoices", headers=headers), 400)


@pytest.mark.parametrize("now", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_an_unrepresentable_clock_is_422_and_changes_nothing(client, now):
    before = client.get("/__mock/clock").json()["data"]
    assert_error(client.put("/__mock/clock", json={"now": now}), 422, "/now", "cannot represent")
    assert client.get("/__mock/clock").json()["data"] == before
    assert client.get("/__mock/sessions").status_code == 200


def test_a_deeply_nested_body_in_the_request_log_can_be_read_back(client):
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    client.post("/api/invoices", content=deep, headers={**auth(USER_A), "Content-Type": "application/json"})
    response = client.get("/__mock/requests?limit=1")
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["data"][0]["request"]["body"], str)
