"""Real servers for the tests: uvicorn on 127.0.0.1 and a free port, in a thread or a process.

One place for starting, waiting and stopping, shared by the mock's, the frontend's and the
conformance kit's end-to-end tests.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answers(
    base_url: str, deadline: float, alive: Callable[[], bool] = lambda: True, probe: str = "/api/invoices"
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
def serve(app: Any, startup_seconds: float = 30) -> Iterator[str]:
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
        wait_until_answers(base_url, deadline)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
