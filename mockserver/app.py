"""The HTTP wiring: a Connexion app (`MockApp`, an AsyncApp) serving openapi.yaml with the handlers.

`create_app` is the one place that assembles the layers — CORS, sessions, request log, errors,
routing, `Prefer` scenarios, security, validation, handlers — and their options.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver

from contract.spec import default_spec_path, load_spec
from mockserver import auth, error_handlers, protocol, rules
from mockserver.dispatch import MockApp
from mockserver.fixtures import load_world
from mockserver.layers import CrossOriginOnly, ExactPathRouting, SessionMiddleware, SwaggerUIOutsideApi
from mockserver.persistence import StateFile
from mockserver.persistence import load as load_state
from mockserver.request_log import RequestLog, RequestLogMiddleware
from mockserver.runtime import Runtime
from mockserver.scenarios import ScenarioMiddleware, canned_responses
from mockserver.state import DEFAULT_MAX_SESSIONS, Sessions, SpecDefaults
from mockserver.store import DEFAULT_MAX_INVOICES
from mockserver.validation import PrecompiledRequestValidationMiddleware

HANDLERS = (
    "mockserver.handlers"  # operationId `create_invoice` is served by mockserver.handlers.create_invoice
)
CONTROL_HANDLERS = "mockserver.control"
CONTROL_SPEC = Path(__file__).resolve().parent / "control.yaml"
CONTROL_PREFIX = "/__mock"
SWAGGER_UI_PATH = "/ui"
CORS_HEADERS = ["Authorization", "Content-Type", "Prefer", "X-Mock-Session"]
CORS_EXPOSED = ["WWW-Authenticate", "Preference-Applied", "Allow"]


def middleware_stack(
    runtime: Runtime, spec: dict[str, Any], *, validate_responses: bool, cors_origins: Sequence[str] | None
) -> list[Any]:
    """Connexion's stack with the mock's layers in it, outermost first.

    Left out of Connexion's default: its context layer (handlers get a `Call`) and response
    validation unless asked for (a no-op layer otherwise); request validation is the
    precompiled kind. Scenarios sit after routing (they need the operation) and before security
    (a `Prefer: code=401` needs no token).
    """
    stack: list[Any] = [
        ServerErrorMiddleware,
        partial(RequestLogMiddleware, log=runtime.request_log),
        ExceptionMiddleware,
        partial(SessionMiddleware, runtime=runtime),
        SwaggerUIOutsideApi,
        ExactPathRouting,
        # Connexion's router names an operation by the handler it resolved to.
        partial(
            ScenarioMiddleware, canned={f"{HANDLERS}.{op}": c for op, c in canned_responses(spec).items()}
        ),
        SecurityMiddleware,
        PrecompiledRequestValidationMiddleware,
        LifespanMiddleware,
    ]
    if validate_responses:
        stack.insert(stack.index(LifespanMiddleware), ResponseValidationMiddleware)
    if cors_origins:
        cors = partial(
            CrossOriginOnly,
            allow_origins=list(cors_origins),
            allow_methods=["*"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            max_age=600,
        )
        stack.insert(0, cors)
    return stack


def create_app(
    fixtures_path: str | Path | None = None,
    spec_path: str | Path | None = None,
    *,
    validate_responses: bool = False,
    clock: datetime | None = None,
    max_invoices: int = DEFAULT_MAX_INVOICES,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    cors_origins: Sequence[str] | None = ("*",),
    control: bool = True,
    swagger_ui: bool = True,
    state_file: str | Path | None = None,
) -> MockServer:
    """A ready mock: openapi.yaml served with the fixtures' world.

    `clock` fixes every session's clock at start; `cors_origins=None` turns CORS off;
    `control=False` removes the control API; `state_file` keeps the sessions across restarts
    (a corrupt or incompatible file raises `StateFileError`).
    """
    spec = load_spec(Path(spec_path) if spec_path is not None else default_spec_path())
    world = load_world(fixtures_path)
    rules.check_world(world)
    sessions = Sessions(
        world,
        SpecDefaults.from_spec(spec),
        max_invoices=max_invoices,
        max_sessions=max_sessions,
        start_clock=clock,
    )
    runtime = Runtime(sessions, RequestLog())
    persistence = None
    if state_file is not None:
        load_state(Path(state_file), sessions)
        persistence = StateFile(Path(state_file), sessions)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if persistence is None:
            yield
            return
        async with persistence.running():
            yield

    app = MockApp(
        __name__,
        lifespan=lifespan,
        middlewares=middleware_stack(
            runtime, spec, validate_responses=validate_responses, cors_origins=cors_origins
        ),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=swagger_ui, swagger_ui_path=SWAGGER_UI_PATH),
    )
    app.add_api(
        spec,
        resolver=RelativeResolver(HANDLERS),
        validate_responses=validate_responses,
        security_map={"bearer": auth.bearer_handler(lambda: sessions.world.users)},
    )
    specs = [spec]
    if control:
        control_spec = load_spec(CONTROL_SPEC)
        app.add_api(control_spec, resolver=RelativeResolver(CONTROL_HANDLERS))
        specs.append(control_spec)
    allow = error_handlers.AllowTable(specs)
    error_handlers.register(app, allow)
    return MockServer(app, runtime, persistence, allow)


class MockServer:
    """A ready mock: the ASGI app, and what it owns (its runtime, its state file, its protocol).

    Serve it with `uvicorn.run(server, **server.uvicorn_options())`, so that refusals uvicorn
    makes itself are in the envelope too (mockserver/protocol.py).
    """

    def __init__(
        self, asgi: MockApp, runtime: Runtime, persistence: StateFile | None, allow: error_handlers.AllowTable
    ) -> None:
        self._asgi = asgi
        self.runtime = runtime
        self.persistence = persistence
        self._allow = allow

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._asgi(scope, receive, send)

    def test_client(self, **kwargs: Any) -> Any:
        """Connexion's in-process test client (Starlette's) on this mock."""
        return self._asgi.test_client(**kwargs)

    def uvicorn_options(self) -> dict[str, Any]:
        return protocol.uvicorn_options(self._allow.lookup)
