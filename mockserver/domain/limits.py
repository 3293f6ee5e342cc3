"""Rate limits of keys (fixtures `rate_limit`): a fixed window per key, on the session's clock.

The contract lets any operation answer `429` with `Retry-After` (precision P22); the mock does
so for a key whose fixtures entry has a `rate_limit`: at most `requests` requests per window of
`window_seconds`, the window starting with the key's first request. The window is read on the
session's clock, so a test moves past it with `PUT /__mock/clock` instead of waiting, and a
session reset (a new session state) starts it afresh.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta


class RateWindows:
    """Each key's current window: when it started and how many requests it has seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[datetime, int]] = {}  # keyed by token: bounded by the fixtures

    def admit(self, key: str, requests: int, window_seconds: int, now: datetime) -> int | None:
        """None if the request is within the limit; else the whole seconds until the window ends (≥ 1)."""
        window = timedelta(seconds=window_seconds)
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now < start or now >= start + window:  # the window is over (or the clock went back)
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
        if count <= requests:
            return None
        return max(1, math.ceil((start + window - now).total_seconds()))
