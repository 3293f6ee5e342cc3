"""The list: it contains what was created, under its type, with consistent pages, newest first."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.core import CannotDecide, Context, NotRun, Violation, prop
from conformance.properties.steps import (
    combinations,
    create,
    default_invoice_type,
    page_through,
    summary_mismatches,
)
from conformance.strategies import list_parameters


@prop("list_contains_created", kind="stateful", rows=("P20",))
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


@prop("list_filter_and_defaults", kind="stateful", rows=("P20", "P21"))
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
        meta = expect.mapping(data.get("_meta"))
        for name in ("page", "per_page"):
            if meta.get(name) != defaults[name]:
                raise Violation(
                    f"_meta.{name} must default to {defaults[name]}; got {meta.get(name)!r}", exchange
                )
        items = expect.sequence(data.get("items"))
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


@prop("list_pagination_meta", kind="stateful", rows=("P10", "P21"))
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
        problems += _link_problems(links, page, total_pages, per_page, kind)
        if problems:
            raise Violation("; ".join(problems), exchange)

    ctx.hypothesis("list_pagination_meta", test, weight=0.5)


def _link_problems(links: dict[str, Any], page: int, total_pages: int, per_page: int, kind: str) -> list[str]:
    """What is wrong with a page's _links: next and prev null exactly at the ends, and every link
    repeating the request's per_page and invoice_type (so following it stays in the same list)."""
    problems = []
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
            problems.append(f"_links.{name} {link!r} must repeat per_page={per_page} and invoice_type={kind}")
    if not isinstance(links.get("self"), str):
        problems.append("_links.self must be a link")
    return problems


@prop("list_newest_first", kind="stateful", rows=("P04",))
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


SCAN_ATTEMPTS = 3


@prop("pages_disjoint_and_complete", kind="stateful", rows=("P04", "P10", "P21"))
def pages_disjoint_and_complete(ctx: Context) -> None:
    """Paging through a list with a small page size shows each of the kit's new invoices exactly once.

    Rule: openapi.yaml list_invoices description (pages of per_page items, newest first) and precision
    rows P04 (newest first) and P21 (per_page bounds); other traffic that changes _meta.total_items
    during a scan makes the scan undecidable, never a violation
    """
    combos = combinations(ctx)
    types = gen.invoice_types(ctx.spec)

    @given(
        combo=st.sampled_from(combos),
        kind=st.sampled_from(types),
        count=st.integers(2, 5),
        per_page=st.integers(1, 3),
    )
    @example(combo=combos[0], kind=types[0], count=3, per_page=1)
    @example(combo=combos[0], kind=types[0], count=5, per_page=2)
    def test(combo: Any, kind: str, count: int, per_page: int) -> None:
        made = [create(ctx, gen.CreatePlan(combo, fields={"invoice_type": kind})) for _ in range(count)]
        mine = {data["uid"] for _, data in made}
        for _attempt in range(SCAN_ATTEMPTS):
            verdict, changed = scan_pages(ctx, combo.token, kind, per_page, mine)
            if verdict is not None:
                verdict.exchanges[:0] = [made[0][0]]
                raise verdict
            if not changed:
                return
        raise CannotDecide(
            f"the {kind} list changed (_meta.total_items) during each of {SCAN_ATTEMPTS} scans: other "
            "traffic on the server, so whether pages repeat or skip items cannot be decided"
        )

    ctx.hypothesis("pages_disjoint_and_complete", test, weight=0.2)


def scan_pages(
    ctx: Context, token: str, kind: str, per_page: int, mine: set[str]
) -> tuple[Violation | None, bool]:
    """Read pages until every uid of `mine` is seen (they are the newest, so on the first pages).

    Returns the violation (or None) and whether `_meta.total_items` moved during the scan: a scan
    that saw the list change decides nothing, so it is never a violation."""
    seen: dict[str, int] = {}
    exchanges = []
    totals = set()
    pages = math.ceil(len(mine) / per_page) + 1
    for page in range(1, pages + 1):
        exchange = ctx.client.list(token, invoice_type=kind, page=page, per_page=per_page)
        exchanges.append(exchange)
        data = expect.success(exchange, f"list page {page}")
        meta = expect.mapping(data.get("_meta"))
        totals.add(meta.get("total_items"))
        for item in expect.sequence(data.get("items")):
            uid = item.get("uid") if isinstance(item, dict) else None
            if uid in mine and uid in seen:
                if len(totals) > 1:
                    return None, True
                return Violation(
                    f"invoice {uid} is on page {seen[uid]} and again on page {page} (per_page={per_page})",
                    *exchanges,
                ), False
            if isinstance(uid, str):
                seen.setdefault(uid, page)
        if mine <= seen.keys():
            break
    changed = len(totals) > 1
    missing = mine - seen.keys()
    if missing and not changed:
        violation = Violation(
            f"{len(mine)} invoices just created (the newest of the list) are not all on the first "
            f"{pages} pages of per_page={per_page}: {sorted(missing)} skipped",
            *exchanges,
        )
        return violation, False
    return None, changed


@prop("list_default_filter_is_explicit", kind="stateful", rows=("P20", "P21"))
def list_default_filter_is_explicit(ctx: Context) -> None:
    """The list without invoice_type is exactly the list with invoice_type set to its default.

    Rule: openapi.yaml list_invoices parameters (invoice_type default) and precision rows P20 (a list
    without invoice_type is the same as invoice_type=ACCOUNTS_RECEIVABLE) and P21 (per_page default)
    """
    combos = combinations(ctx)
    types = gen.invoice_types(ctx.spec)
    default = default_invoice_type(ctx)

    @given(combo=st.sampled_from(combos), page_size=st.sampled_from([None, 1, 5]))
    @example(combo=combos[0], page_size=None)
    def test(combo: Any, page_size: int | None) -> None:
        for kind in types:
            create(ctx, gen.CreatePlan(combo, fields={"invoice_type": kind}))
        for _attempt in range(SCAN_ATTEMPTS):
            implicit = ctx.client.list(combo.token, per_page=page_size)
            explicit = ctx.client.list(combo.token, per_page=page_size, invoice_type=default)
            left, right = expect.success(implicit, "list"), expect.success(explicit, "list")
            left_meta = expect.mapping(left.get("_meta"))
            right_meta = expect.mapping(right.get("_meta"))
            uids = [
                [i.get("uid") for i in expect.sequence(d.get("items")) if isinstance(i, dict)]
                for d in (left, right)
            ]
            if uids[0] == uids[1] and left_meta.get("total_items") == right_meta.get("total_items"):
                return
            again = expect.success(
                ctx.client.list(combo.token, per_page=page_size, invoice_type=default), "list"
            )
            if again.get("_meta") != right.get("_meta"):
                continue  # the list changed between the two reads: other traffic
            raise Violation(
                f"the list without invoice_type must be the {default} list: items {uids[0]} vs {uids[1]}, "
                f"total_items {left_meta.get('total_items')!r} vs {right_meta.get('total_items')!r}",
                implicit,
                explicit,
            )
        raise CannotDecide("the list changed between every pair of reads: other traffic on the server")

    ctx.hypothesis("list_default_filter_is_explicit", test, weight=0.1)


def item_uids(data: dict[str, Any]) -> list[Any]:
    return [item.get("uid") for item in expect.sequence(data.get("items")) if isinstance(item, dict)]
