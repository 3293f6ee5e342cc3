"""What must hold: one named property per business rule of the contract, each citing the rule.

Each property is a Hypothesis test against the live server, driven by the target profile
(`conformance.strategies`) and judged by `conformance.expect`. Its docstring says what must hold
and, in its `Rule:` paragraph, where the contract states it (a pointer into openapi.yaml and the
contract-notes section); the report repeats both, so a failure reads as "this rule, this
request, this answer".
"""

from __future__ import annotations

import json
import math
import re
import shlex
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, NotRun, Violation, prop
from conformance.profile import Combination
from contract.spec import property_defaults, request_body_schema

# openapi.yaml create_invoice description and Invoice.invoice_number (contract notes choice 4):
# `INV-<year of creation>-<sequence, zero-padded to at least 4 digits>`.
GENERATED_NUMBER = re.compile(r"^INV-(\d{4})-(\d{4,})$")
DISCOUNT, TAX = "DISCOUNT", "TAX"  # openapi.yaml LineItem: the context types that make discount and tax


# -- shared steps -------------------------------------------------------------------------------------


def combinations(ctx: Context) -> list[Combination]:
    combos = ctx.profile.combinations()
    if not combos:
        raise NotRun(
            "the profile has no (token, owner, party, document) that may create an invoice: it needs a "
            "user with an organization, a party billable_by it and a document of it"
        )
    return combos


def identity(ctx: Context) -> Combination:
    """A combination that may create, or (for checks that need only a token) the first token with
    random uids: a schema-valid body whose refusal for its uids comes after what is checked."""
    combos = ctx.profile.combinations()
    if combos:
        return combos[0]
    if not ctx.profile.tokens:
        raise NotRun("the profile names no token")
    return Combination(ctx.profile.tokens[0], str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))


def default_invoice_type(ctx: Context) -> str:
    return property_defaults(request_body_schema(ctx.spec, "create_invoice"))["invoice_type"]


def create(ctx: Context, plan: gen.CreatePlan, what: str = "create") -> tuple[Exchange, dict[str, Any]]:
    """Send a plan's body; the contract says it must be created (200)."""
    exchange = ctx.client.create(plan.combo.token, plan.body())
    data = expect.success(exchange, what)
    number, uid = data.get("invoice_number"), data.get("uid")
    if isinstance(number, str) and isinstance(uid, str):
        ctx.remember_number(plan.combo.owner, number, uid)
    return exchange, data


def first_example(ctx: Context, **fields: Any) -> gen.CreatePlan:
    return gen.CreatePlan(combo=combinations(ctx)[0], fields=fields)


# -- create: defaults, echo, numbers ------------------------------------------------------------------


