"""Every place the mock relies on Connexion (and Starlette's router inside it), in one module.

The mock uses Connexion for Swagger UI, for what the mock's own router (mockserver/routes.py)
does not match (unknown paths: 404; another method on a documented path: 405) and, with
`--validate-responses`, for every request (its response validation needs its routing).
Security, request validation, `Prefer` scenarios, sessions and the handlers are the mock's own
(`mockserver/dispatch.py`), precompiled per operation. What it needs of Connexion is named here
and nowhere else:

1. `AsyncApp(import_name, lifespan=, middlewares=, swagger_ui_options=)` and `add_api(spec,
   resolver=, validate_responses=)`: the public constructor, with our own middleware list (the
   mock runs its lifespan itself, mockserver/app.py).
2. Connexion's router puts `{"api_base_path", "operation_id"}` into
   `scope["extensions"]["connexion_routing"]`, and a `RelativeResolver(module)` names an
   operation `"<module>.<operationId>"` (`routed_operation`, `operation_key`).
3. `RoutingMiddleware.router` and `SwaggerUIMiddleware.app`/`__call__` exist (the two
   subclasses below), and Starlette routers have `redirect_slashes` and `routes`.
4. A response failing `--validate-responses` is raised as a `ProblemException` (`problem`).
5. `Specification._validate_spec` is where Connexion checks a spec against the OpenAPI 3.0
   schema (pure-Python jsonschema: about 60 % of the mock's start). For the bundled specs, which
   the suite validates (tests/contract, tests/mockserver/test_connexion_assumptions.py), it is
   skipped while they are added (`Api.validated`); a spec given with `--spec` is checked.

Connexion is imported only when `build_app` first runs, on the first request the mock's router
does not match: its import is most of the mock's start-up time.

tests/mockserver/test_connexion_assumptions.py checks each of these, so a Connexion release that
breaks one fails there, with the assumption named, rather than somewhere deep in a request.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send

from mockserver.specs import Api, operation_key

ROUTING_EXTENSION = "connexion_routing"
API_PREFIX = "/api/"


def routed_operation(scope: Scope) -> str | None:
    """The key (`operation_key`) of the operation Connexion's router matched, if it matched one."""
    routing = scope.get("extensions", {}).get(ROUTING_EXTENSION)
    return routing.get("operation_id") if routing else None


def problem(error: Exception) -> tuple[int, str] | None:
    """(status, message) of a Connexion problem (for example a response failing validation)."""
    if "connexion" not in sys.modules:  # nothing of Connexion ran, so it raised nothing
        return None
    from connexion.exceptions import ProblemException

    if not isinstance(error, ProblemException):
        return None
    return error.status, str(error.detail or error.title or "Request refused")


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


StaticRoutes = dict[tuple[str, str], dict[str, str]]


def static_routes(apis: Sequence[Api]) -> StaticRoutes:
    """(method, path) -> the routing extension Connexion's router would write, for every operation
    whose path has no parameter. The base path is the path of the spec's first server, as in
    Connexion."""
    table: StaticRoutes = {}
    for api in apis:
        servers = api.spec.get("servers") or [{"url": ""}]
        base = urlsplit(servers[0].get("url", "")).path.rstrip("/")
        for path, item in api.spec.get("paths", {}).items():
            if "{" in path:
                continue
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    key = operation_key(api.handlers, op["operationId"])
                    table[(method.upper(), base + path)] = {"api_base_path": base, "operation_id": key}
    return table


@functools.cache
def middleware_classes() -> tuple[type, type]:
    """The two Connexion middlewares the mock subclasses (defined on first use: see above)."""
    from connexion.middleware.routing import RoutingMiddleware
    from connexion.middleware.swagger_ui import SwaggerUIMiddleware

    class ExactPathRouting(RoutingMiddleware):
        """Connexion's routing, answering only the paths the specs spell (no slash redirects).

        A path without parameters is looked up in `static` first and named as Connexion's router
        names it (assumption 2): Starlette's walk over mounts and routes was the largest cost
        between the protocol and the handler.
        """

        def __init__(self, app: Any, static: StaticRoutes | None = None) -> None:
            super().__init__(app)
            self.static = static or {}

        def add_api(self, *args: Any, **kwargs: Any) -> None:
            super().add_api(*args, **kwargs)
            no_slash_redirects(self.router)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                routing = self.static.get((scope["method"], scope["path"]))
                if routing is not None:
                    scope.setdefault("extensions", {})[ROUTING_EXTENSION] = dict(routing)
                    await self.app(scope, receive, send)
                    return
            await super().__call__(scope, receive, send)

    class SwaggerUIOutsideApi(SwaggerUIMiddleware):
        """Connexion's Swagger UI, skipped for the contract's `/api/` paths it never serves."""

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
                await self.app(scope, receive, send)
                return
            await super().__call__(scope, receive, send)

    return ExactPathRouting, SwaggerUIOutsideApi


Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[None]]


@contextlib.asynccontextmanager
async def _no_lifespan(_app: Any) -> AsyncIterator[None]:
    yield


def build_app(
    apis: Sequence[Api],
    *,
    outer: Sequence[Any],
    operations: Any,
    lifespan: Lifespan | None = None,
    swagger_ui: bool = True,
    swagger_ui_path: str = "/ui",
    validate_responses: bool = False,
    fast_static_routes: bool = True,
) -> Any:
    """A Connexion app: `outer` layers, Swagger UI, routing, (response validation), `operations`.

    `operations` is the innermost layer of the mock: it answers every routed request itself, so
    Connexion's own inner app only ever sees lifespan events.
    """
    from connexion import AsyncApp
    from connexion.middleware.lifespan import LifespanMiddleware
    from connexion.middleware.response_validation import ResponseValidationMiddleware
    from connexion.options import SwaggerUIOptions
    from connexion.resolver import RelativeResolver

    ExactPathRouting, SwaggerUIOutsideApi = middleware_classes()
    routing = partial(ExactPathRouting, static=static_routes(apis) if fast_static_routes else {})
    stack: list[Any] = [*outer, SwaggerUIOutsideApi, routing]
    if validate_responses:
        stack.append(ResponseValidationMiddleware)
    stack += [operations, LifespanMiddleware]
    app = AsyncApp(
        __name__,
        lifespan=lifespan or _no_lifespan,
        middlewares=stack,
        swagger_ui_options=SwaggerUIOptions(swagger_ui=swagger_ui, swagger_ui_path=swagger_ui_path),
    )
    for api in apis:
        with _trusted(api.validated):
            app.add_api(
                api.spec, resolver=RelativeResolver(api.handlers), validate_responses=validate_responses
            )
    return app


@contextlib.contextmanager
def _trusted(validated: bool) -> Iterator[None]:
    """Connexion's spec validation skipped while a spec already validated is added (assumption 5)."""
    if not validated:
        yield
        return
    from connexion.spec import Specification

    original = Specification.__dict__["_validate_spec"]
    Specification._validate_spec = classmethod(lambda _cls, _spec: None)
    try:
        yield
    finally:
        Specification._validate_spec = original
