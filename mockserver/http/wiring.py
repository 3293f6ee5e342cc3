"""The Connexion app every request goes through: Connexion's middlewares and the mock's stages.

`connexion.AsyncApp(middlewares=[...])` with the list built here, and `add_api` for each spec
(Connexion validates it there) with the mock's resolver, `validator_map` and `security_map`.
Outermost first:

1. CORS (only for requests with `Origin`), the request log, the state file's durable answers,
   the envelope layer (in place of Connexion's exception middlewares: every exception becomes
   the API's envelope, mockserver/http/layers.py);
2. Connexion's `SwaggerUIMiddleware` (`/ui/`, `/openapi.json`), skipped for the contract's `/api/`
   paths, which it never serves;
3. `ExactPaths` (no trailing-slash redirects), Connexion's `RoutingMiddleware` (the one routing
   table: a path no spec documents goes on unnamed and Connexion's own app raises the 404; a
   documented path with another method is a 405 raised by its router);
4. `Scenarios` (`Prefer`), Connexion's `SecurityMiddleware` (mockserver/http/security.py), `KeyLimits`
   (403 scope, 429 rate limit), `JsonBodies` (415), Connexion's `RequestValidationMiddleware`
   (mockserver/http/validators.py), Connexion's `ResponseValidationMiddleware` when asked for, and
   `Handlers` (mockserver/http/stages.py).

What the mock relies on of Connexion is public API, each piece pinned by
tests/mockserver/test_connexion_assumptions.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from connexion import AsyncApp
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from starlette.types import Receive, Scope, Send

from mockserver.http.runtime import Runtime
from mockserver.http.security import security_map
from mockserver.http.specs import Api
from mockserver.http.stages import ExactPaths, Handlers, JsonBodies, KeyLimits, Plans, Scenarios
from mockserver.http.validators import Compiled, validator_map

API_PREFIX = "/api/"


class SwaggerUIOutsideApi(SwaggerUIMiddleware):
    """Connexion's Swagger UI, skipped for the contract's `/api/` paths it never serves."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def middlewares(
    outer: Sequence[Any], plans: Plans, runtime: Runtime, *, validate_responses: bool
) -> list[Any]:
    """The middleware list, outermost first (the module's docstring says why in this order)."""
    stack: list[Any] = [
        *outer,
        SwaggerUIOutsideApi,
        ExactPaths,
        RoutingMiddleware,
        partial(Scenarios, plans=plans),
        SecurityMiddleware,
        partial(KeyLimits, plans=plans, runtime=runtime),
        partial(JsonBodies, plans=plans),
        RequestValidationMiddleware,
    ]
    if validate_responses:
        stack.append(ResponseValidationMiddleware)
    stack.append(partial(Handlers, runtime=runtime))
    return stack


def build_app(
    apis: Sequence[Api],
    *,
    outer: Sequence[Any],
    plans: Plans,
    runtime: Runtime,
    max_body_bytes: int,
    swagger_ui: bool = True,
    swagger_ui_path: str = "/ui",
    validate_responses: bool = False,
) -> AsyncApp:
    """The Connexion app serving `apis` (each spec validated by Connexion as it is added)."""
    app = AsyncApp(
        __name__,
        middlewares=middlewares(outer, plans, runtime, validate_responses=validate_responses),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=swagger_ui, swagger_ui_path=swagger_ui_path),
    )
    compiled = Compiled(max_body_bytes)
    for api in apis:
        app.add_api(
            api.spec,
            resolver=RelativeResolver(api.handlers),
            validator_map=validator_map(compiled),
            security_map=security_map(runtime),
            validate_responses=validate_responses,
        )
    return app
