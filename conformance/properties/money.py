"""Money: the identities between the cents fields and the line items."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import example, given

from conformance import expect
from conformance import strategies as gen
from conformance.core import Context, Violation, prop
from conformance.properties.steps import (
    combinations,
    create,
    default_invoice_type,
)
from contract.facts import ContractFacts


def money_problems(invoice: dict[str, Any], facts: ContractFacts, *, summary: bool = False) -> list[str]:
    """Every broken money identity of an Invoice (or InvoiceSummary): contract notes choice 2."""
    names = (
        "subtotal_cents",
        "discount_cents",
        "tax_cents",
        "total_cents",
        "pre_payment_credit_notes_cents",
        "amount_due_cents",
        "amount_paid_cents",
        "amount_remaining_cents",
    )
    raw = {name: invoice.get(name) for name in names}
    bad = [name for name, value in raw.items() if not isinstance(value, int) or isinstance(value, bool)]
    if bad:
        return [f"{', '.join(bad)} must be integers"]
    values: dict[str, int] = {name: value for name, value in raw.items() if isinstance(value, int)}
    problems = [f"{name} = {value} is below 0" for name, value in values.items() if value < 0]
    v = values
    if v["total_cents"] != v["subtotal_cents"] - v["discount_cents"] + v["tax_cents"]:
        problems.append(
            f"total_cents {v['total_cents']} != subtotal_cents {v['subtotal_cents']} - discount_cents "
            f"{v['discount_cents']} + tax_cents {v['tax_cents']}"
        )
    if v["amount_due_cents"] != v["total_cents"] - v["pre_payment_credit_notes_cents"]:
        problems.append(
            f"amount_due_cents {v['amount_due_cents']} != total_cents {v['total_cents']} - "
            f"pre_payment_credit_notes_cents {v['pre_payment_credit_notes_cents']}"
        )
    if v["amount_remaining_cents"] != v["amount_due_cents"] - v["amount_paid_cents"]:
        problems.append(
            f"amount_remaining_cents {v['amount_remaining_cents']} != "
            f"amount_due_cents {v['amount_due_cents']} - "
            f"amount_paid_cents {v['amount_paid_cents']}"
        )
    total = invoice.get("total")
    if (
        not isinstance(total, int | float)
        or isinstance(total, bool)
        or not math.isclose(total, v["total_cents"] / 100, abs_tol=1e-9)
    ):
        problems.append(f"total {total!r} != total_cents / 100 = {v['total_cents'] / 100}")
    if not summary:
        comments = invoice.get("comments")
        if invoice.get("has_comments") is not bool(comments):
            problems.append(f"has_comments {invoice.get('has_comments')!r} but comments is {comments!r}")
        problems += line_item_problems(invoice, facts)
    return problems


def line_item_problems(invoice: dict[str, Any], facts: ContractFacts) -> list[str]:
    """openapi.yaml LineItem: DISCOUNT lines make discount_cents, TAX lines tax_cents, the rest the
    subtotal; line_total = quantity * unit_price rounded to cents (a cent of slack per line)."""
    lines = invoice.get("line_items")
    if not isinstance(lines, list):
        return ["line_items is not a list"]
    sums = {"subtotal_cents": 0.0, "discount_cents": 0.0, "tax_cents": 0.0}
    problems = []
    for line in lines:
        if not isinstance(line, dict) or not all(
            isinstance(line.get(k), int | float) for k in ("quantity", "unit_price", "line_total")
        ):
            return [f"a line item lacks numeric quantity, unit_price or line_total: {line!r}"]
        if abs(line["quantity"] * line["unit_price"] - line["line_total"]) > 0.005 + 1e-9:
            problems.append(
                f"line_total {line['line_total']} != quantity * unit_price for {line.get('context_name')!r}"
            )
        kind = facts.context_type_bucket(str(line.get("context_type")))
        sums[kind] += line["line_total"] * 100
    for name, cents in sums.items():
        if abs(cents - invoice.get(name, 0)) > len(lines) + 1e-6:
            problems.append(f"{name} {invoice.get(name)} is not the sum of its line items ({round(cents)})")
    return problems


@prop("money_identities", kind="create", rows=("P09",))
def money_identities(ctx: Context) -> None:
    """The money fields of every invoice (create, get and list answers) obey the documented identities.

    Rule: openapi.yaml info.description choice 2 and #/components/schemas/Invoice, LineItem (total_cents =
    subtotal - discount + tax; amount_due = total - pre_payment_credit_notes; amount_remaining =
    amount_due - amount_paid; total = total_cents/100; all >= 0; has_comments == bool(comments)); contract
    notes, choice 2
    """
    combos = combinations(ctx)
    with_blueprint = [c for c in combos if ctx.profile.blueprints_for(c.owner)]

    @given(plan=gen.create_plans(ctx.profile, ctx.spec))
    @example(plan=gen.CreatePlan(combos[0]))
    def test(plan: gen.CreatePlan) -> None:
        exchange, data = create(ctx, plan)
        problems = money_problems(data, ctx.facts)
        if problems:
            raise Violation("the created invoice breaks the money rules: " + "; ".join(problems), exchange)
        fetched = ctx.client.get(plan.combo.token, data["uid"])
        if fetched.status == 200:
            problems = money_problems(expect.success(fetched, "get"), ctx.facts)
            if problems:
                raise Violation(
                    "the invoice read back breaks the money rules: " + "; ".join(problems), fetched
                )
        kind = plan.invoice_type(default_invoice_type(ctx))
        listed = ctx.client.list(plan.combo.token, invoice_type=kind, per_page=gen.max_per_page(ctx.spec))
        if listed.status == 200:
            page = expect.success(listed, "list")
            for item in page.get("items") or []:
                if isinstance(item, dict) and item.get("uid") == data["uid"]:
                    problems = money_problems(item, ctx.facts, summary=True)
                    if problems:
                        raise Violation(
                            "the listed invoice breaks the money rules: " + "; ".join(problems), listed
                        )

    if with_blueprint:
        blueprint_uid = ctx.profile.blueprints_for(with_blueprint[0].owner)[0].uid
        test = example(plan=gen.CreatePlan(with_blueprint[0], blueprint=blueprint_uid))(test)
    ctx.hypothesis("money_identities", test, weight=0.7)
