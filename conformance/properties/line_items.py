"""Line items: priced from the owner's products in cents, shown in major units, and the invoice's
money recomputed after every change, exactly (cents, half up)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance.client import Exchange
from conformance.core import Context, NotRun, Violation, prop
from conformance.profile import Combination, Product
from conformance.properties.lifecycle import (
    cents,
    data_of,
    envelope_message,
    existing_lines,
    expected_line,
    fresh,
    line_cents,
    line_mismatches,
    line_problems,
    line_requests,
    message_of,
    pointer,
    priced_combos,
    products,
    quantities,
    read,
    served,
    served_all,
    signed_total,
    unchanged,
    unknown_uid,
)
from contract.spec import component_schema, property_defaults, request_body_schema

CREATE, UPDATE, DELETE = "create_line_items", "update_line_items", "delete_line_items"
KEPT_AMOUNTS = ("amount_paid_cents", "pre_payment_credit_notes_cents")  # P70: lines never change them


def _adds(ctx: Context, product: Product) -> bool:
    """Whether the product's lines add to the total (not a discount)."""
    return ctx.facts.context_type_bucket(str(product.context_type)) != "discount_cents"


def _product(ctx: Context, owner: str, sku: Any) -> Product | None:
    return ctx.profile.product(owner, str(sku))


def _price(product: Product, sent: dict[str, Any]) -> int:
    price = sent.get("unit_price", product.unit_price)
    assert price is not None  # line_requests overrides when the profile has no price
    return int(price)


def recomputed(
    ctx: Context, token: str, before: dict[str, Any], what: str, *evidence: Exchange
) -> dict[str, Any]:
    """The invoice read back after a line-item change: money exact (P69, P70), payments kept."""
    fetched, invoice = read(ctx, token, before["uid"], f"get after {what}")
    problems = line_problems(ctx, invoice)
    problems += [
        f"{name} changed from {before.get(name)!r} to {invoice.get(name)!r}"
        for name in KEPT_AMOUNTS
        if invoice.get(name) != before.get(name)
    ]
    if problems:
        raise Violation(
            f"after {what}, the invoice's money is wrong: " + "; ".join(problems), *evidence, fetched
        )
    return invoice


def answer_lines(exchange: Exchange, single: bool, count: int, what: str) -> list[dict[str, Any]]:
    """P71: one LineItem for a single object, an array of `count` in request order for an array."""
    data = data_of(exchange, what)
    if single:
        if not isinstance(data, dict):
            raise Violation(
                f"{what} of a single object must answer one LineItem object; got {data!r}", exchange
            )
        return [data]
    if not isinstance(data, list) or len(data) != count:
        raise Violation(f"{what} of an array of {count} must answer an array of {count} LineItems", exchange)
    return [expect.mapping(item) for item in data]


