"""Read back: an invoice is shown to members of its owner exactly as created, and to nobody else."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.core import Context, NotRun, Violation, prop
from conformance.properties.steps import (
    combinations,
    create,
    page_through,
    same_invoice,
)

# -- single-scenario properties -------------------------------------------------------------------------


@prop("get_returns_created", kind="stateful", rows=("P15", "P23"))
def get_returns_created(ctx: Context) -> None:
    """An invoice read back by uid (by any member of its owner) is the invoice the create returned.

    Rule: openapi.yaml get_invoice ("Returns one invoice, the same full Invoice as the create response")
    and the create response's link GetCreatedInvoice; contract notes, Facts: the read-back endpoints
    """
    combos = combinations(ctx)

    @given(
        plan=gen.create_plans(ctx.profile, ctx.spec),
        other=gen.create_plans(ctx.profile, ctx.spec),
        data=st.data(),
    )
    @example(plan=gen.CreatePlan(combos[0]), other=gen.CreatePlan(combos[-1]), data=None)
    def test(plan: gen.CreatePlan, other: gen.CreatePlan, data: st.DataObject | None) -> None:
        # Two invoices, both read back: a server answering "the latest invoice" is caught too.
        made = [create(ctx, plan), create(ctx, other, "a second create")]
        for (created_exchange, created), owner in zip(
            made, (plan.combo.owner, other.combo.owner), strict=True
        ):
            members = ctx.profile.member_tokens(owner)
            token = data.draw(st.sampled_from(members), "reader") if data else members[0]
            exchange = ctx.client.get(token, created["uid"])
            if exchange.status != 200:
                raise Violation(
                    f"the invoice just created ({created['uid']}) must be readable by a member of its owner; "
                    f"got HTTP {exchange.status}",
                    created_exchange,
                    exchange,
                )
            diffs = same_invoice(created, expect.success(exchange, "get"))
            if diffs:
                raise Violation(
                    f"the invoice read back differs from the one created in: {', '.join(diffs)}",
                    created_exchange,
                    exchange,
                )

    ctx.hypothesis("get_returns_created", test, weight=0.7)


@prop("invisible_to_other_org", kind="stateful", rows=("P27",))
def invisible_to_other_org(ctx: Context) -> None:
    """Another organization's token gets 404 for the invoice and never sees it in any list.

    Rule: openapi.yaml get_invoice ("an invoice of an organization the token's user does not belong to is
    reported as 404, exactly like an unknown uid"), list_invoices (the token user's organizations only)
    and info.description choice 6, and precision row P27 (an invoice_uid that is no uuid is 404 too);
    contract notes, choice 6
    """
    combos = [c for c in combinations(ctx) if ctx.profile.outsider_tokens(c.owner)]
    if not combos:
        raise NotRun("the profile has no token whose user is outside an owner organization it can create for")
    types = gen.invoice_types(ctx.spec)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, combos=combos), data=st.data())
    @example(plan=gen.CreatePlan(combos[0]), data=None)
    def test(plan: gen.CreatePlan, data: st.DataObject | None) -> None:
        created_exchange, created = create(ctx, plan)
        outsiders = ctx.profile.outsider_tokens(plan.combo.owner)
        token = data.draw(st.sampled_from(outsiders), "outsider") if data else outsiders[0]
        exchange = ctx.client.get(token, created["uid"])
        if exchange.status != 404:
            raise Violation(
                f"a token outside organization {plan.combo.owner} must get 404 for its invoice; got HTTP "
                f"{exchange.status}",
                created_exchange,
                exchange,
            )
        expect.error(exchange, 404, "get by an outsider")
        if data is None:
            expect.error(
                ctx.client.get(plan.combo.token, "not-a-uuid"), 404, "a get of the uid 'not-a-uuid' (P27)"
            )
        for kind in types:
            listing = page_through(ctx, token, kind, max_pages=1)
            if created["uid"] in listing.items:
                raise Violation(
                    f"the invoice {created['uid']} of organization {plan.combo.owner} is in the {kind} list "
                    "of a "
                    "token outside it",
                    created_exchange,
                    listing.exchanges[0],
                )

    ctx.hypothesis("invisible_to_other_org", test, weight=0.5)
