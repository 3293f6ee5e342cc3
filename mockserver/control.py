"""Control API handlers (control.yaml, under /__mock): sessions, fixtures, clock, request log.

Each `operationId` of control.yaml names the function here that serves it.
"""

from __future__ import annotations

from typing import Any

from mockserver import rules, views
from mockserver.call import Call
from mockserver.errors import Refusal, success_envelope
from mockserver.fixtures import FixtureError, parse_world
from mockserver.state import MockState


def _clock(state: MockState) -> dict[str, Any]:
    return {
        "session": state.name,
        "now": views.format_instant(state.clock.now()),
        "fixed": state.clock.is_fixed,
    }


def _summary(state: MockState) -> dict[str, Any]:
    return {**_clock(state), "invoices": len(state.store)}


async def list_sessions(call: Call) -> dict[str, Any]:
    return success_envelope([_summary(state) for _name, state in call.runtime.sessions.items()])


async def reset(call: Call) -> dict[str, Any]:
    sessions = call.runtime.sessions
    if call.query().get("all", "false").lower() == "true":  # validated as a boolean already
        names = sessions.names()
        sessions.reset(None)
        call.runtime.request_log.clear()
    else:
        names = [call.state.name]
        sessions.reset(call.state.name)
        call.runtime.request_log.clear(call.state.name)
    return success_envelope({"reset": names})


async def dump_invoices(call: Call) -> dict[str, Any]:
    state = call.state
    now = state.clock.now()
    invoices, _numbers = state.store.export()
    return success_envelope([views.invoice_view(state.world, invoice, now) for invoice in invoices])


async def load_fixtures(call: Call) -> dict[str, Any]:
    try:
        world = parse_world(call.body, source="PUT /__mock/fixtures")
        rules.check_world(world)
    except FixtureError as error:
        raise Refusal("invalid", f"Fixtures refused: {error}.") from None
    call.runtime.sessions.replace_world(world)
    call.runtime.request_log.clear()
    counts = {
        kind: len(getattr(world, kind))
        for kind in ("organizations", "parties", "users", "documents", "blueprints")
    }
    return success_envelope({"loaded": counts, "sessions": "all reset"})


async def get_clock(call: Call) -> dict[str, Any]:
    return success_envelope(_clock(call.state))


async def set_clock(call: Call) -> dict[str, Any]:
    instant = views.parse_instant(call.body["now"])
    if instant is None:
        raise Refusal.for_field(
            "invalid", "/now", f"cannot represent {call.body['now']!r} as an instant", "format"
        )
    call.state.clock.set(instant)
    return success_envelope(_clock(call.state))


async def free_clock(call: Call) -> dict[str, Any]:
    call.state.clock.free()
    return success_envelope(_clock(call.state))


async def list_requests(call: Call) -> dict[str, Any]:
    limit = int(call.query().get("limit", 20))
    return success_envelope(call.runtime.request_log.last(limit, session=call.state.name))
