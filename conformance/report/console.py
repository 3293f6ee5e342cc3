"""The console report: one line per property as it finishes, then failures with a `curl` to
reproduce each, what was not run and why, and the elapsed time."""

from __future__ import annotations

import sys
import textwrap
from typing import TextIO

from conformance.core import Property
from conformance.runner import ERROR, FAILED, NOT_RUN, PASSED, PropertyResult, RunResult

WIDTH = 34


class ConsoleHandler:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.total = 0
        self.done = 0

    def write(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def started(self, result: RunResult, properties: list[Property]) -> None:
        self.total = len(properties)
        self.write(f"invoice-conformance: checking {result.base_url} against {result.spec}")
        count = f" · {self.total} properties" if self.total else ""
        self.write(
            f"profile {result.profile} · seed {result.seed} · max examples {result.max_examples}{count}"
        )

    def finished_property(self, result: PropertyResult) -> None:
        self.done += 1
        counter = f"[{self.done:>2}/{self.total}]" if self.total else f"[{self.done:>2}]"
        line = f"  {counter} {result.status:<8} {result.name:<{WIDTH}} {result.elapsed:6.1f}s"
        if result.status == NOT_RUN:
            line += f"  ({result.message})"
        self.write(line)

    def finished(self, result: RunResult) -> None:
        if result.fatal is not None and not result.results:
            self.write(f"\nCannot check the server: {result.fatal}")
            self.write(f"Elapsed: {result.elapsed:.1f} s")
            return
        failures = [r for r in result.results if r.status in (FAILED, ERROR)]
        for item in failures:
            self._failure(item)
        not_run = [r for r in result.results if r.status == NOT_RUN]
        if not_run:
            self.write("\nNot run (these rules were NOT checked; each says why):")
            for item in not_run:
                self.write(f"  - {item.name}: {item.message}")
        self.write("\nSummary by property:")
        for item in result.results:
            self.write(f"  {item.status:<8} {item.name:<{WIDTH}} {item.summary}")
        for note in result.notes:
            self.write(f"\n{note}")
        counts = ", ".join(
            f"{result.count(status)} {status.lower()}"
            for status in (PASSED, FAILED, ERROR, NOT_RUN)
            if result.count(status) or status == PASSED
        )
        self.write(f"\n{counts} · {result.requests} kit requests · seed {result.seed}")
        if result.fatal is not None:
            self.write(f"The run is incomplete: {result.fatal}")
        if failures:
            self.write(f"Reproduce the run with: --seed {result.seed} --max-examples {result.max_examples}")
        self.write(f"Elapsed: {result.elapsed:.1f} s")

    def _failure(self, item: PropertyResult) -> None:
        self.write("")
        self.write(format_failure(item))


def format_failure(item: PropertyResult) -> str:
    """A failed property: the rule, what broke, and each request as a curl with its answer."""
    lines = [
        f"{item.status}: {item.name} — {item.summary}",
        f"  rule: {item.rule}",
        textwrap.indent(item.message, "  "),
    ]
    lines += [textwrap.indent(detail.rstrip(), "  ") for detail in item.details]
    for number, reproduction in enumerate(item.reproductions, 1):
        lines.append(f"  request {number}: {reproduction.what}")
        lines.append(f"    {reproduction.curl}")
        lines.append(textwrap.indent(reproduction.response, "    | "))
    return "\n".join(lines)
