"""The mock's idea of "now": the system clock, or a fixed instant that tests (and users) set.

`age` and `overdue_days` and the year of generated invoice numbers depend on it, so a test that
fixes the clock gets the same invoice every time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """UTC now, unless fixed with `set()`; `free()` returns to the system clock."""

    def __init__(self, fixed: datetime | None = None, on_change: Callable[[], None] | None = None) -> None:
        self._fixed: datetime | None = None
        self._on_change = on_change or (lambda: None)
        if fixed is not None:
            self._fixed = fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, instant: datetime) -> None:
        self._fixed = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        self._on_change()

    def free(self) -> None:
        self._fixed = None
        self._on_change()

    @property
    def is_fixed(self) -> bool:
        return self._fixed is not None
