"""The in-memory invoice store: create, get by uid, list newest first; bounded and race-free.

The uniqueness of invoice numbers is a property of the store, not of a handler: checking a
number and inserting the invoice happen under one lock, so 200 parallel creates can neither
duplicate a generated number nor let two equal supplied numbers in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_MAX_INVOICES = 100_000


class Stored(Protocol):
    uid: str
    owner_uid: str
    invoice_number: str


class StoreFull(Exception):
    """The store holds `max_invoices` invoices; new ones are refused, never silently dropped."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the mock's store is full ({limit} invoices)")
        self.limit = limit


class DuplicateNumber(Exception):
    def __init__(self, number: str) -> None:
        super().__init__(number)
        self.number = number


@dataclass
class _OwnerNumbers:
    used: set[str]
    next_sequence: int = 1


class InvoiceStore:
    """Invoices by uid, in creation order; invoice numbers per owner organization."""

    def __init__(
        self, max_invoices: int = DEFAULT_MAX_INVOICES, on_change: Callable[[], None] | None = None
    ) -> None:
        if max_invoices < 1:
            raise ValueError("max_invoices must be at least 1")
        self.max_invoices = max_invoices
        self._on_change = on_change or (lambda: None)
        self._lock = threading.Lock()
        self._invoices: dict[str, Any] = {}
        self._numbers: dict[str, _OwnerNumbers] = {}

    def __len__(self) -> int:
        return len(self._invoices)

    def create(
        self,
        owner_uid: str,
        requested_number: str | None,
        generate: Callable[[int], str],
        build: Callable[[str], Stored],
    ) -> Stored:
        """Reserve a number (the requested one, or `generate(sequence)`) and store `build(number)`.

        Generated numbers skip any number already used by the owner, so a client that supplied
        `INV-2026-0003` by hand does not make the third generated number collide.
        """
        with self._lock:
            numbers = self._numbers.setdefault(owner_uid, _OwnerNumbers(used=set()))
            if requested_number is not None and requested_number in numbers.used:
                raise DuplicateNumber(requested_number)  # the client's mistake comes before the mock's limit
            if len(self._invoices) >= self.max_invoices:
                raise StoreFull(self.max_invoices)
            if requested_number is not None:
                number = requested_number
            else:
                number = generate(numbers.next_sequence)
                numbers.next_sequence += 1
                while number in numbers.used:
                    number = generate(numbers.next_sequence)
                    numbers.next_sequence += 1
            invoice = build(number)
            numbers.used.add(number)
            self._invoices[invoice.uid] = invoice
        self._on_change()
        return invoice

    def get(self, uid: str) -> Any | None:
        return self._invoices.get(uid)

    def newest_first(self) -> Iterator[Any]:
        """All invoices, most recently created first (a snapshot: safe while others write)."""
        with self._lock:
            snapshot = list(self._invoices.values())
        return reversed(snapshot)

    def export(self) -> tuple[list[Any], dict[str, dict[str, Any]]]:
        """Invoices in creation order and each owner's numbers: everything needed to restore."""
        with self._lock:
            numbers = {
                owner: {"used": sorted(n.used), "next_sequence": n.next_sequence}
                for owner, n in self._numbers.items()
            }
            return list(self._invoices.values()), numbers

    def restore(self, invoices: list[Stored], numbers: dict[str, dict[str, Any]]) -> None:
        """Load what `export` gave (into an empty store), over the cap if need be: nothing is dropped."""
        with self._lock:
            for invoice in invoices:
                self._invoices[invoice.uid] = invoice
            for owner, entry in numbers.items():
                self._numbers[owner] = _OwnerNumbers(set(entry["used"]), entry["next_sequence"])
