"""What a running mock knows: one `MockState` per session, all made from the same fixtures.

A session is a separate namespace of invoices (and clock) selected by the `X-Mock-Session`
header, created on first use from the fixtures, so parallel test runs never see each other's
data. Requests without the header share the `default` session.

Every change of state goes through here (or the store's `create`): with a state file, each is
recorded in the journal with the SQL that makes it durable and a way to undo it, should the
commit fail. Sessions that were only looked at are not saved: an empty session is the same as
one not yet used.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from contract.facts import ContractFacts
from contract.spec import inline_refs, operation, property_defaults, request_body_schema
from mockserver.domain.clock import Clock
from mockserver.domain.errors import Refusal
from mockserver.domain.fixtures import World
from mockserver.domain.invoice_store import DEFAULT_MAX_INVOICES, InvoiceStore, Quota
from mockserver.domain.limits import RateWindows
from mockserver.store import persistence
from mockserver.store.journal import Journal
from mockserver.store.persistence import Row

DEFAULT_SESSION = "default"
SESSION_HEADER = "x-mock-session"
SESSION_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DEFAULT_MAX_SESSIONS = 100


@dataclass(frozen=True)
class SpecDefaults:
    """What the spec the mock was started with says: the create body's and the list's defaults,
    and its facts (`contract.facts`), which the rules are handed with each call."""

    create: dict[str, Any]
    list: dict[str, Any]
    facts: ContractFacts

    @classmethod
    def from_spec(cls, spec: dict[str, Any], facts: ContractFacts) -> SpecDefaults:
        list_parameters = inline_refs(spec, operation(spec, "list_invoices").get("parameters", []))
        return cls(
            create=property_defaults(request_body_schema(spec, "create_invoice")),
            list={p["name"]: p["schema"].get("default") for p in list_parameters},
            facts=facts,
        )


@dataclass
class MockState:
    """One session: its world, its invoices, its clock, its keys' rate-limit windows."""

    name: str
    world: World
    store: InvoiceStore
    clock: Clock
    defaults: SpecDefaults
    rates: RateWindows = field(default_factory=RateWindows)
    # The world's invoices this session started with and the state file does not hold yet: they
    # are journaled before the session's first change, so an unchanged session costs no rows.
    unsaved_seeds: tuple[Any, ...] = ()


def _nothing() -> None:
    """The undo of a row whose change is undone with another row's."""


def fixed_instant(clock: Clock) -> datetime | None:
    return clock.now() if clock.is_fixed else None


