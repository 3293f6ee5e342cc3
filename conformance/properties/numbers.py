"""Invoice numbers: generated when blank, unique per owner, compared exactly."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.core import Context, NotRun, Violation, prop
from conformance.profile import Combination
from conformance.properties.steps import (
    combinations,
    create,
)


@prop("invoice_number_generated", kind="create", rows=("P05", "P19"))
def invoice_number_generated(ctx: Context) -> None:
    """A number omitted, null or blank is generated in the spec's x-generated form, never one in use.

    Rule: openapi.yaml create_invoice description and InvoiceCreateRequest.invoice_number (generated when
    omitted, null or blank, in the form of its `x-generated` format and pattern, unique per owner
    organization); contract notes, choice 4
    """
    combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, numbers=gen.number_plans(("omit", "null", "blank"))))
    @example(plan=gen.CreatePlan(combinations(ctx)[0], number=gen.NumberPlan("blank", "  ")))
    @example(plan=gen.CreatePlan(combinations(ctx)[0], number=gen.NumberPlan("null")))
    def test(plan: gen.CreatePlan) -> None:
        owner = plan.combo.owner
        used_before = dict(ctx.numbers.get(owner, {}))
        before = gen.now_utc()
        exchange, data = create(ctx, plan)
        after = gen.now_utc()
        number = data.get("invoice_number")
        match = ctx.facts.generated_number_pattern.match(number) if isinstance(number, str) else None
        if match is None:
            raise Violation(
                f"invoice_number was {plan.number.mode} "
                f"({plan.body().get('invoice_number', 'omitted')!r}), so one must be generated like "
                f"{ctx.facts.number_shape()} (x-generated); got {number!r}",
                exchange,
            )
        years = {(before - timedelta(days=1)).year, (after + timedelta(days=1)).year}
        if int(match.group(1)) not in years:
            raise Violation(f"the generated number {number!r} does not carry the year of creation", exchange)
        if number in used_before and used_before[number] != data.get("uid"):
            raise Violation(
                f"the generated number {number!r} is already used by invoice {used_before[number]} of the "
                f"same owner organization",
                exchange,
            )

    ctx.hypothesis("invoice_number_generated", test)


@prop("duplicate_number_refused", kind="create", rows=("P18", "P03"))
def duplicate_number_refused(ctx: Context) -> None:
    """A number already used by the same owner (supplied or generated) is refused with 409 naming it.

    Rule: openapi.yaml create_invoice description (a supplied number "must be unused within the owner
    organization (compared exactly); otherwise 409") and #/components/responses/DuplicateInvoiceNumber;
    contract notes, choice 3 (409)
    """
    combos = combinations(ctx)

    @given(
        first=gen.create_plans(ctx.profile, ctx.spec, numbers=gen.number_plans(("omit", "supplied"))),
        data=st.data(),
    )
    @example(
        first=gen.CreatePlan(
            combos[0], number=gen.NumberPlan("supplied", "CK-{}"), fit=ctx.facts.supplied_number
        ),
        data=None,
    )
    def test(first: gen.CreatePlan, data: st.DataObject | None) -> None:
        created_exchange, created = create(ctx, first, "first create")
        same_owner = [c for c in combos if c.owner == first.combo.owner]
        second_combo = data.draw(st.sampled_from(same_owner), "second") if data else first.combo
        second = gen.CreatePlan(second_combo).body()
        second["invoice_number"] = created["invoice_number"]
        exchange = ctx.client.create(second_combo.token, second)
        try:
            expect.expect_field_error(
                exchange, 409, "/invoice_number", "a second create with the same number"
            )
        except Violation as violation:
            violation.exchanges.insert(0, created_exchange)
            raise

    ctx.hypothesis("duplicate_number_refused", test, weight=0.5)


@prop("number_scoped_to_owner", kind="create", rows=("P19",))
def number_scoped_to_owner(ctx: Context) -> None:
    """A number used by one owner organization may be used again by another.

    Rule: openapi.yaml create_invoice description (numbers are unique "within the owner organization");
    contract notes, choice 4 ("unique per owner organization")
    """
    combos = combinations(ctx)
    pairs = [(a, b) for a in combos for b in combos if a.owner != b.owner]
    if not pairs:
        raise NotRun("the profile has combinations for only one owner organization; this needs two")

    @given(pair=st.sampled_from(pairs), template=st.sampled_from(gen.NUMBER_TEMPLATES))
    @example(pair=pairs[0], template="CK-{}")
    def test(pair: tuple[Combination, Combination], template: str) -> None:
        first, second = pair
        number = gen.unique_number(ctx.facts.supplied_number, template)
        body = first.body() | {"invoice_number": number}
        created = ctx.client.create(first.token, body)
        expect.success(created, "first create")
        exchange = ctx.client.create(second.token, second.body() | {"invoice_number": number})
        if exchange.status != 200:
            raise Violation(
                f"{number!r} is used by organization {first.owner} only, so organization {second.owner} may "
                f"use it too; got HTTP {exchange.status}",
                created,
                exchange,
            )
        expect.success(exchange, "second create")

    ctx.hypothesis("number_scoped_to_owner", test, weight=0.3)


# Variants of a number that the contract counts as different numbers (compared exactly, P18).
NUMBER_VARIANTS = {
    "in upper case": str.upper,
    "in lower case": str.lower,
    "with a leading space": lambda n: " " + n,
    "with a trailing space": lambda n: n + " ",
    "with a trailing tab": lambda n: n + "\t",
}


@prop("numbers_compared_exactly", kind="create", rows=("P18",))
def numbers_compared_exactly(ctx: Context) -> None:
    """Numbers that differ only in letter case or surrounding whitespace are different numbers.

    Rule: openapi.yaml create_invoice description (a supplied number must be unused within the owner
    organization, "compared exactly") and precision row P18 (case, surrounding whitespace and Unicode
    form all count; stored exactly as sent)
    """
    combos = combinations(ctx)

    @given(
        combo=st.sampled_from(combos),
        template=st.sampled_from(("Ck-{}", "inv-{}", "Rechnung/{}/Ä")),
        variant=st.sampled_from(sorted(NUMBER_VARIANTS)),
    )
    @example(combo=combos[0], template="Ck-{}", variant="in upper case")
    @example(combo=combos[0], template="Ck-{}", variant="with a trailing space")
    def test(combo: Combination, template: str, variant: str) -> None:
        number = gen.unique_number(ctx.facts.supplied_number, template)
        other = NUMBER_VARIANTS[variant](number)
        if other == number:
            return
        first = ctx.client.create(combo.token, combo.body() | {"invoice_number": number})
        expect.success(first, "first create")
        second = ctx.client.create(combo.token, combo.body() | {"invoice_number": other})
        if second.status != 200:
            raise Violation(
                f"{other!r} is {number!r} {variant}: a different number, so the create must succeed; "
                f"got HTTP {second.status}",
                first,
                second,
            )
        stored = expect.success(second, "second create").get("invoice_number")
        if stored != other:
            raise Violation(f"the number {other!r} must be stored exactly as sent; got {stored!r}", second)

    ctx.hypothesis("numbers_compared_exactly", test, weight=0.2)
