"""The factory: `create_app` assembles a `MockServer` from the specs, the fixtures and the options.

Every request goes through one Connexion app (mockserver/http/wiring.py): the mock's outer layers
(CORS, the request log, durable answers, the envelope), then Connexion's Swagger UI, routing,
security and validation with the mock's stages between them, and the handlers.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from connexion import AsyncApp
from starlette.types import Message, Receive, Scope, Send

from contract.facts import ContractFacts
from contract.given import load_given
from contract.spec import default_spec_path, iter_operations, load_spec
from mockserver.domain import rules
from mockserver.domain.fixtures import World, load_world
from mockserver.domain.invoice_store import DEFAULT_MAX_INVOICES
from mockserver.domain.seeds import seed_invoices
from mockserver.http import protocol, wiring
from mockserver.http.acks import DurableAcks
from mockserver.http.error_handlers import AllowTable
from mockserver.http.layers import CrossOriginOnly, EnvelopeLayer
from mockserver.http.request_log import RequestLog, RequestLogMiddleware
from mockserver.http.runtime import Runtime
from mockserver.http.specs import Api
from mockserver.http.stages import Plans, plans
from mockserver.store.journal import Journal
from mockserver.store.state import DEFAULT_MAX_SESSIONS, Sessions, SpecDefaults
from mockserver.store.state_file import open_state_file

# operationId `create_invoice` is served by mockserver.http.handlers.create_invoice
HANDLERS = "mockserver.http.handlers"
CONTROL_HANDLERS = "mockserver.http.control"
CONTROL_SPEC = Path(__file__).resolve().parent / "control.yaml"
CONTROL_PREFIX = "/__mock"  # control.yaml's `servers` url
SWAGGER_UI_PATH = "/ui"
CORS_HEADERS = ["Authorization", "Content-Type", "Prefer", "X-Mock-Session"]
# Response headers a page must be able to read that no spec documents: the mock's own (the applied
# `Prefer` scenario, a 405's `Allow`, a failed commit's 503 `Retry-After`). The documented ones are
# read from the specs (`cors_exposed`).
CORS_EXPOSED = ["Preference-Applied", "Allow", "Retry-After"]


def cors_exposed(specs: Sequence[dict[str, Any]]) -> list[str]:
    """Every response header the specs document (`headers` of a shared or an operation's
    response), then the mock's own: a browser hides from the page any header not listed, so a
    header added to the contract is readable without a change here."""
    responses = [
        response
        for spec in specs
        for response in [
            *spec.get("components", {}).get("responses", {}).values(),
            *(r for _path, _method, op in iter_operations(spec) for r in op.get("responses", {}).values()),
        ]
    ]
    names = [name for response in responses for name in response.get("headers", {})]
    unique = {name.lower(): name for name in [*names, *CORS_EXPOSED]}
    return list(unique.values())


class MockServer:
    """A ready mock: the ASGI app, and what it owns (its runtime, its state file, its protocol).

    Serve it with `uvicorn.run(mock, **mock.uvicorn_options())`, so that what uvicorn refuses
    itself is in the envelope too (mockserver/http/protocol.py). It runs its own lifespan (the state
    file); Connexion's app sees HTTP requests only.
    """

    def __init__(
        self, connexion: AsyncApp, runtime: Runtime, persistence: Journal | None, allow: AllowTable
    ) -> None:
        self.connexion = connexion  # until its first request, Connexion's public API can extend it
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
        await self.connexion(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol: at start the app is readied, at shutdown the state file's
        changes under way are committed.

        The journal's writer runs from `create_app` on (it was opened there, so a file that
        cannot be used stops the start before anything listens).
        """
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._ready()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                gc.unfreeze()
                if self.persistence is not None:
                    await self.persistence.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ready(self) -> None:
        """Connexion's middleware stack built, and everything the start made kept out of the GC.

        Connexion builds its stack on the app's first call and has no public call for it, so one
        request nobody sent (`GET /`, a 404 no layer records) is answered into the void. Then the
        objects of the start (the specs Connexion resolved for each middleware, the compiled
        schemas, the imported modules) are frozen: a full collection under load otherwise walks
        them all, one stall of 20-35 ms for every request in flight. `gc.unfreeze()` at shutdown.
        """

        async def nothing_to_read() -> Message:
            return {"type": "http.disconnect"}

        async def nowhere(_message: Message) -> None:
            return None

        scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1"}
        scope |= {"method": "GET", "scheme": "http", "path": "/", "raw_path": b"/", "root_path": ""}
        await self.connexion({**scope, "query_string": b"", "headers": []}, nothing_to_read, nowhere)
        gc.freeze()  # no collection first: it would cost the start ~20 ms for the little garbage it has

    def test_client(self, **kwargs: Any) -> Any:
        """Starlette's in-process test client on this mock."""
        from starlette.testclient import TestClient

        return TestClient(self, **kwargs)

    def uvicorn_options(self) -> dict[str, Any]:
        return protocol.uvicorn_options(self._allow.lookup)


def outer_layers(
    runtime: Runtime,
    allow: AllowTable,
    cors_origins: Sequence[str] | None,
    journal: Journal | None,
    exposed: Sequence[str] = CORS_EXPOSED,
) -> list[Any]:
    """The first middlewares of the list, outermost first: CORS when on, the request log, the
    state file's durable answers, the envelope layer.

    With a state file, answers wait for their changes' commit (mockserver/http/acks.py) between the
    log and the envelope layer: the log records a 503 for a refused write, and error answers
    wait too.
    """
    layers: list[Any] = []
    if cors_origins:
        layers.append(
            partial(
                CrossOriginOnly,
                allow_origins=list(cors_origins),
                allow_methods=["*"],
                allow_headers=CORS_HEADERS,
                expose_headers=list(exposed),
                max_age=600,
            )
        )
    layers.append(partial(RequestLogMiddleware, log=runtime.request_log))
    if journal is not None:
        layers.append(partial(DurableAcks, journal=journal))
    layers.append(partial(EnvelopeLayer, allow=allow))
    return layers


def request_plans(apis: Sequence[Api], facts: ContractFacts) -> Plans:
    """Every operation's plan: the contract's with the key scopes of its `x-scopes`, the control
    API's without (it is the developer's, not the API's)."""
    table: Plans = {}
    for api in apis:
        contract = api.handlers == HANDLERS
        table |= plans(api, contract=contract, scopes=facts.scopes if contract else None)
    return table


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
        control=control,
        seeds=seed_invoices(world, facts),
    )
    runtime = Runtime(sessions, RequestLog())
    persistence = open_state_file(Path(state_file), sessions) if state_file is not None else None

    apis = [Api(spec, HANDLERS)]
    if control:
        apis.append(Api(load_spec(CONTROL_SPEC), CONTROL_HANDLERS))
    table = request_plans(apis, facts)
    allow = AllowTable([api.spec for api in apis])
    app = wiring.build_app(
        apis,
        outer=outer_layers(
            runtime, allow, cors_origins, persistence, cors_exposed([api.spec for api in apis])
        ),
        plans=table,
        runtime=runtime,
        max_body_bytes=facts.max_body_bytes,
        swagger_ui=swagger_ui,
        swagger_ui_path=SWAGGER_UI_PATH,
        validate_responses=validate_responses,
    )
    return MockServer(app, runtime, persistence, allow)
