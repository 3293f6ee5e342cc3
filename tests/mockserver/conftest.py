"""Fixtures of the mock's tests: fresh in-process apps (a fixed clock, response validation on) and
real uvicorn servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.mockserver.support import NOW, create_app
from tests.servers import serve


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """A fresh mock (empty store) behind Connexion's test client; every answer checked against the spec."""

    def make(**options: Any) -> Any:
        options.setdefault("validate_responses", True)
        options.setdefault("clock", NOW)
        return create_app(**options).test_client()

    return make


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@pytest.fixture(scope="session")
def live_url() -> Iterator[str]:
    """One real server for the whole session (its store is shared: tests must not count on it)."""
    with serve(create_app(validate_responses=True, clock=NOW)) as base_url:
        yield base_url


@pytest.fixture
def live(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, timeout=30) as http:
        yield http


@pytest.fixture
def fresh_live_url() -> Iterator[str]:
    """A real server with an empty store, for tests that count what it holds."""
    with serve(create_app(validate_responses=True, clock=NOW)) as base_url:
        yield base_url
