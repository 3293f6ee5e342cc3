"""Prism's mock (the best-known Node mock) serves openapi.yaml and really validates against it.

With `nullable` beside no `type`, Ajv inside Prism refused to compile the schemas and Prism then
validated nothing that reached them: its mock answered 200 to `{}`. Here an invalid create must be
refused by Prism itself (the proof that it compiled the request schema) and a valid one accepted;
and each lifecycle operation (update, bulk update, bulk delete, line items) is served, answering a
valid body with its documented 200 and a schema break with `422`, as the spec documents.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.spec import iter_operations
from tests.servers import free_port
from tests.toolchains import NODE_ENV, npm_bin, tail
from tests.world import MINIMAL, SPEC, SPEC_PATH

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
    return send(base_url, "POST", "/api/invoices", body)


def send(base_url: str, method: str, path: str, body: Any) -> httpx.Response:
    return httpx.request(
        method, f"{base_url}{path}", json=body, headers={"Authorization": "Bearer any-token"}, timeout=60
    )


INVOICE = "/api/invoices/8f14e45f-ceea-4467-9a1c-6f3e2b1a0d21"
LINE_UID = "5a0e1b7c-2d3f-4a6b-9c8d-7e6f5a4b3c21"
PRODUCT_LINE = {"context_type": "PRODUCT", "sku": "SKU-001", "quantity": 2}
# (operation, method, path, a body that breaks the operation's schema, a word of Prism's violation)
SCHEMA_BREAKS = [
    ("update_invoice", "PUT", INVOICE, {"owner_uid": "10000000-0000-4000-8000-000000000001"}, "owner_uid"),
    ("update_invoice", "PUT", INVOICE, {"invoice_number": "   "}, "pattern"),
    ("bulk_update_invoices", "PUT", "/api/invoices", [], "fewer than 1"),
    ("bulk_update_invoices", "PUT", "/api/invoices", [{"status": "SENT"}], "uid"),
    ("bulk_delete_invoices", "DELETE", "/api/invoices", ["not-a-uuid"], "uuid"),
    ("bulk_delete_invoices", "DELETE", "/api/invoices", [LINE_UID, LINE_UID], "duplicate"),
    ("create_line_items", "POST", f"{INVOICE}/line_items", {**PRODUCT_LINE, "quantity": -1}, "quantity"),
    ("create_line_items", "POST", f"{INVOICE}/line_items", {**PRODUCT_LINE, "unit_price": 1.5}, "integer"),
    ("update_line_items", "PUT", f"{INVOICE}/line_items", [{"quantity": 3}], "uid"),
    ("delete_line_items", "DELETE", f"{INVOICE}/line_items", [], "fewer than 1"),
]
# (operation, method, path, a valid body): each is answered with its documented 200.
VALID_CHANGES = [
    ("update_invoice", "PUT", INVOICE, {"status": "SENT"}),
    ("bulk_update_invoices", "PUT", "/api/invoices", [{"uid": LINE_UID, "status": "SENT"}]),
    ("bulk_delete_invoices", "DELETE", "/api/invoices", [LINE_UID]),
    ("create_line_items", "POST", f"{INVOICE}/line_items", [PRODUCT_LINE]),
    ("update_line_items", "PUT", f"{INVOICE}/line_items", {"uid": LINE_UID, "quantity": 3}),
    ("delete_line_items", "DELETE", f"{INVOICE}/line_items", [LINE_UID]),
]


def test_the_lifecycle_cases_cover_every_new_operation():
    new = {op["operationId"] for _path, _method, op in iter_operations(SPEC)}
    new -= {"create_invoice", "get_invoice", "list_invoices"}
    assert {case[0] for case in SCHEMA_BREAKS} == new == {case[0] for case in VALID_CHANGES}


@pytest.mark.parametrize(
    ("operation_id", "method", "path", "body", "violation"), SCHEMA_BREAKS, ids=lambda v: str(v)[:40]
)
def test_prism_refuses_a_schema_break_of_a_lifecycle_operation_with_422(
    prism_url: str, operation_id: str, method: str, path: str, body: Any, violation: str
):
    response = send(prism_url, method, path, body)
    assert response.status_code == 422, (operation_id, response.status_code, response.text)
    assert violation in response.headers.get("sl-violations", ""), response.headers


@pytest.mark.parametrize(("operation_id", "method", "path", "body"), VALID_CHANGES, ids=lambda v: str(v)[:40])
def test_prism_serves_the_lifecycle_operations(
    prism_url: str, operation_id: str, method: str, path: str, body: Any
):
    response = send(prism_url, method, path, body)
    assert response.status_code == 200, (operation_id, response.text)
    assert response.json()["status"] == "success"
    assert "sl-violations" not in response.headers, response.headers["sl-violations"]


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
