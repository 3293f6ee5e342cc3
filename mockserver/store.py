"""The in-memory invoice store: create, get by uid, list newest first; bounded and race-free.

The uniqueness of invoice numbers is a property of the store, not of a handler: checking a
number and inserting the invoice happen under one lock, so 200 parallel creates can neither
duplicate a generated number nor let two equal supplied numbers in.

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
    """The mock holds `limit` invoices; new ones are refused, never silently dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.message = (
            f"The mock holds {limit} invoices across all sessions, its limit (--max-invoices): "
            "empty this session with POST /__mock/reset (every session with ?all=true), or "
            "restart it with a higher --max-invoices."
        )
        super().__init__(self.message)


class DuplicateNumber(Exception):
    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.number = number


class Quota:
    """How many invoices all the stores of one mock may hold together; thread-safe."""

    def __init__(self, limit: int = DEFAULT_MAX_INVOICES) -> None:
        if limit < 1:
            raise ValueError("max_invoices must be at least 1")
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> None:
        """One more invoice, or `StoreFull`."""
        with self._lock:
            if self.used >= self.limit:
                raise StoreFull(self.limit)
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


class InvoiceStore:
    """Invoices by uid, in creation order; invoice numbers per owner organization."""

    def __init__(self, quota: Quota | None = None, on_create: OnCreate | None = None) -> None:
        self.quota = quota or Quota()
        self.on_create = on_create
        self._lock = threading.Lock()
        self._invoices: dict[str, Any] = {}
        self._numbers: dict[str, _OwnerNumbers] = {}

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
            numbers = self._numbers.get(invoice.owner_uid)
            if numbers is not None:
                numbers.used.discard(invoice.invoice_number)
        self.quota.give_back(1)

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

    def restore(self, invoices: Sequence[Stored], next_sequences: dict[str, int]) -> None:
        """Load a saved store (into an empty one), over the quota if need be: nothing is dropped."""
        with self._lock:
            for invoice in invoices:
                self._invoices[invoice.uid] = invoice
                numbers = self._numbers.setdefault(invoice.owner_uid, _OwnerNumbers(used=set()))
                numbers.used.add(invoice.invoice_number)
            for owner, sequence in next_sequences.items():
                self._numbers.setdefault(owner, _OwnerNumbers(used=set())).next_sequence = sequence
        self.quota.force(len(invoices))
