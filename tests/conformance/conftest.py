"""Servers for the kit's end-to-end tests: the mock, and the faulty variants, each a real uvicorn
process on 127.0.0.1 and a free port (separate processes, so server and kit use both cores)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.conftest import REPO_ROOT
from tests.servers import free_port


@contextmanager
def serve(factory: str, probe: str = "/api/invoices", http: str = "auto") -> Iterator[str]:
    """Run `uvicorn --factory <factory>`; yield its base URL once it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(
        [
            *(
                sys.executable,
                "-m",
                "uvicorn",
                factory,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ),
            *("--log-level", "warning", "--no-access-log", "--http", http),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{factory} exited: {process.stderr.read() if process.stderr else ''}")
            try:
                httpx.get(base_url + probe, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{factory} did not answer on {base_url}") from None
                time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    with serve("mockserver.app:create_app") as url:
        yield url


@pytest.fixture(scope="session")
def faulty_url() -> Iterator[str]:
    """Every variant of tests/conformance/faults.py over the mock, under `<url>/<variant>`."""
    with serve("tests.conformance.faults:build_app", probe="/clean/api/invoices") as url:
        yield url


@pytest.fixture(scope="session")
def second_url() -> Iterator[str]:
    """The independent second server (tests/second_server), on h11 so that unknown methods reach it."""
    with serve("tests.second_server.app:create_app", http="h11") as url:
        yield url


@pytest.fixture(scope="session")
def faulty_second_url() -> Iterator[str]:
    """Every variant of tests/conformance/faults.py over the second server, under `<url>/<variant>`."""
    with serve(
        "tests.conformance.faults:build_app_over_second_server", probe="/clean/api/invoices", http="h11"
    ) as url:
        yield url
