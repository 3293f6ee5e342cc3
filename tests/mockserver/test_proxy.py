"""The validating proxy (`--proxy URL`, issue 20 item 1): in front of a correct server it passes
every answer through unchanged and counts no violation; in front of faulty servers it names each
violation one exchange can show; an upstream that is down, slow, too large or not JSON is a
502/504 in the envelope naming it; the violation store is bounded; tokens are never kept.

In-process (the upstream reached through `httpx.ASGITransport`), and once over HTTP as a developer
runs it (`python -m mockserver --proxy URL` in front of `python -m mockserver`).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.app import create_app
from mockserver.proxy.app import VIOLATIONS_PATH, create_proxy_app
from tests.conformance.faults import FAULTS
from tests.servers import ServerProcess, free_port, refused_at_start, serve
from tests.world import ORG_A, SPEC_PATH, body_for, user_of

pytestmark = pytest.mark.anyio  # the async tests run on anyio's pytest plugin (httpx's dependency)

TOKEN = user_of(ORG_A).token
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def through_proxy(upstream_url: str, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a proxy (in-process) in front of the server at `upstream_url`."""
    proxy = create_proxy_app(upstream_url, SPEC_PATH, **options)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(proxy), base_url="http://proxy") as client:
            yield client
    finally:
        await proxy.upstream.close()


@asynccontextmanager
async def proxied(upstream: ASGIApp, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a proxy in front of `upstream`, served by uvicorn on 127.0.0.1 and a free port."""
    with serve(upstream) as upstream_url:
        async with through_proxy(upstream_url, **options) as client:
            yield client


def faulty(name: str) -> ASGIApp:
    """The fault variant `name` of tests/conformance/faults over its own mock."""
    fault = copy.copy(FAULTS[name])
    fault.memory, fault.app = {}, create_app()
    return fault


async def violations(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get(VIOLATIONS_PATH)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def server_side(seen: dict[str, Any]) -> list[tuple[str, str]]:
    """(pointer, rule) of every violation of the server's the proxy recorded."""
    return [
        (problem["pointer"], problem["rule"])
        for item in seen["items"]
        for problem in item["violations"]
        if problem["side"] == "response"
    ]


async def lifecycle(client: httpx.AsyncClient) -> list[httpx.Response]:
    """Requests of every operation, accepted and refused, as a frontend sends them."""
    answers = [await client.post("/api/invoices", json=body_for(), headers=AUTH)]
    uid = answers[0].json()["data"]["uid"]
    answers += [
        await client.get(f"/api/invoices/{uid}", headers=AUTH),
        await client.get("/api/invoices", params={"per_page": 2}, headers=AUTH),
        await client.put(f"/api/invoices/{uid}", json={"status": "sent"}, headers=AUTH),
        await client.put("/api/invoices", json=[{"uid": uid, "status": "paid"}], headers=AUTH),
        await client.get("/api/invoices"),  # 401
        await client.get("/api/invoices/00000000-0000-4000-8000-000000000000", headers=AUTH),  # 404
        await client.post("/api/invoices", json={"owner_uid": ORG_A}, headers=AUTH),  # 422
        await client.get("/no/such/path"),  # 404 of an undocumented path
        await client.request("DELETE", "/api/invoices", json=[uid], headers=AUTH),
    ]
    return answers


async def test_a_correct_server_passes_through_unchanged_with_no_violation():
    mock = create_app()
    async with proxied(mock) as client:
        answers = await lifecycle(client)
        seen = await violations(client)
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200, 200, 200, 200, 200, 401, 404, 422, 404, 200], statuses
    assert all(answer.headers["x-contract-violations"] == "0" for answer in answers)
    assert server_side(seen) == [], seen
    # The refused create is the client's problem, counted apart and named by field and rule.
    assert answers[7].headers["x-contract-request-violations"] == "2"
    client_side = {(p["pointer"], p["rule"]) for item in seen["items"] for p in item["violations"]}
    assert client_side == {("/target_party_uid", "schema:required"), ("/document_uid", "schema:required")}
    assert seen["exchanges"] == len(answers)
    assert answers[5].headers["www-authenticate"].startswith("Bearer"), "upstream headers pass through"


