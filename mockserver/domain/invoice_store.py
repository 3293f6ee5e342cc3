"""The in-memory invoice store: create, change, delete, get by uid, list newest first; bounded, race-free.

The uniqueness of invoice numbers is a property of the store, not of a handler: checking a
number and inserting the invoice happen under one lock, so 200 parallel creates can neither
duplicate a generated number nor let two equal supplied numbers in.

Changes (updates, bulk updates, deletes, line items) are made on a `Draft` under the same lock:
the rules read and write the draft, item after item, each seeing what the earlier ones did
(P62), and the store takes the whole draft at once, or nothing if a rule refused. The order of
creation is never touched by a change (P76).

Every store of a mock draws on one `Quota`: `--max-invoices` bounds the whole mock, not each
session (101 sessions must not hold 101 times the limit).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

DEFAULT_MAX_INVOICES = 100_000


class Stored(Protocol):
    @property
    def uid(self) -> str: ...
    @property
    def owner_uid(self) -> str: ...
    @property
    def invoice_number(self) -> str: ...


S = TypeVar("S", bound=Stored)


class StoreFull(Exception):
    """The mock holds `limit` invoices; new ones are refused, never silently dropped.

    The message names what makes room; the control API's reset only where it is served
    (`resettable`: not under `--no-control`, where suggesting it would send the user to a 404).
    """

    def __init__(self, limit: int, resettable: bool = True) -> None:
        self.limit = limit
        reset = (
            "empty this session with POST /__mock/reset (every session with ?all=true), or "
            if resettable
            else ""
        )
        self.message = (
            f"The mock holds {limit} invoices across all sessions, its limit (--max-invoices): "
            f"{reset}restart it with a higher --max-invoices."
        )
        super().__init__(self.message)


class DuplicateNumber(Exception):
    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.number = number


class Quota:
    """How many invoices all the stores of one mock may hold together; thread-safe."""

    def __init__(self, limit: int = DEFAULT_MAX_INVOICES, resettable: bool = True) -> None:
        if limit < 1:
            raise ValueError("max_invoices must be at least 1")
        self.limit = limit
        self.resettable = resettable  # whether POST /__mock/reset exists to make room
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        """One more invoice, or `StoreFull`."""
        with self._lock:
            if self.used >= self.limit:
                raise StoreFull(self.limit, self.resettable)
            self.used += 1

    def force(self, count: int) -> None:
        """Count invoices that exist already (restored, or put back by an undo), over the limit if need be."""
        with self._lock:
            self.used += count

    def give_back(self, count: int) -> None:
        with self._lock:
            self.used = max(0, self.used - count)


@dataclass
class _OwnerNumbers:
    used: set[str]
    next_sequence: int = 1


# Called after an invoice is stored: (invoice, its owner's next generated sequence).
OnCreate = Callable[[Any, int], None]
# Called after a draft is taken: (the changed invoices, the deleted ones, how to undo it all).
OnChange = Callable[[list[Any], list[Any], Callable[[], None]], None]
R = TypeVar("R")


class Draft:
    """Changes to a store, not yet made: what the rules of one request see and do.

    `get` sees the draft's own changes first; `put` replaces an invoice (a new invoice number
    must be free in its owner organization, counting what the draft freed or took); `delete`
    removes one and frees its number (P67).
    """

    def __init__(self, invoices: dict[str, Any], numbers: dict[str, _OwnerNumbers]) -> None:
        self._invoices, self._numbers = invoices, numbers
        self.puts: dict[str, Any] = {}
        self.deleted: dict[str, Any] = {}
        self.freed: dict[str, set[str]] = {}
        self.taken: dict[str, set[str]] = {}

    def get(self, uid: str) -> Any | None:
        if uid in self.deleted:
            return None
        found = self.puts.get(uid)
        return found if found is not None else self._invoices.get(uid)

    def number_taken(self, owner_uid: str, number: str) -> bool:
        if number in self.taken.get(owner_uid, ()):
            return True
        if number in self.freed.get(owner_uid, ()):
            return False
        numbers = self._numbers.get(owner_uid)
        return numbers is not None and number in numbers.used

    def _free(self, owner_uid: str, number: str) -> None:
        taken = self.taken.get(owner_uid)
        if taken is not None and number in taken:
            taken.discard(number)
        else:
            self.freed.setdefault(owner_uid, set()).add(number)

    def _take(self, owner_uid: str, number: str) -> None:
        freed = self.freed.get(owner_uid)
        if freed is not None and number in freed:
            freed.discard(number)
        else:
            self.taken.setdefault(owner_uid, set()).add(number)

    def put(self, invoice: Stored) -> None:
        """Replace the invoice `invoice.uid` (it must exist); `DuplicateNumber` if its number is taken."""
        old = self.get(invoice.uid)
        if old is None:
            raise KeyError(invoice.uid)
        if invoice.invoice_number != old.invoice_number:
            if self.number_taken(invoice.owner_uid, invoice.invoice_number):
                raise DuplicateNumber(invoice.invoice_number)
            self._free(old.owner_uid, old.invoice_number)
            self._take(invoice.owner_uid, invoice.invoice_number)
        self.puts[invoice.uid] = invoice

    def delete(self, uid: str) -> None:
        old = self.get(uid)
        if old is None:
            raise KeyError(uid)
        self._free(old.owner_uid, old.invoice_number)
        self.puts.pop(uid, None)
        self.deleted[uid] = self._invoices[uid]


class InvoiceStore:
    """Invoices by uid, in creation order; invoice numbers per owner organization."""

    def __init__(
        self, quota: Quota | None = None, on_create: OnCreate | None = None, on_change: OnChange | None = None
    ) -> None:
        self.quota = quota or Quota()
        self.on_create = on_create
        self.on_change = on_change
        self._lock = threading.Lock()
        self._invoices: dict[str, Any] = {}
        self._numbers: dict[str, _OwnerNumbers] = {}
        self._created: dict[str, int] = {}  # uid -> creation rank: where an undone delete goes back
        self._ranks = itertools.count()

    @property
    def max_invoices(self) -> int:
        return self.quota.limit

    def __len__(self) -> int:
        return len(self._invoices)

    def create(
        self,
        owner_uid: str,
        requested_number: str | None,
        generate: Callable[[int], str],
        build: Callable[[str], S],
    ) -> S:
        """Reserve a number (the requested one, or `generate(sequence)`) and store `build(number)`.

        Generated numbers skip any number already used by the owner, so a client that supplied
        `INV-2026-0003` by hand does not make the third generated number collide. `on_create`
        (the journal, with a state file) hears of the invoice; if it refuses, nothing is kept.
        """
        with self._lock:
            numbers = self._numbers.setdefault(owner_uid, _OwnerNumbers(used=set()))
            if requested_number is not None and requested_number in numbers.used:
                raise DuplicateNumber(requested_number)  # the client's mistake comes before the mock's limit
            self.quota.take()
            try:
                if requested_number is not None:
                    number = requested_number
                else:
                    number = generate(numbers.next_sequence)
                    numbers.next_sequence += 1
                    while number in numbers.used:
                        number = generate(numbers.next_sequence)
                        numbers.next_sequence += 1
                invoice = build(number)
            except BaseException:
                self.quota.give_back(1)
                raise
            numbers.used.add(number)
            self._invoices[invoice.uid] = invoice
            self._created[invoice.uid] = next(self._ranks)
            next_sequence = numbers.next_sequence
        if self.on_create is not None:
            try:
                self.on_create(invoice, next_sequence)
            except BaseException:
                self.discard(invoice)
                raise
        return invoice

    def discard(self, invoice: Stored) -> None:
        """Undo a `create` (its change could not be made durable): the invoice and its number go."""
        with self._lock:
            if self._invoices.pop(invoice.uid, None) is None:
                return
            self._created.pop(invoice.uid, None)
            numbers = self._numbers.get(invoice.owner_uid)
            if numbers is not None:
                numbers.used.discard(invoice.invoice_number)
        self.quota.give_back(1)

    def change(self, rules: Callable[[Draft], R]) -> R:
        """Apply `rules(draft)` atomically: under the lock, then all its changes at once.

        If `rules` raises (a refusal), nothing changes. `on_change` (the journal, with a state
        file) hears of the changes with their undo; if it refuses, they are undone.
        """
        with self._lock:
            draft = Draft(self._invoices, self._numbers)
            result = rules(draft)
            if not draft.puts and not draft.deleted:
                return result
            before = {uid: self._invoices[uid] for uid in draft.puts}
            ranks = {uid: self._created[uid] for uid in draft.deleted}
            for uid, invoice in draft.puts.items():
                self._invoices[uid] = invoice  # an existing key keeps its place: creation order
            for uid in draft.deleted:
                del self._invoices[uid]
                del self._created[uid]
            self._move_numbers(draft.freed, draft.taken)
        self.quota.give_back(len(draft.deleted))

        def undo() -> None:
            with self._lock:
                self._invoices.update(before)
                self._invoices.update(draft.deleted)
                self._created.update(ranks)
                if draft.deleted:  # back in their places: re-sort by creation
                    order = sorted(self._invoices, key=self._created.__getitem__)
                    self._invoices = {uid: self._invoices[uid] for uid in order}
                self._move_numbers(draft.taken, draft.freed)
            self.quota.force(len(draft.deleted))

        if self.on_change is not None:
            try:
                self.on_change(list(draft.puts.values()), list(draft.deleted.values()), undo)
            except BaseException:
                undo()
                raise
        return result

    def _move_numbers(self, freed: dict[str, set[str]], taken: dict[str, set[str]]) -> None:
        for owner, gone in freed.items():
            self._numbers[owner].used.difference_update(gone)
        for owner, new in taken.items():
            self._numbers.setdefault(owner, _OwnerNumbers(used=set())).used.update(new)

    def get(self, uid: str) -> Any | None:
        return self._invoices.get(uid)

    def newest_first(self) -> Iterator[Any]:
        """All invoices, most recently created first (a snapshot: safe while others write)."""
        with self._lock:
            snapshot = list(self._invoices.values())
        return reversed(snapshot)

    def in_creation_order(self, start: int, count: int) -> list[Any]:
        """Invoices `start` … `start + count - 1` in creation order (one page of a dump)."""
        with self._lock:
            return list(itertools.islice(self._invoices.values(), start, start + count))

    def export(self) -> tuple[list[Any], dict[str, dict[str, Any]]]:
        """Invoices in creation order and each owner's numbers: everything needed to restore."""
        with self._lock:
            numbers = {
                owner: {"used": sorted(n.used), "next_sequence": n.next_sequence}
                for owner, n in self._numbers.items()
            }
            return list(self._invoices.values()), numbers

    def next_sequences(self) -> dict[str, int]:
        """Each owner's next generated sequence (the owners this store has numbers of)."""
        with self._lock:
            return {owner: numbers.next_sequence for owner, numbers in self._numbers.items()}

    def restore(self, invoices: Sequence[Stored], next_sequences: dict[str, int]) -> None:
        """Load a saved store (into an empty one), over the quota if need be: nothing is dropped."""
        with self._lock:
            for invoice in invoices:
                self._invoices[invoice.uid] = invoice
                self._created[invoice.uid] = next(self._ranks)
                numbers = self._numbers.setdefault(invoice.owner_uid, _OwnerNumbers(used=set()))
                numbers.used.add(invoice.invoice_number)
            for owner, sequence in next_sequences.items():
                self._numbers.setdefault(owner, _OwnerNumbers(used=set())).next_sequence = sequence
        self.quota.force(len(invoices))
