"""Create: omitted fields default, supplied fields echo, a new invoice's content and day counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, NotRun, Violation, prop
from conformance.profile import BlueprintLine
from conformance.properties.steps import (
    combinations,
    create,
    first_example,
)
from contract.spec import property_defaults, request_body_schema

# -- create: defaults, echo, numbers ------------------------------------------------------------------


@prop("defaults_applied", kind="create", rows=("P24",))
def defaults_applied(ctx: Context) -> None:
    """Fields omitted from a create request come back with the spec's defaults, omitted dates as null.

    Rule: openapi.yaml #/components/schemas/InvoiceCreateRequest properties.*.default (status, currency,
    invoice_type) and precision row P24 (the server does not fill issue_date / due_date); contract
    notes, Facts: request body table
    """
    defaults = property_defaults(request_body_schema(ctx.spec, "create_invoice"))
    if not defaults:
        raise NotRun("the spec declares no defaults for the create request")
    names = sorted(defaults)
    combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec), omitted=st.sets(st.sampled_from(names), min_size=1))
    @example(plan=first_example(ctx), omitted=set(names))
    def test(plan: gen.CreatePlan, omitted: set[str]) -> None:
        plan = gen.CreatePlan(
            plan.combo,
            plan.blueprint,
            {k: v for k, v in plan.fields.items() if k not in omitted},
            plan.number,
        )
        exchange, data = create(ctx, plan)
        for name in DATES:
            if name not in plan.fields and data.get(name) is not None:
                raise Violation(
                    f"{name} was omitted, so it must be null (P24); got {data.get(name)!r}", exchange
                )
        for name in omitted:
            if data.get(name) != defaults[name]:
                raise Violation(
                    f"{name} was omitted, so it must default to {defaults[name]!r}; got {data.get(name)!r}",
                    exchange,
                )

    ctx.hypothesis("defaults_applied", test)


ECHOED = ("target_party_uid", "document_uid", "invoice_blueprint_uid", "status", "currency", "invoice_type")
DATES = ("issue_date", "due_date")


@prop("supplied_fields_echoed", kind="create", rows=("P18", "P23", "P30"))
def supplied_fields_echoed(ctx: Context) -> None:
    """Every field a create request supplies comes back unchanged (date-times as the same instant).

    Rule: openapi.yaml create_invoice description ("The response echoes every supplied field (dates as
    sent)"; a supplied invoice_number "is stored exactly as sent"); contract notes, Facts: "A response
    echoes what was sent"
    """
    combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, numbers=gen.number_plans(("omit", "supplied"))))
    @example(
        plan=gen.CreatePlan(
            combinations(ctx)[0],
            None,
            {
                "issue_date": "2026-03-30T02:00:00+02:00",
                "due_date": "2026-04-29T00:00:00Z",
                "currency": "EUR",
            },
            gen.NumberPlan("supplied", " CK-{} "),
            fit=ctx.facts.supplied_number,
        )
    )
    def test(plan: gen.CreatePlan) -> None:
        body = plan.body()
        exchange = ctx.client.create(plan.combo.token, body)
        data = expect.success(exchange, "create")
        for name in ECHOED:
            if name in body and data.get(name) != body[name]:
                raise Violation(
                    f"{name} was sent as {body[name]!r} but came back as {data.get(name)!r}", exchange
                )
        for name in DATES:
            if name in body and not expect.same_instant(body[name], data.get(name)):
                raise Violation(
                    f"{name} was sent as {body[name]!r} but came back as {data.get(name)!r} "
                    "(not the same instant)",
                    exchange,
                )
        if plan.number.mode == "supplied" and data.get("invoice_number") != body["invoice_number"]:
            raise Violation(
                f"invoice_number was sent as {body['invoice_number']!r} but stored as "
                f"{data.get('invoice_number')!r} (it must be stored exactly as sent)",
                exchange,
            )

    ctx.hypothesis("supplied_fields_echoed", test)


@prop("new_invoice_content", kind="create", rows=("P15",))
def new_invoice_content(ctx: Context) -> None:
    """A new invoice is unpaid, uncommented, and has exactly its blueprint's line items and notes.

    Rule: openapi.yaml #/components/schemas/Invoice (a new invoice has no comments and no integrations;
    paid_date null on create; collection_method as its x-on-create says; line items, fields and notes only
    from its blueprint), LineItem, InvoiceNotes; contract notes, choices 1 and 2
    """
    combos = combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec))
    @example(plan=gen.CreatePlan(combos[0], blueprint=None))
    def test(plan: gen.CreatePlan) -> None:
        exchange, data = create(ctx, plan)
        _check_new_invoice_fixed_fields(ctx, exchange, data)
        blueprint_uid = plan.blueprint if isinstance(plan.blueprint, str) else None
        if data.get("invoice_blueprint_uid") != blueprint_uid:
            raise Violation(
                f"invoice_blueprint_uid must be {blueprint_uid!r}; got {data.get('invoice_blueprint_uid')!r}",
                exchange,
            )
        lines, notes = data.get("line_items"), data.get("invoice_notes")
        if blueprint_uid is None:
            if lines != []:
                raise Violation(f"an invoice without a blueprint has no line items; got {lines!r}", exchange)
            if notes != {"invoice_memo": None, "invoice_footer": None}:
                raise Violation(f"an invoice without a blueprint has null notes; got {notes!r}", exchange)
            return
        blueprint = ctx.profile.blueprint(blueprint_uid)
        if blueprint is None:
            return
        if blueprint.invoice_notes is not None and notes != {
            "invoice_memo": blueprint.invoice_notes.get("invoice_memo"),
            "invoice_footer": blueprint.invoice_notes.get("invoice_footer"),
        }:
            raise Violation(
                f"invoice_notes must be the blueprint's {blueprint.invoice_notes!r}; got {notes!r}", exchange
            )
        if blueprint.line_items is None:
            return
        _check_blueprint_line_items(exchange, data, blueprint.line_items)

    ctx.hypothesis("new_invoice_content", test, weight=0.5)


LINE_ATTRIBUTES = ("context_type_uid", "context_type", "context_name", "quantity", "unit_price")


def _plain(value: Any) -> Any:
    """Numbers as floats, so `2` and `2.0` compare equal in a multiset."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _check_new_invoice_fixed_fields(ctx: Context, exchange: Exchange, data: dict[str, Any]) -> None:
    """The fields every new invoice has whatever was sent: unpaid, uncommented, not integrated, and
    collected as the spec's x-on-create says."""
    fixed: dict[str, Any] = {"paid_date": None, "comments": [], "integrations": [], "has_comments": False}
    fixed["collection_method"] = ctx.facts.collection_method_on_create
    for name, value in fixed.items():
        if data.get(name) != value:
            raise Violation(f"a new invoice must have {name} = {value!r}; got {data.get(name)!r}", exchange)