class Sessions:
    """The sessions of one mock; thread-safe; at most `max_sessions` named ones besides `default`.

    All sessions share one invoice `quota` (`max_invoices` for the whole mock).
    """

    def __init__(
        self,
        world: World,
        defaults: SpecDefaults,
        *,
        max_invoices: int = DEFAULT_MAX_INVOICES,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        start_clock: datetime | None = None,
        control: bool = True,
        seeds: tuple[Any, ...] = (),
    ) -> None:
        self.world = world
        self.seeds = seeds  # the world's invoices as the mock's (mockserver.domain.seeds)
        self.defaults = defaults
        self.quota = Quota(max_invoices, resettable=control)
        self.max_sessions = max_sessions
        self.control = control  # the control API is served: its reset may be suggested
        self.start_clock = start_clock
        self.journal: Journal | None = None  # set when the mock keeps a state file
        self._lock = threading.Lock()
        self._sessions: dict[str, MockState] = {}

    @property
    def max_invoices(self) -> int:
        return self.quota.limit

    def _record(self, row: Callable[[], Row], undo: Any) -> None:
        """Journal a change made in memory; `row` is built only when there is a state file (it
        encodes the whole invoice: on the in-memory mock's create path it would be wasted)."""
        if self.journal is not None:
            self.journal.record(row(), undo)

    def _record_all(self, rows: list[Callable[[], Row]], undo: Callable[[], None]) -> None:
        """Journal the rows of one change together (one loop turn: one transaction), one undo for all."""
        if self.journal is not None:
            for index, row in enumerate(rows):
                self.journal.record(row(), undo if index == 0 else _nothing)

    def new_state(self, name: str, clock: datetime | None = None, *, fresh: bool = True) -> MockState:
        """A session from the fixtures, its changes journaled. `fresh`: with the world's invoices
        and its clock as at start; else empty, for what a state file holds (`store.restore`)."""
        state = MockState(
            name,
            self.world,
            InvoiceStore(self.quota),
            Clock(self.start_clock if fresh else clock),
            self.defaults,
        )
        if fresh and self.seeds:
            state.store.restore(self.seeds, {})
            state.unsaved_seeds = self.seeds

        def created(invoice: Any, next_sequence: int) -> None:
            self._save_seeds(state)
            self._record(
                lambda: persistence.created(name, fixed_instant(state.clock), invoice, next_sequence),
                lambda: state.store.discard(invoice),
            )

        def changed(puts: list[Any], deleted: list[Any], undo: Callable[[], None]) -> None:
            self._save_seeds(state)
            rows: list[Callable[[], Row]] = [
                *(partial(persistence.updated, name, invoice) for invoice in puts),
                *(partial(persistence.deleted, name, invoice.uid) for invoice in deleted),
            ]
            self._record_all(rows, undo)

        state.store.on_create = created
        state.store.on_change = changed
        return state

    def _save_seeds(self, state: MockState) -> None:
        """Journal the session's seeds as creates before its first change (once), so a restart
        reads back the session as it is: a seed changed or deleted stays so."""
        seeds, state.unsaved_seeds = state.unsaved_seeds, ()
        if self.journal is None or not seeds:
            return

        def unsave() -> None:
            state.unsaved_seeds = seeds

        numbers = state.store.next_sequences()
        clock = fixed_instant(state.clock)
        rows: list[Callable[[], Row]] = [
            partial(persistence.created, state.name, clock, seed, numbers[seed.owner_uid]) for seed in seeds
        ]
        self._record_all(rows, unsave)

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
                    remedy = "reset them with POST /__mock/reset?all=true" if self.control else "restart it"
                    held = f"the mock holds {self.max_sessions} named sessions already"
                    raise Refusal("full", f"X-Mock-Session: {held}; {remedy}.")
                self._sessions[name] = self.new_state(name)
            return self._sessions[name]

    def names(self) -> list[str]:
        return sorted(self._sessions)

    def items(self) -> list[tuple[str, MockState]]:
        with self._lock:
            return sorted(self._sessions.items())

    def invoice_count(self) -> int:
        return self.quota.used

    def set_clock(self, state: MockState, instant: datetime | None) -> None:
        """Fix the session's clock at `instant`, or free it (None)."""
        previous = fixed_instant(state.clock)
        self._save_seeds(state)
        if instant is None:
            state.clock.free()
        else:
            state.clock.set(instant)

        def undo() -> None:
            if previous is None:
                state.clock.free()
            else:
                state.clock.set(previous)

        self._record(lambda: persistence.clock_set(state.name, fixed_instant(state.clock)), undo)

    def reset(self, name: str | None = None) -> None:
        """Back to the fixtures: one session (emptied, clock as at start), or all (named ones dropped)."""
        with self._lock:
            before = dict(self._sessions)
            if name is None:
                self._sessions.clear()
                dropped = list(before.values())
            elif name in self._sessions:
                dropped = [self._sessions[name]]
                self._sessions[name] = self.new_state(name)
            else:
                dropped = []
        released = sum(len(state.store) for state in dropped)
        self.quota.give_back(released)
        self._record(
            lambda: persistence.all_reset() if name is None else persistence.session_reset(name),
            lambda: self._put_back(self.world, before, released),
        )

    def replace_world(self, world: World, document: dict[str, Any], seeds: tuple[Any, ...] = ()) -> None:
        """New fixtures (and their invoices, `seeds`) for every session; all sessions are reset,
        their invoices named the old world.

        `document` (the fixtures as sent) is what the state file keeps, so a restart comes back
        in this world.
        """
        with self._lock:
            before, before_world, before_seeds = dict(self._sessions), self.world, self.seeds
            released = sum(len(state.store) for state in before.values())
            self.world, self.seeds = world, seeds
            self._sessions.clear()
        self.quota.give_back(released)
        self._record(
            lambda: persistence.fixtures_replaced(document),
            lambda: self._put_back(before_world, before, released, before_seeds),
        )

    def _put_back(
        self,
        world: World,
        sessions: dict[str, MockState],
        invoices: int,
        seeds: tuple[Any, ...] | None = None,
    ) -> None:
        """Undo a reset or a fixtures replacement."""
        with self._lock:
            self.world = world
            if seeds is not None:
                self.seeds = seeds
            self._sessions.clear()
            self._sessions.update(sessions)
        self.quota.force(invoices)

    def put(self, state: MockState) -> None:
        """Install a session restored from a state file."""
        with self._lock:
            self._sessions[state.name] = state
