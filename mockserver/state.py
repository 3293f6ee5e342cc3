"""What a running mock knows: one `MockState` per session, all made from the same fixtures.

A session is a separate namespace of invoices (and clock) selected by the `X-Mock-Session`
header, created on first use from the fixtures, so parallel test runs never see each other's
data. Requests without the header share the `default` session.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contract.spec import inline_refs, operation, property_defaults, request_body_schema
from mockserver.clock import Clock
from mockserver.errors import Refusal
from mockserver.fixtures import World
from mockserver.store import DEFAULT_MAX_INVOICES, InvoiceStore

DEFAULT_SESSION = "default"
SESSION_HEADER = "x-mock-session"
SESSION_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DEFAULT_MAX_SESSIONS = 100


@dataclass(frozen=True)
class SpecDefaults:
    """Defaults read from openapi.yaml: the create body's and the list's query parameters."""

    create: dict[str, Any]
    list: dict[str, Any]

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> SpecDefaults:
        list_parameters = inline_refs(spec, operation(spec, "list_invoices").get("parameters", []))
        return cls(
            create=property_defaults(request_body_schema(spec, "create_invoice")),
            list={p["name"]: p["schema"].get("default") for p in list_parameters},
        )


@dataclass
class MockState:
    """One session: its world, its invoices, its clock."""

    name: str
    world: World
    store: InvoiceStore
    clock: Clock
    defaults: SpecDefaults


class Sessions:
    """The sessions of one mock; thread-safe; at most `max_sessions` named ones besides `default`."""

    def __init__(
        self,
        world: World,
        defaults: SpecDefaults,
        *,
        max_invoices: int = DEFAULT_MAX_INVOICES,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        start_clock: datetime | None = None,
    ) -> None:
        self.world = world
        self.defaults = defaults
        self.max_invoices = max_invoices
        self.max_sessions = max_sessions
        self.start_clock = start_clock
        self._lock = threading.Lock()
        self._sessions: dict[str, MockState] = {}
        self._counter = itertools.count(1)
        self.version = 0  # changes with every change of any session: what persistence watches

    def touch(self) -> None:
        """Record a change (`next()` on a count is atomic, so concurrent writers never lose one)."""
        self.version = next(self._counter)

    def _new(self, name: str) -> MockState:
        store = InvoiceStore(self.max_invoices, on_change=self.touch)
        return MockState(
            name, self.world, store, Clock(self.start_clock, on_change=self.touch), self.defaults
        )

    def get(self, name: str | None = None) -> MockState:
        """The session `name` (default: the shared one), created from the fixtures on first use."""
        name = name or DEFAULT_SESSION
        state = self._sessions.get(name)
        if state is not None:
            return state
        if not SESSION_NAME.match(name):
            raise Refusal(
                "malformed", f"X-Mock-Session: must match {SESSION_NAME.pattern}, got {name[:80]!r}."
            )
        with self._lock:
            if name not in self._sessions:
                named = len(self._sessions) - (DEFAULT_SESSION in self._sessions)
                if name != DEFAULT_SESSION and named >= self.max_sessions:
                    raise Refusal(
                        "full",
                        f"X-Mock-Session: the mock holds {self.max_sessions} named sessions already; "
                        "reset them with POST /__mock/reset?all=true.",
                    )
                self._sessions[name] = self._new(name)
                self.touch()
            return self._sessions[name]

    def names(self) -> list[str]:
        return sorted(self._sessions)

    def items(self) -> list[tuple[str, MockState]]:
        with self._lock:
            return sorted(self._sessions.items())

    def reset(self, name: str | None = None) -> None:
        """Back to the fixtures: one session (emptied, clock as at start), or all (named ones dropped)."""
        with self._lock:
            if name is None:
                self._sessions.clear()
            elif name in self._sessions:
                self._sessions[name] = self._new(name)
            self.touch()

    def replace_world(self, world: World) -> None:
        """New fixtures for every session; all sessions are reset, their invoices named the old world."""
        with self._lock:
            self.world = world
            self._sessions.clear()
            self.touch()

    def put(self, state: MockState) -> None:
        """Install a session restored from a state file."""
        with self._lock:
            self._sessions[state.name] = state
            self.touch()
