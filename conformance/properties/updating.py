"""Update invoice: a partial change that echoes what it changed, keeps the rest, and is read back."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.core import Context, NotRun, Violation, prop
from conformance.profile import Combination
from conformance.properties.lifecycle import (
    changes,
    fields_view,
    fresh,
    immutable_fields,
    is_served,
    nullable,
    read,
    served,
    unchanged,
    unknown_uid,
    update_problems,
    with_number,
)
from conformance.properties.steps import combinations, create, page_through, same_invoice

NUMBER_CHOICES = (None, None, "CK-{}", " ck-{} ")


def _with_blueprint(ctx: Context) -> list[tuple[Combination, str]]:
    return [(c, bp.uid) for c in combinations(ctx) for bp in ctx.profile.blueprints_for(c.owner)]


def _invoice(ctx: Context, combo: Combination, blueprint: Any) -> dict[str, Any]:
    """An invoice to change: with the owner's blueprint (lines, fields) when there is one."""
    plan = gen.CreatePlan(combo, blueprint, {}, gen.NumberPlan("omit"))
    return create(ctx, plan, "create (the invoice to update)")[1]


def _check_update(
    ctx: Context, combo: Combination, before: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """Send the update; its answer must be `before` with `body` applied (the exchange is remembered
    in `ctx.cache["last_update"]` for the evidence of later checks)."""
    exchange = ctx.client.update(combo.token, before["uid"], body)
    ctx.cache["last_update"] = exchange
    after = expect.success(exchange, "update")
    problems = update_problems(ctx, before, body, after)
    if problems:
        raise Violation(
            "the update answer is not the invoice with the change applied: " + "; ".join(problems), exchange
        )
    return after


@prop("update_changes_only_what_it_sends", kind="update", rows=("P54", "P57", "P58", "P59", "P60", "P23"))
def update_changes_only_what_it_sends(ctx: Context) -> None:
    """An update answers the invoice with every sent field changed and every other field as it was.

    Rule: openapi.yaml update_invoice description and #/components/schemas/InvoiceUpdateRequest (an omitted
    field is unchanged; status and paid_date imply nothing; a blueprint changes the reference only;
    invoice_fields merged by key; a new currency becomes every line's); precision rows P54, P57-P60
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)
    blueprinted = _with_blueprint(ctx)

    @given(data=st.data(), number=st.sampled_from(NUMBER_CHOICES))
    @example(data=None, number=None)
    def test(data: st.DataObject | None, number: str | None) -> None:
        if data is None:  # explicit: a dated invoice with a blueprint; only its status changes
            combo, blueprint = blueprinted[0] if blueprinted else (combos[0], None)
            dates = {"issue_date": "2026-03-30T00:00:00Z", "due_date": "2026-04-29T00:00:00Z"}
            plan = gen.CreatePlan(combo, blueprint, dates, gen.NumberPlan("omit"))
            body: dict[str, Any] = {"status": "SENT"}
        else:
            combo = data.draw(st.sampled_from(combos), "combo")
            plan = data.draw(
                gen.create_plans(ctx.profile, ctx.spec, combos=[combo], numbers=gen.number_plans(("omit",))),
                "the invoice",
            )
            body = data.draw(changes(ctx, combo.owner), "changes")
        before = create(ctx, plan, "create (the invoice to update)")[1]
        _check_update(ctx, combo, before, with_number(ctx, body, number))

    ctx.hypothesis("update_changes_only_what_it_sends", test, weight=0.4)


@prop("update_read_after_write", kind="update", rows=("P54", "P50"))
def update_read_after_write(ctx: Context) -> None:
    """After an update, a get of the invoice returns exactly the update's answer.

    Rule: openapi.yaml update_invoice ("The answer is the full Invoice after the change") and precision
    rows P54 (a later get returns the same) and P50
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)

    @given(combo=st.sampled_from(combos), data=st.data(), number=st.sampled_from(NUMBER_CHOICES))
    def test(combo: Combination, data: st.DataObject, number: str | None) -> None:
        before = fresh(ctx, combo)
        body = with_number(ctx, data.draw(changes(ctx, combo.owner, min_size=1), "changes"), number)
        exchange = ctx.client.update(combo.token, before["uid"], body)
        answer = expect.success(exchange, "update")
        fetched, got = read(ctx, combo.token, before["uid"], "get after an update")
        diffs = same_invoice(answer, got)
        if diffs:
            raise Violation(
                f"the invoice read after an update differs from the update's answer in: {', '.join(diffs)}",
                exchange,
                fetched,
            )

    ctx.hypothesis("update_read_after_write", test, weight=0.3)


