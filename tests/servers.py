"""Real servers for the tests, started one way: uvicorn on 127.0.0.1 and a free port.

- `serve(app)`: an ASGI app in a thread of the test process. Quick to start; it shares the
  process, so a test may hand it an app built with a fixed clock.
- `ServerProcess`: a child process, `python -m mockserver …` (`ServerProcess.mock`) or
  `uvicorn --factory module:function` (`ServerProcess.factory`). Server and client then use both
  cores, and the command line, the start banner, signals and the exit status can be tested. Its
  output goes to files, so no pipe can fill up and stall the server.
- `refused_at_start(…)`: `python -m mockserver …` that must refuse to start (a broken
  `--fixtures` or `--state-file`); its exit status and output.

Every server is stopped by whoever started it (a `with` block or a fixture's teardown), by its
own process id, never by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

REPO_ROOT = Path(__file__).resolve().parent.parent
PROBE = "/api/invoices"  # answers (401) as soon as the mock serves; no state is touched


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_answers(
    base_url: str, deadline: float, alive: Callable[[], bool] = lambda: True, probe: str = PROBE
) -> bool:
    """Poll `probe` until the server answers (True) or `alive()` turns False (False)."""
    while alive():
        try:
            httpx.get(base_url + probe, timeout=2)
            return True
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{base_url} does not answer"
            time.sleep(0.05)
    return False


@contextlib.contextmanager
def serve(app: Any, startup_seconds: float = 30, probe: str = PROBE) -> Iterator[str]:
    """Run `app` with uvicorn on 127.0.0.1 and a free port, in a thread; yield its base URL."""
    # The mock brings its own protocol options (refusals before the app in the envelope).
    options = app.uvicorn_options() if hasattr(app, "uvicorn_options") else {}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **options))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_seconds
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        wait_until_answers(base_url, deadline, probe=probe)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class ServerProcess:
    """A server in a child process on 127.0.0.1:`port`, its stdout and stderr in files of `folder`.

    Use it in a `with` block (it must answer, or the block fails with what it printed), or call
    `answers()` / `stop()` / `kill9()` to test start-up, shutdown and crashes.
    """

    def __init__(self, argv: Sequence[str], folder: Path, port: int, probe: str = PROBE) -> None:
        self.argv, self.port, self.probe = [sys.executable, *argv], port, probe
        self.base_url = f"http://127.0.0.1:{port}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"server-{port}-{uuid.uuid4().hex[:6]}"
        self.stdout_path, self.stderr_path = folder / f"{stem}.out", folder / f"{stem}.err"
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1"}
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )

    @classmethod
    def mock(cls, folder: Path, *args: str, port: int | None = None) -> ServerProcess:
        """`python -m mockserver --port PORT ARGS…` (the command a developer runs)."""
        port = port or free_port()
        return cls(["-m", "mockserver", "--port", str(port), *args], folder, port)

    @classmethod
    def factory(
        cls, folder: Path, factory: str, probe: str = PROBE, port: int | None = None, http: str = "auto"
    ) -> ServerProcess:
        """`uvicorn --factory FACTORY` (`module:function` returning an ASGI app), quiet.

        `http="h11"` for a server that wants to see methods httptools refuses before the app.
        """
        port = port or free_port()
        argv = ["-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1", "--port", str(port)]
        return cls([*argv, "--log-level", "warning", "--no-access-log", "--http", http], folder, port, probe)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def answers(self, timeout: float = 60) -> bool:
        """Wait until it answers (True) or exits (False)."""
        return wait_until_answers(
            self.base_url,
            time.monotonic() + timeout,
            alive=lambda: self.process.poll() is None,
            probe=self.probe,
        )

    def output_until(self, marker: str, timeout: float = 30) -> list[str]:
        """The lines it printed on stdout up to the first line holding `marker`."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.stdout.splitlines()
            found = next((i for i, line in enumerate(lines) if marker in line), None)
            if found is not None:
                return lines[: found + 1]
            assert self.process.poll() is None, f"exited before printing {marker!r}: {self.stderr}"
            assert time.monotonic() < deadline, f"did not print {marker!r}: {lines}"
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 30, sig: int = signal.SIGTERM) -> int:
        """Graceful: SIGTERM or SIGINT (uvicorn shuts down, the mock's lifespan runs), else SIGKILL.

        Uvicorn re-raises the signal once it has shut down, so the exit status is 0 or -sig.
        """
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill9(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def __enter__(self) -> ServerProcess:
        if not self.answers():
            command = " ".join(self.argv)
            raise RuntimeError(f"{command} exited with {self.process.returncode}: {self.stderr}")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def refused_at_start(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m mockserver --port <free> ARGS…`, which must exit by itself (it is never left running)."""
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", str(free_port()), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
