#!/usr/bin/env python3
"""Benchmark of the differential run (`invoice-conformance diff`, issue 20).

The question a CI owner asks: what does a diff of the default size cost, next to the
`invoice-conformance run` it sits beside? Each round starts a fresh mock and a fresh second server
(`tests/second_server`, the independent implementation), then times, in an order that alternates
between rounds, the wall time of three commands as a user types them: `run` against the mock,
`run` against the second server, and `diff --reference <mock> --candidate <second server>`. The
medians are compared: the target is a diff within 2x the `run` of the slower of the two servers.

Only 127.0.0.1 is contacted; every server is a child of this script, stopped on exit.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.errors import log
from bench.sample import Sample
from bench.servers import ServerProcess, free_port

REPO = Path(__file__).resolve().parent.parent
KIT = [sys.executable, "-m", "conformance"]


@contextmanager
def servers(folder: Path, sample: Sample) -> Iterator[tuple[str, str]]:
    """A fresh mock and a fresh second server; yields their base URLs."""
    mock_port, second_port = free_port(), free_port()
    mock_argv = [sys.executable, "-m", "mockserver", "--port", str(mock_port)]
    second_argv = [
        *(sys.executable, "-m", "uvicorn", "tests.second_server.app:create_app", "--factory"),
        *("--http", "h11", "--port", str(second_port), "--log-level", "warning"),
    ]
    with ExitStack() as stack:
        for name, argv, port in (("mock", mock_argv, mock_port), ("second", second_argv, second_port)):
            server = ServerProcess(name, argv, port, folder / f"{name}.log", REPO)
            stack.enter_context(server.start()).wait_first_200(sample)
        yield f"http://127.0.0.1:{mock_port}", f"http://127.0.0.1:{second_port}"


def timed(argv: list[str], folder: Path, name: str) -> tuple[float, int]:
    """(wall seconds, exit code) of one kit command, its output kept in `folder`."""
    began = time.perf_counter()
    with (folder / f"{name}.out").open("a") as out:
        code = subprocess.call(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    return time.perf_counter() - began, code


def rounds(folder: Path, sample: Sample, count: int, seed: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"run mock": [], "run second": [], "diff": []}
    for number in range(count):
        with servers(folder, sample) as (mock, second):
            commands = {
                "run mock": [*KIT, "run", "--base-url", mock, "--seed", str(seed)],
                "run second": [*KIT, "run", "--base-url", second, "--seed", str(seed)],
                "diff": [*KIT, "diff", "--reference", mock, "--candidate", second, "--seed", str(seed)],
            }
            order = list(commands) if number % 2 == 0 else list(reversed(commands))
            for name in order:
                seconds, code = timed(commands[name], folder, name.replace(" ", "-"))
                log(f"round {number + 1} {name:10}: {seconds:6.1f} s (exit {code})")
                times[name].append(seconds)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="every command's seed (default: %(default)s)")
    args = parser.parse_args(argv)
    sample = Sample.from_fixtures()
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as scratch:
        times = rounds(Path(scratch), sample, args.rounds, args.seed)
    medians = {name: statistics.median(values) for name, values in times.items()}
    slower = max(medians["run mock"], medians["run second"])
    ratio = medians["diff"] / slower
    print(f"\n## differential run: default size, seed {args.seed}, {args.rounds} rounds (alternating)\n")
    print("| command | median wall time (s) |")
    print("| --- | --: |")
    for name, value in medians.items():
        print(f"| {name} | {value:.1f} |")
    verdict = "PASS" if ratio <= 2 else "FAIL"
    print(f"\ndiff / run against the slower server: {ratio:.2f} (target <= 2: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
