"""The store: bounded without dropping anything, and nothing lost under concurrent creates."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.mockserver.support import USER_A, assert_error, auth, body_for, create, created

PARALLEL = 120


def test_full_store_refuses_new_invoices_and_keeps_the_old_ones(make_client):
    client = make_client(max_invoices=3)
    uids = [created(client, body_for())["uid"] for _ in range(3)]
    envelope = assert_error(create(client, body_for()), 507)
    assert "3" in envelope["message"]
    for uid in uids:
        assert client.get(f"/api/invoices/{uid}", headers=auth(USER_A)).status_code == 200
    listed = client.get("/api/invoices", headers=auth(USER_A)).json()["data"]
    assert listed["_meta"]["total_items"] == 3
    assert {item["uid"] for item in listed["items"]} == set(uids)


@pytest.mark.parametrize("control", [True, False], ids=["control API", "--no-control"])
def test_a_full_store_suggests_the_reset_only_where_it_is_served(make_client, control: bool):
    """Issue 21: under `--no-control` the 507 sent the user to POST /__mock/reset, a 404 there."""
    client = make_client(max_invoices=1, control=control)
    created(client, body_for())
    message = assert_error(create(client, body_for()), 507)["message"]
    assert ("POST /__mock/reset" in message) is control, message
    assert "restart it with a higher --max-invoices" in message


def test_full_store_still_answers_409_to_a_duplicate_number(make_client):
    client = make_client(max_invoices=1)
    number = created(client, body_for())["invoice_number"]
    assert_error(create(client, {**body_for(), "invoice_number": number}), 409, "/invoice_number")


async def _create_and_read_back(base_url: str) -> tuple[list[httpx.Response], list[httpx.Response], dict]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=auth(USER_A)) as http:
        made = await asyncio.gather(*(http.post("/api/invoices", json=body_for()) for _ in range(PARALLEL)))
        uids = [r.json()["data"]["uid"] for r in made if r.status_code == 200]
        read = await asyncio.gather(*(http.get(f"/api/invoices/{uid}") for uid in uids))
        listed = (await http.get("/api/invoices", params={"per_page": 1})).json()["data"]
    return made, read, listed


@pytest.mark.e2e
def test_concurrent_creates_lose_nothing(fresh_live_url):
    made, read, listed = asyncio.run(_create_and_read_back(fresh_live_url))
    assert [r.status_code for r in made] == [200] * PARALLEL
    assert len({r.json()["data"]["uid"] for r in made}) == PARALLEL
    assert [r.status_code for r in read] == [200] * PARALLEL
    assert listed["_meta"]["total_items"] == PARALLEL


@pytest.mark.e2e
def test_created_invoice_reads_back_and_lists_over_http(live):
    data = created(live, body_for())
    read = live.get(f"/api/invoices/{data['uid']}", headers=auth(USER_A))
    assert read.status_code == 200
    assert read.json()["data"] == data
    listed = live.get("/api/invoices", params={"per_page": 1}, headers=auth(USER_A)).json()["data"]
    assert listed["items"][0]["uid"] == data["uid"]
