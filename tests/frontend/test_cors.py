"""Browser-ready: CORS for any origin by default, restricted by `cors_origins` / `--cors-origin`,
off with `cors_origins=None` / `--no-cors`; Swagger UI at `/ui/` (off with `--no-swagger-ui`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.frontend.conftest import CONTROL, CONTROL_SPEC, SPEC, UNKNOWN_UID, USER_A, WORLD, body_for, headers

APP_ORIGIN = "http://localhost:5173"
ALLOWED = "http://app.example"
OTHER = "http://evil.example"
REQUESTED_HEADERS = "authorization, content-type, prefer, x-mock-session"


def preflight(client, path: str, origin: str, method: str = "POST") -> httpx.Response:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": REQUESTED_HEADERS,
        },
    )


def allowed_headers(response: httpx.Response) -> set[str]:
    return {h.strip().lower() for h in response.headers.get("access-control-allow-headers", "").split(",")}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/invoices", "POST"),
        ("/api/invoices", "GET"),
        (f"/api/invoices/{UNKNOWN_UID}", "GET"),
        (f"{CONTROL}/reset", "POST"),
    ],
)
def test_preflight_is_answered_for_any_origin_by_default(client, path, method):
    response = preflight(client, path, APP_ORIGIN, method)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] in ("*", APP_ORIGIN)
    requested = {h.strip() for h in REQUESTED_HEADERS.split(",")}
    assert requested <= allowed_headers(response), response.headers
    methods = response.headers["access-control-allow-methods"]
    assert method in methods or "*" in methods, response.headers


def test_real_request_with_origin_gets_allow_origin_and_exposed_headers(client):
    response = client.post(
        "/api/invoices", json=body_for(), headers={**headers(USER_A), "Origin": APP_ORIGIN}
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] in ("*", APP_ORIGIN)
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    # A page must be able to read these: the 401 challenge and which scenario applied.
    assert {"www-authenticate", "preference-applied"} <= exposed


def exposed_headers(response: httpx.Response) -> set[str]:
    return {h.strip().lower() for h in response.headers.get("access-control-expose-headers", "").split(",")}


def documented_response_headers(node: Any, parent: Any = None) -> set[str]:
    """The names under every `headers` of a Response object (one with `description`) in a spec.

    Walked generically, not the way the mock collects them, so a header the mock's walk misses
    (an operation's own response, the control spec's) fails here.
    """
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("headers"), dict) and "description" in node:
            found |= {name.lower() for name in node["headers"]}
        for value in node.values():
            found |= documented_response_headers(value, node)
    elif isinstance(node, list):
        for item in node:
            found |= documented_response_headers(item, node)
    return found


def test_every_response_header_the_contract_documents_is_exposed(client):
    """A page reads a header only if CORS exposes it: the 401's challenge, the 429's Retry-After…"""
    documented = documented_response_headers(SPEC) | documented_response_headers(CONTROL_SPEC)
    assert {"www-authenticate", "retry-after"} <= documented  # the walk finds what we know is there
    response = client.get("/api/invoices", headers={**headers(USER_A), "Origin": APP_ORIGIN})
    assert documented <= exposed_headers(response), response.headers


def test_a_rate_limited_page_can_read_retry_after(client):
    """P22: `429` with `Retry-After`; a browser client must be able to read when to retry."""
    limited, limit = next((user, user.rate_limit) for user in WORLD.users.values() if user.rate_limit)
    request_headers = {**headers(limited), "Origin": APP_ORIGIN}
    answers = [client.get("/api/invoices", headers=request_headers) for _ in range(limit.requests + 1)]
    refused = answers[-1]
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"]
    assert "retry-after" in exposed_headers(refused), refused.headers


@pytest.mark.parametrize(
    "request_headers",
    [{}, {"Prefer": "code=409"}],
    ids=["401 without token", "Prefer canned 409"],
)
def test_errors_and_canned_answers_carry_cors_headers_too(client, request_headers):
    """A page can only show an error it is allowed to read."""
    response = client.post("/api/invoices", json={}, headers={**request_headers, "Origin": APP_ORIGIN})
    assert response.status_code in (401, 409), response.text
    assert response.headers["access-control-allow-origin"] in ("*", APP_ORIGIN)


def test_requests_without_origin_get_no_cors_headers(client):
    response = client.get("/api/invoices", headers=headers(USER_A))
    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_restricted_origins_allow_only_those(make_client):
    client = make_client(cors_origins=[ALLOWED])
    ok = preflight(client, "/api/invoices", ALLOWED)
    assert ok.status_code == 200, ok.text
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in allowed_headers(ok)
    real = client.get("/api/invoices", headers={**headers(USER_A), "Origin": ALLOWED})
    assert real.headers["access-control-allow-origin"] == ALLOWED

    refused = preflight(client, "/api/invoices", OTHER)
    assert refused.headers.get("access-control-allow-origin") not in ("*", OTHER)
    assert refused.status_code != 200 or "access-control-allow-origin" not in refused.headers
    other_real = client.get("/api/invoices", headers={**headers(USER_A), "Origin": OTHER})
    assert other_real.status_code == 200  # the server answers; the browser will not let the page read it
    assert "access-control-allow-origin" not in other_real.headers


def test_several_restricted_origins(make_client):
    second = "http://admin.example:3000"
    client = make_client(cors_origins=[ALLOWED, second])
    for origin in (ALLOWED, second):
        response = preflight(client, "/api/invoices", origin)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in preflight(client, "/api/invoices", OTHER).headers


def test_cors_off_answers_no_cors_headers(make_client):
    client = make_client(cors_origins=None)
    response = preflight(client, "/api/invoices", APP_ORIGIN)
    assert cors_headers(response) == {}
    assert response.status_code == 405, response.text  # OPTIONS is no documented method
    assert response.json()["status_code"] == 405
    real = client.get("/api/invoices", headers={**headers(USER_A), "Origin": APP_ORIGIN})
    assert real.status_code == 200
    assert cors_headers(real) == {}


def test_swagger_ui_is_served_at_ui_with_the_contract(client):
    page = client.get("/ui/")
    assert page.status_code == 200
    assert "swagger-ui" in page.text.lower()
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    served = spec.json()
    assert "/api/invoices" in served["paths"]
    # "Try it out" must call this mock, not the real service listed first in openapi.yaml.
    assert served["servers"][0]["url"] in ("", "/"), served["servers"]
    assert "bearerAuth" in served["components"]["securitySchemes"]


def test_swagger_ui_off(make_client):
    client = make_client(swagger_ui=False)
    assert client.get("/ui/").status_code == 404
    assert client.get("/api/invoices", headers=headers(USER_A)).status_code == 200


# --- the CLI flags, on a real `python -m mockserver` -------------------------------------------


@pytest.mark.parametrize(
    ("args", "allowed", "refused"),
    [
        ((), [APP_ORIGIN, OTHER], []),
        (("--cors-origin", ALLOWED, "--cors-origin", APP_ORIGIN), [ALLOWED, APP_ORIGIN], [OTHER]),
        (("--no-cors",), [], [APP_ORIGIN, ALLOWED]),
    ],
    ids=["default any origin", "--cors-origin twice", "--no-cors"],
)
def test_cli_cors_flags(mock_process, args, allowed, refused):
    mock = mock_process(*args)
    assert mock.answers(), mock.stderr
    with httpx.Client(base_url=mock.base_url, timeout=30) as http:
        for origin in allowed:
            response = preflight(http, "/api/invoices", origin)
            assert response.status_code == 200, (origin, response.text)
            assert response.headers["access-control-allow-origin"] in ("*", origin)
            assert "authorization" in allowed_headers(response)
        for origin in refused:
            response = preflight(http, "/api/invoices", origin)
            assert "access-control-allow-origin" not in response.headers, (origin, response.headers)
            real = http.get("/api/invoices", headers={**headers(USER_A), "Origin": origin})
            assert "access-control-allow-origin" not in real.headers


def test_cli_swagger_ui_on_by_default_and_off_with_flag(mock_process):
    on, off = mock_process(), mock_process("--no-swagger-ui")
    assert on.answers(), on.stderr
    assert off.answers(), off.stderr
    assert httpx.get(f"{on.base_url}/ui/", timeout=30).status_code == 200
    assert f"{on.base_url}/ui/" in on.stdout
    assert httpx.get(f"{off.base_url}/ui/", timeout=30).status_code == 404
