"""The one failure the benchmark reports as such, and its progress lines."""

from __future__ import annotations

import sys


class BenchError(RuntimeError):
    """A measurement could not be taken; the message says which and why."""


def log(message: str) -> None:
    """Progress goes to stderr so that `--json` output on stdout stays machine-readable."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)