@prop("update_null_clears", kind="update", rows=("P54", "P41"))
def update_null_clears(ctx: Context) -> None:
    """`null` for a nullable update field clears it (the field becomes null); the others are kept.

    Rule: openapi.yaml #/components/schemas/InvoiceUpdateRequest ("null clears a nullable field") and
    precision row P54 (issue_date, due_date, paid_date, invoice_blueprint_uid)
    """
    served(ctx, "update_invoice")
    names = nullable(ctx.spec)
    if not names:
        raise NotRun("the update request has no nullable field")
    combos = combinations(ctx)

    @given(combo=st.sampled_from(combos), cleared=st.sets(st.sampled_from(names), min_size=1))
    @example(combo=combos[0], cleared=set(names))
    def test(combo: Combination, cleared: set[str]) -> None:
        owned = [bp.uid for bp in ctx.profile.blueprints_for(combo.owner)]
        filled = {
            name: gen.now_utc().replace(microsecond=0).isoformat() for name in names if name.endswith("_date")
        }
        if "invoice_blueprint_uid" in names and owned:
            filled["invoice_blueprint_uid"] = owned[0]
        before = fresh(ctx, combo)
        before = _check_update(ctx, combo, before, filled)
        after = _check_update(ctx, combo, before, dict.fromkeys(sorted(cleared)))
        for name in cleared:
            if after.get(name) is not None:
                raise Violation(
                    f"{name} was sent as null, so it must be null; it is {after.get(name)!r}",
                    ctx.cache["last_update"],
                )

    ctx.hypothesis("update_null_clears", test, weight=0.25)


@prop("update_fields_merged", kind="update", rows=("P59", "P16", "P13"))
def update_fields_merged(ctx: Context) -> None:
    """invoice_fields in an update merge by key: a known key's value changes in its place, a new key
    is appended, keys not sent are kept, `{}` changes nothing.

    Rule: openapi.yaml InvoiceUpdateRequest.invoice_fields ("Merged into the invoice's fields by key") and
    precision row P59
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)
    blueprinted = _with_blueprint(ctx)

    @given(combo=st.sampled_from(combos), first=gen.invoice_fields(min_size=1), second=gen.invoice_fields())
    @example(
        combo=combos[0],
        first={
            "payment_terms": {"type": "string", "value": "NET_60"},
            "zz_new": {"type": "number", "value": 7},
        },
        second={"zz_new": {"type": "string", "value": "x"}, "aa_other": {"type": "boolean", "value": True}},
    )
    def test(combo: Combination, first: dict[str, Any], second: dict[str, Any]) -> None:
        owned = [bp for c, bp in blueprinted if c.owner == combo.owner]
        before = _invoice(ctx, combo, owned[0] if owned else None)
        middle = _check_update(ctx, combo, before, {"invoice_fields": first})
        after = _check_update(ctx, combo, middle, {"invoice_fields": second})
        kept = [
            entry
            for entry in fields_view(before.get("invoice_fields"))
            if entry[0] not in first and entry[0] not in second
        ]
        got = fields_view(after.get("invoice_fields"))
        if any(entry[0] not in [k for k, _, _ in got] for entry in kept):
            raise Violation(
                "an invoice field not sent in either update is gone (P59: fields cannot be removed)",
                ctx.cache["last_update"],
            )

    ctx.hypothesis("update_fields_merged", test, weight=0.25)


@prop("update_currency_follows_to_lines", kind="update", rows=("P60",))
def update_currency_follows_to_lines(ctx: Context) -> None:
    """A new currency becomes every line item's currency; no amount changes (no conversion).

    Rule: openapi.yaml InvoiceUpdateRequest.currency ("Becomes every line item's currency too, without
    conversion") and precision row P60
    """
    served(ctx, "update_invoice")
    lined = [
        (c, bp) for c, bp in _with_blueprint(ctx) if getattr(ctx.profile.blueprint(bp), "line_items", None)
    ]
    if not lined:
        raise NotRun("the profile names no blueprint with line items: an invoice with lines cannot be made")

    @given(case=st.sampled_from(lined), currency=gen.currencies())
    @example(case=lined[0], currency="EUR")
    def test(case: tuple[Combination, str], currency: str) -> None:
        combo, blueprint = case
        before = _invoice(ctx, combo, blueprint)
        after = _check_update(ctx, combo, before, {"currency": currency})
        money = [name for name in after if name.endswith("_cents") or name == "total"]
        moved = [name for name in money if after.get(name) != before.get(name)]
        if moved:
            raise Violation(
                f"a new currency must not change any amount (no conversion); changed: {', '.join(moved)}",
                ctx.cache["last_update"],
            )

    ctx.hypothesis("update_currency_follows_to_lines", test, weight=0.2)


@prop("update_status_and_paid_date_imply_nothing", kind="update", rows=("P57", "P30"))
def update_status_and_paid_date_imply_nothing(ctx: Context) -> None:
    """status and paid_date are stored as sent and change nothing else: no amount is paid, a
    paid_date does not change the status, a status does not set a paid_date.

    Rule: openapi.yaml InvoiceUpdateRequest.status / paid_date ("Stored as sent; implies nothing else")
    and precision row P57
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)
    blueprinted = _with_blueprint(ctx)
    dated = st.one_of(st.none(), gen.date_times())

    @given(combo=st.sampled_from(combos), status=st.one_of(st.none(), gen.statuses()), paid=dated)
    @example(combo=blueprinted[0][0] if blueprinted else combos[0], status="PAID", paid=None)
    @example(combo=blueprinted[0][0] if blueprinted else combos[0], status=None, paid="2026-04-20T00:00:00Z")
    def test(combo: Combination, status: str | None, paid: str | None) -> None:
        owned = [bp for c, bp in blueprinted if c.owner == combo.owner]
        before = _invoice(ctx, combo, owned[0] if owned else None)
        body: dict[str, Any] = {"paid_date": paid}
        if status is not None:
            body["status"] = status
        _check_update(ctx, combo, before, body)

    ctx.hypothesis("update_status_and_paid_date_imply_nothing", test, weight=0.2)


