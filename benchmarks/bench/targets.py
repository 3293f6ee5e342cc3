"""The project's performance targets (issue 12, point 6; issue 18 with Connexion in the request path),
which the report checks and never tunes for."""

from __future__ import annotations

THROUGHPUT_RATIO = 0.45  # the mock's req/s as a share of the bare Starlette+uvicorn endpoint's (issue 18)
PRISM_MULTIPLE = 2.5  # the mock's req/s as a multiple of Prism's mock on the same body
P99_MS = 15.0  # at 32 connections
FIRST_RESPONSE_S = 0.5  # median time from spawn to the first 200
RSS_PER_INVOICE_BYTES = 4096
STATE_FILE_RATIO = 0.60  # creates/s with --state-file as a share of the in-memory mock's

# How each target reads in the report, by the key `summary.verdicts` uses.
TEXT = {
    "throughput_ratio": f">= {THROUGHPUT_RATIO:.0%} of bare",
    "prism_multiple": f">= {PRISM_MULTIPLE:g}x Prism",
    "p99_ms": f"<= {P99_MS:g} ms",
    "first_200_s": f"<= {FIRST_RESPONSE_S:g} s",
    "rss_per_invoice": f"<= {RSS_PER_INVOICE_BYTES // 1024} KiB",
    "non_2xx": "0",
    "state_file_ratio": f">= {STATE_FILE_RATIO:.0%} of in-memory",
}


def verdict(ok: bool | None) -> str:
    """PASS/FAIL, or `n/a` for a figure this invocation did not measure."""
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")