@prop("line_items_priced_from_products", kind="line_items", rows=("P68", "P69", "P70", "P71", "P09", "P15"))
def line_items_priced_from_products(ctx: Context) -> None:
    """Created line items are the product's (name, context type uid, price in cents unless overridden),
    shown in major units with line_total = quantity x unit price rounded half up; the answer is one
    LineItem for an object, the LineItems in request order for an array; the invoice's money is
    recomputed exactly. A batch that would make the total negative is 422 and changes nothing.

    Rule: openapi.yaml create_line_items and #/components/schemas/LineItemCreate, LineItem; precision rows
    P68-P71 and P09
    """
    served(ctx, CREATE)
    combos = priced_combos(ctx)
    message = envelope_message(ctx.spec, "LineItemEnvelope")
    currency = property_defaults(request_body_schema(ctx.spec, "create_invoice")).get("currency")

    @st.composite
    def cases(draw: st.DrawFn) -> tuple[Combination, list[dict[str, Any]], bool]:
        combo = draw(st.sampled_from(combos))
        catalog = products(ctx, combo.owner)
        lines = draw(st.lists(line_requests(catalog, currency), min_size=1, max_size=3))
        return combo, lines, len(lines) == 1 and draw(st.booleans())

    first = combos[0]
    default = next(p for p in ctx.profile.products_for(first.owner) if p.unit_price is not None)

    @given(case=cases())
    @example(case=(first, [{"context_type": default.context_type, "sku": default.sku, "quantity": 2}], True))
    @example(
        case=(
            first,
            [
                {
                    "context_type": default.context_type,
                    "sku": default.sku,
                    "quantity": 1.5,
                    "unit_price": 12345,
                }
            ],
            False,
        )
    )
    def test(case: tuple[Combination, list[dict[str, Any]], bool]) -> None:
        combo, lines, single = case
        before = fresh(ctx, combo)
        body: Any = lines[0] if single else lines
        exchange = ctx.client.create_lines(combo.token, before["uid"], body)
        priced = [(p, line) for line in lines if (p := _product(ctx, combo.owner, line["sku"])) is not None]
        added = [(str(p.context_type), cents(line["quantity"], _price(p, line))) for p, line in priced]
        if signed_total(ctx, existing_lines(before) + added) < 0:
            expect.error(exchange, 422, "line items that would make the total negative")
            unchanged(ctx, combo.token, before, "line items that would make the total negative", exchange)
            return
        _check_created_lines(ctx, combo.token, before, exchange, single, len(lines), priced, message)

    ctx.hypothesis("line_items_priced_from_products", test, weight=0.4)


def _check_created_lines(
    ctx: Context,
    token: str,
    before: dict[str, Any],
    exchange: Exchange,
    single: bool,
    count: int,
    priced: list[tuple[Product, dict[str, Any]]],
    message: str,
) -> None:
    """An accepted line-item create: the answer's shape (one object, or `count` lines) and message
    (P71), each line priced from its product (P68, P69), and the invoice recomputed (P70) holding
    exactly the lines answered."""
    answer = answer_lines(exchange, single, count, "a line-item create")
    if message_of(exchange) != message:
        raise Violation(f"a line-item create must say {message!r}; said {message_of(exchange)!r}", exchange)
    for (product, line), got in zip(priced, answer, strict=True):
        diffs = line_mismatches(expected_line(product, line, before), got, line["quantity"])
        if diffs:
            raise Violation(f"the line item for {line!r} is wrong: {'; '.join(diffs)}", exchange)
    invoice = recomputed(ctx, token, before, "a line-item create", exchange)
    listed = [expect.mapping(x) for x in expect.sequence(invoice.get("line_items"))]
    if not expect.same_multiset(answer, listed):
        raise Violation("the invoice's line_items are not the lines the create answered", exchange)


def _line_change(draw: st.DrawFn, catalog: list[Product]) -> dict[str, Any]:
    change: dict[str, Any] = {}
    if draw(st.booleans()):
        change["quantity"] = draw(quantities())
    if draw(st.booleans()):
        change["unit_price"] = draw(st.integers(min_value=0, max_value=500_000))
    if not change or draw(st.booleans()):
        product = draw(st.sampled_from(catalog))
        change.update(context_type=product.context_type, sku=product.sku)
        if product.unit_price is None:
            change.setdefault("unit_price", 100)
    return change