@prop("update_number_rules", kind="update", rows=("P56", "P18"))
def update_number_rules(ctx: Context) -> None:
    """An update may keep the invoice's own number (200); another invoice's number of the owner is 409,
    a blank or null number 422, both naming /invoice_number and changing nothing.

    Rule: openapi.yaml #/components/schemas/InvoiceNumberChange and update_invoice (409 for a number another
    invoice of the owner organization has); precision row P56
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)
    kinds = ("own", "taken", "blank", "null")

    @given(
        combo=st.sampled_from(combos), kind=st.sampled_from(kinds), blank=st.sampled_from(gen.BLANK_NUMBERS)
    )
    @example(combo=combos[0], kind="taken", blank="")
    @example(combo=combos[0], kind="own", blank="")
    @example(combo=combos[0], kind="blank", blank=" ")
    def test(combo: Combination, kind: str, blank: str) -> None:
        before = fresh(ctx, combo, number="CK-{}")
        if kind == "own":
            _check_update(ctx, combo, before, {"invoice_number": before["invoice_number"], "status": "OWN"})
            return
        if kind == "taken":
            other = fresh(ctx, combo, number="CK-{}")
            body, status = {"invoice_number": other["invoice_number"], "status": "TAKEN"}, 409
        else:
            body, status = {"invoice_number": blank if kind == "blank" else None, "status": "BLANK"}, 422
        exchange = ctx.client.update(combo.token, before["uid"], body)
        expect.expect_field_error(exchange, status, "/invoice_number", f"an update with a {kind} number")
        unchanged(ctx, combo.token, before, f"an update with a {kind} number", exchange)

    ctx.hypothesis("update_number_rules", test, weight=0.3)


@prop("refused_update_changes_nothing", kind="update", rows=("P55", "P56", "P61", "P17", "P64"))
def refused_update_changes_nothing(ctx: Context) -> None:
    """An update refused for one reason (409 number, 403 party, 422 immutable field / blank number /
    bad reference, 404 invisible invoice) changes nothing, not even its valid fields.

    Rule: openapi.yaml update_invoice (the rules and the error each produces) and precision rows P55,
    P56, P61 (the order), P64 (an invoice of another organization is 404)
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)
    immutables = immutable_fields(ctx.spec)

    def defects(combo: Combination) -> list[tuple[str, int, str]]:
        found = [("taken number", 409, "/invoice_number"), ("blank number", 422, "/invoice_number")]
        found += [(f"immutable {name}", 422, f"/{name}") for name in immutables]
        if ctx.profile.unbillable_parties(combo.owner):
            found.append(("unbillable party", 403, "/target_party_uid"))
        if ctx.profile.foreign_documents(combo.owner):
            found.append(("foreign document", 422, "/document_uid"))
        if ctx.profile.foreign_blueprints(combo.owner):
            found.append(("foreign blueprint", 422, "/invoice_blueprint_uid"))
        if ctx.profile.outsider_tokens(combo.owner):
            found.append(("invisible invoice", 404, "invoice_uid"))
        found.append(("unknown invoice", 404, "invoice_uid"))
        return found

    @st.composite
    def cases(draw: st.DrawFn) -> tuple[Combination, tuple[str, int, str], dict[str, Any]]:
        combo = draw(st.sampled_from(combos))
        defect = draw(st.sampled_from(defects(combo)))
        return combo, defect, draw(changes(ctx, combo.owner, min_size=1))

    @given(case=cases())
    @example(case=(combos[0], ("taken number", 409, "/invoice_number"), {"status": "SENT", "due_date": None}))
    @example(case=(combos[0], ("immutable owner_uid", 422, "/owner_uid"), {"status": "SENT"}))
    def test(case: tuple[Combination, tuple[str, int, str], dict[str, Any]]) -> None:
        combo, (what, status, field), valid = case
        before = fresh(ctx, combo, number="CK-{}")
        token, uid, body = _defective_update(ctx, combo, before, (what, field), valid)
        exchange = ctx.client.update(token, uid, body)
        if status == 404:
            expect.error(exchange, 404, f"an update of an {what}")
        else:
            expect.expect_field_error(exchange, status, field, f"an update with a {what}")
        unchanged(ctx, combo.token, before, f"an update with a {what}", exchange)

    ctx.hypothesis("refused_update_changes_nothing", test, weight=0.5)


