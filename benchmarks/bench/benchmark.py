"""One benchmark invocation: launches, alternating load rounds, the memory phase, then the figures."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from bench import summary
from bench.context import Bench, prime
from bench.errors import log
from bench.launches import Launches, measure_launches
from bench.memory import rss_phase
from bench.prism import PACKAGE, QUIET, VERSION
from bench.rounds import LoadRun, load_run, round_order
from bench.servers import BASELINE, MOCK, MOCK_STATE_FILE, PRISM
from bench.source import source_state


def environment() -> dict[str, Any]:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "loadavg_start": [round(v, 2) for v in os.getloadavg()],
        "python": sys.version.split()[0],
        "wrk": " ".join((wrk.stdout + wrk.stderr).split()[:2]) or "?",
    }


def kinds_of(bench: Bench) -> list[str]:
    """The servers every round loads: the mock and the bare endpoint always, Prism and the state file
    unless left out."""
    kinds = [MOCK, BASELINE]
    if bench.prism is not None:
        kinds.append(PRISM)
    if bench.args.state_file_load:
        kinds.append(MOCK_STATE_FILE)
    return kinds


def run_benchmark(bench: Bench) -> dict[str, Any]:
    args = bench.args
    kinds = kinds_of(bench)
    report: dict[str, Any] = {
        "config": {
            "runs": args.runs,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "threads": 1,
            "launches": args.launches,
            "invoices": args.invoices,
            "validate_responses": args.validate_responses,
            "servers": kinds,
            "scenarios": ["create", *(s.name for s in bench.extra_scenarios)],
            "probe_ms": args.probe_ms,
            "prism": None if bench.prism is None else f"{PACKAGE}@{VERSION} {' '.join(QUIET)}",
            "prism_missing": bench.prism_missing,
            "prism_spec": str(bench.prism_spec) if bench.prism_spec else "openapi.yaml",
            "request": {"method": "POST", "path": "/api/invoices", "body": bench.sample.body},
        },
        "environment": environment(),
        "source": source_state(bench.source, bench.args.ref),
    }
    log(f"mock sources {report['source']}; servers {', '.join(kinds)}")
    prime(bench)
    launches: dict[str, Launches] = {}
    for kind in kinds:
        if kind != MOCK_STATE_FILE:
            launches[kind] = measure_launches(bench, kind, args.launches)

    runs: list[LoadRun] = []
    for run in range(1, args.runs + 1):
        for kind in round_order(kinds, run):
            runs.append(load_run(bench, kind, run))
    rss = rss_phase(bench) if args.invoices > 0 else None

    report["environment"]["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["results"] = summary.results(runs, launches, rss, args.connections)
    report["targets"] = summary.verdicts(report["results"])
    return report
