"""Bulk update: all or nothing, applied in order, answered in request order."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.core import Context, NotRun, Violation, prop
from conformance.profile import Combination
from conformance.properties.lifecycle import (
    bulk_message,
    changes,
    data_of,
    fresh,
    immutable_fields,
    message_of,
    read,
    served,
    unchanged,
    unknown_uid,
    update_problems,
)
from conformance.properties.steps import combinations, same_invoice
from contract.spec import request_body_schema

BULK = "bulk_update_invoices"


@st.composite
def _batch(draw: st.DrawFn, ctx: Context, combo: Combination, size: int) -> list[dict[str, Any]]:
    """`size` valid partial changes (numbers left out: they are made unique when sent)."""
    return [draw(changes(ctx, combo.owner, BULK, min_size=1)) for _ in range(size)]


@prop("bulk_update_applies_in_order", kind="bulk", rows=("P54", "P62", "P65"))
def bulk_update_applies_in_order(ctx: Context) -> None:
    """A valid bulk update answers every invoice after its change, in request order, with the message
    `Successfully updated <N> invoice(s)`; a get of each returns its answer.

    Rule: openapi.yaml bulk_update_invoices (data the updated invoices in request order; message
    "Successfully updated <N> invoice(s)", reference) and precision rows P62, P65
    """
    served(ctx, BULK)
    combos = combinations(ctx)

    @given(combo=st.sampled_from(combos), data=st.data(), size=st.integers(min_value=1, max_value=3))
    @example(combo=combos[0], data=None, size=3)
    def test(combo: Combination, data: st.DataObject | None, size: int) -> None:
        befores = [fresh(ctx, combo) for _ in range(size)]
        batch = (
            data.draw(_batch(ctx, combo, size))
            if data is not None
            else [{"status": f"S{i}"} for i in range(size)]
        )
        items = [{"uid": b["uid"], **c} for b, c in zip(befores, batch, strict=True)]
        if data is not None and data.draw(st.booleans(), "renumber the first"):
            items[0]["invoice_number"] = gen.unique_number(ctx.facts.supplied_number)
        exchange = ctx.client.bulk_update(combo.token, items)
        answer = data_of(exchange, "a bulk update")
        if message_of(exchange) != bulk_message(ctx.spec, size):
            raise Violation(
                f"a bulk update of {size} invoice(s) must say {bulk_message(ctx.spec, size)!r}; said "
                f"{message_of(exchange)!r}",
                exchange,
            )
        if not isinstance(answer, list) or [expect.mapping(x).get("uid") for x in answer] != [
            i["uid"] for i in items
        ]:
            raise Violation("the bulk update's data must be the updated invoices in request order", exchange)
        for before, item, after in zip(befores, items, answer, strict=True):
            sent = {k: v for k, v in item.items() if k != "uid"}
            problems = update_problems(ctx, before, sent, after)
            if problems:
                raise Violation(
                    f"invoice {before['uid']} in the bulk answer: " + "; ".join(problems), exchange
                )
            fetched, got = read(ctx, combo.token, before["uid"], "get after a bulk update")
            diffs = same_invoice(after, got)
            if diffs:
                raise Violation(
                    f"invoice {before['uid']} read after the bulk update differs from its answer in: "
                    f"{', '.join(diffs)}",
                    exchange,
                    fetched,
                )

    ctx.hypothesis("bulk_update_applies_in_order", test, weight=0.3)


@prop("bulk_update_all_or_nothing", kind="bulk", rows=("P62", "P63", "P64", "P56"))
def bulk_update_all_or_nothing(ctx: Context) -> None:
    """A bulk update with one refused item among valid ones is refused whole, the error naming the
    item's index first (`/1/status`), and no invoice of the batch changes.

    Rule: openapi.yaml bulk_update_invoices ("all or nothing — if any item is refused, nothing changes and
    the answer is that item's error, its errors[].field prefixed with the item's index") and precision
    rows P62, P63 (a uid twice is 422), P64 (unknown or invisible is 404 for the whole request)
    """
    served(ctx, BULK)
    combos = combinations(ctx)
    immutables = immutable_fields(ctx.spec, BULK)
    kinds = ["taken number", "blank number", "immutable", "duplicate uid", "unknown uid", "bad status type"]

    @given(
        combo=st.sampled_from(combos),
        data=st.data(),
        size=st.integers(min_value=2, max_value=3),
        kind=st.sampled_from(kinds),
    )
    @example(combo=combos[0], data=None, size=3, kind="taken number")
    @example(combo=combos[0], data=None, size=2, kind="unknown uid")
    def test(combo: Combination, data: st.DataObject | None, size: int, kind: str) -> None:
        befores = [fresh(ctx, combo, number="CK-{}") for _ in range(size)]
        batch = data.draw(_batch(ctx, combo, size)) if data is not None else [{"status": "SENT"}] * size
        items = [{"uid": b["uid"], **c} for b, c in zip(befores, batch, strict=True)]
        bad = data.draw(st.integers(min_value=0, max_value=size - 1), "refused item") if data else size - 1
        status, field = 422, None
        if kind == "taken number":
            items[bad]["invoice_number"] = fresh(ctx, combo, number="CK-{}")["invoice_number"]
            status, field = 409, "invoice_number"
        elif kind == "blank number":
            items[bad]["invoice_number"], field = "  ", "invoice_number"
        elif kind == "immutable":
            name = data.draw(st.sampled_from(immutables), "field") if data else immutables[0]
            items[bad][name], field = befores[bad].get(name, combo.owner), name
        elif kind == "bad status type":
            items[bad]["status"], field = 42, "status"
        elif kind == "duplicate uid":
            items.append({"uid": items[0]["uid"], "status": "TWICE"})
            bad = len(items) - 1
        else:
            items[bad]["uid"], status = unknown_uid(), 404
        exchange = ctx.client.bulk_update(combo.token, items)
        what = f"a bulk update whose item {bad} has a {kind}"
        if field is not None:
            expect.expect_field_error(exchange, status, f"/{bad}/{field}", what)
        else:
            expect.error(exchange, status, what)
        for before in befores:
            unchanged(ctx, combo.token, before, what, exchange)

    ctx.hypothesis("bulk_update_all_or_nothing", test, weight=0.4)


@prop("bulk_update_sizes", kind="bulk", rows=("P63",))
def bulk_update_sizes(ctx: Context) -> None:
    """A bulk update of no items, or of more than the maximum, is 422 and changes nothing.

    Rule: openapi.yaml #/components/schemas/InvoiceBulkUpdateRequest (minItems, maxItems) and precision
    row P63
    """
    served(ctx, BULK)
    combo = combinations(ctx)[0]
    schema = request_body_schema(ctx.spec, BULK)
    before = fresh(ctx, combo)
    too_many = [{"uid": before["uid"], "status": "MANY"}] + [
        {"uid": unknown_uid(), "status": "MANY"} for _ in range(int(schema.get("maxItems", 100)))
    ]
    for what, items in (("no items", []), (f"{len(too_many)} items", too_many)):
        exchange = ctx.client.bulk_update(combo.token, items)
        expect.error(exchange, 422, f"a bulk update of {what}")
        unchanged(ctx, combo.token, before, f"a bulk update of {what}", exchange)


@prop("bulk_update_invisible_is_404", kind="bulk", rows=("P64",))
def bulk_update_invisible_is_404(ctx: Context) -> None:
    """A bulk update naming an invoice of an organization the token's user is not in is 404 for the
    whole request, and the caller's own invoices in the batch do not change.

    Rule: openapi.yaml bulk_update_invoices ("an unknown, deleted or invisible uid is 404 for the whole
    request") and precision row P64
    """
    served(ctx, BULK)
    combos = combinations(ctx)
    pairs = [(c, o) for c in combos for o in combos if c.token in ctx.profile.outsider_tokens(o.owner)]
    if not pairs:
        raise NotRun("the profile names no token outside some organization that may create invoices")

    @given(pair=st.sampled_from(pairs), first=st.booleans())
    @example(pair=pairs[0], first=False)
    def test(pair: tuple[Combination, Combination], first: bool) -> None:
        combo, other = pair
        mine, theirs = fresh(ctx, combo), fresh(ctx, other)
        items = [{"uid": mine["uid"], "status": "MINE"}, {"uid": theirs["uid"], "status": "THEIRS"}]
        exchange = ctx.client.bulk_update(combo.token, items[::-1] if first else items)
        expect.error(exchange, 404, "a bulk update naming another organization's invoice")
        unchanged(ctx, combo.token, mine, "a bulk update naming another organization's invoice", exchange)
        unchanged(ctx, other.token, theirs, "a bulk update naming another organization's invoice", exchange)

    ctx.hypothesis("bulk_update_invisible_is_404", test, weight=0.15)
