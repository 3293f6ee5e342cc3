"""The HTTP wiring: a Connexion app (`MockApp`, an AsyncApp) serving openapi.yaml with the handlers.

`create_app` is the one place that assembles the layers (contract → validation → auth →
handlers → rules → store) and makes sure every answer, Connexion's own errors included, is in
the API's envelope: no problem+json escapes.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.resolver import RelativeResolver
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver import auth, rules
from mockserver.clock import Clock
from mockserver.contract import default_spec_path, load_spec
from mockserver.dispatch import MockApp
from mockserver.errors import ApiError, error_envelope
from mockserver.fixtures import load_world
from mockserver.state import MockState
from mockserver.store import DEFAULT_MAX_INVOICES, InvoiceStore
from mockserver.validation import PrecompiledRequestValidationMiddleware

logger = logging.getLogger("mockserver")


class StateMiddleware:
    """Puts the app's MockState into every request's scope, where the handlers read it."""

    def __init__(self, app: ASGIApp, state: MockState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["mockserver"] = self.state
        await self.app(scope, receive, send)


def _json(status: int, envelope: dict[str, Any], headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(envelope).encode(),
        mimetype="application/json",
        content_type="application/json",
        headers=headers or {},
    )


def _api_error(_request: ConnexionRequest, error: ApiError) -> ConnexionResponse:
    return _json(error.status, error.envelope(), error.headers)


def _problem(_request: ConnexionRequest, problem: ProblemException) -> ConnexionResponse:
    """Connexion's own problems (security, a response failing --validate-responses…) in the envelope."""
    status = problem.status
    headers = dict(problem.headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    message = str(problem.detail or problem.title or "Request refused")
    return _json(status, error_envelope(status, message.rstrip(".") + "."), headers)


def allowed_methods(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    """(path pattern, `Allow` header value) for every path of the spec.

    Starlette's 405 lists only the methods of the one route it matched; the contract's `Allow`
    must list every method the path documents.
    """
    table = []
    for path, item in spec.get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "/?$"
        methods = sorted(m.upper() for m in item if m in {"get", "put", "post", "delete", "patch"})
        table.append((re.compile(pattern), ", ".join(methods)))
    return table


def _http_error_handler(allow: list[tuple[re.Pattern[str], str]]) -> Any:
    def handle(request: ConnexionRequest, error: HTTPException) -> ConnexionResponse:
        """Starlette's HTTP errors (unknown path 404, wrong method 405) in the envelope."""
        headers = dict(error.headers or {})
        if error.status_code == 405:
            path = request.url.path
            headers["Allow"] = next((methods for pattern, methods in allow if pattern.match(path)), "")
        detail = {404: "No such endpoint", 405: "Method not allowed on this endpoint"}.get(error.status_code)
        message = detail or str(error.detail)
        return _json(error.status_code, error_envelope(error.status_code, f"{message}."), headers)

    return handle


def _unexpected(_request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    """A bug in the mock: logged with its traceback, answered in the envelope."""
    logger.exception("unexpected error", exc_info=error)
    return _json(500, error_envelope(500, "The mock failed unexpectedly; see its log."))


def middleware_stack(state: MockState, *, validate_responses: bool) -> list[Any]:
    """Connexion's default stack, minus what the mock does not use, with lean request validation.

    Swagger UI is not served, response validation is left out unless asked for (it is a no-op
    layer otherwise), request validation uses validators built once per operation, and the
    context layer goes: handlers get a `Call`, not Connexion's context variables.
    """
    stack: list[Any] = [
        ServerErrorMiddleware,
        partial(StateMiddleware, state=state),
        ExceptionMiddleware,
        RoutingMiddleware,
        SecurityMiddleware,
        PrecompiledRequestValidationMiddleware,
        ResponseValidationMiddleware,
        LifespanMiddleware,
    ]
    if not validate_responses:
        stack.remove(ResponseValidationMiddleware)
    return stack


def create_app(
    fixtures_path: str | Path | None = None,
    spec_path: str | Path | None = None,
    *,
    validate_responses: bool = False,
    clock: Clock | datetime | None = None,
    max_invoices: int = DEFAULT_MAX_INVOICES,
) -> MockApp:
    """A ready mock: openapi.yaml served with the fixtures' world and an empty store."""
    spec_file = Path(spec_path) if spec_path is not None else default_spec_path()
    spec = load_spec(spec_file)
    world = load_world(fixtures_path)
    rules.check_world(world)
    clock = clock if isinstance(clock, Clock) else Clock(clock)
    state = MockState.from_spec(spec, world, InvoiceStore(max_invoices), clock)

    app = MockApp(__name__, middlewares=middleware_stack(state, validate_responses=validate_responses))
    app.add_api(
        spec,
        resolver=RelativeResolver("mockserver.handlers"),
        validate_responses=validate_responses,
        security_map={"bearer": auth.bearer_handler(lambda: state.world.users)},
    )
    app.add_error_handler(ApiError, _api_error)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(HTTPException, _http_error_handler(allowed_methods(spec)))
    app.add_error_handler(Exception, _unexpected)
    app.state = state  # type: ignore[attr-defined]
    return app