@prop("line_items_money_after_every_change", kind="line_items", rows=("P70", "P71", "P72", "P69"))
def line_items_money_after_every_change(ctx: Context) -> None:
    """Line items created, then changed (partially, by uid), then deleted: each answer is right and
    after every step the invoice's money is exactly the sum of its lines (cents, half up), with
    payments untouched; an omitted field of a changed line is unchanged, a new sku brings its
    product's name and price unless unit_price is sent.

    Rule: openapi.yaml update_line_items, delete_line_items and precision rows P70 (recomputed at once),
    P71 (answers), P72 (update by uid, partial)
    """
    served_all(ctx, CREATE, UPDATE, DELETE)
    combos = priced_combos(ctx)
    message = envelope_message(ctx.spec, "LineItemEnvelope")
    shown = set(component_schema(ctx.spec, "LineItem").get("properties", {}))  # extra fields: P25

    @st.composite
    def cases(draw: st.DrawFn) -> tuple[Combination, list[dict[str, Any]], list[dict[str, Any]], bool]:
        combo = draw(st.sampled_from(combos))
        catalog = [p for p in products(ctx, combo.owner) if _adds(ctx, p)] or products(ctx, combo.owner)
        lines = draw(st.lists(line_requests(catalog), min_size=2, max_size=3))
        edits = [_line_change(draw, catalog) for _ in range(draw(st.integers(1, len(lines))))]
        return combo, lines, edits, len(edits) == 1 and draw(st.booleans())

    @given(case=cases())
    def test(case: tuple[Combination, list[dict[str, Any]], list[dict[str, Any]], bool]) -> None:
        combo, lines, edits, single = case
        before = fresh(ctx, combo)
        created = ctx.client.create_lines(combo.token, before["uid"], lines)
        made = answer_lines(created, False, len(lines), "a line-item create")
        invoice = recomputed(ctx, combo.token, before, "a line-item create", created)
        changes = [{"uid": line["uid"], **edit} for line, edit in zip(made, edits, strict=False)]
        updated = ctx.client.update_lines(combo.token, before["uid"], changes[0] if single else changes)
        answer = answer_lines(updated, single, len(changes), "a line-item update")
        if message_of(updated) != message:
            raise Violation(f"a line-item update must say {message!r}; said {message_of(updated)!r}", updated)
        for old, change, got in zip(made, changes, answer, strict=False):
            expected, quantity = _changed_line(ctx, combo.owner, old, change, shown)
            diffs = line_mismatches(expected, got, quantity)
            if diffs:
                raise Violation(
                    f"line {old['uid']} after the change {change!r}: {'; '.join(diffs)}", created, updated
                )
        invoice = recomputed(ctx, combo.token, invoice, "a line-item update", updated)
        _check_first_line_deleted(ctx, combo.token, before["uid"], invoice, made)

    ctx.hypothesis("line_items_money_after_every_change", test, weight=0.3)


def _changed_line(
    ctx: Context, owner: str, old: dict[str, Any], change: dict[str, Any], shown: set[str]
) -> tuple[dict[str, Any], Any]:
    """The line a partial update must answer (P72), and its quantity: omitted fields as they were, a
    new sku bringing its product's name and price unless unit_price is sent, money recomputed."""
    expected = {
        k: v for k, v in old.items() if k in shown and k not in ("quantity", "unit_price", "line_total")
    }
    quantity = change.get("quantity", old.get("quantity"))
    unit = change.get("unit_price")
    product = _product(ctx, owner, change["sku"]) if "sku" in change else None
    if product is not None:
        expected.update(context_type=product.context_type)
        if product.name is not None:
            expected["context_name"] = product.name
        if product.context_type_uid is not None:
            expected["context_type_uid"] = product.context_type_uid
        if unit is None:
            unit = product.unit_price
    if unit is None:
        unit = line_cents(old)[0]
    expected.update(unit_price=unit / 100, line_total=cents(quantity, unit) / 100)
    return expected, quantity


def _check_first_line_deleted(
    ctx: Context, token: str, uid: str, invoice: dict[str, Any], made: list[dict[str, Any]]
) -> None:
    """Deleting the first created line answers {} and 'Success' (P71), recomputes the money (P70)
    and leaves every other line."""
    doomed = [made[0]["uid"]]
    deleted = ctx.client.delete_lines(token, uid, doomed)
    data = data_of(deleted, "a line-item delete")
    if data != {} or message_of(deleted) != "Success":
        raise Violation(f"a line-item delete answers data {{}} and 'Success'; got {data!r}", deleted)
    after = recomputed(ctx, token, invoice, "a line-item delete", deleted)
    left = {expect.mapping(line).get("uid") for line in expect.sequence(after.get("line_items"))}
    if doomed[0] in left or len(left) != len(made) - 1:
        raise Violation(
            f"after deleting line {doomed[0]} the invoice's lines are {sorted(map(str, left))}", deleted
        )


