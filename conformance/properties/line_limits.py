"""Line-item limits (P73, P63): the bounds of quantity and unit_price, exact cents at any size, and
the batch sizes of the line-item operations, checked on a real created invoice.

Schemathesis's schema run cannot check them: it sends the line-item operations random invoice uids,
which are 404 before any bound is looked at. The bounds and sizes are read from openapi.yaml
(`LineItemQuantity`, `LineItemUnitPrice`, the request schemas' `maxItems`), never restated here.
Each property is a fixed sequence of requests (no draw), few of them, since the kit run is timed.
"""

from __future__ import annotations

from typing import Any

from conformance import expect
from conformance.client import Exchange
from conformance.core import Context, Violation, prop
from conformance.profile import Combination, Product
from conformance.properties.lifecycle import (
    cents,
    data_of,
    fresh,
    pointer,
    priced_combos,
    products,
    served_all,
    unchanged,
)
from conformance.properties.line_items import answer_lines, recomputed
from contract.spec import component_schema, request_body_schema

CREATE, UPDATE, DELETE = "create_line_items", "update_line_items", "delete_line_items"
# The cents fields that carry the sum of the lines when nothing is paid or credited (Choice 2).
SUMMED_CENTS = ("subtotal_cents", "total_cents", "amount_due_cents", "amount_remaining_cents")
# Past this, a JSON number parsed or summed as an IEEE double loses whole cents: 2**53 + 1 is
# the first integer a double cannot hold.
DOUBLE_EXACT = 2**53


def bounds(ctx: Context, name: str) -> tuple[Any, Any]:
    """(minimum, maximum) of a line-item schema (`LineItemQuantity`, `LineItemUnitPrice`)."""
    schema = component_schema(ctx.spec, name)
    return schema["minimum"], schema["maximum"]


def max_items(ctx: Context, operation_id: str) -> int:
    """The array form's maxItems of a line-item request (create and update: one object or an array)."""
    schema = request_body_schema(ctx.spec, operation_id)
    arrays = [s for s in schema.get("oneOf", [schema]) if s.get("type") == "array"]
    return int(arrays[0]["maxItems"])


def adding(ctx: Context) -> tuple[Combination, Product]:
    """A combination and one of its owner's products whose lines add to the subtotal (not a discount),
    so that no line of these properties can be refused for making the total negative."""
    for combo in priced_combos(ctx):
        for product in products(ctx, combo.owner):
            if ctx.facts.context_type_bucket(str(product.context_type)) == "subtotal_cents":
                return combo, product
    products(ctx)
    combo = priced_combos(ctx)[0]
    return combo, products(ctx, combo.owner)[0]


def line(product: Product, quantity: Any, unit_price: int) -> dict[str, Any]:
    return {
        "context_type": product.context_type,
        "sku": product.sku,
        "quantity": quantity,
        "unit_price": unit_price,
    }


def shown(lines: list[dict[str, Any]], sent: list[dict[str, Any]], what: str, *evidence: Exchange) -> None:
    """Each answered line shows what was sent: quantity as sent, unit_price and line_total in major
    units (P69), the total exact from the integer cents."""
    for got, request in zip(lines, sent, strict=True):
        quantity, unit = request["quantity"], request["unit_price"]
        expected = (quantity, unit / 100, cents(quantity, unit) / 100)
        answered = (got.get("quantity"), got.get("unit_price"), got.get("line_total"))
        if any(
            not isinstance(a, int | float) or isinstance(a, bool) or a != e
            for a, e in zip(answered, expected, strict=True)
        ):
            raise Violation(
                f"{what}: the line for quantity {quantity} x unit_price {unit} cents shows (quantity, "
                f"unit_price, line_total) {answered!r}, not {expected!r} (P69, P73)",
                *evidence,
            )


