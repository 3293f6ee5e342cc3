"""The event loop's longest stall under load: a trivial request every 10 ms, sent beside wrk.

wrk's own latencies mix queueing behind 32 busy connections with real stalls; a probe that asks
for something cheap on its own keep-alive connection at a steady pace shows the loop's
responsiveness as another client meets it: a state file written on the loop, a long list built
in one go, a GC pause, each shows up as one slow probe. The request is `GET
/api/invoices/{uid}` of an invoice created before the load (a dictionary lookup in the mock),
not the list: today's list is O(stored invoices), so at tens of thousands of invoices the probe
would measure its own cost. Every server gets the same probe (the bare endpoint answers that
GET too), so the bare figure is the floor: what queueing alone costs.

Bounded: it stops at `limit_s` or after `limit_s / interval_s` requests, whichever comes first;
a request that takes longer than `timeout_s` counts as an error and ends the probe.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import threading
import time
from dataclasses import dataclass, field


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1) of `values`; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class ProbeResult:
    """The probe's latencies (ms) and how many of its requests failed or answered non-200."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99)

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms, default=float("nan"))

    def summary(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "errors": self.errors,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        }

    @classmethod
    def pooled(cls, results: list[ProbeResult]) -> ProbeResult:
        return cls([v for r in results for v in r.latencies_ms], sum(r.errors for r in results))


class StallProbe:
    """`with StallProbe(port, path, headers, 0.01, 12): run_wrk(...)` — the probe runs in a thread."""

    def __init__(
        self,
        port: int,
        path: str,
        headers: dict[str, str],
        interval_s: float,
        limit_s: float,
        timeout_s: float = 5.0,
    ) -> None:
        self.port, self.path, self.headers = port, path, headers
        self.interval_s, self.limit_s, self.timeout_s = interval_s, limit_s, timeout_s
        self.max_requests = max(1, int(limit_s / interval_s))
        self.result = ProbeResult()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-probe", daemon=True)

    def __enter__(self) -> StallProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout_s + 1)

    def wait(self, timeout: float) -> bool:
        """Wait for the probe to end by its own limits; whether it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        deadline = time.perf_counter() + self.limit_s
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        try:
            next_at = time.perf_counter()
            while not self._stop.is_set() and self.result.count < self.max_requests:
                started = time.perf_counter()
                if started > deadline:
                    return
                ok = self._one(conn)
                self.result.latencies_ms.append((time.perf_counter() - started) * 1000)
                if not ok:
                    self.result.errors += 1
                    conn.close()
                    if time.perf_counter() - started >= self.timeout_s:
                        return  # a stall longer than the timeout: recorded, and the probe ends
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
                # A steady pace; after a slow answer, start again from now rather than catch up in a burst.
                next_at = max(next_at + self.interval_s, time.perf_counter())
                self._stop.wait(max(0.0, next_at - time.perf_counter()))
        finally:
            conn.close()

    def _one(self, conn: http.client.HTTPConnection) -> bool:
        try:
            conn.request("GET", self.path, headers=self.headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            with contextlib.suppress(OSError):
                conn.close()
            return False
        return response.status == 200
