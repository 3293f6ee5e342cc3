"""Create-then-read consistency: what the server must remember, show, list and hide.

The server is never assumed empty (a real one holds data): every check asserts on the invoices
the kit itself created. The `InvoiceMachine` is a Hypothesis `RuleBasedStateMachine` whose model
is the set of invoices created so far (with their owner, type and the token that made them);
random sequences of create / get / list / cross-organization reads catch a server that forgets,
mixes up or leaks invoices.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import HealthCheck, Phase, Verbosity, example, given, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, get_state_machine_test, rule

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, NotRun, Violation, prop, run_seeded
from conformance.properties import combinations, create, default_invoice_type
from conformance.strategies import list_parameters

# Fields of an invoice that depend on the day it is read (openapi.yaml Invoice.age, overdue_days).
DAY_DEPENDENT = ("age", "overdue_days")
MAX_PAGES = 20  # newest first: an invoice just created is on the first pages of its list


def same_invoice(created: dict[str, Any], read: dict[str, Any]) -> list[str]:
    """Fields that differ between the invoice as created and as read back (day counts: ±1)."""
    diffs = []
    for name in sorted(set(created) | set(read)):
        left, right = created.get(name), read.get(name)
        if name in DAY_DEPENDENT and isinstance(left, int) and isinstance(right, int):
            if abs(left - right) > 1:
                diffs.append(name)
        elif left != right:
            diffs.append(name)
    return diffs


def summary_mismatches(invoice: dict[str, Any], item: dict[str, Any], ctx: Context) -> list[str]:
    """How a list item differs from the invoice it summarizes (openapi.yaml InvoiceSummary)."""
    diffs = []
    for name in (
        "uid",
        "invoice_number",
        "subtotal_cents",
        "discount_cents",
        "tax_cents",
        "total",
        "total_cents",
        "pre_payment_credit_notes_cents",
        "amount_due_cents",
        "amount_paid_cents",
        "amount_remaining_cents",
        "paid_date",
        "document_uid",
        "status",
        "collection_method",
    ):
        if item.get(name) != invoice.get(name):
            diffs.append(f"{name} {item.get(name)!r} != {invoice.get(name)!r}")
    for name in ("issue_date", "due_date"):
        if not expect.same_instant(invoice.get(name), item.get(name)):
            diffs.append(f"{name} {item.get(name)!r} != {invoice.get(name)!r}")
    client = (invoice.get("parties") or {}).get("client")
    if (item.get("parties") or {}).get("client") != client:
        diffs.append("parties.client differs from the invoice's")
    contract = item.get("parent_contract") if isinstance(item.get("parent_contract"), dict) else {}
    if contract.get("uid") != invoice.get("document_uid"):
        diffs.append(f"parent_contract.uid {contract.get('uid')!r} is not the document_uid")
    document = ctx.profile.document(invoice.get("document_uid") or "")
    if (
        document is not None
        and document.filename is not None
        and contract.get("filename") != document.filename
    ):
        diffs.append(f"parent_contract.filename {contract.get('filename')!r} != {document.filename!r}")
    blueprint = item.get("blueprint")
    if invoice.get("invoice_blueprint_uid") is None and blueprint is not None:
        diffs.append(f"blueprint is {blueprint!r} for an invoice without one")
    if invoice.get("invoice_blueprint_uid") is not None and not isinstance(blueprint, dict):
        diffs.append(f"blueprint is {blueprint!r} for an invoice with one")
    return diffs


@dataclass
class Listing:
    """Items seen while paging through one list, and the exchanges that showed them."""

    items: dict[str, dict[str, Any]]
    exchanges: list[Exchange]
    complete: bool  # the last page was reached


def page_through(
    ctx: Context,
    token: str,
    invoice_type: str,
    *,
    until_found: set[str] | None = None,
    max_pages: int = MAX_PAGES,
) -> Listing:
    """Page through a list (largest page size), stopping once every uid of `until_found` is seen."""
    per_page = gen.max_per_page(ctx.spec)
    items: dict[str, dict[str, Any]] = {}
    exchanges = []
    for page in range(1, max_pages + 1):
        exchange = ctx.client.list(token, invoice_type=invoice_type, page=page, per_page=per_page)
        exchanges.append(exchange)
        data = expect.success(exchange, f"list page {page}")
        page_items = data.get("items")
        if not isinstance(page_items, list):
            raise Violation("the list's data.items is not a list", exchange)
        for item in page_items:
            if isinstance(item, dict) and isinstance(item.get("uid"), str):
                items.setdefault(item["uid"], item)
        meta = data.get("_meta") if isinstance(data.get("_meta"), dict) else {}
        last = not page_items or (isinstance(meta.get("total_pages"), int) and page >= meta["total_pages"])
        if last:
            return Listing(items, exchanges, complete=True)
        if until_found is not None and until_found <= items.keys():
            return Listing(items, exchanges, complete=False)
    return Listing(items, exchanges, complete=False)


# -- single-scenario properties -------------------------------------------------------------------------


@prop("get_returns_created", kind="stateful")
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


@prop("list_contains_created", kind="stateful")
def list_contains_created(ctx: Context) -> None:
    """An invoice just created is in its owner's list of its invoice_type (summarized faithfully), and
    not in the list of the other type.

    Rule: openapi.yaml list_invoices ("a paginated list of the invoices of the token user's
    organizations", invoice_type filters the list) and #/components/schemas/InvoiceSummary; contract
    notes, Facts: the read-back endpoints
    """
    combos = combinations(ctx)
    types = gen.invoice_types(ctx.spec)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec), data=st.data())
    @example(plan=gen.CreatePlan(combos[0]), data=None)
    def test(plan: gen.CreatePlan, data: st.DataObject | None) -> None:
        created_exchange, created = create(ctx, plan)
        uid = created["uid"]
        kind = plan.invoice_type(default_invoice_type(ctx))
        members = ctx.profile.member_tokens(plan.combo.owner)
        token = data.draw(st.sampled_from(members), "reader") if data else plan.combo.token
        listing = page_through(ctx, token, kind, until_found={uid})
        if uid not in listing.items:
            raise Violation(
                f"the {kind} invoice {uid} just created is not in the {kind} list of a member of its owner "
                f"({len(listing.exchanges)} page(s) read)",
                created_exchange,
                listing.exchanges[0],
            )
        diffs = summary_mismatches(created, listing.items[uid], ctx)
        if diffs:
            raise Violation(
                f"the list summarizes invoice {uid} wrongly: {'; '.join(diffs)}",
                created_exchange,
                listing.exchanges[-1],
            )
        for other in types:
            if other == kind:
                continue
            wrong = page_through(ctx, token, other, max_pages=1)
            if uid in wrong.items:
                raise Violation(
                    f"the {kind} invoice {uid} is listed under invoice_type={other}",
                    created_exchange,
                    wrong.exchanges[0],
                )

    ctx.hypothesis("list_contains_created", test, weight=0.5)


@prop("invisible_to_other_org", kind="stateful")
def invisible_to_other_org(ctx: Context) -> None:
    """Another organization's token gets 404 for the invoice and never sees it in any list.

    Rule: openapi.yaml get_invoice ("an invoice of an organization the token's user does not belong to is
    reported as 404, exactly like an unknown uid"), list_invoices (the token user's organizations only)
    and info.description choice 6; contract notes, choice 6
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


@prop("list_filter_and_defaults", kind="stateful")
def list_filter_and_defaults(ctx: Context) -> None:
    """A list without parameters is the list with the spec's defaults for page, per_page and invoice_type.

    Rule: openapi.yaml list_invoices parameters (page, per_page and invoice_type defaults) and description
    (invoice_type filters the list, defaulting to ACCOUNTS_RECEIVABLE)
    """
    combos = combinations(ctx)
    defaults = {name: p.get("schema", {}).get("default") for name, p in list_parameters(ctx.spec).items()}
    if None in defaults.values():
        missing = [name for name, value in defaults.items() if value is None]
        raise NotRun(f"the spec gives no default for the list parameters {missing}")
    types = gen.invoice_types(ctx.spec)

    @given(combo=st.sampled_from(combos), kind=st.sampled_from(types))
    def test(combo: Any, kind: str) -> None:
        created_exchange, created = create(ctx, gen.CreatePlan(combo, fields={"invoice_type": kind}))
        exchange = ctx.client.list(combo.token)
        data = expect.success(exchange, "list without parameters")
        meta = data.get("_meta") if isinstance(data.get("_meta"), dict) else {}
        for name in ("page", "per_page"):
            if meta.get(name) != defaults[name]:
                raise Violation(
                    f"_meta.{name} must default to {defaults[name]}; got {meta.get(name)!r}", exchange
                )
        items = data.get("items") if isinstance(data.get("items"), list) else []
        uids = [item.get("uid") for item in items if isinstance(item, dict)]
        if kind == defaults["invoice_type"] and created["uid"] not in uids:
            raise Violation(
                f"the {kind} invoice just created is not on the first page of the default list "
                f"(invoice_type defaults to {defaults['invoice_type']}, newest first)",
                created_exchange,
                exchange,
            )
        if kind != defaults["invoice_type"] and created["uid"] in uids:
            raise Violation(
                f"the {kind} invoice just created is in the default list, which is "
                f"invoice_type={defaults['invoice_type']}",
                created_exchange,
                exchange,
            )

    for kind in types:
        test = example(combo=combos[0], kind=kind)(test)
    ctx.hypothesis("list_filter_and_defaults", test, weight=0.3)


@prop("list_pagination_meta", kind="stateful")
def list_pagination_meta(ctx: Context) -> None:
    """Each page's _meta and _links agree with the request and with each other.

    Rule: openapi.yaml list_invoices description (page starts at 1, a page past the end is empty,
    total_pages = ceil(total_items / per_page), _links repeat per_page and invoice_type, next and prev are
    null at the ends) and #/components/schemas/PageMeta, PageLinks
    """
    combos = combinations(ctx)
    types = gen.invoice_types(ctx.spec)
    params = list_parameters(ctx.spec)
    max_size = int(params["per_page"]["schema"].get("maximum", 100))

    @given(
        combo=st.sampled_from(combos),
        kind=st.sampled_from(types),
        per_page=st.integers(1, max_size),
        page=st.integers(1, 6),
    )
    @example(combo=combos[0], kind=types[0], per_page=1, page=1)
    @example(combo=combos[0], kind=types[0], per_page=max_size, page=10**6)
    def test(combo: Any, kind: str, per_page: int, page: int) -> None:
        create(ctx, gen.CreatePlan(combo, fields={"invoice_type": kind}))
        exchange = ctx.client.list(combo.token, invoice_type=kind, page=page, per_page=per_page)
        data = expect.success(exchange, "list")
        items, meta, links = data.get("items"), data.get("_meta"), data.get("_links")
        if not isinstance(items, list) or not isinstance(meta, dict) or not isinstance(links, dict):
            raise Violation("a list's data must have items, _meta and _links", exchange)
        problems = []
        if meta.get("page") != page or meta.get("per_page") != per_page:
            problems.append(
                f"_meta page/per_page {meta.get('page')}/{meta.get('per_page')} != {page}/{per_page}"
            )
        total_items, total_pages = meta.get("total_items"), meta.get("total_pages")
        if not isinstance(total_items, int) or not isinstance(total_pages, int):
            raise Violation("_meta.total_items and total_pages must be integers", exchange)
        if total_items < 1:
            problems.append(f"total_items is {total_items} although an invoice of this type was just created")
        if total_pages != math.ceil(total_items / per_page):
            problems.append(
                f"total_pages {total_pages} != ceil(total_items {total_items} / per_page {per_page})"
            )
        expected_count = max(0, min(per_page, total_items - (page - 1) * per_page))
        if len(items) != expected_count:
            problems.append(
                f"page {page} holds {len(items)} items; with {total_items} items it must hold "
                f"{expected_count}"
            )
        if page >= total_pages and links.get("next") is not None:
            problems.append(f"_links.next must be null on the last page; got {links.get('next')!r}")
        if page < total_pages and not isinstance(links.get("next"), str):
            problems.append("_links.next must be a link before the last page")
        if page == 1 and links.get("prev") is not None:
            problems.append(f"_links.prev must be null on the first page; got {links.get('prev')!r}")
        if 1 < page <= total_pages and not isinstance(links.get("prev"), str):
            problems.append("_links.prev must be a link after the first page")
        for name in ("self", "next", "prev"):
            link = links.get(name)
            query = parse_qs(urlsplit(link).query) if isinstance(link, str) else {}
            if isinstance(link, str) and (
                query.get("per_page") != [str(per_page)] or query.get("invoice_type") != [kind]
            ):
                problems.append(
                    f"_links.{name} {link!r} must repeat per_page={per_page} and invoice_type={kind}"
                )
        if not isinstance(links.get("self"), str):
            problems.append("_links.self must be a link")
        if problems:
            raise Violation("; ".join(problems), exchange)

    ctx.hypothesis("list_pagination_meta", test, weight=0.5)


@prop("list_newest_first", kind="stateful")
def list_newest_first(ctx: Context) -> None:
    """Invoices created one after another are listed in the reverse order of creation.

    Rule: openapi.yaml list_invoices description ("Items are ordered newest first (most recently created
    first)")
    """
    combos = combinations(ctx)

    @given(
        combo=st.sampled_from(combos),
        count=st.integers(2, 4),
        kind=st.sampled_from(gen.invoice_types(ctx.spec)),
    )
    def test(combo: Any, count: int, kind: str) -> None:
        made = [create(ctx, gen.CreatePlan(combo, fields={"invoice_type": kind})) for _ in range(count)]
        uids = [data["uid"] for _, data in made]
        listing = page_through(ctx, combo.token, kind, until_found=set(uids))
        order = [uid for uid in listing.items if uid in uids]
        if order != list(reversed(uids)):
            raise Violation(
                f"invoices created in the order {uids} are listed as {order} (expected newest first)",
                *[exchange for exchange, _ in made],
                listing.exchanges[0],
            )

    ctx.hypothesis("list_newest_first", test, weight=0.3)


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


@prop("state_machine", kind="stateful")
def state_machine(ctx: Context) -> None:
    """Random sequences of creates and reads agree with a model of what must exist and who sees it.

    Rule: openapi.yaml get_invoice, list_invoices and info.description choice 6 (invoices are remembered,
    shown to members of their owner organization only, listed by invoice_type); contract notes, choice 6
    and Facts: the read-back endpoints
    """
    combinations(ctx)
    machine = machine_for(ctx)
    configured = settings(
        max_examples=max(5, ctx.settings.examples(0.5)),
        stateful_step_count=15,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: each step is a round trip, so shrinking a sequence costs tens of seconds,
        # and the violation already carries the two requests that reproduce it (create, then read).
        phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
        verbosity=Verbosity.normal,
        print_blob=False,
    )
    test = get_state_machine_test(machine, settings=configured)
    run_seeded(seed(ctx.settings.seed_for("state_machine"))(test))
