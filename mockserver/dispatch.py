"""The innermost layer: call the operation's handler and send its envelope as JSON.

Connexion's AsyncApp builds a fresh decorator chain for every request (parameter parsing by
signature inspection, response conversion) and routes the path a second time. The mock's
handlers take one `Call` and return the envelope, so `MockApp` keeps Connexion's whole
middleware stack (routing, security, validation, errors) and swaps only the innermost ASGI app
for one that dispatches on the operation Connexion's router already found.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from connexion import AsyncApp
from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp
from connexion.operations import AbstractOperation
from starlette.datastructures import QueryParams
from starlette.types import Receive, Scope, Send

from mockserver.fixtures import User
from mockserver.layers import no_slash_redirects
from mockserver.runtime import Runtime
from mockserver.state import MockState

JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler needs of a request that Connexion has routed, authenticated and validated."""

    state: MockState  # the session the request named (X-Mock-Session), or the default one
    user: User | None  # None only on the control API, which has no security
    body: Any
    path_params: dict[str, str]
    query_string: bytes

    def query(self) -> QueryParams:
        """The parsed query (built on demand: most requests have none)."""
        return QueryParams(self.query_string)

    runtime: Runtime


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


class DirectOperation:
    """Calls one handler with a `Call` and answers 200 with the envelope it returns.

    Errors are raised as `ApiError` and rendered by the exception layer further out.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions", {})
        token_info = extensions.get("connexion_context", {}).get("token_info") or {}
        call = Call(
            state=scope["mockserver.session"],
            user=token_info.get("user"),
            body=extensions.get("mockserver_body"),
            path_params=scope.get("path_params", {}),
            query_string=scope.get("query_string", b""),
            runtime=scope["mockserver.runtime"],
        )
        envelope = await self.handler(call)
        body = json.dumps(envelope).encode()  # ASCII-escaped: measurably faster than ensure_ascii=False
        await send(
            {
                "type": "http.response.start",
                "status": envelope["status_code"],
                "headers": [*JSON_HEADERS, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _DirectApi(AsyncApi):
    def make_operation(self, operation: AbstractOperation) -> Any:
        return DirectOperation(operation.function)


class _DirectASGIApp(AsyncASGIApp):
    """Connexion's inner app, dispatching straight to the handler of the routed operation."""

    api_cls = _DirectApi

    def __init__(self) -> None:
        super().__init__()
        self.operations_by_route: dict[tuple[str, str], DirectOperation] = {}

    def add_api(self, *args: Any, **kwargs: Any) -> Any:
        api = super().add_api(*args, **kwargs)
        no_slash_redirects(self.router)
        for operation_id, operation in api.operations.items():
            self.operations_by_route[(api.base_path, operation_id)] = operation
        return api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router(scope, receive, send)
            return
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        operation = self.operations_by_route.get((routing.get("api_base_path"), routing.get("operation_id")))
        if operation is None:
            # No operation of the specs matched: Starlette's router answers 404 or 405.
            await self.router(scope, receive, send)
            return
        await operation(scope, receive, send)


class MockApp(AsyncApp):
    """An AsyncApp whose innermost app is `_DirectASGIApp`; everything else is Connexion's own."""

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        # AsyncApp.__init__ only creates its inner app and calls AbstractApp.__init__; this does
        # the same with the direct-dispatch inner app.
        self._middleware_app = _DirectASGIApp()
        AbstractApp.__init__(self, import_name, **kwargs)
