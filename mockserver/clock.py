"""The mock's idea of "now": the system clock, or a fixed instant that tests (and users) set.

`age` and `overdue_days` and the year of generated invoice numbers depend on it, so a test that
fixes the clock gets the same invoice every time.
"""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """UTC now, unless fixed with `set()`; `free()` returns to the system clock."""

    def __init__(self, fixed: datetime | None = None) -> None:
        self._fixed: datetime | None = None
        if fixed is not None:
            self.set(fixed)

    def now(self) -> datetime:
        return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, instant: datetime) -> None:
        self._fixed = instant if instant.tzinfo else instant.replace(tzinfo=UTC)

    def free(self) -> None:
        self._fixed = None

    @property
    def is_fixed(self) -> bool:
        return self._fixed is not None