async def test_the_answer_is_the_upstreams_byte_for_byte():
    mock = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock") as direct:
        created = (await direct.post("/api/invoices", json=body_for(), headers=AUTH)).json()["data"]
        straight = await direct.get(f"/api/invoices/{created['uid']}", headers=AUTH)
    async with proxied(mock) as client:
        through = await client.get(f"/api/invoices/{created['uid']}", headers=AUTH)
    assert (through.status_code, through.content) == (straight.status_code, straight.content)
    assert through.headers["content-type"] == straight.headers["content-type"]


# (variant of tests/conformance/faults, the request that shows it, the violation the proxy must name)
Send_ = Callable[[httpx.AsyncClient], Any]
FOUND_IN_ONE_EXCHANGE: list[tuple[str, Send_, tuple[str, str]]] = [
    ("no-challenge", lambda c: c.get("/api/invoices"), ("header:www-authenticate", "P08")),
    ("status-code-400", lambda c: c.post("/api/invoices", json={}, headers=AUTH), ("", "envelope")),
    ("problem-json", lambda c: c.post("/api/invoices", json={}, headers=AUTH), ("", "envelope")),
    ("errors-as-text-plain", lambda c: c.get("/api/invoices"), ("", "envelope")),
    (
        "total-as-string",
        lambda c: c.post("/api/invoices", json=body_for(), headers=AUTH),
        ("/data/total", "schema:type"),
    ),
    (
        "fields-as-map",
        lambda c: c.post("/api/invoices", json=body_for(), headers=AUTH),
        ("/data/invoice_fields", "schema:type"),
    ),
    ("auth-skipped", lambda c: c.post("/api/invoices", json=body_for()), ("", "security")),
    (
        "unknown-fields-ignored",
        lambda c: c.post("/api/invoices", json=body_for(colour="red"), headers=AUTH),
        ("", "P03"),
    ),
]


@pytest.mark.parametrize(
    ("variant", "request_", "expected"), FOUND_IN_ONE_EXCHANGE, ids=[v[0] for v in FOUND_IN_ONE_EXCHANGE]
)
async def test_each_fault_one_exchange_shows_is_named(
    variant: str, request_: Send_, expected: tuple[str, str]
):
    async with proxied(faulty(variant)) as client:
        answer = await request_(client)
        seen = await violations(client)
    assert expected in server_side(seen), seen
    assert int(answer.headers["x-contract-violations"]) >= 1


async def test_the_same_requests_to_the_clean_server_name_nothing():
    """The control of the test above: its requests, to the server without the faults."""
    async with proxied(create_app()) as client:
        for _variant, request_, _expected in FOUND_IN_ONE_EXCHANGE:
            await request_(client)
        seen = await violations(client)
    assert server_side(seen) == [], seen


async def plain_500(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"text/html")]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": b"<h1>Internal Server Error</h1>"})