@prop("line_item_limits", kind="line_items", rows=("P73", "P47", "P62"))
def line_item_limits(ctx: Context) -> None:
    """quantity and unit_price at their bounds (quantity 0 and 1000000, unit_price 0 and 1000000000
    cents) are accepted on create and on update, and shown as sent; one past a bound is 422 naming
    the field (index first in an array), and the invoice does not change.

    Rule: openapi.yaml #/components/schemas/LineItemQuantity and LineItemUnitPrice (minimum, maximum),
    precision rows P73 (the limits, fixed), P47 (errors[].field names the field) and P62 (all or nothing)
    """
    served_all(ctx, CREATE, UPDATE)
    combo, product = adding(ctx)
    low_q, high_q = bounds(ctx, "LineItemQuantity")
    low_p, high_p = bounds(ctx, "LineItemUnitPrice")
    invoice = fresh(ctx, combo)
    at_bounds = [
        line(product, low_q, 1),
        line(product, high_q, 1),
        line(product, 1, low_p),
        line(product, 1, high_p),
    ]
    created = ctx.client.create_lines(combo.token, invoice["uid"], at_bounds)
    made = answer_lines(created, False, len(at_bounds), "a line-item create at the bounds of P73")
    shown(made, at_bounds, "a line-item create at the bounds", created)
    before = recomputed(ctx, combo.token, invoice, "a line-item create at the bounds", created)
    # each line moves to the opposite bound of the same field
    moved = [
        {**sent, **change}
        for sent, change in zip(
            at_bounds,
            [{"quantity": high_q}, {"quantity": low_q}, {"unit_price": high_p}, {"unit_price": low_p}],
            strict=True,
        )
    ]
    changes = [
        {"uid": made[0]["uid"], "quantity": high_q},
        {"uid": made[1]["uid"], "quantity": low_q},
        {"uid": made[2]["uid"], "unit_price": high_p},
        {"uid": made[3]["uid"], "unit_price": low_p},
    ]
    updated = ctx.client.update_lines(combo.token, invoice["uid"], changes)
    shown(
        answer_lines(updated, False, len(changes), "a line-item update at the bounds of P73"),
        moved,
        "a line-item update at the bounds",
        updated,
    )
    before = recomputed(ctx, combo.token, before, "a line-item update at the bounds", updated)
    beyond = [
        ("quantity", low_q - 1),
        ("quantity", high_q + 1),
        ("unit_price", low_p - 1),
        ("unit_price", high_p + 1),
    ]
    _check_beyond_refused(ctx, combo.token, invoice["uid"], product, made, before, beyond)


def _check_beyond_refused(
    ctx: Context,
    token: str,
    uid: str,
    product: Product,
    made: list[dict[str, Any]],
    before: dict[str, Any],
    beyond: list[tuple[str, Any]],
) -> None:
    """Each value one past a bound, on create and on update, alternately alone and second in an
    array: 422 naming the field under its index (P47), and the invoice (`uid`, read as `before`)
    unchanged (P62)."""
    for number, (name, value) in enumerate(beyond):
        for operation in (CREATE, UPDATE):
            batch = (number + (operation == UPDATE)) % 2 == 1  # each field and bound in both forms
            if operation == CREATE:
                good, bad = line(product, 1, 100), {**line(product, 1, 100), name: value}
                send = ctx.client.create_lines
            else:
                good, bad = {"uid": made[0]["uid"], "quantity": 1}, {"uid": made[1]["uid"], name: value}
                send = ctx.client.update_lines
            exchange = send(token, uid, [good, bad] if batch else bad)
            what = f"a line-item {'create' if operation == CREATE else 'update'} with {name} {value}"
            expect.expect_field_error(exchange, 422, pointer(1 if batch else None, name), what)
            unchanged(ctx, token, before, what, exchange)