def _check_blueprint_line_items(
    exchange: Exchange, data: dict[str, Any], blueprint_lines: tuple[BlueprintLine, ...]
) -> None:
    """A blueprint's invoice gets exactly the blueprint's line items, in the invoice's currency and
    pointing at it; their order is open (P15), so they are compared as a multiset."""
    lines = data.get("line_items")
    if not isinstance(lines, list) or len(lines) != len(blueprint_lines):
        raise Violation(
            f"the blueprint has {len(blueprint_lines)} line items; the invoice has "
            f"{len(lines) if isinstance(lines, list) else lines!r}",
            exchange,
        )
    currency = data.get("currency")
    for got in lines:
        if not isinstance(got, dict):
            raise Violation(f"a line item is not an object: {got!r}", exchange)
        if got.get("currency") != currency or got.get("invoice_uid") != data.get("uid"):
            raise Violation(
                "a line item's currency and invoice_uid are the invoice's "
                f"({currency!r}, {data.get('uid')}); "
                f"got {got.get('currency')!r}, {got.get('invoice_uid')!r}",
                exchange,
            )
    # The order of line_items is open (precision row P15): compared as a multiset, on the
    # attributes the profile states for every line of the blueprint.
    known = [
        name for name in LINE_ATTRIBUTES if all(getattr(line, name) is not None for line in blueprint_lines)
    ]
    expected_lines = [{name: getattr(line, name) for name in known} for line in blueprint_lines]
    got_lines = [{name: _plain(got.get(name)) for name in known} for got in lines]
    if not expect.same_multiset(expected_lines, got_lines):
        raise Violation(
            f"the line items must be the blueprint's (in any order) {expected_lines!r}; got {got_lines!r}",
            exchange,
        )


@prop("age_and_overdue_days", kind="create", rows=("P31", "P38"))
def age_and_overdue_days(ctx: Context) -> None:
    """age and overdue_days count whole days since issue_date / due_date (a day of slack for clocks).

    Rule: openapi.yaml #/components/schemas/Invoice properties.age (whole days since issue_date, 0 before
    it or without one) and overdue_days (whole days since due_date while an amount remains, else 0)
    """
    combinations(ctx)
    now = gen.now_utc()
    window = {"start": now - timedelta(days=900), "end": now + timedelta(days=900)}
    dates = st.one_of(st.none(), gen.date_times(**window))

    # Explicit: dates a month ahead (both counts must be 0, not negative) and a month and a half ago.
    # Random dates alone may all fall in the past, or within the day of slack, under some seeds
    # (a server answering negative days before the dates passed seed 4030616404).
    ahead = (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ago = (now - timedelta(days=45)).strftime("%Y-%m-%dT%H:%M:%SZ")
    earlier = (now - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = gen.CreatePlan(combinations(ctx)[0])

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, exclude=DATES), issue=dates, due=dates)
    @example(plan=first, issue=ahead, due=ahead)
    @example(plan=first, issue=ago, due=ago)
    @example(plan=first, issue=ago, due=earlier)  # a due date before the issue date is accepted (P31)
    def test(plan: gen.CreatePlan, issue: str | None, due: str | None) -> None:
        plan = gen.CreatePlan(
            plan.combo, plan.blueprint, {**plan.fields, "issue_date": issue, "due_date": due}, plan.number
        )
        exchange, data = create(ctx, plan)
        at = gen.now_utc()

        def days_since(text: str | None) -> int:
            instant = expect.parse_instant(text)
            return max(0, (at - instant).days) if instant is not None else 0

        expected_age = days_since(issue)
        remaining = data.get("amount_remaining_cents")
        expected_overdue = days_since(due) if isinstance(remaining, int) and remaining > 0 else 0
        for name, expected in (("age", expected_age), ("overdue_days", expected_overdue)):
            got = data.get(name)
            if not isinstance(got, int) or abs(got - expected) > 1:
                raise Violation(f"{name} must be {expected} (±1 day) for this invoice; got {got!r}", exchange)

    ctx.hypothesis("age_and_overdue_days", test, weight=0.5)
