#!/usr/bin/env python3
"""Benchmark of the validating proxy (`python -m mockserver --proxy URL`, issue 20).

Two questions, each measured the way a user meets them:

* **overhead** — wrk, 1 thread, 8 connections, `POST /api/invoices` with the benchmark's valid
  create, alternately straight to a mock and through a proxy in front of another mock of the same
  code (fresh processes each round, so both stores start empty); the medians of p50 and p99 and
  their differences (targets: ≤ 2 ms p50, ≤ 5 ms p99 over the direct call).
* **record mode** — the same load through a proxy started with `--record FILE` (a fresh file per
  round): every create is recorded and the file rewritten once a second, so the figure includes
  the recording's growth over the load (a world of every invoice created).
* **memory** — the proxy's RSS while it forwards `--requests` requests that each break the
  contract (a create without its required fields: the mock refuses it, the proxy records the
  client's violations), after a warm-up: flat means the violation store is bounded.

Only 127.0.0.1 is contacted; every server is a child of this script, stopped on exit. On a
shared 2-core machine wrk, the proxy and the mock compete for cores: the difference includes the
proxy's CPU, as it does for a developer whose proxy and app share a laptop.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.client import http_call
from bench.errors import log
from bench.sample import Sample
from bench.servers import ServerProcess, free_port
from bench.wrk import WrkResult, run_wrk, write_lua

REPO = Path(__file__).resolve().parent.parent


def mock(folder: Path, name: str, *args: str) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "mockserver", "--port", str(port), "--no-control", *args]
    return ServerProcess(name, argv, port, folder / f"{name}.log", REPO)


@contextmanager
def served(folder: Path, sample: Sample, proxied: bool, *record: str) -> Iterator[ServerProcess]:
    """A fresh mock, or a fresh mock behind a fresh proxy (`record`: its `--record FILE`);
    yields what the load is sent to."""
    with ExitStack() as stack:
        upstream = stack.enter_context(mock(folder, "mock").start())
        upstream.wait_first_200(sample)
        if not proxied:
            yield upstream
            return
        proxy = stack.enter_context(
            mock(folder, "proxy", "--proxy", f"http://127.0.0.1:{upstream.port}", *record).start()
        )
        proxy.wait_first_200(sample)
        yield proxy


def overhead(folder: Path, sample: Sample, rounds: int, duration: int) -> dict[str, list[WrkResult]]:
    script = write_lua(folder / "create.lua", "POST", sample.body_bytes, sample.token)
    results: dict[str, list[WrkResult]] = {"direct": [], "proxy": [], "record": []}
    for number in range(rounds):
        order = list(results) if number % 2 == 0 else list(reversed(results))
        for kind in order:
            record = ("--record", str(folder / f"recorded-{number}.yaml")) if kind == "record" else ()
            with served(folder, sample, kind != "direct", *record) as server:
                run_wrk(server.port, "/api/invoices", script, 2, 8, server)  # warm-up
                result = run_wrk(server.port, "/api/invoices", script, duration, 8, server)
            figures = f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  {result.rps:,.0f} req/s"
            log(f"round {number + 1} {kind:6}: {figures}  non-2xx {result.non_2xx}")
            results[kind].append(result)
    return results


def memory(folder: Path, sample: Sample, requests: int) -> list[tuple[int, int]]:
    """(requests forwarded, proxy RSS KiB) after a warm-up and then every ~requests/5."""
    script = write_lua(folder / "refused.lua", "POST", b"{}", sample.token)
    points: list[tuple[int, int]] = []
    with served(folder, sample, proxied=True) as proxy:
        forwarded = 0
        while forwarded < requests:
            result = run_wrk(proxy.port, "/api/invoices", script, 3, 8, proxy)
            forwarded += result.requests
            points.append((forwarded, proxy.rss_kib()))
            log(f"memory: {forwarded:,} refused creates forwarded, proxy RSS {points[-1][1] / 1024:.1f} MiB")
        status, body = http_call(proxy.port, "GET", "/__mock/violations", None, {})
        log(f"/__mock/violations: {status} {body[:160]!r}")
    return points


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default: %(default)s)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per load (default: %(default)s)")
    parser.add_argument(
        "--requests", type=int, default=100_000, help="for the memory phase (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    sample = Sample.from_fixtures()
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as scratch:
        folder = Path(scratch)
        results = overhead(folder, sample, args.rounds, args.duration)
        points = memory(folder, sample, args.requests)
    p50 = {kind: statistics.median(r.p50_ms for r in runs) for kind, runs in results.items()}
    p99 = {kind: statistics.median(r.p99_ms for r in runs) for kind, runs in results.items()}
    rps = {kind: statistics.median(r.rps for r in runs) for kind, runs in results.items()}
    extra50, extra99 = p50["proxy"] - p50["direct"], p99["proxy"] - p99["direct"]
    print(f"\n## validating proxy: POST /api/invoices, wrk -t1 -c8 -d{args.duration}s")
    print(f"{args.rounds} rounds (order alternating), medians\n")
    print("| figure | direct | through the proxy | overhead | target |")
    print("| --- | --: | --: | --: | --- |")
    for name, values, extra, bound in (("p50", p50, extra50, 2), ("p99", p99, extra99, 5)):
        verdict = "PASS" if extra <= bound else "FAIL"
        measured = f"{values['direct']:.2f} | {values['proxy']:.2f} | {extra:+.2f}"
        print(f"| {name} (ms) | {measured} | <= {bound} ms {verdict} |")
    print(f"| req/s | {rps['direct']:,.0f} | {rps['proxy']:,.0f} | {rps['proxy'] / rps['direct']:.0%} | |")
    print("\nwith --record FILE (every create recorded; the file rewritten once a second):\n")
    print("| figure | direct | through the recording proxy | overhead |")
    print("| --- | --: | --: | --: |")
    for name, values in (("p50", p50), ("p99", p99)):
        extra = values["record"] - values["direct"]
        print(f"| {name} (ms) | {values['direct']:.2f} | {values['record']:.2f} | {extra:+.2f} |")
    print(f"| req/s | {rps['direct']:,.0f} | {rps['record']:,.0f} | {rps['record'] / rps['direct']:.0%} |")
    (first_count, first_rss), (last_count, last_rss) = points[0], points[-1]
    growth = (last_rss - first_rss) / 1024
    print(f"\nproxy RSS: {first_rss / 1024:.1f} MiB after {first_count:,} violating requests,")
    print(f"{last_rss / 1024:.1f} MiB after {last_count:,} ({growth:+.1f} MiB; flat within 5 MiB: ", end="")
    print("PASS)" if growth < 5 else "FAIL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
