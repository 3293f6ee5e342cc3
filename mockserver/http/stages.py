"""The mock's own stages in Connexion's middleware stack, each where its rule puts it.

Connexion's `RoutingMiddleware` names the operation in `scope["extensions"]["connexion_routing"]`;
every stage after it looks its operation's `Plan` up by that name (one dict lookup) and lets
everything it does not concern pass. In the order a request meets them (mockserver/http/wiring.py):

- `ExactPaths`, before routing: a path with a trailing slash is a 404 (Starlette's routers would
  answer a 307 to the path without it, which would take a POST body elsewhere);
- `Scenarios`, after routing and before security: `Prefer` (a `Prefer: code=401` needs no token
  and touches no state);
- Connexion's `SecurityMiddleware` (401, mockserver/http/security.py), then `KeyLimits`: the key's
  scopes (403, P74) and its rate limit (429, P22), before anything of the body is read;
- `JsonBodies`: an operation with a body takes `application/json` only (415, in the mock's words),
  read case-insensitively; Connexion's media-type lookup is case-sensitive, so the stage hands it
  the canonical spelling;
- Connexion's `RequestValidationMiddleware` (mockserver/http/validators.py), then `Handlers`: the
  session (`X-Mock-Session`, resolved only now, so an unknown path or a canned answer makes
  none) and the handler Connexion's resolver found by operationId.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from connexion.middleware.abstract import ROUTING_CONTEXT, RoutedAPI, RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.types import ASGIApp, Receive, Scope, Send

from contract.spec import inline_refs, iter_operations
from mockserver.domain.errors import Refusal
from mockserver.http import auth
from mockserver.http.answers import send_json
from mockserver.http.call import Call, header, headers
from mockserver.http.runtime import Runtime
from mockserver.http.scenarios import canned_responses, scenario
from mockserver.http.security import user_of
from mockserver.http.specs import Api, operation_key
from mockserver.http.validation import JSON, check_media_type
from mockserver.http.validators import BODY
from mockserver.store.state import SESSION_HEADER, MockState

SESSION = SESSION_HEADER.encode()
STATE = "mockserver.store.state"  # scope key: the session, when the rate limit resolved it already
Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Plan:
    """What the mock's stages need of one operation, read once from its spec."""

    secured: bool
    scopes: frozenset[str]  # the operation's `x-scopes` (contract.facts): a key needs one (P74)
    json_body: bool
    canned: dict[str, Any] | None  # `canned_responses` of a contract operation; None on the control API


Plans = dict[str, Plan]


def plans(api: Api, *, contract: bool, scopes: dict[str, frozenset[str]] | None = None) -> Plans:
    """A `Plan` per operation of `api`, keyed as Connexion's router names them."""
    canned = canned_responses(api.spec) if contract else {}
    table = {}
    for _path, _method, op in iter_operations(api.spec):
        op = inline_refs(api.spec, op)
        table[operation_key(api.handlers, op["operationId"])] = Plan(
            secured=auth.needs_bearer(api.spec, op),
            scopes=(scopes or {}).get(op["operationId"], frozenset()),
            json_body=JSON in op.get("requestBody", {}).get("content", {}),
            canned=canned.get(op["operationId"]) if contract else None,
        )
    return table


def routed(scope: Scope) -> str | None:
    """The name of the operation Connexion's router matched (None: it matched none)."""
    routing = scope.get("extensions", {}).get(ROUTING_CONTEXT)
    return routing.get("operation_id") if routing else None


class ExactPaths:
    """No path the specs document ends with `/`: such a request is a 404, never a redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["path"]) > 1 and scope["path"].endswith("/"):
            raise Refusal("not_found", "No such endpoint.")
        await self.app(scope, receive, send)


class PlannedStage:
    """A stage that acts on the routed operations it has a `Plan` for."""

    def __init__(self, app: ASGIApp, *, plans: Plans) -> None:
        self.app, self.plans = app, plans

    def plan(self, scope: Scope) -> Plan | None:
        if scope["type"] != "http":
            return None
        name = routed(scope)
        return self.plans.get(name) if name is not None else None


class Scenarios(PlannedStage):
    """`Prefer` (mockserver/http/scenarios.py): a delay, then a documented answer or the real one."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.plan(scope)
        prefer = headers(scope, b"prefer") if plan is not None else []
        chosen = scenario(prefer, plan.canned) if plan is not None and prefer else None
        if chosen is not None:
            if chosen.delay_ms:
                await asyncio.sleep(chosen.delay_ms / 1000)
            if chosen.canned is not None:
                extra = [(b"preference-applied", chosen.applied.encode()), *chosen.canned.headers]
                await send_json(send, chosen.canned.status, chosen.canned.body, extra)
                return
        await self.app(scope, receive, send)


class KeyLimits(PlannedStage):
    """After Connexion's security: the key's scopes (403) and rate limit (429)."""

    def __init__(self, app: ASGIApp, *, plans: Plans, runtime: Runtime) -> None:
        super().__init__(app, plans=plans)
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.plan(scope)
        if plan is not None and plan.secured:
            user = user_of(scope)
            if user is not None:
                if not user.may(plan.scopes):
                    raise auth.lacks_permission(plan.scopes)
                if user.rate_limit is not None:  # the window is the session's: resolve it now
                    state = self.runtime.sessions.get(header(scope, SESSION))
                    auth.admit(user, state.rates, state.clock.now())
                    scope[STATE] = state
        await self.app(scope, receive, send)


class JsonBodies(PlannedStage):
    """415 for a body that is not `application/json`; Connexion is handed the canonical type."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.plan(scope)
        if plan is not None and plan.json_body:
            content_types = [value for name, value in scope["headers"] if name == b"content-type"]
            check_media_type(content_types[0].decode("latin-1") if content_types else "")
            if content_types != [JSON.encode()]:
                # Connexion looks the body's schema up by the exact media type: give it the one
                # the mock read (a charset or capitals would skip its validation).
                headers = [(n, v) for n, v in scope["headers"] if n != b"content-type"]
                scope = {**scope, "headers": [*headers, (b"content-type", JSON.encode())]}
        await self.app(scope, receive, send)


class HandlerOperation:
    """One operation's handler, as Connexion's resolver found it: session, `Call`, answer."""

    def __init__(self, handler: Handler, runtime: Runtime) -> None:
        self.handler, self.runtime = handler, runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: MockState | None = scope.get(STATE)
        if state is None:
            state = self.runtime.sessions.get(header(scope, SESSION))
        call = Call(
            state=state,
            user=user_of(scope),
            body=scope.get(BODY),
            path_params=scope.get("path_params", {}),
            query_string=scope.get("query_string", b""),
            runtime=self.runtime,
        )
        envelope = await self.handler(call)
        await send_json(send, envelope["status_code"], envelope)


class HandlerAPI(RoutedAPI[HandlerOperation]):
    """The handlers of one spec, by the operation names Connexion's router writes."""

    def __init__(self, *args: Any, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runtime = runtime
        self.add_paths()

    def make_operation(self, operation: AbstractOperation) -> HandlerOperation:
        return HandlerOperation(operation.function, self.runtime)


class Handlers(RoutedMiddleware[HandlerAPI]):
    """The innermost stage: Connexion's `RoutedMiddleware`, serving each routed operation.

    A request no operation matched goes on to Connexion's own app, whose router raises the 404.
    """

    api_cls = HandlerAPI

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        super().__init__(app)
        self.runtime = runtime

    def add_api(self, specification: Any, **kwargs: Any) -> HandlerAPI:
        return super().add_api(specification, runtime=self.runtime, **kwargs)
