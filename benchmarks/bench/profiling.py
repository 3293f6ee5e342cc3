"""`--profile`: one load with the mock (or the baseline) sampled, and a start-up breakdown.

py-spy attaches to the running server by pid for exactly the measured window (no restart, so
what is profiled is what the benchmark measures); where it is missing or cannot attach, the mock
runs under cProfile in a uvicorn child started the way `python -m mockserver` starts it, with
profiling switched on by SIGUSR1 after the warm-up only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.context import LOAD_RUN_MAX_INVOICES, Bench, prime
from bench.errors import BenchError, log
from bench.launches import measure_launches
from bench.profile_stats import Profile, ProfileRow, parse_cprofile, parse_pyspy_raw
from bench.rounds import lua_for
from bench.scenarios import CREATE
from bench.servers import MOCK, ServerProcess, free_port
from bench.source import BENCH_DIR, describe_source, source_state
from bench.wrk import WrkResult, run_wrk

ENTRY_POINT = BENCH_DIR / "bench_mock.py"


def pyspy_path() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def profile_with_pyspy(bench: Bench, pyspy: str, server: ServerProcess, load: Any) -> Profile:
    """Attach py-spy to the running mock for exactly the load window (no restart, no root tricks)."""
    raw = bench.workdir / "pyspy.txt"
    argv = [pyspy, "record", "--pid", str(server.pid), "--rate", str(bench.args.profile_rate)]
    argv += ["--format", "raw", "--nolineno", "-o", str(raw)]
    with (bench.workdir / "pyspy.log").open("w") as out:
        spy = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        time.sleep(1.0)
        if spy.poll() is not None:
            raise BenchError(f"py-spy could not attach: {(bench.workdir / 'pyspy.log').read_text()}")
        try:
            load()
        finally:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            spy.wait(timeout=30)
    if not raw.exists():
        raise BenchError(f"py-spy wrote nothing: {(bench.workdir / 'pyspy.log').read_text()}")
    return parse_pyspy_raw(raw.read_text(), bench.args.top)


def serve_cprofile(stats_path: Path, port: int, validate_responses: bool, source: Path) -> int:
    """Child mode: the mock under uvicorn as `python -m mockserver` runs it, with cProfile toggled by SIGUSR1.

    The first SIGUSR1 starts profiling (after the warm-up), the second stops it and writes the
    stats, so imports, start-up and warm-up stay out of the figures.
    """
    import cProfile

    import uvicorn

    sys.path.insert(0, str(source))
    from mockserver.http.app import create_app

    app = create_app(validate_responses=validate_responses, max_invoices=LOAD_RUN_MAX_INVOICES)
    profiler = cProfile.Profile()
    active = False

    def toggle(_signum: int, _frame: object) -> None:
        nonlocal active
        if not active:
            profiler.enable()
        else:
            profiler.disable()
            profiler.dump_stats(str(stats_path))
        active = not active

    signal.signal(signal.SIGUSR1, toggle)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    return 0


def startup_breakdown(python: str, source: Path) -> dict[str, Any]:
    """Where the first-200 time goes: interpreter, imports (top packages), create_app."""
    script = (
        "import json, time; t0 = time.perf_counter(); import uvicorn, mockserver.http.app; "
        "t1 = time.perf_counter(); mockserver.http.app.create_app(); t2 = time.perf_counter(); "
        "print(json.dumps({'imports_s': t1 - t0, 'create_app_s': t2 - t1}))"
    )
    bare = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - started)
    timings = [
        json.loads(
            subprocess.run(
                [python, "-c", script], cwd=source, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    traced = subprocess.run(
        [python, "-X", "importtime", "-c", "import uvicorn, mockserver.http.app"],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    )
    imports: list[tuple[int, str, float]] = []  # (nesting depth, module, cumulative seconds)
    for line in traced.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line)
        if match:
            imports.append((len(match.group(3)) // 2, match.group(4), int(match.group(2)) / 1e6))
    return {
        "interpreter_s": statistics.median(bare),
        "imports_s": statistics.median(t["imports_s"] for t in timings),
        "create_app_s": statistics.median(t["create_app_s"] for t in timings),
        "top_imports_s": sorted(imports, key=lambda item: -item[2])[:12],
    }


def run_profile(bench: Bench) -> dict[str, Any]:
    args = bench.args
    prime(bench)
    script = lua_for(bench, CREATE)
    pyspy = pyspy_path() if args.profiler in ("auto", "py-spy") else None
    if args.profiler == "py-spy" and pyspy is None:
        raise BenchError("py-spy not found: .venv/bin/pip install py-spy (or use --profiler cprofile)")
    profile: Profile | None = None
    result: WrkResult | None = None
    if args.profile_target == "baseline":
        measure_launches(bench, MOCK, 1)  # the baseline answers with a response captured from the mock
    if pyspy:
        with bench.server(args.profile_target).start() as server:
            server.wait_first_200(bench.sample)
            run_wrk(server.port, CREATE.path, script, args.warmup, args.connections)
            results: list[WrkResult] = []

            def load() -> None:
                results.append(
                    run_wrk(
                        server.port,
                        CREATE.path,
                        script,
                        args.duration,
                        args.connections,
                        server,
                    )
                )

            try:
                profile = profile_with_pyspy(bench, pyspy, server, load)
                result = results[0]
            except BenchError as error:
                if args.profiler == "py-spy":
                    raise
                log(f"{error}; falling back to cProfile")
    if profile is None:
        if args.profile_target != "mock":
            raise BenchError("the cProfile fallback profiles the mock only")
        stats = bench.workdir / "mock.prof"
        port = free_port()
        argv = [
            args.python,
            str(ENTRY_POINT),
            "--serve-cprofile",
            str(stats),
            "--port",
            str(port),
            "--source-dir",
            str(bench.source),
        ]
        if args.validate_responses:
            argv.append("--validate-responses")
        log_path = bench.workdir / "cprofile.log"
        with ServerProcess("mock (cProfile)", argv, port, log_path, bench.source).start() as server:
            server.wait_first_200(bench.sample)
            run_wrk(server.port, CREATE.path, script, args.warmup, args.connections)
            os.kill(server.pid, signal.SIGUSR1)
            result = run_wrk(server.port, CREATE.path, script, args.duration, args.connections, server)
            os.kill(server.pid, signal.SIGUSR1)
            for _ in range(100):
                if stats.exists():
                    break
                time.sleep(0.1)
        profile = parse_cprofile(stats, args.top)
    assert result is not None
    return {
        "target": args.profile_target,
        "source": source_state(bench.source, bench.args.ref),
        "load": asdict(result) | {"cpu_ms_per_request": result.cpu_ms_per_request},
        "profile": asdict(profile),
        "startup": startup_breakdown(args.python, bench.source),
    }


def print_profile(report: dict[str, Any], top: int) -> None:
    load, profile, startup = report["load"], report["profile"], report["startup"]
    src = report["source"]
    amount = (
        f"{profile['samples']:,.0f} samples"
        if profile["tool"] == "py-spy"
        else f"{profile['samples']:.2f} CPU seconds"
    )
    print(f"\nprofile of the {report['target']} ({profile['tool']}, {amount}) under wrk -t1 -c32:")
    print(f"mock: {describe_source(src)}")
    print(
        f"load while profiled: {load['rps']:,.0f} req/s, p50 {load['p50_ms']:.2f} ms, "
        f"p99 {load['p99_ms']:.2f} ms, "
        f"non-2xx {load['non_2xx']}, server CPU {load['cpu_ms_per_request']:.3f} ms/request"
    )
    rows = [ProfileRow(**r) for r in profile["rows"]]
    for title, key in (("own time", "own"), ("cumulative time", "cumulative")):
        print(f"\ntop {top} by {title} (share of profiled time; own / cumulative):")
        for row in sorted(rows, key=lambda r: -getattr(r, key))[:top]:
            print(f"  {row.own:6.1%} {row.cumulative:6.1%}  {row.function}")
    if profile["omitted"]:
        print(
            f"  ({profile['omitted']} entry frames present in every sample omitted from the cumulative list)"
        )
    print("\nown time by module (where the CPU is actually spent):")
    for name, share in profile["by_module"][:top]:
        print(f"  {share:6.1%}  {name}")
    if profile["hot_path"]:
        per_request_us = 1000 * load["cpu_ms_per_request"]
        print(
            "\nthe request's path, outermost layer first (cumulative share, ~us of the "
            f"{per_request_us:.0f} us of server CPU per request; '+' = side branch leaving the path here):"
        )
        for frame, share, branches in profile["hot_path"]:
            print(f"  {share:6.1%} {share * per_request_us:5.0f}  {frame}")
            for name, branch in branches:
                print(f"  {'':6} {branch * per_request_us:5.0f}    + {branch:.1%} {name}")
    print(
        f"\nstart-up (medians of 3): interpreter {startup['interpreter_s']:.3f}s, imports of uvicorn + "
        f"mockserver.http.app {startup['imports_s']:.3f}s, create_app() {startup['create_app_s']:.3f}s"
    )
    print("  slowest imports (cumulative ms, one -X importtime run, indented by nesting depth):")
    for depth, name, seconds in startup["top_imports_s"]:
        print(f"  {seconds * 1000:7.0f}  {'  ' * depth}{name}")
