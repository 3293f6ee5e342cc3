"""Concurrency: creates sent at the same moment, the way a busy client or a retrying proxy sends them.

A server that checks a number is free and then inserts it (two steps, no lock or unique index)
passes every sequential test and lets two concurrent creates take one number. These properties
open N connections first, then release N creates at once (a barrier), so the requests overlap in
the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.client import Client, Exchange
from conformance.core import Context, Violation, prop
from conformance.profile import Combination
from conformance.properties.steps import combinations

PARALLEL = 6


def at_once(ctx: Context, requests: list[Callable[[Client], Exchange]]) -> list[Exchange]:
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
        number = gen.unique_number(template)
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
