"""The command line: the same flags `bench_mock.py` always had, plus Prism, the state file, the probe
and scenarios. Every server it starts is stopped on the way out, on errors, Ctrl-C and SIGTERM too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from bench.benchmark import run_benchmark
from bench.context import Bench
from bench.errors import BenchError, log
from bench.prism import install_prism
from bench.profiling import print_profile, run_profile, serve_cprofile
from bench.report import print_report
from bench.sample import Sample
from bench.scenarios import CREATE, LIFECYCLE, READ, SCENARIOS
from bench.source import REPO_ROOT, export_ref, snapshot_tree
from bench.wrk import INSTALL_HINT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark the invoice mock against a bare Starlette+uvicorn baseline and Prism "
        "(see benchmarks/README.md)."
    )
    add = parser.add_argument
    add("--runs", type=int, default=3, help="rounds, each loading every server once (default: 3)")
    add("--duration", type=int, default=10, help="seconds per measured load (default: 10)")
    add("--warmup", type=int, default=2, help="unmeasured wrk seconds before each load (default: 2)")
    add("--connections", type=int, default=32, help="wrk connections (default: 32)")
    add("--launches", type=int, default=5, help="launches timed to the first 200 (default: 5)")
    add("--poll-ms", type=float, default=5.0, help="polling interval while launching (default: 5)")
    add(
        "--invoices",
        type=int,
        default=50_000,
        help="invoices stored for RSS per invoice; 0 skips (default: 50000)",
    )
    add("--validate-responses", action="store_true", help="pass --validate-responses to the mock")
    add("--get-load", action="store_true", help="also load GET /api/invoices/{uid} (same as --scenario read)")
    add(
        "--scenario",
        action="append",
        default=[],
        choices=sorted(set(SCENARIOS) - {CREATE.name}),
        help="an extra scenario loaded after the create load, on the same process (repeatable)",
    )
    add(
        "--lifecycle",
        action="store_true",
        help=f"load every lifecycle scenario too ({', '.join(LIFECYCLE)})",
    )
    add("--no-prism", action="store_true", help="leave Prism out (it is in by default when node is there)")
    add(
        "--prism-spec",
        type=Path,
        help="the document Prism serves (default: the measured openapi.yaml); see benchmarks/README.md",
    )
    add(
        "--no-state-file",
        dest="state_file_load",
        action="store_false",
        help="leave out the create load on the mock with --state-file",
    )
    add(
        "--probe-ms",
        type=float,
        default=10.0,
        help="stall probe interval beside every measured load, in ms; 0 turns it off (default: 10)",
    )
    add("--json", action="store_true", help="print the results as JSON on stdout")
    add("--profile", action="store_true", help="profile the mock under load instead of benchmarking")
    add("--profiler", choices=["auto", "py-spy", "cprofile"], default="auto")
    add(
        "--profile-target",
        choices=["mock", "baseline"],
        default="mock",
        help="what --profile samples; the baseline shows the floor every server pays (py-spy only)",
    )
    add("--profile-rate", type=int, default=250, help="py-spy samples per second (default: 250)")
    add("--top", type=int, default=15, help="functions listed by --profile (default: 15)")
    add("--keep", type=Path, help="copy wrk scripts, server logs and raw profiles (py-spy, cProfile) here")
    add("--python", default=sys.executable, help="interpreter for the servers (default: this one)")
    add(
        "--ref",
        help="benchmark the mock as committed at this git ref (exported with git archive) "
        "instead of the working tree",
    )
    add("--serve-cprofile", type=Path, help=argparse.SUPPRESS)
    add("--source-dir", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    add("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser


@contextlib.contextmanager
def scratch_dir(keep: Path | None) -> Iterator[Path]:
    """A temporary directory for scripts, logs and profiles; copied to `keep` (if given) at the end."""
    with tempfile.TemporaryDirectory(prefix="bench-mock-") as name:
        try:
            yield Path(name)
        finally:
            if keep is not None:
                shutil.copytree(name, keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("source"))


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every `with` block stops the server it started."""
    raise KeyboardInterrupt(f"signal {signum}")


def usage_error(args: argparse.Namespace) -> str | None:
    if min(args.runs, args.duration, args.warmup, args.launches) < 1:
        return "--runs, --duration, --warmup and --launches must be >= 1 (wrk takes whole seconds)"
    if args.probe_ms < 0:
        return "--probe-ms must be >= 0"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.serve_cprofile:
        return serve_cprofile(args.serve_cprofile, args.port, args.validate_responses, args.source_dir)
    if shutil.which("wrk") is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    problem = usage_error(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with scratch_dir(args.keep) as workdir:
            target = workdir / "source"
            source = export_ref(args.ref, target) if args.ref else snapshot_tree(target)
            # The mock is imported (for the fixtures) from the copy being measured, not an installed one.
            sys.path.insert(0, str(source))
            bench = Bench(args, Sample.from_fixtures(), workdir, source, prism_spec=args.prism_spec)
            if args.profile:
                profile = run_profile(bench)
                if args.json:
                    print(json.dumps(profile, indent=2))
                else:
                    print_profile(profile, args.top)
                return 0
            names = dict.fromkeys(
                [
                    *([READ.name] if args.get_load else []),
                    *args.scenario,
                    *(LIFECYCLE if args.lifecycle else []),
                ]
            )
            bench.extra_scenarios = [SCENARIOS[name] for name in names]
            if args.no_prism:
                bench.prism_missing = "--no-prism"
            else:
                try:
                    bench.prism = install_prism()
                except BenchError as error:
                    bench.prism_missing = str(error)
                    log(f"Prism left out: {error}")
            report = run_benchmark(bench)
    except BenchError as error:
        print(f"bench_mock: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench_mock: interrupted; the servers it started are stopped", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    return 0
