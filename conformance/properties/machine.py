"""The state machine: random sequences of creates and reads against a model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import seed
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    get_state_machine_test,
    invariant,
    precondition,
    rule,
)

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, Violation, hypothesis_settings, prop, run_seeded
from conformance.properties.lifecycle import (
    cents,
    changes,
    data_of,
    existing_lines,
    is_served,
    line_cents,
    line_problems,
    line_requests,
    quantities,
    read,
    signed_total,
    unchanged,
    update_problems,
)
from conformance.properties.money import money_problems
from conformance.properties.steps import (
    Listing,
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
    """What the model knows of an invoice the machine created (as of its last change)."""

    data: dict[str, Any]
    owner: str
    invoice_type: str
    exchange: Exchange
    token: str = ""
    deleted: bool = False


INVOICES = Bundle("invoices")


class _Model(RuleBasedStateMachine):
    """The model every rule reads and changes: what exists, as of its last change."""

    ctx: Context  # set by `machine_for` on the class it makes for one run

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, Known] = {}

    def alive(self, owner: str | None = None) -> list[str]:
        """The live invoices in the order this sequence created them. Never sorted by uid: the
        server makes the uids, so a draw of "the first" would name another invoice (of another
        owner, with other drawable changes) each time Hypothesis replays the same choices, which
        it reports as FlakyStrategyDefinition against a correct server."""
        return [uid for uid, k in self.model.items() if not k.deleted and (owner is None or k.owner == owner)]

    def lined(self) -> list[str]:
        """The live invoices that have line items."""
        return [uid for uid in self.alive() if expect.sequence(self.model[uid].data.get("line_items"))]

    def after_lines(self, known: Known, predicted: int, exchange: Exchange, what: str) -> None:
        """P70: 422 and nothing changed when the total would go negative; else the money is exact."""
        ctx = self.ctx
        if predicted < 0:
            expect.error(exchange, 422, f"{what} making the total negative")
            unchanged(ctx, known.token, known.data, what, exchange)
            return
        data_of(exchange, what)
        fetched, invoice = read(ctx, known.token, known.data["uid"], f"get after {what}")
        problems = line_problems(ctx, invoice)
        if problems:
            raise Violation(f"after {what}: " + "; ".join(problems), exchange, fetched)
        known.data, known.exchange = invoice, exchange

    @invariant()
    def model_money_consistent(self) -> None:
        """Every answer the model holds obeys the money identities (contract notes choice 2)."""
        for uid in self.alive():
            problems = money_problems(self.model[uid].data, self.ctx.facts)
            if problems:
                raise Violation(f"invoice {uid}: " + "; ".join(problems), self.model[uid].exchange)


def machine_for(ctx: Context) -> type[RuleBasedStateMachine]:
    """The state machine class for one run: its rules draw from this run's profile and spec, and
    the lifecycle's rules are there only for the operations the server serves."""
    bases = (_read_rules(ctx), _change_rules(ctx), _line_rules(ctx), _Model)
    return type("InvoiceMachine", bases, {"ctx": ctx, "__doc__": "Random sequences against a model."})


def _change_rules(ctx: Context) -> type:
    """Update, bulk update, bulk delete (precision rows P54, P62, P66): each answer is checked,
    then becomes the model."""
    updates, bulk = is_served(ctx, "update_invoice"), is_served(ctx, "bulk_update_invoices")
    deletes = is_served(ctx, "bulk_delete_invoices")

    class ChangeRules(_Model):
        @precondition(lambda self: updates and bool(self.alive()))
        @rule(data=st.data())
        def update(self, data: st.DataObject) -> None:
            uid = data.draw(st.sampled_from(self.alive()), "invoice")
            known = self.model[uid]
            body = data.draw(changes(ctx, known.owner), "changes")
            if data.draw(st.booleans(), "renumber"):
                body["invoice_number"] = gen.unique_number(ctx.facts.supplied_number)
            exchange = ctx.client.update(known.token, uid, body)
            answer = expect.success(exchange, "update")
            problems = update_problems(ctx, known.data, body, answer)
            if problems:
                raise Violation(f"the update of {uid}: " + "; ".join(problems), known.exchange, exchange)
            known.data, known.exchange = answer, exchange

        @precondition(lambda self: bulk and bool(self.alive()))
        @rule(data=st.data())
        def bulk_update(self, data: st.DataObject) -> None:
            owner = self.model[data.draw(st.sampled_from(self.alive()), "first")].owner
            uids = data.draw(
                st.lists(st.sampled_from(self.alive(owner)), min_size=1, max_size=3, unique=True)
            )
            items = [{"uid": uid, **data.draw(changes(ctx, owner, "bulk_update_invoices"))} for uid in uids]
            exchange = ctx.client.bulk_update(self.model[uids[0]].token, items)
            answer = data_of(exchange, "bulk update")
            if not isinstance(answer, list) or len(answer) != len(items):
                raise Violation("a bulk update must answer the updated invoices in request order", exchange)
            for item, after in zip(items, answer, strict=True):
                known = self.model[item["uid"]]
                sent = {k: v for k, v in item.items() if k != "uid"}
                problems = update_problems(ctx, known.data, sent, expect.mapping(after))
                if problems:
                    raise Violation(f"{item['uid']} in the bulk answer: " + "; ".join(problems), exchange)
                known.data, known.exchange = expect.mapping(after), exchange

        @precondition(lambda self: deletes and bool(self.alive()))
        @rule(data=st.data())
        def bulk_delete(self, data: st.DataObject) -> None:
            owner = self.model[data.draw(st.sampled_from(self.alive()), "first")].owner
            uids = data.draw(
                st.lists(st.sampled_from(self.alive(owner)), min_size=1, max_size=2, unique=True)
            )
            exchange = ctx.client.bulk_delete(self.model[uids[0]].token, uids)
            data_of(exchange, "bulk delete")
            for uid in uids:
                self.model[uid].deleted, self.model[uid].exchange = True, exchange

    return ChangeRules


