"""Line-item changes keep an invoice's money by deltas: always what a full recomputation gives.

`line_items` moves the money sums kept on a stored invoice by the lines each change adds,
changes or removes, and keeps the lines in a persistent sequence (`mockserver/domain/line_list.py`)
instead of copying them. This property test applies random sequences of creates, updates and
deletes of line items — refused ones among them (totals below 0, unknown uids, a uid twice, a
journal that fails after the change) — to one invoice, in-process on the rules, and checks
after every step that the kept money equals `rules.price` over all the lines (the reference),
that the lines are in order of creation, that a refused step changed nothing, and at the end
that every older version of the invoice still holds exactly the lines it had.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from mockserver.domain import line_items, rules
from mockserver.domain.errors import Refusal
from mockserver.domain.invoice_store import InvoiceStore
from mockserver.domain.line_list import LineList
from mockserver.domain.rules import Invoice, Line
from mockserver.http import views
from tests.mockserver.support import (
    CREATE_DEFAULTS,
    NOW,
    ORG_A,
    UNKNOWN_UID,
    USER_A,
    WORLD,
    blueprint_of,
    body_for,
)
from tests.world import FACTS

SKUS = sorted(sku for owner, sku in WORLD.products if owner == ORG_A)
QUANTITIES = st.sampled_from([0, 1, 2, 3, 7, 0.5, 12.25, 250])
UNIT_PRICES = st.none() | st.integers(0, 200_000)


class JournalDown(Exception):
    """The state file's commit failed after the change was made in memory: the store undoes it."""


def _item(sku: int, quantity: Any, unit_price: int | None) -> dict[str, Any]:
    item = {"sku": SKUS[sku % len(SKUS)], "quantity": quantity}
    return item if unit_price is None else {**item, "unit_price": unit_price}


CREATE = st.tuples(
    st.just("create"),
    st.lists(st.builds(_item, st.integers(0, 99), QUANTITIES, UNIT_PRICES), min_size=1, max_size=3),
)
# A line is named by its index among the invoice's lines (mod their count); None: an unknown uid.
LINE_REF = st.tuples(st.integers(0, 4), st.integers(0, 10_000)).map(lambda dice: dice[1] if dice[0] else None)
CHANGES = st.fixed_dictionaries(
    {}, optional={"quantity": QUANTITIES, "unit_price": st.integers(0, 200_000), "sku": st.integers(0, 99)}
)
UPDATE = st.tuples(st.just("update"), st.lists(st.tuples(LINE_REF, CHANGES), min_size=1, max_size=3))
DELETE = st.tuples(st.just("delete"), st.lists(LINE_REF, min_size=1, max_size=3))
STEPS = st.lists(st.tuples(st.one_of(CREATE, UPDATE, DELETE), st.integers(0, 9)), max_size=40)


def _uid(invoice: Invoice, ref: int | None) -> str:
    lines = invoice.lines.items()
    return UNKNOWN_UID if ref is None or not lines else lines[ref % len(lines)].uid


def _apply(store: InvoiceStore, invoice: Invoice, step: tuple[str, list[Any]]) -> None:
    kind, items = step
    if kind == "create":
        line_items.create_lines(WORLD, store, USER_A, invoice.uid, items, FACTS)
    elif kind == "update":
        body = [{**changes, "uid": _uid(invoice, ref)} for ref, changes in items]
        for item in body:
            if "sku" in item:
                item["sku"] = SKUS[item["sku"] % len(SKUS)]
        line_items.update_lines(WORLD, store, USER_A, invoice.uid, body, FACTS)
    else:
        line_items.delete_lines(
            WORLD, store, USER_A, invoice.uid, [_uid(invoice, ref) for ref in items], FACTS
        )


def _expected_order(before: list[Line], step: tuple[str, list[Any]], after: list[Line]) -> list[str]:
    """The uids after an accepted step: created ones appended, deleted ones gone, the rest in place."""
    kind = step[0]
    kept = [line.uid for line in before]
    if kind == "create":
        return kept + [line.uid for line in after[len(before) :]]
    if kind == "delete":
        present = {line.uid for line in after}
        return [uid for uid in kept if uid in present]
    return kept


def _assert_priced(invoice: Invoice) -> None:
    reference = rules.price(list(invoice.lines), FACTS)
    assert invoice.money == reference
    shown = views.money_fields(invoice, NOW)
    assert (shown["subtotal_cents"], shown["discount_cents"], shown["tax_cents"]) == (
        reference.subtotal_cents,
        reference.discount_cents,
        reference.tax_cents,
    )
    assert shown["total_cents"] >= 0


