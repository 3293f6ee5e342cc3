"""Bulk delete: a deleted invoice is gone from every read, list and count; its number is free again."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import CannotDecide, Context, Violation, prop
from conformance.profile import Combination
from conformance.properties.lifecycle import (
    data_of,
    fresh,
    is_served,
    message_of,
    served,
    still_there,
    unknown_uid,
)
from conformance.properties.steps import combinations, default_invoice_type

DELETE = "bulk_delete_invoices"


def _total(ctx: Context, token: str, kind: str) -> tuple[Exchange, dict[str, Any]]:
    exchange = ctx.client.list(token, invoice_type=kind, per_page=gen.max_per_page(ctx.spec))
    return exchange, expect.success(exchange, f"list of {kind}")


def delete_gone(ctx: Context, token: str, uids: list[str], what: str, evidence: Exchange) -> None:
    """P66: get, update and the line-item operations of each uid answer 404."""
    names = ["get"]
    names += ["update"] if is_served(ctx, "update_invoice") else []
    names += ["a line-item delete"] if is_served(ctx, "delete_line_items") else []
    for uid in uids:
        for name in names:
            if name == "get":
                exchange = ctx.client.get(token, uid)
            elif name == "update":
                exchange = ctx.client.update(token, uid, {"status": "AFTER"})
            else:
                exchange = ctx.client.delete_lines(token, uid, [unknown_uid()])
            if exchange.status != 404:
                raise Violation(
                    f"invoice {uid} was deleted ({what}); {name} must answer 404, got HTTP {exchange.status}",
                    evidence,
                    exchange,
                )


@prop("deleted_invoice_is_gone", kind="delete", rows=("P66", "P53", "P64"))
def deleted_invoice_is_gone(ctx: Context) -> None:
    """After a bulk delete (data {}, message Success), each deleted invoice answers 404 to get and
    update, is absent from its list page and from total_items, and deleting it again is 404.

    Rule: openapi.yaml bulk_delete_invoices ("A deleted invoice is gone from get, update, the line-item
    operations and every list") and precision rows P66, P53 (counts), P64 (deleting again is 404)
    """
    served(ctx, DELETE)
    combos = combinations(ctx)
    kind = default_invoice_type(ctx)

    @given(combo=st.sampled_from(combos), size=st.integers(min_value=1, max_value=3), keep=st.booleans())
    @example(combo=combos[0], size=1, keep=True)
    def test(combo: Combination, size: int, keep: bool) -> None:
        doomed = [fresh(ctx, combo)["uid"] for _ in range(size)]
        kept = fresh(ctx, combo)["uid"] if keep else None
        _, page = _total(ctx, combo.token, kind)
        before = expect.mapping(page.get("_meta")).get("total_items")
        exchange = ctx.client.bulk_delete(combo.token, doomed)
        data = data_of(exchange, "a bulk delete")
        if data != {} or message_of(exchange) != "Success":
            raise Violation(
                f"a bulk delete answers data {{}} and message 'Success'; got data {data!r}, message "
                f"{message_of(exchange)!r}",
                exchange,
            )
        delete_gone(ctx, combo.token, doomed, "bulk delete", exchange)
        listed, page = _total(ctx, combo.token, kind)
        items = {expect.mapping(item).get("uid") for item in expect.sequence(page.get("items"))}
        shown = [uid for uid in doomed if uid in items]
        if shown:
            raise Violation(f"deleted invoice {shown[0]} is still in the list", exchange, listed)
        after = expect.mapping(page.get("_meta")).get("total_items")
        if isinstance(before, int) and after == before:
            raise Violation(
                f"total_items was {before} before {size} invoice(s) were deleted, so it must be "
                f"{before - size}; it is {after!r} (the deleted invoices are still counted)",
                exchange,
                listed,
            )
        if isinstance(before, int) and after != before - size:
            raise CannotDecide(
                f"total_items went {before} -> {after!r} around a delete of {size}: other traffic changed "
                "the list meanwhile"
            )
        if kept is not None:
            still_there(ctx, combo.token, kept, "deleting other invoices", exchange)
        again = ctx.client.bulk_delete(combo.token, doomed[:1])
        expect.error(again, 404, "deleting an invoice already deleted")

    ctx.hypothesis("deleted_invoice_is_gone", test, weight=0.3)


@prop("bulk_delete_all_or_nothing", kind="delete", rows=("P62", "P63", "P64"))
def bulk_delete_all_or_nothing(ctx: Context) -> None:
    """A bulk delete naming an unknown or another organization's uid (404), a uid twice or no uid
    (422) deletes nothing.

    Rule: openapi.yaml bulk_delete_invoices ("all or nothing — an unknown, already deleted or invisible
    uid is 404 and nothing is deleted; a uid listed twice is 422") and precision rows P62-P64
    """
    served(ctx, DELETE)
    combos = combinations(ctx)
    foreign = [(c, o) for c in combos for o in combos if c.token in ctx.profile.outsider_tokens(o.owner)]
    kinds = ["unknown uid", "duplicate uid", "empty"] + (["invisible uid"] if foreign else [])

    @given(
        combo=st.sampled_from(combos), kind=st.sampled_from(kinds), at=st.integers(min_value=0, max_value=2)
    )
    @example(combo=combos[0], kind="unknown uid", at=1)
    def test(combo: Combination, kind: str, at: int) -> None:
        mine = [fresh(ctx, combo)["uid"] for _ in range(2)]
        uids, status = list(mine), 404
        owners = {uid: combo.token for uid in mine}
        if kind == "unknown uid":
            uids.insert(at, unknown_uid())
        elif kind == "invisible uid":
            others = [o for c, o in foreign if c.token == combo.token]
            if not others:
                return
            other = others[0]
            theirs = fresh(ctx, other)["uid"]
            owners[theirs] = other.token
            uids.insert(at, theirs)
        elif kind == "duplicate uid":
            uids.insert(at, mine[0])
            status = 422
        else:
            uids, status = [], 422
        exchange = ctx.client.bulk_delete(combo.token, uids)
        expect.error(exchange, status, f"a bulk delete with a {kind}")
        for uid, token in owners.items():
            still_there(ctx, token, uid, f"a bulk delete with a {kind}", exchange)

    ctx.hypothesis("bulk_delete_all_or_nothing", test, weight=0.25)


@prop("deleted_number_is_free", kind="delete", rows=("P67", "P18"))
def deleted_number_is_free(ctx: Context) -> None:
    """The number of a deleted invoice may be taken again: by a create (200), or by an update of
    another invoice of the owner (200).

    Rule: openapi.yaml bulk_delete_invoices ("its number is free again") and precision row P67
    """
    served(ctx, DELETE)
    combos = combinations(ctx)
    ways = ["create"] + (["update"] if is_served(ctx, "update_invoice") else [])

    @given(
        combo=st.sampled_from(combos),
        way=st.sampled_from(ways),
        template=st.sampled_from(gen.NUMBER_TEMPLATES),
    )
    @example(combo=combos[0], way=ways[-1], template="CK-{}")
    def test(combo: Combination, way: str, template: str) -> None:
        number = gen.unique_number(ctx.facts.supplied_number, template)
        doomed = expect.success(
            ctx.client.create(combo.token, combo.body() | {"invoice_number": number}), "create"
        )
        exchange = ctx.client.bulk_delete(combo.token, [doomed["uid"]])
        data_of(exchange, "a bulk delete")
        if way == "create":
            again = ctx.client.create(combo.token, combo.body() | {"invoice_number": number})
        else:
            again = ctx.client.update(combo.token, fresh(ctx, combo)["uid"], {"invoice_number": number})
        answer = expect.success(again, f"a {way} taking the number {number!r} of a deleted invoice")
        if answer.get("invoice_number") != number:
            raise Violation(
                f"the {way} must store the number {number!r}; got {answer.get('invoice_number')!r}", again
            )

    ctx.hypothesis("deleted_number_is_free", test, weight=0.2)