def _line_rules(ctx: Context) -> type:
    """Adding, changing and deleting line items (P70): the money after each is exact, or 422."""
    profile = ctx.profile
    lines = all(is_served(ctx, op) for op in ("create_line_items", "update_line_items", "delete_line_items"))

    class LineRules(_Model):
        @precondition(lambda self: lines and any(profile.products_for(k.owner) for k in self.model.values()))
        @rule(data=st.data())
        def add_lines(self, data: st.DataObject) -> None:
            candidates = [uid for uid in self.alive() if profile.products_for(self.model[uid].owner)]
            if not candidates:
                return
            known = self.model[data.draw(st.sampled_from(candidates), "invoice")]
            batch = data.draw(
                st.lists(line_requests(profile.products_for(known.owner)), min_size=1, max_size=2)
            )
            added = [
                (str(p.context_type), cents(line["quantity"], int(line.get("unit_price", p.unit_price or 0))))
                for line in batch
                if (p := profile.product(known.owner, line["sku"])) is not None
            ]
            exchange = ctx.client.create_lines(known.token, known.data["uid"], batch)
            self.after_lines(
                known, signed_total(ctx, existing_lines(known.data) + added), exchange, "adding lines"
            )

        @precondition(lambda self: lines and bool(self.alive()))
        @rule(data=st.data())
        def change_line(self, data: st.DataObject) -> None:
            if not self.lined():
                return
            known = self.model[data.draw(st.sampled_from(self.lined()), "invoice")]
            current = [expect.mapping(x) for x in expect.sequence(known.data.get("line_items"))]
            line = data.draw(st.sampled_from(current), "line")
            quantity = data.draw(quantities(), "quantity")
            others = [(str(x.get("context_type")), line_cents(x)[1]) for x in current if x is not line]
            changed = (str(line.get("context_type")), cents(quantity, line_cents(line)[0]))
            body = {"uid": line["uid"], "quantity": quantity}
            exchange = ctx.client.update_lines(known.token, known.data["uid"], body)
            self.after_lines(
                known, signed_total(ctx, [*others, changed]), exchange, "changing a line's quantity"
            )

        @precondition(lambda self: lines and bool(self.alive()))
        @rule(data=st.data())
        def delete_line(self, data: st.DataObject) -> None:
            if not self.lined():
                return
            known = self.model[data.draw(st.sampled_from(self.lined()), "invoice")]
            current = [expect.mapping(x) for x in expect.sequence(known.data.get("line_items"))]
            line = data.draw(st.sampled_from(current), "line")
            rest = [(str(x.get("context_type")), line_cents(x)[1]) for x in current if x is not line]
            exchange = ctx.client.delete_lines(known.token, known.data["uid"], [line["uid"]])
            self.after_lines(known, signed_total(ctx, rest), exchange, "deleting a line")

    return LineRules


