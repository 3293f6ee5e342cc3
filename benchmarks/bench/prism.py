"""Prism's mock (`@stoplight/prism-cli`, pinned), installed from npm into the tests' tool cache.

Why Prism: it is the best-known mock server an OpenAPI user would pick instead of ours, so "the
mock is N times Prism on the same body" is the comparison a user cares about. It is installed by
the one installer the tests use for their peer tools (`tests/toolchains.py`: pinned, cached by
version, under a file lock), so the benchmark and `tests/tools` run the same Prism. Without node
or npm, or when the install fails, Prism is left out and the report says why.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root: `tests` is a package
from tests.toolchains import NODE_ENV, ToolchainUnavailable, npm_bin, npm_packages

PACKAGE = "@stoplight/prism-cli"
VERSION = "5.14.2"
__all__ = ["NODE_ENV", "Prism", "install_prism"]
# `-v error`: Prism logs every request at its default level `info`, which costs it about 40 % of its
# throughput (stack-notes: 1,800 vs 3,100 req/s). `--errors` is not a logging flag: it turns
# response violations into error answers, which a valid create never meets.
QUIET = ("--verboseLevel", "error")


@dataclass(frozen=True)
class Prism:
    """An installed Prism: how to start its mock on `spec` at 127.0.0.1:`port`."""

    node: str
    script: Path

    def argv(self, spec: Path, port: int) -> list[str]:
        return [
            self.node,
            str(self.script),
            "mock",
            str(spec),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *QUIET,
        ]


def install_prism() -> Prism:
    """The cached install, made on first use; BenchError (with the reason) when it cannot be had."""
    try:
        folder = npm_packages({PACKAGE: VERSION}, purpose="the Prism benchmark")
    except ToolchainUnavailable as unavailable:
        raise BenchError(str(unavailable.msg)) from None
    node = shutil.which("node")
    assert node is not None  # npm_packages checked it
    return Prism(node=node, script=Path(npm_bin(folder, "prism")).resolve())
