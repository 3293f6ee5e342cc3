"""`Call`: what a handler is given, typed, instead of values smuggled through the ASGI scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from mockserver.fixtures import User
from mockserver.http.runtime import Runtime
from mockserver.state import MockState


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
