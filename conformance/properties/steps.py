"""Steps shared by the properties: a body that may create, create-then-read, paging through a list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, NotRun, Violation
from conformance.profile import Combination
from contract.spec import component_schema

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
    uids = (str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))
    return Combination(ctx.profile.tokens[0], *uids, ctx.profile.required)


def default_invoice_type(ctx: Context) -> str:
    """openapi.yaml InvoiceType default: the type of a create without one, the list's filter without one."""
    return ctx.facts.default_invoice_type


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


DAY_DEPENDENT = ("age", "overdue_days")
# Lists whose order the contract leaves open (precision row P15): compared as multisets.
UNORDERED = ("line_items",)
DATE_TIMES = ("issue_date", "due_date", "paid_date")  # the same instant, any textual form (P23)
MAX_PAGES = 20  # newest first: an invoice just created is on the first pages of its list


def same_invoice(created: dict[str, Any], read: dict[str, Any]) -> list[str]:
    """Fields that differ between the invoice as created and as read back (day counts: ±1)."""
    diffs = []
    for name in sorted(set(created) | set(read)):
        left, right = created.get(name), read.get(name)
        if name in DAY_DEPENDENT and isinstance(left, int) and isinstance(right, int):
            if abs(left - right) > 1:
                diffs.append(name)
        elif name in UNORDERED and isinstance(left, list) and isinstance(right, list):
            if not expect.same_multiset(left, right):
                diffs.append(name)
        elif name in DATE_TIMES and isinstance(left, str):
            if not expect.same_instant(left, right):
                diffs.append(name)
        elif left != right:
            diffs.append(name)
    return diffs


# InvoiceSummary fields that are not compared to the invoice's as they are: date-times are the
# same instant in any form (precision row P23), the summary's parties hold the client only, and
# overdue_days is derived from the clock when each answer is made.
_SUMMARY_COMPARED_OTHERWISE = frozenset({"issue_date", "due_date", "parties", "overdue_days"})


def summary_fields(spec: dict[str, Any]) -> list[str]:
    """The InvoiceSummary fields an Invoice also has, which a list item repeats exactly (the spec's)."""
    invoice = component_schema(spec, "Invoice")["properties"]
    summary = component_schema(spec, "InvoiceSummary")["properties"]
    return [name for name in summary if name in invoice and name not in _SUMMARY_COMPARED_OTHERWISE]


def summary_mismatches(invoice: dict[str, Any], item: dict[str, Any], ctx: Context) -> list[str]:
    """How a list item differs from the invoice it summarizes (openapi.yaml InvoiceSummary)."""
    diffs = []
    if "summary_fields" not in ctx.cache:
        ctx.cache["summary_fields"] = summary_fields(ctx.spec)
    for name in ctx.cache["summary_fields"]:
        if item.get(name) != invoice.get(name):
            diffs.append(f"{name} {item.get(name)!r} != {invoice.get(name)!r}")
    for name in ("issue_date", "due_date"):
        if not expect.same_instant(invoice.get(name), item.get(name)):
            diffs.append(f"{name} {item.get(name)!r} != {invoice.get(name)!r}")
    client = expect.mapping(invoice.get("parties")).get("client")
    if expect.mapping(item.get("parties")).get("client") != client:
        diffs.append("parties.client differs from the invoice's")
    contract = expect.mapping(item.get("parent_contract"))
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
        meta = expect.mapping(data.get("_meta"))
        last = not page_items or (isinstance(meta.get("total_pages"), int) and page >= meta["total_pages"])
        if last:
            return Listing(items, exchanges, complete=True)
        if until_found is not None and until_found <= items.keys():
            return Listing(items, exchanges, complete=False)
    return Listing(items, exchanges, complete=False)