@prop("line_item_refusals_change_nothing", kind="line_items", rows=("P68", "P70", "P72", "P63", "P62"))
def line_item_refusals_change_nothing(ctx: Context) -> None:
    """A line-item request with a product's wrong context_type, another currency, an unknown sku, a
    uid that is not a line of the invoice, no items or a uid twice is 422 naming the field (index
    first in an array), and the invoice does not change.

    Rule: openapi.yaml create_line_items / update_line_items / delete_line_items descriptions and
    UnprocessableChange; precision rows P68, P72, P63, P62 (all or nothing)
    """
    served_all(ctx, CREATE, UPDATE, DELETE)
    combos = priced_combos(ctx)
    types = list(component_schema(ctx.spec, "LineItemContextType").get("enum", []))
    kinds = [
        "wrong context_type",
        "other currency",
        "unknown sku",
        "unknown line uid (update)",
        "unknown line uid (delete)",
        "duplicate line uid",
        "empty batch",
    ]

    @given(combo=st.sampled_from(combos), kind=st.sampled_from(kinds), batch=st.booleans(), data=st.data())
    @example(combo=combos[0], kind="unknown sku", batch=True, data=None)
    @example(combo=combos[0], kind="wrong context_type", batch=False, data=None)
    def test(combo: Combination, kind: str, batch: bool, data: st.DataObject | None) -> None:
        catalog = products(ctx, combo.owner)
        base = next((p for p in catalog if _adds(ctx, p)), catalog[0])
        good = {"context_type": base.context_type, "sku": base.sku, "quantity": 1, "unit_price": 1000}
        invoice = fresh(ctx, combo)
        made = answer_lines(
            ctx.client.create_lines(combo.token, invoice["uid"], [good]), False, 1, "a line-item create"
        )
        before = read(ctx, combo.token, invoice["uid"], "get")[1]
        bad = _bad_line(kind, good, base, before, types)
        if bad is None:
            return
        send, body, field, index = _refusal_request(ctx, kind, batch, good, bad, made[0])
        exchange = send(combo.token, invoice["uid"], body)
        what = f"a line-item request with a {kind}"
        if field is None:
            if kind == "unknown line uid (delete)":
                expect.expect_field_error(exchange, 422, f"/{index}", what)
            else:
                expect.error(exchange, 422, what)
        else:
            expect.expect_field_error(exchange, 422, pointer(index, field), what)
        unchanged(ctx, combo.token, before, what, exchange)

    ctx.hypothesis("line_item_refusals_change_nothing", test, weight=0.35)


def _bad_line(
    kind: str, good: dict[str, Any], base: Product, before: dict[str, Any], types: list[Any]
) -> dict[str, Any] | None:
    """The good line spoilt as `kind` says (unchanged for the kinds about uids and batches); None
    when the spec's enum has no other context_type to spoil it with."""
    bad = dict(good)
    if kind == "wrong context_type":
        others = [t for t in types if t != base.context_type]
        if not others:
            return None
        bad["context_type"] = others[0]
    elif kind == "other currency":
        bad["currency"] = "EUR" if before.get("currency") != "EUR" else "USD"
    elif kind == "unknown sku":
        bad["sku"] = f"CK-NO-SUCH-{unknown_uid()[:8]}"
    return bad


REFUSED_FIELD = {"wrong context_type": "context_type", "other currency": "currency"}