def _defective_update(
    ctx: Context, combo: Combination, before: dict[str, Any], defect: tuple[str, str], valid: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    """The (token, invoice uid, body) of an update of `before` that is wrong for the one reason
    `defect` (its name and the field its error names) says, besides the valid changes."""
    what, field = defect
    body, token, uid = dict(valid), combo.token, before["uid"]
    if what == "taken number":
        body["invoice_number"] = fresh(ctx, combo, number="CK-{}")["invoice_number"]
    elif what == "blank number":
        body["invoice_number"] = " "
    elif what.startswith("immutable "):
        body[field[1:]] = before.get(field[1:], combo.owner) if field != "/owner_uid" else combo.owner
    elif what == "unbillable party":
        body["target_party_uid"] = ctx.profile.unbillable_parties(combo.owner)[0].uid
    elif what == "foreign document":
        body["document_uid"] = ctx.profile.foreign_documents(combo.owner)[0].uid
    elif what == "foreign blueprint":
        body["invoice_blueprint_uid"] = ctx.profile.foreign_blueprints(combo.owner)[0].uid
    elif what == "invisible invoice":
        token = ctx.profile.outsider_tokens(combo.owner)[0]
    else:
        uid = unknown_uid()
    return token, uid, body


@prop("list_order_kept_after_changes", kind="update", rows=("P76", "P04"))
def list_order_kept_after_changes(ctx: Context) -> None:
    """An update (and a line-item change, when served) does not move an invoice in the list: an
    invoice created before another still lists after it (newest first by creation).

    Rule: openapi.yaml list_invoices ("Items are ordered newest first (most recently created first)") and
    precision rows P76 (an update or a line-item change does not move an invoice) and P04
    """
    served(ctx, "update_invoice")
    combos = combinations(ctx)
    kind = ctx.facts.default_invoice_type
    lines = is_served(ctx, "create_line_items") and any(ctx.profile.products_for(c.owner) for c in combos)

    @given(combo=st.sampled_from(combos), data=st.data())
    @example(combo=combos[0], data=None)
    def test(combo: Combination, data: st.DataObject | None) -> None:
        older = fresh(ctx, combo)
        newer = fresh(ctx, combo)
        body = data.draw(changes(ctx, combo.owner, min_size=1), "changes") if data else {"status": "LATER"}
        exchange = ctx.client.update(combo.token, older["uid"], body)
        expect.success(exchange, "update")
        catalog = ctx.profile.products_for(combo.owner)
        if lines and catalog:
            line = {"context_type": catalog[0].context_type, "sku": catalog[0].sku, "quantity": 1}
            ctx.client.create_lines(combo.token, older["uid"], line | {"unit_price": 100})
        listing = page_through(ctx, combo.token, kind, until_found={older["uid"], newer["uid"]}, max_pages=2)
        order = [uid for uid in listing.items if uid in (older["uid"], newer["uid"])]
        if order != [newer["uid"], older["uid"]]:
            raise Violation(
                f"invoice {older['uid']} was created before {newer['uid']} and then changed; the list "
                f"(newest first by creation) must show {newer['uid']} first; it shows {order}",
                exchange,
                *listing.exchanges[:1],
            )

    ctx.hypothesis("list_order_kept_after_changes", test, weight=0.15)
