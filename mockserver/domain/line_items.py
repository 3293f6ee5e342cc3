"""The line-item rules: create, update and delete lines of an invoice (no HTTP here).

A request is one object or an array (P71); either way its items are applied in order on one
`Draft` of the store, all or nothing (P62, P75). Products come from the world: `(owner
organization, sku)` names one (P68); its price is the default, `unit_price` (cents) overrides
it. The invoice's money sums move by the lines added, changed or removed (never a pass over
all of its lines: a change costs its own size on an invoice of thousands of lines); a change
that would make the total (and so the amount remaining, nothing being paid, P57) negative is
refused (P70), before any new version of the lines is made.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from contract.facts import ContractFacts
from mockserver.domain import rules
from mockserver.domain.errors import Refusal
from mockserver.domain.fixtures import User, World
from mockserver.domain.invoice_store import Draft, InvoiceStore
from mockserver.domain.rules import Invoice, Line, Money
from mockserver.domain.updates import refuse_repeats, visible


def _items(body: dict[str, Any] | list[Any]) -> tuple[list[dict[str, Any]], Callable[[int], str]]:
    """The items of a request and how to name item `i` (`/i` in an array, `` for one object)."""
    if isinstance(body, list):
        return body, lambda index: f"/{index}"
    return [body], lambda _index: ""


def _amount(value: int | float) -> Decimal:
    """A JSON number as an exact decimal (a float's shortest text: 0.1 is 0.1, not 0.1000…055)."""
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _product(world: World, invoice: Invoice, item: dict[str, Any], at: str) -> Any:
    product = world.products.get((invoice.owner_uid, item["sku"]))
    if product is None:
        raise Refusal.for_field(
            "invalid", f"{at}/sku", f"no product {item['sku']!r} for this organization", "not_found"
        )
    return product


def _check_kind(kind: str, item: dict[str, Any], at: str) -> None:
    """P68: `context_type`, when sent, must be the line's product's."""
    if "context_type" in item and item["context_type"] != kind:
        raise Refusal.for_field(
            "invalid",
            f"{at}/context_type",
            f"must be {kind}, the context type of the line's product; got {item['context_type']}",
            "mismatch",
        )


def _check_currency(invoice: Invoice, item: dict[str, Any], at: str) -> None:
    if "currency" in item and item["currency"] != invoice.currency:
        raise Refusal.for_field(
            "invalid",
            f"{at}/currency",
            f"must be the invoice's currency {invoice.currency}; got {item['currency']}",
            "mismatch",
        )


def new_line(world: World, invoice: Invoice, item: dict[str, Any], at: str) -> Line:
    """P68: a line of the product `sku` names, at its price unless `unit_price` is sent."""
    product = _product(world, invoice, item, at)
    _check_kind(product.context_type, item, at)
    _check_currency(invoice, item, at)
    return Line(
        uid=str(uuid.uuid4()),
        context_type_uid=product.context_type_uid,
        context_type=product.context_type,
        context_name=product.name,
        quantity=_amount(item["quantity"]),
        unit_price_cents=Decimal(item.get("unit_price", product.unit_price_cents)),
        sku=product.sku,
    )


def changed_line(world: World, invoice: Invoice, line: Line, item: dict[str, Any], at: str) -> Line:
    """P72: omitted fields unchanged; a new `sku` brings its product's name, kind and price."""
    changes: dict[str, Any] = {}
    kind = line.context_type
    if "sku" in item:
        product = _product(world, invoice, item, at)
        kind = product.context_type
        changes.update(
            sku=product.sku,
            context_type=product.context_type,
            context_type_uid=product.context_type_uid,
            context_name=product.name,
            unit_price_cents=Decimal(product.unit_price_cents),
        )
    _check_kind(kind, item, at)
    _check_currency(invoice, item, at)
    if "quantity" in item:
        changes["quantity"] = _amount(item["quantity"])
    if "unit_price" in item:
        changes["unit_price_cents"] = Decimal(item["unit_price"])
    return dataclasses.replace(line, **changes) if changes else line


def _refuse_negative(money: Money, blame: str) -> None:
    """422 naming `blame` if the invoice's total would fall below 0 (P70)."""
    if money.total_cents < 0 or money.remaining_cents < 0:
        raise Refusal.for_field(
            "invalid",
            blame,
            f"would make the invoice's total {money.total_cents} cents; it cannot be negative",
            "negative_total",
        )


def create_lines(
    world: World,
    store: InvoiceStore,
    user: User,
    invoice_uid: str,
    body: dict[str, Any] | list[Any],
    facts: ContractFacts,
) -> tuple[Invoice, list[Line]]:
    """POST …/line_items: the invoice after the change and the new lines, in request order."""
    items, where = _items(body)

    def apply(draft: Draft) -> tuple[Invoice, list[Line]]:
        invoice = visible(draft, user, invoice_uid, "invoice_uid")
        added = [new_line(world, invoice, item, where(index)) for index, item in enumerate(items)]
        money = invoice.money.changed_by(facts.buckets, added=added)
        _refuse_negative(money, _blame(added, lambda index: where(index) + "/quantity", facts))
        priced = rules.with_lines(invoice, invoice.lines.appended(added), money)
        draft.put(priced)
        return priced, added

    return store.change(apply)


def update_lines(
    world: World,
    store: InvoiceStore,
    user: User,
    invoice_uid: str,
    body: dict[str, Any] | list[Any],
    facts: ContractFacts,
) -> tuple[Invoice, list[Line]]:
    """PUT …/line_items: the invoice after the change and the changed lines, in request order."""
    items, where = _items(body)
    refuse_repeats([item["uid"] for item in items], "/{}/uid" if isinstance(body, list) else "/uid")

    def apply(draft: Draft) -> tuple[Invoice, list[Line]]:
        invoice = visible(draft, user, invoice_uid, "invoice_uid")
        before: list[Line] = []
        changed: list[Line] = []
        lowest: tuple[int, str] | None = None
        for index, item in enumerate(items):  # one uid at most once (P63): no item sees another's
            at = where(index)
            line = invoice.lines.get(item["uid"])
            if line is None:
                raise Refusal.for_field(
                    "invalid", f"{at}/uid", f"no line item {item['uid']} on this invoice", "not_found"
                )
            new = changed_line(world, invoice, line, item, at)
            delta = _signed(new, facts) - _signed(line, facts)
            if delta < 0 and (lowest is None or delta <= lowest[0]):
                lowest = (delta, f"{at}/quantity")
            before.append(line)
            changed.append(new)
        money = invoice.money.changed_by(facts.buckets, added=changed, removed=before)
        _refuse_negative(money, lowest[1] if lowest else where(0) + "/quantity")
        priced = rules.with_lines(invoice, invoice.lines.replaced(changed), money)
        draft.put(priced)
        return priced, changed

    return store.change(apply)


def delete_lines(
    world: World, store: InvoiceStore, user: User, invoice_uid: str, uids: list[str], facts: ContractFacts
) -> Invoice:
    """DELETE …/line_items: the invoice after the lines `uids` are gone (all of them, or none)."""

    def apply(draft: Draft) -> Invoice:
        invoice = visible(draft, user, invoice_uid, "invoice_uid")
        gone: dict[str, Line] = {}
        for index, uid in enumerate(uids):
            line = invoice.lines.get(uid)
            if line is None:
                raise Refusal.for_field(
                    "invalid", f"/{index}", f"no line item {uid} on this invoice", "not_found"
                )
            gone[uid] = line
        money = invoice.money.changed_by(facts.buckets, removed=gone.values())
        positive = (f"/{i}" for i, uid in enumerate(uids) if _signed(gone[uid], facts) > 0)
        _refuse_negative(money, next(positive, "/0"))
        priced = rules.with_lines(invoice, invoice.lines.without(gone), money)
        draft.put(priced)
        return priced

    return store.change(apply)


def _signed(line: Line, facts: ContractFacts) -> int:
    """What a line adds to the total, in cents (a discount subtracts)."""
    bucket = facts.context_type_bucket(line.context_type)
    return -line.total_cents if bucket == "discount_cents" else line.total_cents


def _blame(added: list[Line], pointer: Callable[[int], str], facts: ContractFacts) -> str:
    """The item to name when the total falls below 0: the largest discount among the new lines."""
    signed = [_signed(line, facts) for line in added]
    return pointer(signed.index(min(signed))) if signed else pointer(0)
