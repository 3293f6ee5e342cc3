"""Concurrency: creates sent at the same moment, the way a busy client or a retrying proxy sends them.

A server that checks a number is free and then inserts it (two steps, no lock or unique index)
passes every sequential test and lets two concurrent creates take one number. These properties
open N connections first, then release N creates at once (a barrier), so the requests overlap in
the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.client import Client, Exchange
from conformance.core import Context, Violation, prop
from conformance.profile import Combination
from conformance.properties.lifecycle import data_of, fresh, is_served, served
from conformance.properties.steps import combinations

PARALLEL = 6


def _send(operation: str, token: str, uid: str | None, body: Any, client: Client) -> Exchange:
    """One lifecycle request on `client` (bound with functools.partial for `at_once`)."""
    if operation == "update":
        return client.update(token, str(uid), body)
    if operation == "bulk_update":
        return client.bulk_update(token, body)
    return client.bulk_delete(token, body)


def at_once(ctx: Context, requests: Sequence[Callable[[Client], Exchange]]) -> list[Exchange]:
    """Send the requests concurrently, each on its own connection opened beforehand."""
    clients = [Client(ctx.client.base_url, timeout=ctx.client.timeout) for _ in requests]
    barrier = threading.Barrier(len(requests))
    results: list[Exchange | BaseException | None] = [None] * len(requests)

    def worker(index: int) -> None:
        client = clients[index]
        try:
            client.list(None)  # open the connection, so the creates start together
            barrier.wait(timeout=30)
            results[index] = requests[index](client)
        except BaseException as error:  # reported below, in the caller's thread
            barrier.abort()
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(requests))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for client in clients:
            ctx.client.requests_sent += client.requests_sent
            client.close()
    exchanges = []
    for result in results:
        if isinstance(result, threading.BrokenBarrierError):
            continue
        if isinstance(result, BaseException):
            raise result
        if result is not None:
            exchanges.append(result)
    return exchanges


@prop("concurrent_creates_one_number", kind="concurrency", rows=("P33", "P18"))
def concurrent_creates_one_number(ctx: Context) -> None:
    """N creates sent at once with one invoice_number: exactly one is created, the others are 409.

    Rule: openapi.yaml create_invoice description (a supplied number must be unused within the owner
    organization, otherwise 409) and precision row P33 (concurrent creates with one number: exactly one
    200, the others 409)
    """
    combos = combinations(ctx)

    @given(combo=st.sampled_from(combos), template=st.sampled_from(gen.NUMBER_TEMPLATES))
    @example(combo=combos[0], template="CK-{}")
    def test(combo: Combination, template: str) -> None:
        number = gen.unique_number(ctx.facts.supplied_number, template)
        body = combo.body() | {"invoice_number": number}
        exchanges = at_once(ctx, [lambda client: client.create(combo.token, body)] * PARALLEL)
        created = [e for e in exchanges if e.status == 200]
        refused = [e for e in exchanges if e.status == 409]
        others = [e for e in exchanges if e.status not in (200, 409)]
        if len(created) != 1 or others:
            raise Violation(
                f"{len(exchanges)} concurrent creates with the number {number!r}: exactly one must be "
                f"created and the others refused with 409; got {len(created)} x 200, {len(refused)} x 409"
                + (f", and HTTP {sorted({e.status for e in others})}" if others else ""),
                *(created[:2] or exchanges[:1]),
                *others[:1],
            )
        for exchange in refused:
            expect.expect_field_error(
                exchange, 409, "/invoice_number", "a concurrent create with a taken number"
            )

    ctx.hypothesis("concurrent_creates_one_number", test, weight=0.06)


@prop("concurrent_creates_distinct_numbers", kind="concurrency", rows=("P33", "P19"))
def concurrent_creates_distinct_numbers(ctx: Context) -> None:
    """N creates sent at once without an invoice_number are all created, with N distinct numbers.

    Rule: openapi.yaml InvoiceCreateRequest.invoice_number (generated when omitted, unique per owner
    organization) and precision rows P19 and P33 (concurrent creates without a number get distinct numbers)
    """
    combos = combinations(ctx)

    @given(combo=st.sampled_from(combos))
    @example(combo=combos[0])
    def test(combo: Combination) -> None:
        body = combo.body()
        exchanges = at_once(ctx, [lambda client: client.create(combo.token, body)] * PARALLEL)
        numbers: dict[str, Exchange] = {}
        for exchange in exchanges:
            data = expect.success(exchange, "a concurrent create without a number")
            number = data.get("invoice_number")
            if not isinstance(number, str):
                raise Violation(f"a created invoice has no generated number: {number!r}", exchange)
            if number in numbers:
                raise Violation(
                    f"{len(exchanges)} concurrent creates without a number: two got the number {number!r}",
                    numbers[number],
                    exchange,
                )
            numbers[number] = exchange
            ctx.remember_number(combo.owner, number, str(data.get("uid")))

    ctx.hypothesis("concurrent_creates_distinct_numbers", test, weight=0.06)


@prop("concurrent_updates_one_number", kind="concurrency", rows=("P75", "P56"))
def concurrent_updates_one_number(ctx: Context) -> None:
    """N updates sent at once, each giving one new number to another invoice of the owner: exactly
    one is 200, the others 409, and exactly one invoice has the number afterwards.

    Rule: openapi.yaml update_invoice (409 for a number another invoice of the owner has) and precision row
    P75 (concurrent updates giving one number to two invoices: exactly one 200, the other 409)
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)

    @given(combo=st.sampled_from(combos), template=st.sampled_from(gen.NUMBER_TEMPLATES))
    @example(combo=combos[0], template="CK-{}")
    def test(combo: Combination, template: str) -> None:
        number = gen.unique_number(ctx.facts.supplied_number, template)
        uids = [fresh(ctx, combo)["uid"] for _ in range(PARALLEL)]
        body = {"invoice_number": number}
        requests = [partial(_send, "update", combo.token, uid, body) for uid in uids]
        exchanges = at_once(ctx, requests)
        updated = [e for e in exchanges if e.status == 200]
        refused = [e for e in exchanges if e.status == 409]
        others = [e for e in exchanges if e.status not in (200, 409)]
        if len(updated) != 1 or others:
            raise Violation(
                f"{len(exchanges)} concurrent updates giving {number!r} to {len(uids)} invoices: exactly one "
                f"must succeed and the others be 409; got {len(updated)} x 200, {len(refused)} x 409"
                + (f", and HTTP {sorted({e.status for e in others})}" if others else ""),
                *(updated[:2] or exchanges[:1]),
                *others[:1],
            )
        holders = [
            uid
            for uid in uids
            if expect.success(ctx.client.get(combo.token, uid), "get").get("invoice_number") == number
        ]
        if len(holders) != 1:
            raise Violation(
                f"after the concurrent updates, {len(holders)} invoices have the number {number!r}", *updated
            )

    ctx.hypothesis("concurrent_updates_one_number", test, weight=0.06)


