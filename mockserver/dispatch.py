"""The mock's own operation layer: everything between "routed" and "answered", precompiled.

Connexion's router has named the operation; from there each request goes through one `Plan`,
built at start from the spec: `Prefer` scenarios (before security: a `Prefer: code=401` needs no
token and touches no state), bearer security, the key's scopes (403, P74) and rate limit (429,
P22), query and body validation (P01/P03/P61 order), then
the session (`X-Mock-Session`, resolved only now, so an unknown path or Swagger UI never creates
one) and the handler, whose envelope goes out through the one JSON writer.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from contract.spec import inline_refs, iter_operations
from mockserver import auth
from mockserver.answers import send_json
from mockserver.call import Call
from mockserver.domain.errors import Refusal
from mockserver.runtime import Runtime
from mockserver.scenarios import canned_responses, scenario
from mockserver.specs import Api, operation_key
from mockserver.store.state import SESSION_HEADER
from mockserver.validation import BodyValidator, QueryValidator

JSON = "application/json"


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Plan:
    """One operation, compiled: its handler, whether it needs a token, its validators, its examples."""

    handler: Handler
    secured: bool
    scopes: frozenset[str]  # the operation's `x-scopes` (contract.facts): a key needs one (P74)
    query: QueryValidator | None
    body: BodyValidator | None
    canned: dict[str, Any] | None  # `canned_responses` of a contract operation; None on the control API


def plans(
    api: Api, *, max_body_bytes: int, scenarios: bool, scopes: dict[str, frozenset[str]] | None = None
) -> dict[str, Plan]:
    """A `Plan` per operation of `api`, keyed as Connexion's router names them.

    `scopes`: per operationId, the key scopes it needs (`ContractFacts.scopes`; none for the
    control API).
    """
    module = importlib.import_module(api.handlers)
    canned = canned_responses(api.spec) if scenarios else {}
    table = {}
    for path, _method, op in iter_operations(api.spec):
        op = inline_refs(api.spec, op)
        parameters = [*api.spec["paths"][path].get("parameters", []), *op.get("parameters", [])]
        query = QueryValidator(inline_refs(api.spec, parameters))
        schema = op.get("requestBody", {}).get("content", {}).get(JSON, {}).get("schema")
        table[operation_key(api.handlers, op["operationId"])] = Plan(
            handler=getattr(module, op["operationId"]),
            secured=auth.needs_bearer(api.spec, op),
            scopes=(scopes or {}).get(op["operationId"], frozenset()),
            query=query or None,
            body=BodyValidator(schema, max_body_bytes) if schema is not None else None,
            canned=canned.get(op["operationId"]) if scenarios else None,
        )
    return table


class Operations:
    """Serves a request whose operation is known: `Prefer`, bearer, query, body, session, handler."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def serve(self, plan: Plan, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        prefer = headers.getlist("prefer")
        if prefer:
            chosen = scenario(prefer, plan.canned)
            if chosen is not None:
                if chosen.delay_ms:
                    await asyncio.sleep(chosen.delay_ms / 1000)
                if chosen.canned is not None:
                    extra = [(b"preference-applied", chosen.applied.encode()), *chosen.canned.headers]
                    await send_json(send, chosen.canned.status, chosen.canned.body, extra)
                    return
        sessions = self.runtime.sessions
        user = auth.user_for(headers.get("authorization"), sessions.world.users) if plan.secured else None
        state = None
        if user is not None:
            if not user.may(plan.scopes):
                raise auth.lacks_permission(plan.scopes)
            if user.rate_limit is not None:  # the window is the session's: resolve it now
                state = sessions.get(headers.get(SESSION_HEADER))
                auth.admit(user, state.rates, state.clock.now())
        query_string: bytes = scope.get("query_string", b"")
        if plan.query is not None:
            plan.query.validate(query_string)
        body = await plan.body.read(headers, receive) if plan.body is not None else None
        call = Call(
            state=state or sessions.get(headers.get(SESSION_HEADER)),
            user=user,
            body=body,
            path_params=scope.get("path_params", {}),
            query_string=query_string,
            runtime=self.runtime,
        )
        envelope = await plan.handler(call)
        await send_json(send, envelope["status_code"], envelope)


class OperationLayer:
    """The innermost layer of the Connexion app: serves what Connexion's router named (`routed`)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        plans: dict[str, Plan],
        operations: Operations,
        routed: Callable[[Scope], str | None],
    ) -> None:
        self.app, self.plans, self.operations, self.routed = app, plans, operations, routed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = self.routed(scope)
        plan = self.plans.get(key) if key is not None else None
        if plan is None:
            raise Refusal("not_found", "No such endpoint.")
        await self.operations.serve(plan, scope, receive, send)
