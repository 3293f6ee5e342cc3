"""One invocation's settings and the servers it can start, each in the same way for every run."""

from __future__ import annotations

import argparse
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import BenchError
from bench.prism import NODE_ENV, Prism
from bench.sample import Sample
from bench.scenarios import Scenario
from bench.servers import BASELINE, MOCK, MOCK_STATE_FILE, PRISM, ServerProcess, free_port
from bench.source import BENCH_DIR

LOAD_RUN_MAX_INVOICES = 10_000_000  # load runs must never meet the store's cap (507)


@dataclass
class Bench:
    """Everything one invocation needs: options, the sample request, a scratch directory."""

    args: argparse.Namespace
    sample: Sample
    workdir: Path
    source: Path
    template: Path | None = None  # a create answer captured from the mock, served by the baseline
    lua: dict[str, Path] = field(default_factory=dict)
    prism: Prism | None = None
    prism_missing: str | None = None  # why Prism is not in this run, when it is not
    prism_spec: Path | None = None  # what Prism serves; None: the measured openapi.yaml
    extra_scenarios: list[Scenario] = field(default_factory=list)
    state_files: int = 0

    def mock(self, *extra: str) -> ServerProcess:
        port = free_port()
        argv = [self.args.python, "-m", "mockserver", "--port", str(port), *extra]
        if self.args.validate_responses:
            argv.append("--validate-responses")
        return ServerProcess("mock", argv, port, self.workdir / "mock.log", self.source)

    def baseline(self) -> ServerProcess:
        if self.template is None:
            raise BenchError("the baseline needs a response captured from the mock first")
        port = free_port()
        argv = [self.args.python, str(BENCH_DIR / "baseline_app.py"), "--port", str(port)]
        argv += ["--template", str(self.template)]
        return ServerProcess("baseline", argv, port, self.workdir / "baseline.log", self.source)

    def prism_server(self) -> ServerProcess:
        if self.prism is None:
            raise BenchError(f"Prism is not available: {self.prism_missing}")
        port = free_port()
        argv = self.prism.argv((self.prism_spec or self.source / "openapi.yaml").resolve(), port)
        return ServerProcess("prism", argv, port, self.workdir / "prism.log", self.source, env=NODE_ENV)

    def state_file(self) -> Path:
        """A fresh, empty place for one run's state (whatever the mock keeps behind the flag)."""
        self.state_files += 1
        folder = self.workdir / f"state-{self.state_files}"
        folder.mkdir()
        return folder / "mock-state"

    def launcher(self, kind: str) -> ServerProcess:
        """The server as a user starts it: the mock on its defaults (time to first 200)."""
        if kind == MOCK:
            return self.mock()
        return self.baseline() if kind == BASELINE else self.prism_server()

    def server(self, kind: str) -> ServerProcess:
        """The server for a load run: the mock's cap raised so that no load ever meets a 507."""
        if kind == MOCK:
            return self.mock("--max-invoices", str(LOAD_RUN_MAX_INVOICES))
        if kind == MOCK_STATE_FILE:
            return self.mock(
                "--max-invoices", str(LOAD_RUN_MAX_INVOICES), "--state-file", str(self.state_file())
            )
        if kind == PRISM:
            return self.prism_server()
        return self.baseline()


def prime(bench: Bench) -> None:
    """One untimed import of everything the servers import, so that .pyc files exist.

    Otherwise the first timed launch after an edit (or of a `--ref` export) also compiles the
    sources; a pip-installed mock has its .pyc compiled at install time.
    """
    imports = "import uvicorn, starlette.applications, mockserver.__main__, mockserver.http.app"
    subprocess.run([bench.args.python, "-c", imports], cwd=bench.source, capture_output=True, check=False)
