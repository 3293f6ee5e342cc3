"""The load runs: every server kind once per round, in an order that rotates from round to round.

Each run is a fresh process (so every create load starts on an empty store), a warm-up, then the
measured create load with the stall probe beside it, then any extra scenario on the same process,
each on an invoice (and line) of its own made just before its load.
Rotating the order means no kind always runs first (on a cool machine) or last; with the mock
and the bare endpoint only, rounds alternate mock-first and bare-first, as they always did.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import add_line, count_invoices, create_invoice
from bench.context import Bench
from bench.errors import log
from bench.probe import ProbeResult, StallProbe
from bench.scenarios import CREATE, READ, Scenario, Target
from bench.servers import MOCK, MOCK_STATE_FILE, ServerProcess
from bench.wrk import WrkResult, run_wrk, write_lua


@dataclass
class LoadRun:
    run: int
    server: str
    implementation: str
    post: WrkResult  # the create load
    probe: ProbeResult | None = None
    scenarios: dict[str, WrkResult] = field(default_factory=dict)  # the extra scenarios, by name
    peak_rss_kib: int = 0


def round_order(kinds: list[str], run: int) -> list[str]:
    """`kinds` rotated by one more place each round (run 1 keeps the given order)."""
    shift = (run - 1) % len(kinds)
    return kinds[shift:] + kinds[:shift]


def lua_for(bench: Bench, scenario: Scenario, target: Target | None = None) -> Path:
    """The wrk script of `scenario` on `target` (none: a body that names no invoice, e.g. create).

    Written once per invocation and body: a scenario whose body names its invoice gets a new
    script for each load (`<name>.lua` then holds the latest; `--keep` keeps it).
    """
    body = scenario.body_bytes(target or Target(bench.sample, ""))
    key = f"{scenario.name}:{body!r}"
    if key not in bench.lua:
        path = bench.workdir / f"{scenario.name}.lua"
        bench.lua[key] = write_lua(path, scenario.method, body, bench.sample.token)
    return bench.lua[key]


def target_for(bench: Bench, port: int, scenario: Scenario) -> Target:
    """A fresh invoice for `scenario` on the server on `port` (with one line if it needs one)."""
    invoice_uid = create_invoice(port, bench.sample)
    line_uid = add_line(port, bench.sample, invoice_uid) if scenario.needs_line else ""
    return Target(bench.sample, invoice_uid, line_uid)


def counts_creates(kind: str) -> bool:
    """Prism stores nothing, so only the mock's own count can cross-check wrk's."""
    return kind in (MOCK, MOCK_STATE_FILE)


@contextlib.contextmanager
def probing(bench: Bench, server: ServerProcess, invoice_uid: str) -> Iterator[ProbeResult | None]:
    """The stall probe for the length of one measured load, or nothing with `--probe-ms 0`."""
    if bench.args.probe_ms <= 0:
        yield None
        return
    path = READ.path_for(invoice_uid)
    limit = bench.args.duration + 5  # wrk's own start and stop, never more
    with StallProbe(server.port, path, bench.sample.auth_headers, bench.args.probe_ms / 1000, limit) as probe:
        yield probe.result


def load_run(bench: Bench, kind: str, run: int) -> LoadRun:
    """A fresh server, a warm-up, then the measured create run (with the probe) and the extra scenarios."""
    args = bench.args
    create_lua = lua_for(bench, CREATE)
    with bench.server(kind).start() as server:
        _, body = server.wait_first_200(bench.sample)
        invoice_uid = str(json.loads(body)["data"]["uid"])
        run_wrk(server.port, CREATE.path, create_lua, args.warmup, args.connections)
        time.sleep(0.3)  # let the warm-up's in-flight requests finish before counting
        before = count_invoices(server.port, bench.sample) if counts_creates(kind) else 0
        with probing(bench, server, invoice_uid) as probe:
            post = run_wrk(server.port, CREATE.path, create_lua, args.duration, args.connections, server)
        if counts_creates(kind):
            time.sleep(0.3)
            post.created = count_invoices(server.port, bench.sample) - before
        result = LoadRun(run, kind, server.implementation(), post, probe)
        for scenario in bench.extra_scenarios:
            if kind in scenario.servers:
                target = target_for(bench, server.port, scenario)
                path = scenario.path_for(target.invoice_uid)
                script = lua_for(bench, scenario, target)
                result.scenarios[scenario.name] = run_wrk(
                    server.port, path, script, args.duration, args.connections, server
                )
        result.peak_rss_kib = server.hwm_kib()
    stall = f"  probe p99 {probe.p99_ms:.1f} max {probe.max_ms:.1f} ms" if probe else ""
    log(
        f"run {run} {kind:15}: {post.rps:8.0f} req/s  p50 {post.p50_ms:6.2f} ms  p99 {post.p99_ms:6.2f} ms  "
        f"non-2xx {post.non_2xx}  CPU/req {post.cpu_ms_per_request:.3f} ms  "
        f"others {post.others_cores:.2f} cores{stall}"
    )
    return result