async def slow(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http" and scope["path"] != "/api/invoices":  # `serve`'s readiness probe, `/ready`
        await plain_500(scope, receive, send)
        return
    await asyncio.sleep(1)
    await plain_500(scope, receive, send)


async def huge(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps({"status": "success", "status_code": 200, "message": "", "data": "x" * 5000}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


def envelope_of(answer: httpx.Response, status: int) -> str:
    body = answer.json()
    assert answer.status_code == status, answer.text
    assert (body["status"], body["status_code"], body["errors"]) == ("error", status, []), body
    message: str = body["message"]
    return message


async def test_an_upstream_answering_html_is_a_502_naming_it_and_recorded():
    with serve(plain_500) as upstream_url:
        async with through_proxy(upstream_url) as client:
            answer = await client.get("/api/invoices", headers=AUTH)
            seen = await violations(client)
    assert f"{upstream_url} answered 500 with text/html, not JSON" in envelope_of(answer, 502)
    assert ("", "envelope") in server_side(seen)
    assert seen["items"][0]["response_body"] == "<h1>Internal Server Error</h1>"


async def test_a_slow_upstream_is_a_504_and_a_large_answer_a_502():
    with serve(slow, probe="/ready") as slow_url:
        async with through_proxy(slow_url, timeout=0.2) as client:
            late = await client.get("/api/invoices", headers=AUTH)
    assert f"{slow_url} did not answer within 0.2 s" in envelope_of(late, 504)
    async with proxied(huge, max_body_bytes=4096) as client:
        large = await client.get("/api/invoices", headers=AUTH)
        too_much = await client.post("/api/invoices", content=b"x" * 5000, headers=AUTH)
    assert "answered more than 4096 bytes" in envelope_of(large, 502)
    assert "at most 4096 bytes" in envelope_of(too_much, 413)


async def test_an_upstream_that_is_down_is_a_502_naming_it():
    down = f"http://127.0.0.1:{free_port()}"
    async with through_proxy(down) as client:
        answer = await client.get("/api/invoices", headers=AUTH)
    assert f"Upstream: {down} cannot be reached" in envelope_of(answer, 502)


async def test_the_store_is_bounded_and_counts_what_it_dropped():
    async with proxied(faulty("no-challenge"), max_violations=3) as client:
        for _ in range(5):
            await client.get("/api/invoices")
        seen = await violations(client)
        cleared = (await client.delete(VIOLATIONS_PATH)).json()["data"]
    assert (len(seen["items"]), seen["dropped"], seen["violations"], seen["exchanges"]) == (3, 2, 5, 5)
    assert (cleared["items"], cleared["exchanges"]) == ([], 0)


async def test_tokens_are_never_kept_or_logged(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO)
    async with proxied(faulty("total-as-string")) as client:
        await client.post("/api/invoices", json=body_for(), headers=AUTH)
        seen = await violations(client)
    (item,) = seen["items"]
    assert '-H "Authorization: Bearer $TOKEN"' in item["curl"], item["curl"]
    assert TOKEN not in json.dumps(seen) and TOKEN not in caplog.text
    assert "/data/total schema:type" in caplog.text


@pytest.mark.e2e
def test_the_proxy_command_in_front_of_the_mock(tmp_path: Path):
    with (
        ServerProcess.mock(tmp_path) as mock,
        ServerProcess.mock(tmp_path, "--proxy", mock.base_url) as proxy,
    ):
        assert f"proxy listening on {proxy.base_url} -> {mock.base_url}" in proxy.stdout
        created = httpx.post(f"{proxy.base_url}/api/invoices", json=body_for(), headers=AUTH, timeout=30)
        assert (created.status_code, created.headers["x-contract-violations"]) == (200, "0"), created.text
        direct = httpx.get(
            f"{mock.base_url}/api/invoices/{created.json()['data']['uid']}", headers=AUTH, timeout=30
        )
        assert direct.status_code == 200, "the proxy forwarded the create to the mock"
        seen = httpx.get(f"{proxy.base_url}{VIOLATIONS_PATH}", timeout=30).json()["data"]
        assert seen["exchanges"] >= 1 and seen["violations"] == 0, seen


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--proxy", "ftp://example"], "not an http(s)://host[:port][/prefix] URL"),
        (["--proxy", "http://127.0.0.1:1", "--proxy-timeout", "0"], "outside 0.1-300"),
        (["--proxy", "http://127.0.0.1:1", "--state-file", "x.db"], "no --world, --fixtures or --state-file"),
    ],
)
def test_bad_proxy_options_are_one_line_and_exit_2(args: list[str], complaint: str):
    result = refused_at_start(*args)
    assert result.returncode == 2, result
    assert complaint in result.stderr and "Traceback" not in result.stderr, result.stderr
