"""Servers for the kit's end-to-end tests: the mock, the second server and the faulty variants, each
a real process on 127.0.0.1 and a free port (separate processes, so server and kit use both cores).

The mock runs as a developer runs it (`python -m mockserver`, with its own uvicorn protocol, so
what uvicorn refuses before the app is in the envelope too); the others through `uvicorn --factory`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ServerProcess


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def mock_url(server_logs: Path) -> Iterator[str]:
    with ServerProcess.mock(server_logs) as mock:
        yield mock.base_url


@pytest.fixture(scope="session")
def faulty_url(server_logs: Path) -> Iterator[str]:
    """Every variant of tests/conformance/faults/ over the mock, under `<url>/<variant>`."""
    factory = "tests.conformance.faults:build_app"
    with ServerProcess.factory(server_logs, factory, probe="/clean/api/invoices") as server:
        yield server.base_url


@pytest.fixture(scope="session")
def second_url(server_logs: Path) -> Iterator[str]:
    """The independent second server (tests/second_server), on h11 so that unknown methods reach it."""
    with ServerProcess.factory(server_logs, "tests.second_server.app:create_app", http="h11") as server:
        yield server.base_url


@pytest.fixture(scope="session")
def second_create_read_url(server_logs: Path) -> Iterator[str]:
    """The second server as a server of the contract before the lifecycle: create and read only."""
    factory = "tests.second_server.app:create_create_read_app"
    with ServerProcess.factory(server_logs, factory, http="h11") as server:
        yield server.base_url


@pytest.fixture(scope="session")
def faulty_second_url(server_logs: Path) -> Iterator[str]:
    """Every variant of tests/conformance/faults/ over the second server, under `<url>/<variant>`."""
    factory = "tests.conformance.faults:build_app_over_second_server"
    with ServerProcess.factory(server_logs, factory, probe="/clean/api/invoices", http="h11") as server:
        yield server.base_url
