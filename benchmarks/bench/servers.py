"""One server under test as a child process: spawn, time its first 200, read /proc, stop it by pid.

The four kinds share this class so that every figure is taken the same way for each: the mock
(`python -m mockserver`), the mock with `--state-file`, the bare Starlette+uvicorn endpoint
(`baseline_app.py`) and Prism's mock (node). Only the process this object started is ever
signalled, and `stop()` runs on every exit path (the `with` block), Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import http.client
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TextIO

from bench.client import http_call
from bench.errors import BenchError
from bench.procfs import proc_status_kib, process_cpu_seconds
from bench.sample import Sample

MOCK = "mock"
MOCK_STATE_FILE = "mock-state-file"
BASELINE = "baseline"
PRISM = "prism"
KINDS = (MOCK, BASELINE, PRISM, MOCK_STATE_FILE)
LABELS = {MOCK: "mock", MOCK_STATE_FILE: "mock --state-file", BASELINE: "bare", PRISM: "Prism"}
PYTHON_KINDS = (MOCK, MOCK_STATE_FILE, BASELINE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A server started by this script; use it as a context manager so it is always stopped."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        log_path: Path,
        cwd: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name, self.argv, self.port, self.log_path, self.cwd = name, argv, port, log_path, cwd
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.launched = 0.0
        self._log: TextIO | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BenchError(f"{self.name} is not running")
        return self.proc.pid

    def start(self) -> ServerProcess:
        self._log = self.log_path.open("a", encoding="utf-8")
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT, env=self.env
        )
        return self

    def wait_first_200(
        self, sample: Sample, timeout: float = 30.0, poll_s: float = 0.005
    ) -> tuple[float, bytes]:
        """Seconds from spawn to the first 200 to a valid create, and that response's body."""
        assert self.proc is not None
        deadline = self.launched + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, body = http_call(
                    self.port, "POST", "/api/invoices", sample.body_bytes, sample.headers
                )
            except (OSError, http.client.HTTPException):
                status, body = 0, b""  # not listening yet
            if status == 200:
                return time.perf_counter() - self.launched, body
            if status:
                raise BenchError(f"{self.name} answered {status} to a valid create: {body[:300]!r}")
            if time.perf_counter() > deadline:
                raise BenchError(f"{self.name}: no 200 within {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(poll_s)

    def rss_kib(self) -> int:
        return proc_status_kib(self.pid, "VmRSS")

    def hwm_kib(self) -> int:
        return proc_status_kib(self.pid, "VmHWM")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def implementation(self) -> str:
        """What really serves: uvicorn's event loop and HTTP parser, or node (the comparison's fairness)."""
        executable = Path(f"/proc/{self.pid}/exe").resolve().name
        if not executable.startswith("python"):
            return executable  # Prism: node
        maps = Path(f"/proc/{self.pid}/maps").read_text()
        loop = "uvloop" if "/uvloop/" in maps else "asyncio"
        parser = "httptools" if "/httptools/" in maps else "h11"
        return f"loop={loop} http={parser}"

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(
                self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            )
        return ""

    def stop(self) -> None:
        """SIGINT (uvicorn's and Prism's graceful stop), then SIGKILL; only this process, by its pid."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
