"""Steps shared by the lifecycle properties (update, bulk update, bulk delete, line items, scopes).

A server may have only create and read (the contract grew; a server lags behind). Each lifecycle
property first asks `served(ctx, operation_id)`: a probe that changes nothing, sent once per run,
decides whether the server has the operation at all; when it does not, the property is *not run*
with the probe's answer as the reason, never failed.
"""

from __future__ import annotations

import re
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, NotRun, Violation
from conformance.profile import Combination, Product
from conformance.properties.money import money_problems
from conformance.properties.steps import DATE_TIMES, DAY_DEPENDENT, combinations, create, same_invoice
from contract.spec import component_schema, iter_operations, operation, request_body_schema

# Statuses that say "no such route or method" (not "no such invoice"): the operation is not served.
NOT_SERVED = (404, 405, 501)
# The operations a probe can ask about (the lifecycle's: create and read are the contract's core).
PROBED = (
    "update_invoice",
    "bulk_update_invoices",
    "bulk_delete_invoices",
    "create_line_items",
    "update_line_items",
    "delete_line_items",
)
_PROBES = "lifecycle_probes"


def _probe(ctx: Context, operation_id: str, uid: str, token: str) -> Exchange:
    """A request that changes nothing: `{}` on an invoice just created, or an empty batch."""
    client = ctx.client
    if operation_id == "update_invoice":
        return client.update(token, uid, {})
    if operation_id == "bulk_update_invoices":
        return client.bulk_update(token, [])
    if operation_id == "bulk_delete_invoices":
        return client.bulk_delete(token, [])
    if operation_id == "create_line_items":
        return client.create_lines(token, uid, [])
    if operation_id == "update_line_items":
        return client.update_lines(token, uid, [])
    if operation_id == "delete_line_items":
        return client.delete_lines(token, uid, [])
    raise ValueError(f"no probe for {operation_id}")


def names_the_invoice(exchange: Exchange) -> bool:
    """A 404 in the error envelope naming `invoice_uid`: the route exists, the invoice was not found."""
    body = exchange.json
    return isinstance(body, dict) and expect.names_field(body, ("invoice_uid",))


def served(ctx: Context, operation_id: str) -> None:
    """Raise NotRun unless the server serves `operation_id`.

    Every lifecycle operation is probed at the first call of a run, on one invoice created for the
    probes, so no later property finds an extra invoice in its counts.
    """
    probes: dict[str, str | None] | None = ctx.cache.get(_PROBES)
    if probes is None:
        combo = combinations(ctx)[0]
        _, data = create(ctx, gen.CreatePlan(combo), "create (for the probe of the lifecycle operations)")
        probes = {}
        documented = {op.get("operationId") for _path, _method, op in iter_operations(ctx.spec)}
        for probed in PROBED:
            if probed not in documented:  # a contract without it: nothing to check, nor to probe
                probes[probed] = f"the spec checked has no operation {probed}: its properties are not run"
                continue
            exchange = _probe(ctx, probed, data["uid"], combo.token)
            missing = exchange.status in NOT_SERVED and not (
                exchange.status == 404 and names_the_invoice(exchange)
            )
            summary = operation(ctx.spec, probed).get("summary", probed)
            probes[probed] = (
                f"the server does not serve {probed} ({exchange.method} "
                f"{exchange.url.removeprefix(ctx.client.base_url)} answered HTTP {exchange.status}): "
                f"'{summary}' is not checked"
                if missing
                else None
            )
        ctx.cache[_PROBES] = probes
    reason = probes.get(operation_id)
    if reason is not None:
        raise NotRun(reason)


def served_all(ctx: Context, *operation_ids: str) -> None:
    for operation_id in operation_ids:
        served(ctx, operation_id)


def is_served(ctx: Context, operation_id: str) -> bool:
    try:
        served(ctx, operation_id)
    except NotRun:
        return False
    return True


# -- invoices to change ---------------------------------------------------------------------------


