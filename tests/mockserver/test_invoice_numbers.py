"""Invoice numbers: generated when omitted or blank, sequential and unique per owner, 409 on reuse."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.mockserver.support import (
    NOW,
    ORG_A,
    ORG_B,
    USER_A,
    USER_B,
    USER_BOTH,
    assert_error,
    auth,
    body_for,
    create,
    created,
)

GENERATED = re.compile(rf"^INV-{NOW.year}-(\d{{4,}})$")
PARALLEL = 200

MISSING = object()


def sequence(number: str) -> int:
    match = GENERATED.match(number)
    assert match, number
    return int(match.group(1))


@pytest.mark.parametrize(
    "number", [MISSING, None, "", "   ", "\t\n"], ids=["omitted", "null", "empty", "spaces", "tab-newline"]
)
def test_number_is_generated_when_omitted_or_blank(client, number):
    body = body_for() if number is MISSING else body_for(invoice_number=number)
    assert GENERATED.match(created(client, body)["invoice_number"])


def test_generated_numbers_are_sequential_per_owner(client):
    numbers_a = [sequence(created(client, body_for(ORG_A))["invoice_number"]) for _ in range(3)]
    first_b = sequence(created(client, body_for(ORG_B), USER_B)["invoice_number"])
    assert numbers_a == [numbers_a[0], numbers_a[0] + 1, numbers_a[0] + 2]
    assert first_b == numbers_a[0]  # the other owner's sequence is its own


def test_supplied_number_used_again_by_the_same_owner_is_409(client):
    created(client, body_for(invoice_number="INV-2026-0042"))
    envelope = assert_error(
        create(client, body_for(invoice_number="INV-2026-0042"), USER_BOTH),
        409,
        "/invoice_number",
        "already used",
    )
    assert "INV-2026-0042" in envelope["message"]
    assert envelope["errors"][0]["code"] == "duplicate"


def test_supplied_numbers_are_compared_exactly(client):
    for number in ("INV-2026-0042", "inv-2026-0042", " INV-2026-0042"):
        assert created(client, body_for(invoice_number=number))["invoice_number"] == number


def test_same_number_is_allowed_for_another_owner(client):
    created(client, body_for(ORG_A, invoice_number="SHARED-1"))
    assert created(client, body_for(ORG_B, invoice_number="SHARED-1"), USER_B)["invoice_number"] == "SHARED-1"


def test_generated_number_skips_a_number_supplied_by_hand(client):
    by_hand = f"INV-{NOW.year}-0002"
    created(client, body_for(invoice_number=by_hand))
    generated = [created(client, body_for())["invoice_number"] for _ in range(3)]
    assert by_hand not in generated
    assert len(set(generated)) == 3
    assert [sequence(n) for n in generated] == [1, 3, 4]


def test_a_generated_number_cannot_be_supplied_again(client):
    number = created(client, body_for())["invoice_number"]
    assert_error(create(client, body_for(invoice_number=number)), 409, "/invoice_number")


async def _create_many(base_url: str, bodies: list[dict]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        return await asyncio.gather(
            *(http.post("/api/invoices", json=b, headers=auth(USER_A)) for b in bodies)
        )


@pytest.mark.e2e
def test_parallel_generated_numbers_are_unique_per_owner(live_url):
    responses = asyncio.run(_create_many(live_url, [body_for() for _ in range(PARALLEL)]))
    assert [r.status_code for r in responses] == [200] * PARALLEL
    numbers = [r.json()["data"]["invoice_number"] for r in responses]
    assert len(set(numbers)) == PARALLEL
    assert all(GENERATED.match(number) for number in numbers)


@pytest.mark.e2e
def test_parallel_creates_with_the_same_number_admit_exactly_one(live_url):
    body = body_for(invoice_number=f"RACE-{uuid.uuid4()}")

    limits = httpx.Limits(max_connections=32)
    with httpx.Client(base_url=live_url, timeout=60, limits=limits) as http, ThreadPoolExecutor(32) as pool:
        responses = list(
            pool.map(lambda _: http.post("/api/invoices", json=body, headers=auth(USER_A)), range(PARALLEL))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (PARALLEL - 1)
