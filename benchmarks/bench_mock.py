#!/usr/bin/env python3
"""Benchmark of the invoice mock: start-up time, throughput and latency under wrk, memory per invoice.

It answers four questions the project has targets for, each measured the way a user meets it:

* **time to first 200** — how long after `python -m mockserver` a frontend's first create
  succeeds. Measured from just before the process is spawned (interpreter start and imports
  count) by polling `POST /api/invoices` every few ms; median of several fresh launches.
* **throughput and latency** — wrk, 1 thread, 32 connections, `POST /api/invoices` with the
  minimal valid body (no invoice_number, so every request creates an invoice). On a shared
  2-core machine an absolute req/s is noise-prone, so the same load is run, in the same
  invocation and alternately, against a bare Starlette+uvicorn baseline (baseline_app.py) doing
  the same JSON work; the ratio is what the target is about. Each load runs on a fresh process,
  after a warm-up, so every run starts with an empty store. The server's own CPU time per
  request (from /proc) is reported too: it is far less sensitive to neighbours than req/s.
* **non-2xx** — a fast wrong answer is not a result: wrk's count of responses with status
  >= 400 is reported and, for the mock, cross-checked against the invoices it stored.
* **memory** — peak RSS (VmHWM) and RSS per stored invoice: RSS after a warm-up versus after
  creating a known number of invoices (counted by the mock itself, `_meta.total_items`).

Prism's mock (pinned, from npm, when node is there) and the mock with `--state-file` are loaded in
the same rounds, and a stall probe sends a trivial request every 10 ms beside every load.

`--profile` instead runs one load with the mock under py-spy (or, where py-spy cannot attach,
under cProfile inside a uvicorn child) and prints where the time goes, plus a start-up breakdown.

What is measured is a copy of mockserver/ and openapi.yaml taken at the start (or, with `--ref`,
a committed version): others edit the tree while benchmarks run, and every run must measure the
same code. Only 127.0.0.1 is contacted; every load is bounded by `--duration`; only processes
this script started are stopped, by their pid, on errors and Ctrl-C too.

This file is the entry point only; the parts live in the `bench` package beside it (its
`__init__` says which module does what).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the `bench` package beside this file

from bench.cli import main  # (needs the path above)

if __name__ == "__main__":
    sys.exit(main())
