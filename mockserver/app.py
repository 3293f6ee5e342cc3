"""The factory: `create_app` assembles a `MockServer` from the specs, the fixtures and the options.

The layers, outermost first: CORS (only for requests with `Origin`), the request log, the
envelope layer (every exception becomes the error envelope), Connexion's Swagger UI and routing
(mockserver/connexion_fence.py), response validation when asked for, and the mock's operation
layer (mockserver/dispatch.py: scenarios, security, validation, session, handler).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from contract.facts import read_facts
from contract.spec import default_spec_path, load_spec
from mockserver import connexion_fence, protocol, rules
from mockserver.dispatch import OperationLayer, Plan, plans
from mockserver.error_handlers import AllowTable
from mockserver.fixtures import World, load_world
from mockserver.layers import CrossOriginOnly, EnvelopeLayer
from mockserver.persistence import StateFile
from mockserver.persistence import load as load_state
from mockserver.request_log import RequestLog, RequestLogMiddleware
from mockserver.runtime import Runtime
from mockserver.state import DEFAULT_MAX_SESSIONS, Sessions, SpecDefaults
from mockserver.store import DEFAULT_MAX_INVOICES

HANDLERS = (
    "mockserver.handlers"  # operationId `create_invoice` is served by mockserver.handlers.create_invoice
)
CONTROL_HANDLERS = "mockserver.control"
CONTROL_SPEC = Path(__file__).resolve().parent / "control.yaml"
CONTROL_PREFIX = "/__mock"  # control.yaml's `servers` url
SWAGGER_UI_PATH = "/ui"
CORS_HEADERS = ["Authorization", "Content-Type", "Prefer", "X-Mock-Session"]
CORS_EXPOSED = ["WWW-Authenticate", "Preference-Applied", "Allow"]


class MockServer:
    """A ready mock: the ASGI app, and what it owns (its runtime, its state file, its protocol).

    Serve it with `uvicorn.run(mock, **mock.uvicorn_options())`, so that what uvicorn refuses
    itself is in the envelope too (mockserver/protocol.py).
    """

    def __init__(self, asgi: Any, runtime: Runtime, persistence: StateFile | None, allow: AllowTable) -> None:
        self._asgi = asgi
        self.runtime = runtime
        self.persistence = persistence
        self._allow = allow

    @property
    def world(self) -> World:
        return self.runtime.sessions.world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    def test_client(self, **kwargs: Any) -> Any:
        """Connexion's in-process test client (Starlette's) on this mock."""
        return self._asgi.test_client(**kwargs)

    def uvicorn_options(self) -> dict[str, Any]:
        return protocol.uvicorn_options(self._allow.lookup)


def outer_layers(runtime: Runtime, allow: AllowTable, cors_origins: Sequence[str] | None) -> list[Any]:
    layers: list[Any] = [
        partial(RequestLogMiddleware, log=runtime.request_log),
        partial(EnvelopeLayer, allow=allow),
    ]
    if cors_origins:
        cors = partial(
            CrossOriginOnly,
            allow_origins=list(cors_origins),
            allow_methods=["*"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            max_age=600,
        )
        layers.insert(0, cors)
    return layers


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
    facts = read_facts(spec)
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

    # The bundled specs are validated by the suite; one given with `--spec` is checked at start.
    apis = [connexion_fence.Api(spec, HANDLERS, validated=spec_path is None)]
    if control:
        apis.append(connexion_fence.Api(load_spec(CONTROL_SPEC), CONTROL_HANDLERS, validated=True))
    table: dict[str, Plan] = {}
    for api in apis:
        table |= plans(api, max_body_bytes=facts.max_body_bytes, scenarios=api.handlers == HANDLERS)
    allow = AllowTable([api.spec for api in apis])
    asgi = connexion_fence.build_app(
        apis,
        outer=outer_layers(runtime, allow, cors_origins),
        operations=partial(OperationLayer, plans=table, runtime=runtime),
        lifespan=lifespan,
        swagger_ui=swagger_ui,
        swagger_ui_path=SWAGGER_UI_PATH,
        validate_responses=validate_responses,
    )
    return MockServer(asgi, runtime, persistence, allow)
