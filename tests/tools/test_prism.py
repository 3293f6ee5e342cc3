"""Prism's mock (the best-known Node mock) serves openapi.yaml and really validates against it.

With `nullable` beside no `type`, Ajv inside Prism refused to compile the schemas and Prism then
validated nothing that reached them: its mock answered 200 to `{}`. Here an invalid create must be
refused by Prism itself (the proof that it compiled the request schema) and a valid one accepted.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import free_port
from tests.toolchains import NODE_ENV, npm_bin, tail
from tests.world import MINIMAL, SPEC_PATH

pytestmark = pytest.mark.e2e

STARTUP_SECONDS = 120


@pytest.fixture(scope="module")
def prism_url(peer_tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [npm_bin(peer_tools, "prism"), "mock", str(SPEC_PATH), "-h", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=NODE_ENV,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"prism exited: {tail(log.read_bytes())}"
            try:
                httpx.get(f"{base_url}/api/invoices", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"prism does not answer: {tail(log.read_bytes())}"
                time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def create(base_url: str, body: Any) -> httpx.Response:
    return httpx.post(
        f"{base_url}/api/invoices", json=body, headers={"Authorization": "Bearer any-token"}, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "body", "violation"),
    [
        ("empty object", {}, "must have required property 'target_party_uid'"),
        ("an array", [1, 2], "must be object"),
        ("currency of 2 characters", {**MINIMAL, "currency": "US"}, "currency"),
    ],
)
def test_prism_refuses_an_invalid_create(prism_url: str, name: str, body: Any, violation: str):
    response = create(prism_url, body)
    assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert violation in response.headers.get("sl-violations", ""), response.headers


def test_prism_accepts_the_minimal_create_and_answers_the_documented_example(prism_url: str):
    response = create(prism_url, MINIMAL)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "success"
    assert "sl-violations" not in response.headers, response.headers["sl-violations"]