def fresh(ctx: Context, combo: Combination, what: str = "create", **fields: Any) -> dict[str, Any]:
    """A new invoice of `combo` without a blueprint (so its money comes from the kit's lines only)."""
    number = fields.pop("number", None)
    plan = gen.CreatePlan(
        combo,
        None,
        fields,
        gen.NumberPlan("supplied", number) if number else gen.NumberPlan("omit"),
        fit=ctx.facts.supplied_number,
    )
    return create(ctx, plan, what)[1]


def read(ctx: Context, token: str, uid: str, what: str) -> tuple[Exchange, dict[str, Any]]:
    exchange = ctx.client.get(token, uid)
    return exchange, expect.success(exchange, what)


def unchanged(ctx: Context, token: str, before: dict[str, Any], what: str, *evidence: Exchange) -> None:
    """A get of the invoice must equal `before` (the refusal in `evidence` changed nothing)."""
    exchange, after = read(ctx, token, before["uid"], f"get after {what}")
    diffs = same_invoice(before, after)
    if diffs:
        raise Violation(
            f"{what} was refused, so nothing may change; the invoice read back differs in: "
            f"{', '.join(diffs)}",
            *evidence,
            exchange,
        )


def still_there(ctx: Context, token: str, uid: str, what: str, *evidence: Exchange) -> None:
    exchange = ctx.client.get(token, uid)
    if exchange.status != 200:
        raise Violation(
            f"{what} was refused, so invoice {uid} must still exist; its get answered HTTP {exchange.status}",
            *evidence,
            exchange,
        )


# -- the fields an update may carry, and what it makes of the invoice -----------------------------


def update_fields(spec: dict[str, Any], operation_id: str = "update_invoice") -> dict[str, dict[str, Any]]:
    """The request schema's fields (one item's, for a bulk update), by name."""
    schema = request_body_schema(spec, operation_id)
    if schema.get("type") == "array":
        schema = schema["items"]
    return {name: sub for name, sub in schema.get("properties", {}).items() if name != "uid"}


def immutable_fields(spec: dict[str, Any], operation_id: str = "update_invoice") -> list[str]:
    """Fields of the create request or of the Invoice that an update may not carry (P55), from the spec."""
    allowed = set(update_fields(spec, operation_id)) | (
        {"uid"} if operation_id != "update_invoice" else set()
    )
    created = request_body_schema(spec, "create_invoice").get("properties", {})
    invoice = component_schema(spec, "Invoice").get("properties", {})
    return [name for name in dict.fromkeys([*created, *invoice]) if name not in allowed]


def nullable(spec: dict[str, Any], operation_id: str = "update_invoice") -> list[str]:
    return [name for name, sub in update_fields(spec, operation_id).items() if sub.get("nullable")]


def _or_none(uids: list[str]) -> list[str | None]:
    return [*uids] if uids else [None]


@st.composite
def changes(
    draw: st.DrawFn, ctx: Context, owner: str, operation_id: str = "update_invoice", *, min_size: int = 0
) -> dict[str, Any]:
    """A valid partial update for an invoice of `owner`: a random subset of the fields the kit can fill.

    Numbers are left out (they need a fresh unique value per send: `with_number`).
    """
    profile, fields = ctx.profile, update_fields(ctx.spec, operation_id)
    values: dict[str, st.SearchStrategy[Any]] = {
        "target_party_uid": st.sampled_from(_or_none([p.uid for p in profile.parties if p.billable(owner)])),
        "document_uid": st.sampled_from(
            _or_none([d.uid for d in profile.documents if d.organization_uid == owner])
        ),
        "invoice_blueprint_uid": st.sampled_from([None, *[bp.uid for bp in profile.blueprints_for(owner)]]),
        "status": gen.statuses(),
        "collection_method": st.sampled_from(("charge_automatically", "send_invoice", "manual")),
        "currency": gen.currencies(),
        "invoice_fields": gen.invoice_fields(("payment_terms", "cost_center")),
        **{name: st.one_of(st.none(), gen.date_times()) for name in DATE_TIMES},
    }
    names = [name for name in fields if name in values]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, min_size=min_size, max_size=len(names)))
    body = {name: draw(values[name]) for name in chosen}
    return {name: value for name, value in body.items() if value is not None or fields[name].get("nullable")}


