"""The state machine: random sequences of creates and reads against a model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, get_state_machine_test, rule

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, Violation, hypothesis_settings, prop, run_seeded
from conformance.properties.steps import (
    combinations,
    create,
    default_invoice_type,
    page_through,
    same_invoice,
    summary_mismatches,
)

# -- the state machine ---------------------------------------------------------------------------------


@dataclass
class Known:
    """What the model knows of an invoice the machine created."""

    data: dict[str, Any]
    owner: str
    invoice_type: str
    exchange: Exchange


def machine_for(ctx: Context) -> type[RuleBasedStateMachine]:
    """The state machine class for one run (its rules draw from this run's profile and spec)."""
    profile, types = ctx.profile, gen.invoice_types(ctx.spec)
    members = [user.token for user in profile.users if user.organizations is not None]

    class InvoiceMachine(RuleBasedStateMachine):
        """Random sequences of create / get / list / cross-organization reads against a model."""

        invoices = Bundle("invoices")

        def __init__(self) -> None:
            super().__init__()
            self.model: dict[str, Known] = {}

        @rule(target=invoices, plan=gen.create_plans(profile, ctx.spec))
        def create(self, plan: gen.CreatePlan) -> str:
            exchange, data = create(ctx, plan)
            kind = plan.invoice_type(default_invoice_type(ctx))
            self.model[data["uid"]] = Known(data, plan.combo.owner, kind, exchange)
            return data["uid"]

        @rule(uid=invoices, data=st.data())
        def get_as_member(self, uid: str, data: st.DataObject) -> None:
            known = self.model[uid]
            token = data.draw(st.sampled_from(profile.member_tokens(known.owner)), "member")
            exchange = ctx.client.get(token, uid)
            if exchange.status != 200:
                raise Violation(
                    f"invoice {uid} was created earlier in this sequence; a member of its owner got HTTP "
                    f"{exchange.status}",
                    known.exchange,
                    exchange,
                )
            diffs = same_invoice(known.data, expect.success(exchange, "get"))
            if diffs:
                raise Violation(
                    f"invoice {uid} read back differs in: {', '.join(diffs)}", known.exchange, exchange
                )

        @rule(uid=invoices, data=st.data())
        def get_as_outsider(self, uid: str, data: st.DataObject) -> None:
            known = self.model[uid]
            outsiders = profile.outsider_tokens(known.owner)
            if not outsiders:
                return
            token = data.draw(st.sampled_from(outsiders), "outsider")
            exchange = ctx.client.get(token, uid)
            if exchange.status != 404:
                raise Violation(
                    f"invoice {uid} of organization {known.owner} must be 404 for a token outside it; "
                    "got HTTP "
                    f"{exchange.status}",
                    known.exchange,
                    exchange,
                )

        @rule(token=st.sampled_from(members), kind=st.sampled_from(types))
        def list_as(self, token: str, kind: str) -> None:
            organizations = profile.user(token).organizations or frozenset()
            expected = {
                uid
                for uid, known in self.model.items()
                if known.owner in organizations and known.invoice_type == kind
            }
            listing = page_through(ctx, token, kind, until_found=expected)
            missing = expected - listing.items.keys()
            if missing:
                uid = sorted(missing)[0]
                raise Violation(
                    f"invoice {uid} ({kind}, created earlier in this sequence) is missing from the "
                    f"{kind} list "
                    "of a member of its owner",
                    self.model[uid].exchange,
                    listing.exchanges[0],
                )
            leaked = [uid for uid in listing.items if uid in self.model and uid not in expected]
            if leaked:
                known = self.model[leaked[0]]
                raise Violation(
                    f"invoice {leaked[0]} ({known.invoice_type} of organization {known.owner}) must not "
                    "be in "
                    f"this token's {kind} list",
                    known.exchange,
                    listing.exchanges[0],
                )
            for uid in expected:
                diffs = summary_mismatches(self.model[uid].data, listing.items[uid], ctx)
                if diffs:
                    raise Violation(
                        f"the list summarizes invoice {uid} wrongly: {'; '.join(diffs)}", listing.exchanges[0]
                    )

        @rule(token=st.sampled_from(profile.tokens))
        def get_unknown(self, token: str) -> None:
            exchange = ctx.client.get(token, str(uuid.uuid4()))
            expect.error(exchange, 404, "get of an unknown uid")

    return InvoiceMachine


@prop("state_machine", kind="stateful", rows=("P15", "P23"))
def state_machine(ctx: Context) -> None:
    """Random sequences of creates and reads agree with a model of what must exist and who sees it.

    Rule: openapi.yaml get_invoice, list_invoices and info.description choice 6 (invoices are remembered,
    shown to members of their owner organization only, listed by invoice_type); contract notes, choice 6
    and Facts: the read-back endpoints
    """
    combinations(ctx)
    machine = machine_for(ctx)
    # No shrinking: each step is a round trip, so shrinking a sequence costs tens of seconds, and
    # the violation already carries the two requests that reproduce it (create, then read).
    configured = hypothesis_settings(max(5, ctx.settings.examples(0.5)), shrink=False, stateful_step_count=15)
    test = get_state_machine_test(machine, settings=configured)
    run_seeded(seed(ctx.settings.seed_for("state_machine"))(test))