@prop("concurrent_bulk_requests_serializable", kind="concurrency", rows=("P75", "P62"))
def concurrent_bulk_requests_serializable(ctx: Context) -> None:
    """Bulk requests sent at once end in a state some serial order produces: N bulk updates each giving
    its own status to the same invoices (in different orders) leave all of them with one status;
    overlapping bulk deletes: exactly one succeeds and the other deletes nothing.

    Rule: openapi.yaml bulk_update_invoices / bulk_delete_invoices (all or nothing) and precision row P75
    (concurrent bulk requests end in a state some serial order of the accepted requests produces)
    """
    served(ctx, "bulk_update_invoices")
    combos = combinations(ctx)
    deletes = is_served(ctx, "bulk_delete_invoices")

    @given(
        combo=st.sampled_from(combos), shape=st.sampled_from(["update", "delete"] if deletes else ["update"])
    )
    @example(combo=combos[0], shape="update")
    def test(combo: Combination, shape: str) -> None:
        uids = [fresh(ctx, combo)["uid"] for _ in range(3)]
        if shape == "update":
            orders = [uids[k:] + uids[:k] for k in range(len(uids))] * 2
            requests = [
                partial(
                    _send,
                    "bulk_update",
                    combo.token,
                    None,
                    [{"uid": u, "status": f"BULK-{k}"} for u in order],
                )
                for k, order in enumerate(orders[:PARALLEL])
            ]
            exchanges = at_once(ctx, requests)
            for exchange in exchanges:
                data_of(exchange, "one of concurrent valid bulk updates")
            statuses = {expect.success(ctx.client.get(combo.token, uid), "get").get("status") for uid in uids}
            if len(statuses) != 1:
                raise Violation(
                    f"{len(exchanges)} concurrent bulk updates each gave all of {len(uids)} invoices one "
                    "status; no serial order leaves them with different statuses, yet they have "
                    f"{sorted(map(str, statuses))}",
                    *exchanges[:2],
                )
            return
        halves = [[uids[0], uids[1]], [uids[1], uids[2]]]
        requests = [partial(_send, "bulk_delete", combo.token, None, h) for h in halves] * (PARALLEL // 2)
        exchanges = at_once(ctx, requests)
        done = [e for e in exchanges if e.status == 200]
        if len(done) != 1 or any(e.status != 404 for e in exchanges if e.status != 200):
            raise Violation(
                "overlapping bulk deletes sent at once: exactly one may succeed, the others must be 404 "
                f"(a uid already deleted); got HTTP {sorted(e.status for e in exchanges)}",
                *exchanges[:2],
            )
        alive = [uid for uid in uids if ctx.client.get(combo.token, uid).status == 200]
        if len(alive) != 1:
            raise Violation(
                f"after one of two overlapping bulk deletes, {len(alive)} of the 3 invoices remain (1 must)",
                *done,
            )

    ctx.hypothesis("concurrent_bulk_requests_serializable", test, weight=0.06)