@prop("line_item_amounts_exact", kind="line_items", rows=("P73", "P70", "P69", "P09"))
def line_item_amounts_exact(ctx: Context) -> None:
    """Lines at the largest quantity x unit_price, enough of them that the sum passes 2**53 cents, plus
    one line of odd cents: subtotal_cents, total_cents, amount_due_cents and amount_remaining_cents are
    exactly the integer sum in a get afterwards, after a create and after an update, and the money
    identities hold. A server that sums or serializes cents through a double loses the odd cent.

    The kit parses JSON integers as Python ints (arbitrary precision), so a cents field sent as an
    integer literal is compared exactly; one sent as a float literal (`1e16`, `...0.0`) is not an
    integer (money identities, P39), and is refused as such.

    Rule: openapi.yaml #/components/schemas/LineItemQuantity, LineItemUnitPrice and the Invoice's
    integer cents fields; precision rows P73 (amounts stay exact integers of cents at any size), P70
    (the sums of the lines) and P69/P09 (line_total = quantity x unit_price rounded half up)
    """
    served_all(ctx, CREATE, UPDATE)
    combo, product = adding(ctx)
    high_q, high_p = bounds(ctx, "LineItemQuantity")[1], bounds(ctx, "LineItemUnitPrice")[1]
    biggest = cents(high_q, high_p)
    count = min(DOUBLE_EXACT // biggest + 1, max_items(ctx, CREATE) - 1)
    lines = [line(product, high_q, high_p) for _ in range(count)] + [line(product, 1, 1)]
    invoice = fresh(ctx, combo)
    created = ctx.client.create_lines(combo.token, invoice["uid"], lines)
    made = answer_lines(created, False, len(lines), "a line-item create of the largest lines")
    shown(made, lines, "a line-item create of the largest lines", created)
    after = recomputed(ctx, combo.token, invoice, "a line-item create of the largest lines", created)
    exact(after, count * biggest + 1, "a line-item create of the largest lines", created)
    change = {"uid": made[-1]["uid"], "unit_price": 3}
    updated = ctx.client.update_lines(combo.token, invoice["uid"], change)
    shown(
        answer_lines(updated, True, 1, "a line-item update"),
        [{**lines[-1], "unit_price": 3}],
        "a line-item update of the odd line",
        updated,
    )
    after = recomputed(ctx, combo.token, after, "a line-item update of the odd line", updated)
    exact(after, count * biggest + 3, "a line-item update of the odd line", created, updated)


def exact(invoice: dict[str, Any], expected: int, what: str, *evidence: Exchange) -> None:
    """The summed cents fields are the integer `expected`, exactly (nothing paid or credited)."""
    wrong = {
        name: invoice.get(name)
        for name in SUMMED_CENTS
        if not isinstance(invoice.get(name), int)
        or isinstance(invoice.get(name), bool)
        or invoice[name] != expected
    }
    if wrong:
        raise Violation(
            f"after {what}, the lines sum to exactly {expected} cents but the invoice read back has "
            f"{wrong!r} (P73: amounts stay exact integers of cents at any size)",
            *evidence,
        )


@prop("line_item_batch_sizes", kind="line_items", rows=("P63", "P62", "P71"))
def line_item_batch_sizes(ctx: Context) -> None:
    """A line-item create, update or delete of the maximum number of items (100) is accepted and
    answers them all in request order; one more item (101, each valid and distinct) is 422 and the
    invoice does not change.

    Rule: openapi.yaml LineItemCreateRequest, LineItemUpdateRequest, LineItemDeleteRequest (maxItems)
    and precision rows P63 (1-100 items), P62 (a refused batch changes nothing), P71 (the answers)
    """
    served_all(ctx, CREATE, UPDATE, DELETE)
    combo, product = adding(ctx)
    most = max_items(ctx, CREATE)
    invoice = fresh(ctx, combo)
    lines = [line(product, 1, 100 + i) for i in range(most + 1)]
    too_many = ctx.client.create_lines(combo.token, invoice["uid"], lines)
    refused(ctx, combo, invoice, f"a line-item create of {len(lines)} items", too_many)
    created = ctx.client.create_lines(combo.token, invoice["uid"], lines[:most])
    made = answer_lines(created, False, most, f"a line-item create of {most} items")
    shown(made, lines[:most], f"a line-item create of {most} items", created)
    extra = ctx.client.create_lines(combo.token, invoice["uid"], lines[most])
    made += answer_lines(extra, True, 1, "a line-item create of one item")
    before = recomputed(ctx, combo.token, invoice, f"line-item creates of {most} and 1 items", created, extra)
    uids = [str(item["uid"]) for item in made]
    most = max_items(ctx, UPDATE)
    too_many = ctx.client.update_lines(
        combo.token, invoice["uid"], [{"uid": u, "quantity": 2} for u in uids[: most + 1]]
    )
    refused(ctx, combo, before, f"a line-item update of {most + 1} items", too_many)
    changes = [{"uid": uid, "quantity": 2} for uid in uids[:most]]
    updated = ctx.client.update_lines(combo.token, invoice["uid"], changes)
    answer = answer_lines(updated, False, most, f"a line-item update of {most} items")
    if [item.get("uid") for item in answer] != uids[:most]:
        raise Violation(f"a line-item update of {most} items must answer its lines in request order", updated)
    shown(
        answer,
        [{**sent, "quantity": 2} for sent in lines[:most]],
        f"a line-item update of {most} items",
        updated,
    )
    before = recomputed(ctx, combo.token, before, f"a line-item update of {most} items", updated)
    most = int(request_body_schema(ctx.spec, DELETE)["maxItems"])
    too_many = ctx.client.delete_lines(combo.token, invoice["uid"], uids[: most + 1])
    refused(ctx, combo, before, f"a line-item delete of {most + 1} items", too_many)
    deleted = ctx.client.delete_lines(combo.token, invoice["uid"], uids[:most])
    if data_of(deleted, f"a line-item delete of {most} items") != {}:
        raise Violation("a line-item delete answers data {}", deleted)
    after = recomputed(ctx, combo.token, before, f"a line-item delete of {most} items", deleted)
    left = [expect.mapping(item).get("uid") for item in expect.sequence(after.get("line_items"))]
    if left != uids[most:]:
        raise Violation(
            f"after deleting {most} of {len(uids)} lines, the invoice has {len(left)} lines", deleted
        )


def refused(ctx: Context, combo: Combination, before: dict[str, Any], what: str, exchange: Exchange) -> None:
    """A batch over the maximum is 422 (P63) and changes nothing (P62)."""
    expect.error(exchange, 422, what)
    unchanged(ctx, combo.token, before, what, exchange)
