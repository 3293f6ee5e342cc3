"""The mock's own ASGI layers around Connexion's: sessions, and fast paths for CORS and Swagger UI.

The fast paths keep per-request cost off the contract's hot path: CORS headers matter only to
requests a browser sent cross-origin (they carry `Origin`), and Swagger UI lives outside `/api/`.
"""

from __future__ import annotations

from typing import Any

from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.runtime import Runtime
from mockserver.state import SESSION_HEADER

API_PREFIX = "/api/"


class SessionMiddleware:
    """Puts the runtime and the session named by `X-Mock-Session` into the scope for the handlers."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app, self.runtime = app, runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["mockserver.runtime"] = self.runtime
            scope["mockserver.session"] = self.runtime.sessions.get(Headers(scope=scope).get(SESSION_HEADER))
        await self.app(scope, receive, send)


class CrossOriginOnly(CORSMiddleware):
    """Starlette's CORS, applied only to requests that carry an `Origin` header."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class SwaggerUIOutsideApi(SwaggerUIMiddleware):
    """Connexion's Swagger UI, skipped for the contract's `/api/` paths it never serves."""

    def __init__(self, app: ASGIApp, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.next_app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.next_app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def no_slash_redirects(app: Any) -> None:
    """Turn off Starlette's trailing-slash redirect on every router below `app`.

    `GET /api/invoices/` must be a 404 in the envelope, not a 307 with an empty body: the
    contract documents no such path, and a redirect would take a POST body elsewhere.
    """
    routers = [app]
    while routers:
        router = routers.pop()
        if hasattr(router, "redirect_slashes"):
            router.redirect_slashes = False
        routers.extend(getattr(route, "app", None) for route in getattr(router, "routes", []))
        routers = [r for r in routers if r is not None]


class ExactPathRouting(RoutingMiddleware):
    """Connexion's routing, answering only the paths the specs spell (no slash redirects)."""

    def add_api(self, *args: Any, **kwargs: Any) -> None:
        super().add_api(*args, **kwargs)
        no_slash_redirects(self.router)
