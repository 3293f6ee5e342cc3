"""`Call`: what a handler is given, typed, instead of values smuggled through the ASGI scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.types import Scope

from mockserver.domain.fixtures import User
from mockserver.http.runtime import Runtime
from mockserver.store.state import MockState


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler needs of a request that has been routed, authenticated and validated."""

    state: MockState  # the session the request named (X-Mock-Session), or the default one
    user: User | None  # None only on the control API, which has no security
    body: Any
    path_params: dict[str, str]
    query_string: bytes
    runtime: Runtime

    def query(self) -> QueryParams:
        """The parsed query (built on demand: most requests have none)."""
        return QueryParams(self.query_string)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header, by its lower-case name (ASGI servers lower-case them).

    A scan of the raw list: the stages ask one header each, on every request, and building
    Starlette's `Headers` for one lookup cost more than the lookup.
    """
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def headers(scope: Scope, name: bytes) -> list[str]:
    """Every value of a repeatable request header (`Prefer`), in order."""
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]
