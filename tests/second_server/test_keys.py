"""Key scopes and rate limits on the second server (openapi.yaml P22, P74), and the server without the
lifecycle (`create_create_read_app`), over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from contract.spec import default_fixtures_path
from tests.second_server.app import OPERATIONS_VARIABLE, create_app, create_create_read_app
from tests.second_server.conftest import FACTS, ORG, READ, WRITE, Api, create_body, key_of
from tests.servers import serve

pytestmark = pytest.mark.e2e

READ_ONLY = key_of(ORG, READ).token
LIMITED = key_of(ORG, limited=True)
MISSING = "ffffffff-0000-4000-8000-00000000ffff"
WRITE_ONLY, STRANGE_SCOPE = "second-write-only-token", "second-strange-scope-token"


def writes(uid: str) -> list[tuple[str, str, Any]]:
    """Every changing operation, with a body it would otherwise accept or refuse for other reasons."""
    return [
        ("POST", "/api/invoices", create_body()),
        ("PUT", f"/api/invoices/{uid}", {}),
        ("PUT", "/api/invoices", [{"uid": uid}]),
        ("DELETE", "/api/invoices", [uid]),
        ("POST", f"/api/invoices/{uid}/line_items", {}),
        ("PUT", f"/api/invoices/{uid}/line_items", {}),
        ("DELETE", f"/api/invoices/{uid}/line_items", [MISSING]),
    ]


def test_a_read_only_key_reads_and_cannot_write(api):
    invoice = api.create()
    assert api.call("GET", f"/api/invoices/{invoice['uid']}", token=READ_ONLY).status_code == 200
    assert api.call("GET", "/api/invoices", token=READ_ONLY).status_code == 200
    for method, path, body in writes(invoice["uid"]):
        response = api.call(method, path, body, token=READ_ONLY)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["status_code"] == 403
    assert api.get(invoice["uid"])["uid"] == invoice["uid"]  # the delete did not happen


def test_scopes_come_right_after_authentication(api):
    """P74: before the body is read or the invoice looked up."""
    huge = b"[" + b" " * (FACTS.max_body_bytes + 1) + b"]"
    for method, path, _body in writes(MISSING):
        for content, kind in (
            (b"{broken", "application/json"),
            (b"[]", "text/plain"),
            (huge, "application/json"),
        ):
            headers = {"Content-Type": kind}
            response = api.call(method, path, token=READ_ONLY, content=content, headers=headers)
            assert response.status_code == 403, (method, path, response.text[:200])
    assert api.call("PUT", "/api/invoices", token="no-such-token", content=b"{").status_code == 401


@pytest.fixture(scope="module")
def scoped_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A world with a write-only key and a key of some other scope (the world file is the default's)."""
    world = yaml.safe_load(default_fixtures_path().read_text(encoding="utf-8"))
    template = next(user for user in world["users"] if user["token"] == key_of(ORG).token)
    world["users"] += [
        {**template, "id": 901, "token": WRITE_ONLY, "scopes": sorted(WRITE)},
        {**template, "id": 902, "token": STRANGE_SCOPE, "scopes": ["attachments:read"]},
    ]
    path = Path(tmp_path_factory.mktemp("world")) / "scoped.yaml"
    path.write_text(yaml.safe_dump(world), encoding="utf-8")
    with (
        serve(create_app(fixtures_path=str(path), rate_limit_every=None)) as url,
        httpx.Client(base_url=url) as http,
    ):
        yield Api(http, WRITE_ONLY)


def test_write_implies_read_here(scoped_api):
    """P74 open: this server lets a key with the write scope read too."""
    invoice = scoped_api.create()
    assert scoped_api.get(invoice["uid"])["uid"] == invoice["uid"]
    assert invoice["uid"] in scoped_api.listed()


def test_a_key_of_another_scope_may_do_nothing(scoped_api):
    invoice = scoped_api.create()
    assert scoped_api.call("GET", f"/api/invoices/{invoice['uid']}", token=STRANGE_SCOPE).status_code == 403
    assert scoped_api.call("GET", "/api/invoices", token=STRANGE_SCOPE).status_code == 403
    for method, path, body in writes(invoice["uid"]):
        assert scoped_api.call(method, path, body, token=STRANGE_SCOPE).status_code == 403


def test_a_key_past_its_rate_limit_is_429_with_retry_after():
    assert LIMITED.rate_limit is not None
    with serve(create_app(rate_limit_every=None)) as url, httpx.Client(base_url=url) as http:
        api = Api(http, LIMITED.token)
        for _ in range(LIMITED.rate_limit.requests):
            assert api.call("GET", "/api/invoices").status_code == 200
        response = api.call("GET", "/api/invoices")
        assert response.status_code == 429 and response.json()["status_code"] == 429
        assert 1 <= int(response.headers["Retry-After"]) <= LIMITED.rate_limit.window_seconds
        assert api.call("GET", "/api/invoices", token=key_of(ORG).token).status_code == 200  # its own limit


def test_every_fortieth_request_is_429_in_the_envelope():
    with serve(create_app()) as url, httpx.Client(base_url=url) as http:
        api = Api(http, key_of(ORG).token)
        statuses = [api.call("GET", "/api/invoices").status_code for _ in range(45)]
        answered = [api.call("GET", "/api/invoices") for _ in range(40)]
    refused = [response for response in answered if response.status_code == 429]
    assert statuses.count(429) == 1 and len(refused) == 1
    assert refused[0].headers["Retry-After"] == "0" and refused[0].json()["status"] == "error"


@pytest.fixture(params=["factory", "environment"])
def create_read_api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    if request.param == "environment":
        monkeypatch.setenv(OPERATIONS_VARIABLE, "create-read")
        app = create_app(rate_limit_every=None)
    else:
        app = create_create_read_app()
    with serve(app) as url, httpx.Client(base_url=url) as http:
        yield Api(http, key_of(ORG).token)


def test_the_create_read_server_has_no_lifecycle(create_read_api):
    """Without the lifecycle the six operations are unknown methods or paths (a kit must report its
    new properties "not run"); the keys keep their scopes and limits."""
    api = create_read_api
    invoice = api.create()
    assert api.call("PUT", f"/api/invoices/{invoice['uid']}", {}).headers["Allow"] == "GET"
    assert api.call("PUT", "/api/invoices", [{"uid": invoice["uid"]}]).status_code == 405
    assert api.call("DELETE", "/api/invoices", [invoice["uid"]]).headers["Allow"] == "GET, POST"
    for method in ("POST", "PUT", "DELETE"):
        assert api.call(method, f"/api/invoices/{invoice['uid']}/line_items", []).status_code == 404
    assert api.call("POST", "/api/invoices", create_body(), token=READ_ONLY).status_code == 403
    assert LIMITED.rate_limit is not None
    statuses = [api.call("GET", "/api/invoices", token=LIMITED.token).status_code for _ in range(5)]
    assert statuses == [200] * LIMITED.rate_limit.requests + [429] * (5 - LIMITED.rate_limit.requests)
    assert api.get(invoice["uid"])["uid"] == invoice["uid"]