def _read_rules(ctx: Context) -> type:
    """Creates and the reads that check them: get as a member, as an outsider, list, unknown uid."""
    profile, types = ctx.profile, gen.invoice_types(ctx.spec)
    members = [user.token for user in profile.users if user.organizations is not None]

    class ReadRules(_Model):
        @rule(target=INVOICES, plan=gen.create_plans(profile, ctx.spec))
        def create(self, plan: gen.CreatePlan) -> str:
            exchange, data = create(ctx, plan)
            kind = plan.invoice_type(default_invoice_type(ctx))
            self.model[data["uid"]] = Known(data, plan.combo.owner, kind, exchange, plan.combo.token)
            return data["uid"]

        @rule(uid=INVOICES, data=st.data())
        def get_as_member(self, uid: str, data: st.DataObject) -> None:
            known = self.model[uid]
            token = data.draw(st.sampled_from(profile.member_tokens(known.owner)), "member")
            _check_member_get(known, uid, ctx.client.get(token, uid))

        @rule(uid=INVOICES, data=st.data())
        def get_as_outsider(self, uid: str, data: st.DataObject) -> None:
            known = self.model[uid]
            outsiders = profile.outsider_tokens(known.owner)
            if not outsiders:
                return
            exchange = ctx.client.get(data.draw(st.sampled_from(outsiders), "outsider"), uid)
            if exchange.status != 404:
                raise Violation(
                    f"invoice {uid} of organization {known.owner} must be 404 for a token outside it; "
                    f"got HTTP {exchange.status}",
                    known.exchange,
                    exchange,
                )

        @rule(token=st.sampled_from(members), kind=st.sampled_from(types))
        def list_as(self, token: str, kind: str) -> None:
            organizations = profile.user(token).organizations or frozenset()
            expected = {
                uid
                for uid, known in self.model.items()
                if known.owner in organizations and known.invoice_type == kind and not known.deleted
            }
            _check_listing(
                ctx, self.model, expected, kind, page_through(ctx, token, kind, until_found=expected)
            )

        @rule(token=st.sampled_from(profile.tokens))
        def get_unknown(self, token: str) -> None:
            exchange = ctx.client.get(token, str(uuid.uuid4()))
            expect.error(exchange, 404, "get of an unknown uid")

    return ReadRules


def _check_member_get(known: Known, uid: str, exchange: Exchange) -> None:
    """A member reads what the model holds; a deleted invoice is 404 (P66)."""
    if known.deleted:
        if exchange.status != 404:
            raise Violation(
                f"invoice {uid} was deleted earlier in this sequence; its get must be 404, got HTTP "
                f"{exchange.status}",
                known.exchange,
                exchange,
            )
        return
    if exchange.status != 200:
        raise Violation(
            f"invoice {uid} was created earlier in this sequence; a member of its owner got HTTP "
            f"{exchange.status}",
            known.exchange,
            exchange,
        )
    diffs = same_invoice(known.data, expect.success(exchange, "get"))
    if diffs:
        raise Violation(f"invoice {uid} read back differs in: {', '.join(diffs)}", known.exchange, exchange)


def _check_listing(
    ctx: Context, model: dict[str, Known], expected: set[str], kind: str, listing: Listing
) -> None:
    """The list holds exactly the model's live invoices of this kind the token may see, summarized
    as they are."""
    first = listing.exchanges[0]
    missing = expected - listing.items.keys()
    if missing:
        uid = sorted(missing)[0]
        raise Violation(
            f"invoice {uid} ({kind}, created earlier in this sequence) is missing from the {kind} list "
            "of a member of its owner",
            model[uid].exchange,
            first,
        )
    leaked = [uid for uid in listing.items if uid in model and uid not in expected]
    if leaked:
        known = model[leaked[0]]
        if known.deleted:
            raise Violation(
                f"invoice {leaked[0]} was deleted earlier in this sequence, yet it is in the {kind} list",
                known.exchange,
                first,
            )
        raise Violation(
            f"invoice {leaked[0]} ({known.invoice_type} of organization {known.owner}) must not be in "
            f"this token's {kind} list",
            known.exchange,
            first,
        )
    for uid in expected:
        diffs = summary_mismatches(model[uid].data, listing.items[uid], ctx)
        if diffs:
            raise Violation(f"the list summarizes invoice {uid} wrongly: {'; '.join(diffs)}", first)


@prop("state_machine", kind="stateful", rows=("P15", "P23", "P54", "P62", "P66", "P70"))
def state_machine(ctx: Context) -> None:
    """Random sequences of creates, reads, updates, bulk updates, bulk deletes and line-item changes
    agree with a model of what must exist, who sees it, and what its money is.

    Rule: openapi.yaml get_invoice, list_invoices and info.description choice 6 (invoices are remembered,
    shown to members of their owner organization only, listed by invoice_type); contract notes, choice 6
    and Facts: the read-back endpoints; update_invoice, bulk_update_invoices, bulk_delete_invoices and
    the line-item operations when the server serves them (a deleted invoice is 404 and unlisted)
    """
    combinations(ctx)
    machine = machine_for(ctx)
    # No shrinking: each step is a round trip, so shrinking a sequence costs tens of seconds, and
    # the violation already carries the two requests that reproduce it (create, then read).
    configured = hypothesis_settings(max(5, ctx.settings.examples(0.5)), shrink=False, stateful_step_count=15)
    test = get_state_machine_test(machine, settings=configured)
    run_seeded(seed(ctx.settings.seed_for("state_machine"))(test))