@prop("defaults_applied", kind="create")
def defaults_applied(ctx: Context) -> None:
    """Fields omitted from a create request come back with the spec's defaults.

    Rule: openapi.yaml #/components/schemas/InvoiceCreateRequest properties.*.default (status, currency,
    invoice_type); contract notes, Facts: request body table
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
        for name in omitted:
            if data.get(name) != defaults[name]:
                raise Violation(
                    f"{name} was omitted, so it must default to {defaults[name]!r}; got {data.get(name)!r}",
                    exchange,
                )

    ctx.hypothesis("defaults_applied", test)


ECHOED = ("target_party_uid", "document_uid", "invoice_blueprint_uid", "status", "currency", "invoice_type")
DATES = ("issue_date", "due_date")


@prop("supplied_fields_echoed", kind="create")
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


@prop("invoice_number_generated", kind="create")
def invoice_number_generated(ctx: Context) -> None:
    """A number omitted, null or blank is generated as INV-<year>-<4+ digits>, never one already in use.

    Rule: openapi.yaml create_invoice description and InvoiceCreateRequest.invoice_number (generated when
    omitted, null or blank: INV-<year>-<4+ digit sequence>, unique per owner organization); contract
    notes, choice 4
    """
    combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, numbers=gen.number_plans(("omit", "null", "blank"))))
    @example(plan=gen.CreatePlan(combinations(ctx)[0], number=gen.NumberPlan("blank", "  ")))
    def test(plan: gen.CreatePlan) -> None:
        owner = plan.combo.owner
        used_before = dict(ctx.numbers.get(owner, {}))
        before = gen.now_utc()
        exchange, data = create(ctx, plan)
        after = gen.now_utc()
        number = data.get("invoice_number")
        match = GENERATED_NUMBER.match(number) if isinstance(number, str) else None
        if match is None:
            raise Violation(
                f"invoice_number was {plan.number.mode} "
                f"({plan.body().get('invoice_number', 'omitted')!r}), so one must be generated as "
                f"INV-<year>-<4+ digits>; got {number!r}",
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


@prop("duplicate_number_refused", kind="create")
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
    @example(first=gen.CreatePlan(combos[0], number=gen.NumberPlan("supplied", "CK-{}")), data=None)
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


@prop("number_scoped_to_owner", kind="create")
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
        number = gen.unique_number(template)
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


# -- create: the shapes of the answer ------------------------------------------------------------------


@prop("invoice_fields_as_list", kind="create")
def invoice_fields_as_list(ctx: Context) -> None:
    """The request's invoice_fields map comes back as the documented list, blueprint fields first.

    Rule: openapi.yaml create_invoice description (invoice_fields "comes back as a list of {key, value:
    {type, original_type, value}} ... in the request's order, after the blueprint's fields") and
    #/components/schemas/InvoiceField, InvoiceFieldValue; contract notes, Facts: invoice_fields
    """
    combos = combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, include=("invoice_fields",)))
    @example(
        plan=gen.CreatePlan(
            combos[0],
            fields={
                "invoice_fields": {
                    "payment_terms": {"type": "string", "value": "NET_30"},
                    "purchase_order": {"type": "string", "value": "PO-7781"},
                }
            },
        )
    )
    def test(plan: gen.CreatePlan) -> None:
        exchange, data = create(ctx, plan)
        sent: dict[str, Any] = plan.fields.get("invoice_fields", {})
        returned = data.get("invoice_fields")
        if not isinstance(returned, list):
            raise Violation(
                f"invoice_fields must come back as a list, got {type(returned).__name__}", exchange
            )
        keys: list[str] = []
        for entry in returned:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("key"), str)
                or not isinstance(entry.get("value"), dict)
                or not {"type", "original_type", "value"} <= entry["value"].keys()
            ):
                raise Violation(
                    f"an invoice_fields entry is not {{key, value: {{type, original_type, value}}}}: "
                    f"{entry!r}",
                    exchange,
                )
            keys.append(entry["key"])
        by_key = {entry["key"]: entry["value"] for entry in returned}
        if len(by_key) != len(keys):
            raise Violation(f"invoice_fields repeats a key: {keys}", exchange)
        for key, field in sent.items():
            got = by_key.get(key)
            if got is None:
                raise Violation(f"the field {key!r} was sent but is not in invoice_fields", exchange)
            if got["original_type"] != field["type"] or got["value"] != field["value"]:
                raise Violation(
                    f"the field {key!r} was sent as type {field['type']!r}, value {field['value']!r}; "
                    "came back "
                    f"as original_type {got['original_type']!r}, value {got['value']!r}",
                    exchange,
                )
            if not isinstance(got["type"], str):
                raise Violation(
                    f"the field {key!r} has a type that is not a string: {got['type']!r}", exchange
                )
        blueprint = ctx.profile.blueprint(plan.blueprint) if isinstance(plan.blueprint, str) else None
        if blueprint is None:
            if keys != list(sent):
                raise Violation(
                    f"without a blueprint invoice_fields must be the request's, in its order {list(sent)}; "
                    f"got {keys}",
                    exchange,
                )
            return
        if blueprint.invoice_fields is None:
            return  # the profile does not say which fields the blueprint has
        inherited_keys = set(blueprint.invoice_fields)
        if set(keys) != set(sent) | inherited_keys:
            raise Violation(
                f"invoice_fields must hold the blueprint's fields {sorted(inherited_keys)} and the request's "
                f"{sorted(sent)}; got {keys}",
                exchange,
            )
        for key, field in blueprint.invoice_fields.items():
            if key not in sent and isinstance(field, dict) and by_key[key].get("value") != field.get("value"):
                raise Violation(f"the blueprint field {key!r} came back as {by_key[key]!r}", exchange)
        # A request field replacing a blueprint field may stand at either place; the others may not.
        own = [key for key in keys if key in sent and key not in inherited_keys]
        if own != [key for key in sent if key not in inherited_keys]:
            raise Violation(
                f"invoice_fields must keep the request's order {list(sent)}; got {keys}", exchange
            )
        first_own = min((i for i, key in enumerate(keys) if key in own), default=len(keys))
        if any(key not in sent for key in keys[first_own:]):
            raise Violation(f"the blueprint's fields must come before the request's: got {keys}", exchange)

    ctx.hypothesis("invoice_fields_as_list", test)


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
        client, provider = (party, owner) if kind == "ACCOUNTS_RECEIVABLE" else (owner, party)
        parties = data.get("parties") if isinstance(data.get("parties"), dict) else {}
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


def money_problems(invoice: dict[str, Any], *, summary: bool = False) -> list[str]:
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
    values = {name: invoice.get(name) for name in names}
    bad = [name for name, value in values.items() if not isinstance(value, int) or isinstance(value, bool)]
    if bad:
        return [f"{', '.join(bad)} must be integers"]
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
        problems += line_item_problems(invoice)
    return problems


def line_item_problems(invoice: dict[str, Any]) -> list[str]:
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
        kind = {DISCOUNT: "discount_cents", TAX: "tax_cents"}.get(line.get("context_type"), "subtotal_cents")
        sums[kind] += line["line_total"] * 100
    for name, cents in sums.items():
        if abs(cents - invoice.get(name, 0)) > len(lines) + 1e-6:
            problems.append(f"{name} {invoice.get(name)} is not the sum of its line items ({round(cents)})")
    return problems


@prop("money_identities", kind="create")
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
        problems = money_problems(data)
        if problems:
            raise Violation("the created invoice breaks the money rules: " + "; ".join(problems), exchange)
        fetched = ctx.client.get(plan.combo.token, data["uid"])
        if fetched.status == 200:
            problems = money_problems(expect.success(fetched, "get"))
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
                    problems = money_problems(item, summary=True)
                    if problems:
                        raise Violation(
                            "the listed invoice breaks the money rules: " + "; ".join(problems), listed
                        )

    if with_blueprint:
        blueprint_uid = ctx.profile.blueprints_for(with_blueprint[0].owner)[0].uid
        test = example(plan=gen.CreatePlan(with_blueprint[0], blueprint=blueprint_uid))(test)
    ctx.hypothesis("money_identities", test, weight=0.7)


@prop("new_invoice_content", kind="create")
def new_invoice_content(ctx: Context) -> None:
    """A new invoice is unpaid, uncommented, and has exactly its blueprint's line items and notes.

    Rule: openapi.yaml #/components/schemas/Invoice (a new invoice has no comments and no integrations;
    paid_date null on create; collection_method charge_automatically; line items, fields and notes only
    from its blueprint), LineItem, InvoiceNotes; contract notes, choices 1 and 2
    """
    combos = combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec))
    @example(plan=gen.CreatePlan(combos[0], blueprint=None))
    def test(plan: gen.CreatePlan) -> None:
        exchange, data = create(ctx, plan)
        fixed = {"paid_date": None, "comments": [], "integrations": [], "has_comments": False}
        fixed["collection_method"] = "charge_automatically"
        for name, value in fixed.items():
            if data.get(name) != value:
                raise Violation(
                    f"a new invoice must have {name} = {value!r}; got {data.get(name)!r}", exchange
                )
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
        if not isinstance(lines, list) or len(lines) != len(blueprint.line_items):
            raise Violation(
                f"the blueprint has {len(blueprint.line_items)} line items; the invoice has "
                f"{len(lines) if isinstance(lines, list) else lines!r}",
                exchange,
            )
        currency = data.get("currency")
        for got, line in zip(lines, blueprint.line_items, strict=True):
            if not isinstance(got, dict):
                raise Violation(f"a line item is not an object: {got!r}", exchange)
            expected = {
                "context_type_uid": line.context_type_uid,
                "context_type": line.context_type,
                "context_name": line.context_name,
            }
            for name, value in expected.items():
                if value is not None and got.get(name) != value:
                    raise Violation(f"line item {name} must be {value!r}; got {got.get(name)!r}", exchange)
            for name in ("quantity", "unit_price"):
                value, number = getattr(line, name), got.get(name)
                if value is not None and (
                    not isinstance(number, int | float) or not math.isclose(number, value, abs_tol=1e-9)
                ):
                    raise Violation(f"line item {name} must be {value}; got {got.get(name)!r}", exchange)
            if got.get("currency") != currency or got.get("invoice_uid") != data.get("uid"):
                raise Violation(
                    "a line item's currency and invoice_uid are the invoice's "
                    f"({currency!r}, {data.get('uid')}); "
                    f"got {got.get('currency')!r}, {got.get('invoice_uid')!r}",
                    exchange,
                )

    ctx.hypothesis("new_invoice_content", test, weight=0.5)


@prop("age_and_overdue_days", kind="create")
def age_and_overdue_days(ctx: Context) -> None:
    """age and overdue_days count whole days since issue_date / due_date (a day of slack for clocks).

    Rule: openapi.yaml #/components/schemas/Invoice properties.age (whole days since issue_date, 0 before
    it or without one) and overdue_days (whole days since due_date while an amount remains, else 0)
    """
    combinations(ctx)
    now = gen.now_utc()
    window = {"start": now - timedelta(days=900), "end": now + timedelta(days=900)}
    dates = st.one_of(st.none(), gen.date_times(**window))

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, exclude=DATES), issue=dates, due=dates)
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


# -- errors and the envelope -------------------------------------------------------------------------


def _request_kinds(ctx: Context) -> dict[str, Any]:
    """Requests that produce each kind of answer the contract documents, for the envelope check."""
    combo = identity(ctx)
    kinds: dict[str, Any] = {
        "listed": lambda: ctx.client.list(combo.token),
        "unknown invoice (404)": lambda: ctx.client.get(combo.token, str(uuid.uuid4())),
        "no token (401)": lambda: ctx.client.list(None),
        "schema error (422)": lambda: ctx.client.create(combo.token, combo.body() | {"currency": "US"}),
        "bad query (422)": lambda: ctx.client.list(combo.token, per_page=0),
        "malformed JSON (400)": lambda: ctx.client.request(
            "POST", "/api/invoices", token=combo.token, content=b"{not json", content_type="application/json"
        ),
        "not JSON (415)": lambda: ctx.client.request(
            "POST", "/api/invoices", token=combo.token, content=b"owner=1", content_type="text/plain"
        ),
    }
    if not ctx.profile.combinations():
        return kinds
    kinds["created"] = lambda: ctx.client.create(combo.token, combo.body())
    kinds["read"] = lambda: ctx.client.get(
        combo.token, (expect.success(ctx.client.create(combo.token, combo.body()), "create"))["uid"]
    )
    kinds["duplicate number (409)"] = lambda: _duplicate(ctx, combo)
    parties = ctx.profile.unbillable_parties(combo.owner)
    if parties:
        kinds["party forbidden (403)"] = lambda: ctx.client.create(
            combo.token, combo.body() | {"target_party_uid": parties[0].uid}
        )
    return kinds


def _duplicate(ctx: Context, combo: Combination) -> Exchange:
    number = gen.unique_number()
    expect.success(ctx.client.create(combo.token, combo.body() | {"invoice_number": number}), "create")
    return ctx.client.create(combo.token, combo.body() | {"invoice_number": number})


@prop("envelope_consistent", kind="errors")
def envelope_consistent(ctx: Context) -> None:
    """Every answer, success or error, is the JSON envelope whose status_code is the HTTP status.

    Rule: openapi.yaml info.description (every response is {status, status_code, message, data}, errors
    carry errors instead of data, status_code equals the HTTP status) and
    #/components/schemas/SuccessEnvelope, ErrorEnvelope; contract notes, choice 3
    """
    kinds = _request_kinds(ctx)

    @given(kind=st.sampled_from(sorted(kinds)))
    def test(kind: str) -> None:
        exchange = kinds[kind]()
        problems = expect.envelope_problems(exchange)
        if problems:
            raise Violation(f"{kind}: " + "; ".join(problems), exchange)

    for kind in sorted(kinds):
        test = example(kind=kind)(test)
    ctx.hypothesis("envelope_consistent", test, weight=0.5)


@prop("field_errors_named", kind="errors")
def field_errors_named(ctx: Context) -> None:
    """A request breaking one schema rule is refused with 422 whose errors name the offending field.

    Rule: openapi.yaml #/components/responses/UnprocessableInvoice and InvalidQuery (422, one errors entry
    per problem), #/components/schemas/FieldError (field: a JSON pointer into the request, or a parameter
    name) and info.description choices 3 and 7; contract notes, choice 3 (422)
    """
    combos = ctx.profile.combinations() or [identity(ctx)]  # schema errors come before the uids' rules
    body_defects = gen.body_defects(ctx.spec)
    query_defects = gen.query_defects(ctx.spec)
    cases = [("body", d) for d in body_defects] + [("query", d) for d in query_defects]

    @given(case=st.sampled_from(cases), plan=gen.create_plans(ctx.profile, ctx.spec, combos=combos))
    def test(case: tuple[str, Any], plan: gen.CreatePlan) -> None:
        where, defect = case
        if where == "body":
            body = gen.apply_defect(plan.body(), defect)
            exchange = ctx.client.create(plan.combo.token, body)
            expect.expect_field_error(exchange, 422, defect.pointer, f"a body with {defect.description}")
        else:
            name, value, why = defect
            exchange = ctx.client.list(plan.combo.token, **{name: value})
            expect.expect_field_error(exchange, 422, name, f"the query parameter {name} {why} ({value!r})")

    for case in cases[:: max(1, len(cases) // 8)]:
        test = example(case=case, plan=gen.CreatePlan(combos[0]))(test)
    ctx.hypothesis("field_errors_named", test, weight=1.5)


@prop("unknown_reference_refused", kind="errors")
def unknown_reference_refused(ctx: Context) -> None:
    """A document or blueprint unknown to the owner (another's, or none at all) is 422 naming the field.

    Rule: openapi.yaml create_invoice description (document_uid and invoice_blueprint_uid "must exist for
    the owner organization; otherwise 422") and InvoiceCreateRequest.document_uid / invoice_blueprint_uid;
    contract notes, choice 3 (422)
    """
    combos = combinations(ctx)

    def choices(combo: Combination) -> st.SearchStrategy[tuple[str, str, str]]:
        random_uid = st.uuids(version=4).map(str)
        options = [
            random_uid.map(lambda uid: ("/document_uid", uid, "an unknown document")),
            random_uid.map(lambda uid: ("/invoice_blueprint_uid", uid, "an unknown blueprint")),
        ]
        docs = ctx.profile.foreign_documents(combo.owner)
        if docs:
            options.append(
                st.sampled_from(docs).map(
                    lambda d: ("/document_uid", d.uid, "another organization's document")
                )
            )
        blueprints = ctx.profile.foreign_blueprints(combo.owner)
        if blueprints:
            options.append(
                st.sampled_from(blueprints).map(
                    lambda b: ("/invoice_blueprint_uid", b.uid, "another organization's blueprint")
                )
            )
        return st.one_of(options)

    @given(data=st.data(), combo=st.sampled_from(combos))
    def test(data: st.DataObject, combo: Combination) -> None:
        pointer, uid, what = data.draw(choices(combo), "reference")
        body = combo.body() | {pointer.lstrip("/"): uid}
        exchange = ctx.client.create(combo.token, body)
        expect.expect_field_error(exchange, 422, pointer, f"a create naming {what}")

    ctx.hypothesis("unknown_reference_refused", test, weight=0.5)


@prop("malformed_requests_refused", kind="errors")
def malformed_requests_refused(ctx: Context) -> None:
    """Malformed JSON and non-object bodies are 400, other content types 415, bodies over 1 MiB 413.

    Rule: openapi.yaml create_invoice description (malformed JSON or a non-object body is 400, a content
    type other than application/json 415, a body over 1 MiB 413) and
    #/components/responses/MalformedRequest, UnsupportedMediaType, PayloadTooLarge; contract notes, choice
    3
    """
    combo = identity(ctx)
    valid = combo.body()
    big = 1024 * 1024 + 1024
    padded = dict(valid, invoice_number="x" * big)
    big_body = json.dumps(padded).encode()
    code = f'import json, sys; json.dump({valid!r} | {{"invoice_number": "x" * {big}}}, sys.stdout)'
    shell = "python3 -c " + shlex.quote(code)
    cases: dict[str, tuple[bytes, str, int]] = {
        "malformed JSON": (b'{"owner_uid": ', "application/json", 400),
        "a JSON array": (b"[1, 2]", "application/json", 400),
        "a JSON string": (b'"invoice"', "application/json", 400),
        "text/plain": (json.dumps(valid).encode(), "text/plain", 415),
        "form data": (b"owner_uid=1", "application/x-www-form-urlencoded", 415),
        "a body over 1 MiB": (big_body, "application/json", 413),
    }

    @given(case=st.sampled_from(sorted(cases)))
    def test(case: str) -> None:
        content, content_type, status = cases[case]
        exchange = ctx.client.request(
            "POST",
            "/api/invoices",
            token=combo.token,
            content=content,
            content_type=content_type,
            body_shell=shell if len(content) > 4096 else None,
        )
        expect.error(exchange, status, f"a create with {case}")

    for case in sorted(cases):
        test = example(case=case)(test)
    ctx.hypothesis("malformed_requests_refused", test, weight=0.3)


# -- auth ------------------------------------------------------------------------------------------


@prop("auth_required", kind="auth")
def auth_required(ctx: Context) -> None:
    """Every operation answers 401 with WWW-Authenticate: Bearer without a token, or with a bad one.

    Rule: openapi.yaml #/components/securitySchemes/bearerAuth ("A missing, malformed (not Bearer <token>)
    or unknown token is 401 with WWW-Authenticate: Bearer") and #/components/responses/Unauthorized;
    contract notes, choice 3 (401)
    """
    combo = identity(ctx)
    credentials = st.one_of(
        st.just(("no Authorization header", None)),
        gen.malformed_authorizations(ctx.profile).map(lambda h: (f"Authorization: {h!r}", h)),
        gen.unknown_tokens(ctx.profile).map(lambda t: (f"an unknown token {t!r}", f"Bearer {t}")),
    )
    operations = {
        "create": lambda header: ctx.client.request(
            "POST", "/api/invoices", authorization=header, json=combo.body()
        ),
        "get": lambda header: ctx.client.request(
            "GET", f"/api/invoices/{uuid.uuid4()}", authorization=header
        ),
        "list": lambda header: ctx.client.request("GET", "/api/invoices", authorization=header),
    }

    @given(operation=st.sampled_from(sorted(operations)), credential=credentials)
    def test(operation: str, credential: tuple[str, str | None]) -> None:
        what, header = credential
        exchange = operations[operation](header)
        expect.error(exchange, 401, f"{operation} with {what}")
        challenge = exchange.header("www-authenticate") or ""
        if not challenge.strip().lower().startswith("bearer"):
            raise Violation(
                f"{operation} with {what}: a 401 must carry WWW-Authenticate: Bearer; got {challenge!r}",
                exchange,
            )

    for operation in sorted(operations):
        test = example(operation=operation, credential=("no Authorization header", None))(test)
        test = example(operation=operation, credential=("an unknown token", "Bearer ck-unknown-token"))(test)
    test = example(operation="list", credential=("Authorization: 'Bearer'", "Bearer"))(test)
    ctx.hypothesis("auth_required", test)


@prop("owner_forbidden", kind="auth")
def owner_forbidden(ctx: Context) -> None:
    """Creating for an organization the token's user does not belong to is 403 naming owner_uid.

    Rule: openapi.yaml create_invoice description ("owner_uid must be one of the authenticated user's
    organizations ... otherwise 403") and #/components/responses/Forbidden; contract notes, choice 3 (403)
    """
    requests = ctx.profile.forbidden_owner_requests()
    if not requests:
        raise NotRun(
            "the profile names no organization (with a party it may bill and a document) that some token's "
            "user does not belong to"
        )

    @given(combo=st.sampled_from(requests), plan=gen.create_plans(ctx.profile, ctx.spec, blueprint=False))
    @example(combo=requests[0], plan=gen.CreatePlan(requests[0]))
    def test(combo: Combination, plan: gen.CreatePlan) -> None:
        body = plan.body() | combo.body()
        exchange = ctx.client.create(combo.token, body)
        expect.expect_field_error(exchange, 403, "/owner_uid", f"a create for organization {combo.owner}")

    ctx.hypothesis("owner_forbidden", test, weight=0.5)


@prop("party_forbidden", kind="auth")
def party_forbidden(ctx: Context) -> None:
    """Billing a party the owner organization may not bill is 403 naming target_party_uid.

    Rule: openapi.yaml create_invoice description ("target_party_uid a party that organization may bill;
    otherwise 403") and #/components/responses/Forbidden; contract notes, Facts (target_party_uid) and
    choice 3 (403)
    """
    cases = [
        (combo, party.uid)
        for combo in ctx.profile.combinations()
        for party in ctx.profile.unbillable_parties(combo.owner)
    ]
    if not cases:
        raise NotRun("the profile names no party that one of its owner organizations may not bill")

    @given(case=st.sampled_from(cases), plan=gen.create_plans(ctx.profile, ctx.spec, blueprint=False))
    @example(case=cases[0], plan=gen.CreatePlan(cases[0][0]))
    def test(case: tuple[Combination, str], plan: gen.CreatePlan) -> None:
        combo, party = case
        body = plan.body() | combo.body() | {"target_party_uid": party}
        exchange = ctx.client.create(combo.token, body)
        expect.expect_field_error(
            exchange, 403, "/target_party_uid", f"organization {combo.owner} billing party {party}"
        )

    ctx.hypothesis("party_forbidden", test, weight=0.5)
