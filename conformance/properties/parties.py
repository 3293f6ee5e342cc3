"""Parties: who is the client and who the service provider, by invoice type."""

from __future__ import annotations

from hypothesis import example, given

from conformance import expect
from conformance import strategies as gen
from conformance.core import Context, Violation, prop
from conformance.properties.steps import (
    combinations,
    create,
    default_invoice_type,
)


@prop("parties_by_invoice_type", kind="create")
def parties_by_invoice_type(ctx: Context) -> None:
    """Receivable invoices bill the target party (the client); payable ones are billed by it.

    Rule: openapi.yaml #/components/schemas/InvoiceParties and InvoiceType (receivable: client = target
    party, service provider = owner; payable: the other way round); contract notes, choice 5
    """
    combos = combinations(ctx)
    types = gen.invoice_types(ctx.spec)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, include=("invoice_type",)))
    @example(plan=gen.CreatePlan(combos[0], fields={"invoice_type": types[0]}))
    @example(plan=gen.CreatePlan(combos[0], fields={"invoice_type": types[-1]}))
    def test(plan: gen.CreatePlan) -> None:
        exchange, data = create(ctx, plan)
        kind = plan.invoice_type(default_invoice_type(ctx))
        owner, party = plan.combo.owner, plan.combo.party
        client, provider = (party, owner) if ctx.facts.client_is_target(kind) else (owner, party)
        parties = expect.mapping(data.get("parties"))
        for role, uid in (("client", client), ("service_provider", provider)):
            entry = parties.get(role)
            if not isinstance(entry, dict) or entry.get("uid") != uid:
                got = entry.get("uid") if isinstance(entry, dict) else entry
                raise Violation(
                    f"an invoice of type {kind}, owner {owner} and party {party} must have "
                    f"parties.{role}.uid = {uid}; "
                    f"got {got!r}",
                    exchange,
                )
            if entry.get("role") != role:
                raise Violation(f"parties.{role}.role must be {role!r}; got {entry.get('role')!r}", exchange)

    ctx.hypothesis("parties_by_invoice_type", test)
