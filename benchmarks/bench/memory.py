"""RSS per stored invoice: what a frontend team's all-day mock costs in memory as its store grows."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.client import count_invoices, create_invoices
from bench.context import Bench
from bench.errors import log


@dataclass
class RssResult:
    invoices: int
    rss_start_kib: int
    rss_warm_kib: int
    rss_end_kib: int
    count_warm: int
    count_end: int
    peak_rss_kib: int

    @property
    def bytes_per_invoice(self) -> float:
        return (self.rss_end_kib - self.rss_warm_kib) * 1024 / max(1, self.count_end - self.count_warm)


def rss_phase(bench: Bench) -> RssResult:
    """RSS after a 1,000-invoice warm-up versus after `--invoices` more, on a fresh mock.

    The mock's own count (`_meta.total_items`) is the divisor, so an invoice that was not stored
    cannot make the figure look better.
    """
    target, warm = bench.args.invoices, 1000
    extra = ["--max-invoices", str(target + warm + 100)] if target + warm + 100 > 100_000 else []
    with bench.mock(*extra).start() as server:
        server.wait_first_200(bench.sample)
        rss_start = server.rss_kib()
        create_invoices(server.port, bench.sample, warm)
        count_warm, rss_warm = count_invoices(server.port, bench.sample), server.rss_kib()
        started = time.perf_counter()
        create_invoices(server.port, bench.sample, target)
        count_end, rss_end = count_invoices(server.port, bench.sample), server.rss_kib()
        log(f"stored {count_end - count_warm:,} invoices in {time.perf_counter() - started:.1f}s")
        return RssResult(target, rss_start, rss_warm, rss_end, count_warm, count_end, server.hwm_kib())
