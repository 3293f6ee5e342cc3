"""The factory: `create_app` assembles a `MockServer` from the specs, the fixtures and the options.

The layers, outermost first: CORS (only for requests with `Origin`), the request log, the
envelope layer (every exception becomes the error envelope), Connexion's Swagger UI and routing
(mockserver/connexion_fence.py), response validation when asked for, and the mock's operation
layer (mockserver/dispatch.py: scenarios, security, validation, session, handler).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from contract.given import load_given
from contract.spec import default_spec_path, load_spec
from mockserver import protocol, rules
from mockserver.acks import DurableAcks
from mockserver.dispatch import OperationLayer, Operations, Plan, plans
from mockserver.error_handlers import AllowTable
from mockserver.fixtures import World, load_world
from mockserver.journal import Journal
from mockserver.layers import CrossOriginOnly, EnvelopeLayer
from mockserver.request_log import RequestLog, RequestLogMiddleware
from mockserver.routes import Routes
from mockserver.runtime import Runtime
from mockserver.specs import Api
from mockserver.state import DEFAULT_MAX_SESSIONS, Sessions, SpecDefaults
from mockserver.state_file import open_state_file
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
    itself is in the envelope too (mockserver/protocol.py). It runs its own lifespan (the state
    file), so Connexion is not needed to start.
    """

    def __init__(
        self, asgi: ASGIApp, runtime: Runtime, persistence: Journal | None, allow: AllowTable
    ) -> None:
        self._asgi = asgi
        self.runtime = runtime
        self.persistence = persistence
        self._allow = allow

    @property
    def journal(self) -> Journal:
        """The state file's journal (tests and tools); only a mock started with a state file has one."""
        if self.persistence is None:
            raise RuntimeError("this mock was started without --state-file")
        return self.persistence

    @property
    def world(self) -> World:
        return self.runtime.sessions.world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self._asgi(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol: at shutdown the state file's changes under way are committed.

        The journal's writer runs from `create_app` on (it was opened there, so a file that
        cannot be used stops the start before anything listens).
        """
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.persistence is not None:
                    await self.persistence.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def test_client(self, **kwargs: Any) -> Any:
        """Starlette's in-process test client on this mock."""
        from starlette.testclient import TestClient

        return TestClient(self, **kwargs)

    def uvicorn_options(self) -> dict[str, Any]:
        return protocol.uvicorn_options(self._allow.lookup)


class OwnRouting:
    """Serves the specs' operations (mockserver/routes.py); the rest goes to the Connexion app.

    The Connexion app (Swagger UI, unknown paths, another method on a documented path, and every
    request when responses are validated) is built on first use, so a mock that only answers
    the contract never imports Connexion.
    """

    def __init__(
        self,
        routes: Routes | None,
        operations: Operations,
        connexion: Callable[[], ASGIApp],
        *,
        eager: bool = False,
    ) -> None:
        self.routes, self.operations = routes, operations
        self._build_connexion = connexion
        self._connexion: ASGIApp | None = connexion() if eager else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.routes is not None and scope["type"] == "http":
            hit = self.routes.match(scope["method"], scope["path"])
            if hit is not None:
                plan, scope["path_params"] = hit
                await self.operations.serve(plan, scope, receive, send)
                return
        if self._connexion is None:
            self._connexion = self._build_connexion()
        await self._connexion(scope, receive, send)


def outer_layers(
    app: ASGIApp,
    runtime: Runtime,
    allow: AllowTable,
    cors_origins: Sequence[str] | None,
    journal: Journal | None,
) -> ASGIApp:
    """The request log, the envelope layer inside it; CORS outermost when on.

    With a state file, answers wait for their changes' commit (mockserver/acks.py) between the
    log and the envelope layer: the log records a 503 for a refused write, and error answers
    wait too.
    """
    app = EnvelopeLayer(app, allow=allow)
    if journal is not None:
        app = DurableAcks(app, journal=journal)
    app = RequestLogMiddleware(app, log=runtime.request_log)
    if cors_origins:
        app = CrossOriginOnly(
            app,
            allow_origins=list(cors_origins),
            allow_methods=["*"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            max_age=600,
        )
    return app


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
    """A ready mock: the spec (`spec_path`, else the bundled openapi.yaml) served with the fixtures' world.

    A spec the mock cannot serve raises `contract.given.SpecRefused` before anything is built.

    `clock` fixes every session's clock at start; `cors_origins=None` turns CORS off;
    `control=False` removes the control API; `state_file` keeps the sessions across restarts
    (a corrupt or incompatible file raises `StateFileError`).
    """
    # Every fact comes from this spec; one the mock cannot serve raises `SpecRefused` (one line).
    spec, facts = load_given(
        spec_path if spec_path is not None else default_spec_path(),
        handler_module=HANDLERS,
        trusted=spec_path is None,
    )
    world = load_world(fixtures_path)
    rules.check_world(world, facts)
    sessions = Sessions(
        world,
        SpecDefaults.from_spec(spec, facts),
        max_invoices=max_invoices,
        max_sessions=max_sessions,
        start_clock=clock,
    )
    runtime = Runtime(sessions, RequestLog())
    persistence = open_state_file(Path(state_file), sessions) if state_file is not None else None

    # The bundled specs are validated by the suite; one given with `--spec` is checked at start.
    apis = [Api(spec, HANDLERS, validated=spec_path is None)]
    if control:
        apis.append(Api(load_spec(CONTROL_SPEC), CONTROL_HANDLERS, validated=True))
    table: dict[str, Plan] = {}
    for api in apis:
        contract = api.handlers == HANDLERS
        table |= plans(
            api,
            max_body_bytes=facts.max_body_bytes,
            scenarios=contract,
            scopes=facts.scopes if contract else None,
        )
    allow = AllowTable([api.spec for api in apis])
    operations = Operations(runtime)

    def connexion_app() -> ASGIApp:
        from mockserver import connexion_fence

        app: ASGIApp = connexion_fence.build_app(
            apis,
            outer=[],
            operations=partial(
                OperationLayer, plans=table, operations=operations, routed=connexion_fence.routed_operation
            ),
            swagger_ui=swagger_ui,
            swagger_ui_path=SWAGGER_UI_PATH,
            validate_responses=validate_responses,
        )
        return app

    # Responses are validated by Connexion's layer, so then every request goes through it.
    routes = None if validate_responses else Routes(apis, table)
    routing = OwnRouting(routes, operations, connexion_app, eager=validate_responses)
    return MockServer(
        outer_layers(routing, runtime, allow, cors_origins, persistence), runtime, persistence, allow
    )
