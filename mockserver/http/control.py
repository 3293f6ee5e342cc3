"""Control API handlers (control.yaml, under /__mock): sessions, fixtures, clock, request log, health.

Each `operationId` of control.yaml names the function here that serves it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from mockserver.domain import rules
from mockserver.domain.errors import Refusal, success_envelope
from mockserver.domain.fixtures import FixtureError, parse_world
from mockserver.domain.seeds import seed_invoices
from mockserver.http import views
from mockserver.http.call import Call
from mockserver.store import persistence
from mockserver.store.state import DEFAULT_SESSION, MockState

DUMP_PER_PAGE = 200  # control.yaml's default and maximum: a page's JSON is encoded in one go


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


DUMP_CHUNK = 50  # invoices shown between two yields to the event loop


async def dump_invoices(call: Call) -> dict[str, Any]:
    """One page of the session's invoices in creation order; `_meta` and `_links` beside `data`.

    A page is built in chunks with a yield to the event loop between them, so a big dump never
    holds up the other clients for long.
    """
    state = call.state
    query = call.query()  # validated against control.yaml already
    page, per_page = int(query.get("page", 1)), int(query.get("per_page", DUMP_PER_PAGE))
    now = state.clock.now()
    total_items = len(state.store)
    invoices = state.store.in_creation_order((page - 1) * per_page, per_page)
    shown: list[dict[str, Any]] = []
    for start in range(0, len(invoices), DUMP_CHUNK):
        if start:
            await asyncio.sleep(0)
        chunk = invoices[start : start + DUMP_CHUNK]
        shown.extend(views.invoice_view(state.world, invoice, now, state.defaults.facts) for invoice in chunk)
    pages = rules.total_pages(total_items, per_page)

    def link(number: int) -> str:
        return f"/__mock/invoices?page={number}&per_page={per_page}"

    envelope = success_envelope(shown)
    envelope["_meta"] = {"page": page, "per_page": per_page, "total_pages": pages, "total_items": total_items}
    envelope["_links"] = {"self": link(page), "next": link(page + 1) if page < pages else None}
    return envelope


async def load_fixtures(call: Call) -> dict[str, Any]:
    try:
        world = parse_world(call.body, source="PUT /__mock/fixtures")
        rules.check_world(world, call.state.defaults.facts)
        seeds = seed_invoices(world, call.state.defaults.facts)
    except FixtureError as error:
        raise Refusal("invalid", f"Fixtures refused: {error}.") from None
    call.runtime.sessions.replace_world(world, call.body, seeds)
    call.runtime.request_log.clear()
    counts = {
        kind: len(getattr(world, kind))
        for kind in ("organizations", "parties", "users", "documents", "blueprints", "products", "invoices")
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
    call.runtime.sessions.set_clock(call.state, instant)
    return success_envelope(_clock(call.state))


async def free_clock(call: Call) -> dict[str, Any]:
    call.runtime.sessions.set_clock(call.state, None)
    return success_envelope(_clock(call.state))


async def list_requests(call: Call) -> dict[str, Any]:
    limit = int(call.query().get("limit", 20))
    return success_envelope(call.runtime.request_log.last(limit, session=call.state.name))


async def health(call: Call) -> dict[str, Any]:
    """What the mock holds against its limits, and the state file's condition (why it refuses changes)."""
    sessions = call.runtime.sessions
    journal = sessions.journal
    state_file: dict[str, Any] | None = None
    if journal is not None:
        state_file = {
            "path": str(journal.path),
            "journal_mode": persistence.JOURNAL_MODE,
            "synchronous": persistence.SYNCHRONOUS,
            "writer_alive": journal.writer_alive,
            **asdict(journal.health),
        }
    log = call.runtime.request_log
    return success_envelope(
        {
            "ok": state_file is None or (state_file["writable"] and state_file["writer_alive"]),
            "state_file": state_file,
            "invoices": {"stored": sessions.invoice_count(), "limit": sessions.max_invoices},
            "sessions": {
                "named": len([name for name in sessions.names() if name != DEFAULT_SESSION]),
                "limit": sessions.max_sessions,
            },
            "request_log": log.usage(),
        }
    )