def fields_view(entries: Any) -> list[tuple[Any, Any, Any]]:
    """invoice_fields as (key, original_type, value); the value only where `type == original_type`
    (P13: the stored type may normalise the sent one; then the value may be normalised too)."""
    view = []
    for entry in expect.sequence(entries):
        value = expect.mapping(expect.mapping(entry).get("value"))
        same = value.get("type") == value.get("original_type")
        view.append(
            (
                expect.mapping(entry).get("key"),
                value.get("original_type"),
                value.get("value") if same else ...,
            )
        )
    return view


def merged_fields(before: Any, sent: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    """P59: a sent key replaces the value in its place, a new key is appended, the rest is kept."""
    view = fields_view(before)
    keys = [key for key, _, _ in view]
    for key, entry in sent.items():
        item = (key, entry.get("type"), entry.get("value"))
        if key in keys:
            view[keys.index(key)] = item
        else:
            view.append(item)
            keys.append(key)
    return view


def fields_match(expected: list[tuple[Any, Any, Any]], got: list[tuple[Any, Any, Any]]) -> bool:
    if len(expected) != len(got):
        return False
    for (key, kind, value), (got_key, got_kind, got_value) in zip(expected, got, strict=True):
        if key != got_key or kind != got_kind:
            return False
        if (
            got_value is not ...
            and value is not ...
            and expect.canonical(value) != expect.canonical(got_value)
        ):
            return False
    return True


def update_problems(
    ctx: Context, before: dict[str, Any], sent: dict[str, Any], after: dict[str, Any]
) -> list[str]:
    """How `after` is not `before` with the partial update `sent` applied (P54, P57-P60)."""
    problems = []
    for name, value in sent.items():
        if name in DATE_TIMES:
            if not expect.same_instant(value, after.get(name)):
                problems.append(f"{name} was sent as {value!r} but is {after.get(name)!r}")
        elif name == "invoice_fields":
            if not fields_match(merged_fields(before.get(name), value), fields_view(after.get(name))):
                problems.append(
                    f"invoice_fields {after.get(name)!r} are not {before.get(name)!r} merged by key with "
                    f"{value!r} (P59)"
                )
        elif after.get(name) != value:
            problems.append(f"{name} was sent as {value!r} but is {after.get(name)!r}")
    currency = after.get("currency")
    lines = expect.sequence(after.get("line_items"))
    if any(expect.mapping(line).get("currency") != currency for line in lines):
        problems.append(f"a line item's currency is not the invoice's {currency!r} (P60)")
    target = after.get("target_party_uid")
    if "target_party_uid" in sent:
        role = "client" if ctx.facts.client_is_target(str(after.get("invoice_type"))) else "service_provider"
        party = expect.mapping(expect.mapping(after.get("parties")).get(role))
        if party.get("uid") != target:
            problems.append(
                f"parties.{role} is {party.get('uid')!r}, not the new target party {target!r} (P55)"
            )
    exempt = set(sent) | {"line_items"}
    if "target_party_uid" in sent:
        exempt.add("parties")
    if {"issue_date", "due_date"} & set(sent):
        exempt.update(DAY_DEPENDENT)  # they follow the dates (P57, P38)
    kept = {k: v for k, v in before.items() if k not in exempt}
    for name in same_invoice(kept, {k: v for k, v in after.items() if k not in exempt}):
        problems.append(f"{name} was not sent but changed from {before.get(name)!r} to {after.get(name)!r}")
    before_lines = [
        {**expect.mapping(line), "currency": currency} for line in expect.sequence(before.get("line_items"))
    ]
    if not expect.same_multiset(before_lines, [expect.mapping(line) for line in lines]):
        problems.append("the line items changed (only their currency may follow the invoice's, P60)")
    return problems


def with_number(ctx: Context, body: dict[str, Any], template: str | None) -> dict[str, Any]:
    if template is None:
        return body
    return {**body, "invoice_number": gen.unique_number(ctx.facts.supplied_number, template)}


def unknown_uid() -> str:
    return str(uuid.uuid4())


def bulk_message(spec: dict[str, Any], count: int) -> str:
    """`Successfully updated <N> invoice(s)`: the spec's example message with the count in its place."""
    envelope = component_schema(spec, "InvoiceArrayEnvelope")
    for part in reversed(envelope.get("allOf", [])):  # the specific part, not SuccessEnvelope's "Success"
        example = part.get("properties", {}).get("message", {}).get("example")
        if isinstance(example, str):
            return re.sub(r"\d+", str(count), example, count=1)
    raise NotRun("the spec gives no example message for a bulk update")


def envelope_message(spec: dict[str, Any], name: str) -> str:
    for part in reversed(component_schema(spec, name).get("allOf", [])):
        example = part.get("properties", {}).get("message", {}).get("example")
        if isinstance(example, str):
            return example
    raise NotRun(f"the spec gives no example message for {name}")


def message_of(exchange: Exchange) -> Any:
    return expect.mapping(exchange.json).get("message")


def data_of(exchange: Exchange, what: str) -> Any:
    """The `data` of a 200 success envelope, whatever its JSON type (an array, `{}`)."""
    if exchange.status != 200:
        raise Violation(f"{what}: expected HTTP 200, got {exchange.status}", exchange)
    body = expect.body_object(exchange)
    if body.get("status") != "success" or body.get("status_code") != 200 or "data" not in body:
        raise Violation(f"{what}: HTTP 200 without the success envelope", exchange)
    return body["data"]


# -- line items -----------------------------------------------------------------------------------


def products(ctx: Context, owner: str | None = None) -> list[Product]:
    owners = [owner] if owner else [c.owner for c in combinations(ctx)]
    found = [p for o in dict.fromkeys(owners) for p in ctx.profile.products_for(o)]
    if not found:
        raise NotRun(
            "the profile names no products (sku, organization_uid, context_type) of an organization that "
            "may create invoices: line items cannot be named (P68)"
        )
    return found


def priced_combos(ctx: Context) -> list[Combination]:
    """Combinations whose owner has products with a known price."""
    found = [
        c
        for c in combinations(ctx)
        if any(p.unit_price is not None for p in ctx.profile.products_for(c.owner))
    ]
    if not found:
        products(ctx)
        raise NotRun("the profile's products state no unit_price: the default price cannot be checked (P68)")
    return found


def cents(quantity: Any, unit_cents: int) -> int:
    """P09/P69: quantity x unit price in cents, rounded half up on the exact decimal product."""
    return int((Decimal(str(quantity)) * unit_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quantities() -> st.SearchStrategy[Any]:
    """Quantities within the limits (P73), at most 2 decimals (more is open), ints and halves often."""
    return st.one_of(
        st.integers(min_value=0, max_value=40),
        st.sampled_from([0.5, 1.5, 2.25, 0.01, 3.33, 0.125 * 4, 12.75]),
        st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: float(d)),
    )


@st.composite
def line_requests(draw: st.DrawFn, catalog: list[Product], currency: str | None = None) -> dict[str, Any]:
    """One valid line item create request for a product of the list (PRODUCT lines by default)."""
    product = draw(st.sampled_from(catalog))
    body: dict[str, Any] = {
        "context_type": product.context_type,
        "sku": product.sku,
        "quantity": draw(quantities()),
    }
    if product.unit_price is None or draw(st.booleans()):
        body["unit_price"] = draw(st.integers(min_value=0, max_value=500_000))
    if currency is not None and draw(st.booleans()):
        body["currency"] = currency
    return body


def line_cents(line: dict[str, Any]) -> tuple[int, int]:
    """(unit price, line total) of a response line in cents (it shows major units, P69)."""
    return round(float(line.get("unit_price", 0)) * 100), round(float(line.get("line_total", 0)) * 100)


def line_problems(ctx: Context, invoice: dict[str, Any]) -> list[str]:
    """P69/P70 exactly: each line_total is quantity x unit price in cents rounded half up, and each
    money bucket is the sum of its lines' totals in cents; the identities of choice 2 hold."""
    problems = money_problems(invoice, ctx.facts)
    sums = {"subtotal_cents": 0, "discount_cents": 0, "tax_cents": 0}
    for line in expect.sequence(invoice.get("line_items")):
        line = expect.mapping(line)
        if not all(isinstance(line.get(k), int | float) for k in ("quantity", "unit_price", "line_total")):
            return [*problems, f"a line item lacks numeric quantity, unit_price or line_total: {line!r}"]
        unit, total = line_cents(line)
        if total != cents(line["quantity"], unit):
            problems.append(
                f"line {line.get('uid')}: line_total {line['line_total']} is not {line['quantity']} x "
                f"{line['unit_price']} rounded half up to cents ({cents(line['quantity'], unit) / 100}) (P69)"
            )
        sums[ctx.facts.context_type_bucket(str(line.get("context_type")))] += total
    for name, total in sums.items():
        if invoice.get(name) != total:
            problems.append(
                f"{name} is {invoice.get(name)!r}, not the sum of its lines' totals {total} (P70)"
            )
    return problems


def expected_line(product: Product, sent: dict[str, Any], invoice: dict[str, Any]) -> dict[str, Any]:
    """What a created line must show (P68, P69): the product's name and type, the price in major units."""
    unit = sent.get("unit_price", product.unit_price)
    expected: dict[str, Any] = {
        "invoice_uid": invoice["uid"],
        "context_type": product.context_type,
        "currency": invoice.get("currency"),
    }
    if product.name is not None:
        expected["context_name"] = product.name
    if product.context_type_uid is not None:
        expected["context_type_uid"] = product.context_type_uid
    if unit is not None:
        expected["unit_price"] = unit / 100
        expected["line_total"] = cents(sent["quantity"], unit) / 100
    return expected


def line_mismatches(expected: dict[str, Any], got: Any, quantity: Any = None) -> list[str]:
    line = expect.mapping(got)
    diffs = []
    for name, value in expected.items():
        left, right = value, line.get(name)
        if isinstance(left, int | float) and isinstance(right, int | float):
            if abs(left - right) > 1e-9:
                diffs.append(f"{name} {right!r} != {left!r}")
        elif left != right:
            diffs.append(f"{name} {right!r} != {left!r}")
    if quantity is not None and (
        not isinstance(line.get("quantity"), int | float) or abs(line["quantity"] - float(quantity)) > 1e-9
    ):
        diffs.append(f"quantity {line.get('quantity')!r} != {quantity!r}")
    if not isinstance(line.get("uid"), str):
        diffs.append("no uid")
    return diffs


def pointer(index: int | None, name: str) -> str:
    """`/name` for a single-object request, `/<index>/name` for an item of an array (P62)."""
    return f"/{name}" if index is None else f"/{index}/{name}"


def signed_total(ctx: Context, lines: list[tuple[str, int]]) -> int:
    """sum of (context_type, cents) lines as total_cents adds them: discounts subtract (choice 2)."""
    total = 0
    for context_type, amount in lines:
        bucket = ctx.facts.context_type_bucket(context_type)
        total += -amount if bucket == "discount_cents" else amount
    return total


def existing_lines(invoice: dict[str, Any]) -> list[tuple[str, int]]:
    """(context_type, line total in cents) of an invoice's lines."""
    return [
        (str(expect.mapping(line).get("context_type")), line_cents(expect.mapping(line))[1])
        for line in expect.sequence(invoice.get("line_items"))
    ]
