"""The lifecycle operations over real HTTP: concurrency (P75) in a real `python -m mockserver`
process, and the mock's own features (Prefer scenarios, sessions, the request log) on them."""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from contract.spec import operation
from tests.mockserver.support import (
    ORG_A,
    SPEC,
    USER_A,
    auth,
    body_for,
    bulk_update,
    created,
    line_body,
    lines,
    product_of,
    read,
    update,
)
from tests.servers import ServerProcess

PRODUCT = product_of(ORG_A, "PRODUCT")
SEED = 20261214


@pytest.fixture(scope="module")
def mock_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with ServerProcess.mock(tmp_path_factory.mktemp("lifecycle-logs")) as mock:
        assert mock.answers(60), mock.stderr
        yield mock.base_url


@pytest.fixture
def http(mock_url: str) -> Any:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    with httpx.Client(base_url=mock_url, timeout=60, limits=limits) as client:
        yield client


@pytest.mark.e2e
def test_p75_concurrent_updates_giving_one_number_exactly_one_wins(http):
    invoices = [created(http, body_for())["uid"] for _ in range(8)]
    with ThreadPoolExecutor(len(invoices)) as pool:
        for round_number in range(5):
            number = f"RACE-{SEED}-{round_number}"
            answers = list(pool.map(lambda uid, n=number: update(http, uid, {"invoice_number": n}), invoices))
            assert sorted(a.status_code for a in answers) == [200] + [409] * (len(invoices) - 1)
            holders = [uid for uid in invoices if read(http, uid)["invoice_number"] == number]
            assert len(holders) == 1


@pytest.mark.e2e
def test_p75_concurrent_bulk_updates_end_in_a_serial_order(http):
    rng = random.Random(SEED)
    invoices = [created(http, body_for())["uid"] for _ in range(10)]
    batches = []
    for n in range(16):
        order = invoices[:]
        rng.shuffle(order)
        batches.append([{"uid": uid, "status": f"BULK-{n}"} for uid in order])
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda items: bulk_update(http, items), batches))
    assert all(a.status_code == 200 for a in answers), Counter(a.status_code for a in answers)
    final = {read(http, uid)["status"] for uid in invoices}
    assert len(final) == 1, f"interleaved bulk requests: {final}"


@pytest.mark.e2e
def test_p75_concurrent_line_item_changes_lose_nothing(http):
    uid = created(http, body_for())["uid"]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _n: lines(http, "POST", uid, line_body(PRODUCT)), range(40)))
    assert all(a.status_code == 200 for a in answers)
    invoice = read(http, uid)
    assert len(invoice["line_items"]) == 40
    assert invoice["subtotal_cents"] == 40 * PRODUCT.unit_price_cents


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("PUT", "/api/invoices/{uid}", "update_invoice"),
        ("PUT", "/api/invoices", "bulk_update_invoices"),
        ("DELETE", "/api/invoices", "bulk_delete_invoices"),
        ("POST", "/api/invoices/{uid}/line_items", "create_line_items"),
        ("PUT", "/api/invoices/{uid}/line_items", "update_line_items"),
        ("DELETE", "/api/invoices/{uid}/line_items", "delete_line_items"),
    ],
)
def test_prefer_code_answers_the_documented_response_and_changes_nothing(http, method, path, operation_id):
    invoice = created(http, body_for())
    documented = sorted(code for code in operation(SPEC, operation_id)["responses"] if code.startswith("4"))
    for code in documented:
        response = http.request(
            method,
            path.format(uid=invoice["uid"]),
            json=[],
            headers={**auth(USER_A), "Prefer": f"code={code}"},
        )
        assert response.status_code == int(code), response.text
        assert response.headers["preference-applied"] == f"code={code}"
    assert read(http, invoice["uid"]) == invoice


@pytest.mark.e2e
def test_sessions_keep_changes_apart_and_the_request_log_has_them(http):
    session = {"X-Mock-Session": f"lifecycle-{SEED}"}
    uid = http.post("/api/invoices", json=body_for(), headers={**auth(USER_A), **session}).json()["data"][
        "uid"
    ]
    changed = http.put(f"/api/invoices/{uid}", json={"status": "SENT"}, headers={**auth(USER_A), **session})
    assert changed.status_code == 200, changed.text
    assert http.get(f"/api/invoices/{uid}", headers=auth(USER_A)).status_code == 404
    added = http.post(
        f"/api/invoices/{uid}/line_items", json=line_body(PRODUCT), headers={**auth(USER_A), **session}
    )
    assert added.status_code == 200, added.text
    log = http.get("/__mock/requests", params={"limit": 2}, headers=session).json()["data"]
    assert [(entry["method"], entry["path"]) for entry in log] == [
        ("POST", f"/api/invoices/{uid}/line_items"),
        ("PUT", f"/api/invoices/{uid}"),
    ]
    assert log[1]["request"]["body"] == {"status": "SENT"} and log[1]["response"]["status"] == 200