@seed(20261202)
@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(with_blueprint=st.booleans(), steps=STEPS)
def test_kept_money_equals_a_full_recomputation_after_every_step(
    with_blueprint: bool, steps: list[tuple[tuple[str, list[Any]], int]]
) -> None:
    store = InvoiceStore()
    failing = {"journal": False}

    def journal(_puts: list[Any], _deleted: list[Any], _undo: Any) -> None:
        if failing["journal"]:
            raise JournalDown

    store.on_change = journal
    body = body_for(ORG_A)
    if with_blueprint:
        body["invoice_blueprint_uid"] = blueprint_of(ORG_A).uid
    invoice = rules.create_invoice(WORLD, store, USER_A, body, CREATE_DEFAULTS, NOW, FACTS)
    history: list[tuple[Invoice, list[Line]]] = [(invoice, list(invoice.lines))]
    for step, dice in steps:
        before = store.get(invoice.uid)
        assert before is not None
        before_lines = list(before.lines)
        failing["journal"] = dice == 0  # one step in ten: the change is made, then undone
        try:
            _apply(store, before, step)
            refused = False
        except (Refusal, JournalDown) as why:
            refused = True
            event(f"{step[0]} refused: {getattr(why, 'message', type(why).__name__)[:28]}")
        else:
            event(f"{step[0]} accepted")
        after = store.get(invoice.uid)
        assert after is not None
        _assert_priced(after)
        if refused:
            assert after == before
            assert list(after.lines) == before_lines
            assert after.money == before.money
        else:
            assert [line.uid for line in after.lines] == _expected_order(
                before_lines, step, list(after.lines)
            )
            history.append((after, list(after.lines)))
    for old, old_lines in reversed(history):  # every older version still reads as it was
        assert list(old.lines) == old_lines
        _assert_priced(old)
    current = store.get(invoice.uid)
    assert current is not None and list(current.lines) == history[-1][1]


def _line(uid: str, quantity: int = 1) -> Line:
    product = WORLD.products[(ORG_A, SKUS[0])]
    return Line(
        uid, product.context_type_uid, product.context_type, product.name, Decimal(quantity), Decimal(100)
    )


def test_an_old_version_reads_and_changes_as_it_was_and_the_new_one_too() -> None:
    first: LineList[Line] = LineList([_line("a"), _line("b")])
    second = first.appended([_line("c")])
    third = second.replaced([_line("b", 5)]).without(["a"])
    assert [line.uid for line in third] == ["b", "c"] and third.get("b") == _line("b", 5)
    branch = first.without(["b"])  # from an old version: the array walks back to it
    assert [line.uid for line in branch] == ["a"]
    assert [line.uid for line in second] == ["a", "b", "c"] and second.get("b") == _line("b")
    assert [line.uid for line in third] == ["b", "c"]
    assert first == LineList([_line("a"), _line("b")]) and len(first) == 2


def test_many_deletes_compact_the_holes_and_keep_the_order() -> None:
    lines: LineList[Line] = LineList([_line(f"l{index}") for index in range(300)])
    start = lines
    for index in range(0, 300, 3):
        lines = lines.without([f"l{index}", f"l{index + 1}"])
    assert [line.uid for line in lines] == [f"l{index}" for index in range(2, 300, 3)]
    assert len(start.items()) == 300 and start.get("l0") is not None
    assert [line.uid for line in lines] == [f"l{index}" for index in range(2, 300, 3)]


@pytest.mark.parametrize("uid", ["a", "zz"])
def test_a_uid_twice_or_an_unknown_one_is_refused_before_anything_changes(uid: str) -> None:
    lines: LineList[Line] = LineList([_line("a")])
    with pytest.raises((ValueError, KeyError)):
        if uid == "a":
            lines.appended([_line("a")])
        else:
            lines.replaced([_line(uid)])
    assert [line.uid for line in lines] == ["a"]
    assert [line.uid for line in lines.appended([_line("b")])] == ["a", "b"]


def test_a_line_item_change_makes_no_pass_over_the_invoices_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """What keeps a change's cost its own: neither a sum nor a copy of every line (the benchmark
    `line_items_create` measures the cost; this says where it would come back from)."""
    store = InvoiceStore()
    invoice = rules.create_invoice(WORLD, store, USER_A, body_for(ORG_A), CREATE_DEFAULTS, NOW, FACTS)
    product = next(sku for sku in SKUS if WORLD.products[(ORG_A, sku)].context_type == "PRODUCT")
    line_items.create_lines(WORLD, store, USER_A, invoice.uid, [{"sku": product, "quantity": 1}] * 50, FACTS)
    first = store.get(invoice.uid).lines.items()[0].uid  # type: ignore[union-attr]

    def whole(*_args: Any) -> Any:
        raise AssertionError("a pass over all of the invoice's lines")

    monkeypatch.setattr(rules, "price", whole)
    monkeypatch.setattr(LineList, "items", whole)
    monkeypatch.setattr(LineList, "__iter__", whole)
    _, (added,) = line_items.create_lines(
        WORLD, store, USER_A, invoice.uid, {"sku": product, "quantity": 2}, FACTS
    )
    line_items.update_lines(WORLD, store, USER_A, invoice.uid, {"uid": first, "quantity": 3}, FACTS)
    line_items.delete_lines(WORLD, store, USER_A, invoice.uid, [added.uid], FACTS)
    monkeypatch.undo()
    after = store.get(invoice.uid)
    assert after is not None and len(after.lines) == 50 and after.money == rules.price(after.lines, FACTS)