def _refusal_request(
    ctx: Context, kind: str, batch: bool, good: dict[str, Any], bad: dict[str, Any], line: dict[str, Any]
) -> tuple[Callable[..., Exchange], Any, str | None, int | None]:
    """The request a refusal of `kind` sends (the client's method and the body), with the field its
    422 must name (None: no field) and the array index that field is under (None: a single object).
    `line` is the invoice's one line, whose uid the kinds about uids send."""
    index = 1 if batch else None
    field: str | None = REFUSED_FIELD.get(kind, "sku")
    send: Callable[..., Exchange] = ctx.client.create_lines
    body: Any = [good, bad] if batch else bad
    if kind == "unknown line uid (update)":
        send, field = ctx.client.update_lines, "uid"
        item = {"uid": unknown_uid(), "quantity": 2}
        body = [{"uid": line["uid"], "quantity": 3}, item] if batch else item
    elif kind == "unknown line uid (delete)":
        send, field, index = ctx.client.delete_lines, None, 1
        body = [line["uid"], unknown_uid()]
    elif kind == "duplicate line uid":
        send, field = ctx.client.update_lines, None
        body = [{"uid": line["uid"], "quantity": 3}, {"uid": line["uid"], "quantity": 4}]
    elif kind == "empty batch":
        send, field, body = ctx.client.create_lines, None, []
    return send, body, field, index


@prop("line_items_total_never_negative", kind="line_items", rows=("P70",))
def line_items_total_never_negative(ctx: Context) -> None:
    """A discount line bigger than the invoice's total, or deleting the product line under a discount,
    is 422 and changes nothing: total_cents and amount_remaining_cents never go below 0.

    Rule: openapi.yaml delete_line_items ("a deletion that would make the total negative ... is 422") and
    precision row P70
    """
    served_all(ctx, CREATE, DELETE)
    pairs = _product_and_discount(ctx, priced_combos(ctx))

    @given(
        case=st.sampled_from(pairs),
        way=st.sampled_from(["add discount", "delete product"]),
        price=st.integers(100, 10_000),
    )
    @example(case=pairs[0], way="delete product", price=1000)
    @example(case=pairs[0], way="add discount", price=1000)
    def test(case: tuple[Combination, Product, Product], way: str, price: int) -> None:
        combo, product, discount = case
        invoice = fresh(ctx, combo)
        lines = [
            {"context_type": product.context_type, "sku": product.sku, "quantity": 1, "unit_price": price}
        ]
        if way == "delete product":
            lines.append(
                {
                    "context_type": discount.context_type,
                    "sku": discount.sku,
                    "quantity": 1,
                    "unit_price": price // 2,
                }
            )
        made = answer_lines(
            ctx.client.create_lines(combo.token, invoice["uid"], lines),
            False,
            len(lines),
            "a line-item create",
        )
        before = read(ctx, combo.token, invoice["uid"], "get")[1]
        if way == "add discount":
            bad = {
                "context_type": discount.context_type,
                "sku": discount.sku,
                "quantity": 1,
                "unit_price": price + 1,
            }
            exchange = ctx.client.create_lines(combo.token, invoice["uid"], bad)
        else:
            exchange = ctx.client.delete_lines(combo.token, invoice["uid"], [made[0]["uid"]])
        expect.error(exchange, 422, f"a line-item change making the total negative ({way})")
        unchanged(ctx, combo.token, before, f"a line-item change making the total negative ({way})", exchange)

    ctx.hypothesis("line_items_total_never_negative", test, weight=0.2)


def _product_and_discount(
    ctx: Context, combos: list[Combination]
) -> list[tuple[Combination, Product, Product]]:
    """Each combination whose organization has both a product adding to the subtotal and a discount
    product (its first of each): the total can only be pushed below 0 with both."""
    pairs = []
    for combo in combos:
        catalog = ctx.profile.products_for(combo.owner)
        discounts = [
            p for p in catalog if ctx.facts.context_type_bucket(str(p.context_type)) == "discount_cents"
        ]
        positive = [
            p for p in catalog if ctx.facts.context_type_bucket(str(p.context_type)) == "subtotal_cents"
        ]
        if discounts and positive:
            pairs.append((combo, positive[0], discounts[0]))
    if not pairs:
        raise NotRun("the profile names no organization with both a product and a discount product")
    return pairs
