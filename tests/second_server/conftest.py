"""The second server over real HTTP (uvicorn on 127.0.0.1, a free port, in a thread of the test process),
and the world's values found by the role they play (`contract.world`), so no test restates the fixtures.

The server runs without its periodic `429` (`rate_limit_every=None`): these tests check its rules,
and one test checks the periodic answer on its own server.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from contract.facts import read_facts
from contract.spec import default_spec_path, load_spec, operation
from contract.world import Product, User, load_world
from tests.second_server.app import create_app
from tests.servers import serve

WORLD = load_world()
SPEC = load_spec(default_spec_path())
FACTS = read_facts(SPEC)
MINIMAL = operation(SPEC, "create_invoice")["requestBody"]["content"]["application/json"]["examples"][
    "minimal"
]
ORG = MINIMAL["value"]["owner_uid"]
OTHER_ORG = next(uid for uid in sorted(WORLD.organizations) if uid != ORG)
READ = FACTS.scopes["get_invoice"]
WRITE = FACTS.scopes["update_invoice"]


def key_of(org: str, scopes: frozenset[str] | None = None, limited: bool = False) -> User:
    """A key of `org` only, with exactly `scopes` (None: no scopes) and a rate limit or none."""
    return next(
        user
        for user in WORLD.users.values()
        if user.organizations == frozenset({org})
        and user.scopes == scopes
        and (user.rate_limit is not None) == limited
    )


def product_of(org: str, context_type: str, skip: int = 0) -> Product:
    found = [
        p for (owner, _sku), p in WORLD.products.items() if owner == org and p.context_type == context_type
    ]
    return found[skip]


def create_body(org: str = ORG, priced: bool = False, **fields: Any) -> dict[str, Any]:
    body = WORLD.sample_create(org, priced=priced)
    assert body is not None
    return {**body, **fields}


@dataclass
class Api:
    """An HTTP client of one server, authenticated as `token` unless a call says otherwise."""

    http: httpx.Client
    token: str

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None, **options: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **options.pop("headers", {})}
        if body is not None:
            options["json"] = body
        return self.http.request(method, path, headers=headers, **options)

    def ok(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        response = self.call(method, path, body, token)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def create(self, org: str = ORG, priced: bool = False, **fields: Any) -> dict[str, Any]:
        data: dict[str, Any] = self.ok("POST", "/api/invoices", create_body(org, priced, **fields))
        return data

    def get(self, uid: str) -> dict[str, Any]:
        data: dict[str, Any] = self.ok("GET", f"/api/invoices/{uid}")
        return data

    def listed(self, org_token: str | None = None) -> list[str]:
        """Every uid the key's list shows, all pages, newest first."""
        uids: list[str] = []
        page = 1
        while True:
            data = self.ok("GET", f"/api/invoices?per_page=100&page={page}", token=org_token)
            uids += [item["uid"] for item in data["items"]]
            if data["_links"]["next"] is None:
                return uids
            page += 1


def without_clock(invoice: dict[str, Any]) -> dict[str, Any]:
    """An invoice without the fields that follow the clock (P50)."""
    return {k: v for k, v in invoice.items() if k not in ("age", "overdue_days")}


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with serve(create_app(rate_limit_every=None)) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Api(http, key_of(ORG).token)


@pytest.fixture
def fresh_api() -> Iterator[Api]:
    """A server of its own, for what depends on everything the server did before (generated numbers)."""
    with serve(create_app(rate_limit_every=None)) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield Api(http, key_of(ORG).token)
