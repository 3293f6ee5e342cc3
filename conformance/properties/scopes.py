"""Key scopes: a key lacking an operation's scope is 403 before anything else, and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance.client import Exchange
from conformance.core import CannotDecide, Context, NotRun, Violation, prop
from conformance.profile import Combination, User
from conformance.properties.lifecycle import fresh, is_served, read, served, unchanged, unknown_uid
from conformance.properties.steps import combinations, default_invoice_type

READS = ("get_invoice", "list_invoices")
# A request per write operation the kit can send; `valid` picks a body the contract would accept
# from a key with the scope, else one it would refuse (422): either way the answer is 403 (P74).
Send = Callable[[Context, str, dict[str, Any], Combination, bool], Exchange]
GARBAGE = {"ck_surprise": True}


def _line(ctx: Context, combo: Combination) -> dict[str, Any]:
    """A line of one of the owner's products (the profile's), else a body that is refused anyway."""
    catalog = ctx.profile.products_for(combo.owner)
    if not catalog:
        return GARBAGE
    return {"context_type": catalog[0].context_type, "sku": catalog[0].sku, "quantity": 1}


SENDERS: dict[str, Send] = {
    "create_invoice": lambda ctx, token, inv, combo, valid: ctx.client.create(
        token, combo.body() if valid else GARBAGE
    ),
    "update_invoice": lambda ctx, token, inv, combo, valid: ctx.client.update(
        token, inv["uid"], {"status": "SCOPED"} if valid else GARBAGE
    ),
    "bulk_update_invoices": lambda ctx, token, inv, combo, valid: ctx.client.bulk_update(
        token, [{"uid": inv["uid"], "status": "SCOPED"}] if valid else GARBAGE
    ),
    "bulk_delete_invoices": lambda ctx, token, inv, combo, valid: ctx.client.bulk_delete(
        token, [inv["uid"]] if valid else GARBAGE
    ),
    "create_line_items": lambda ctx, token, inv, combo, valid: ctx.client.create_lines(
        token, inv["uid"], _line(ctx, combo) if valid else GARBAGE
    ),
    "update_line_items": lambda ctx, token, inv, combo, valid: ctx.client.update_lines(
        token, inv["uid"], {"uid": unknown_uid(), "quantity": 2} if valid else GARBAGE
    ),
    "delete_line_items": lambda ctx, token, inv, combo, valid: ctx.client.delete_lines(
        token, inv["uid"], [unknown_uid()] if valid else GARBAGE
    ),
}


def read_only_keys(ctx: Context) -> list[tuple[User, Combination]]:
    """Keys that may read but lack some write operation's scope, with a combination of their
    organization that an ordinary member may create with."""
    reads = frozenset().union(*(ctx.facts.scopes.get(op, frozenset()) for op in READS))
    writes = ctx.facts.scopes.get("create_invoice", frozenset())
    found = []
    for user in ctx.profile.scoped_users(lacking=writes, having=reads):
        combos = [c for c in combinations(ctx) if c.owner in (user.organizations or ())]
        if combos:
            found.append((user, combos[0]))
    return found


@prop("read_only_key_cannot_write", kind="scopes", rows=("P74", "P37"))
def read_only_key_cannot_write(ctx: Context) -> None:
    """A key lacking an operation's scope (a read-only key) gets 403 on every write, whatever the body,
    and nothing changes; it can still get and list its organization's invoices.

    Rule: openapi.yaml x-scopes of each operation and #/components/responses/KeyLacksPermission; precision
    row P74 (403 right after authentication, before the body is read or the invoice looked up)
    """
    try:
        served(ctx, "update_invoice")
    except NotRun as reason:  # a server of the contract before the lifecycle has no scopes either
        raise NotRun(f"{reason}; key scopes (P74) came with the lifecycle operations") from None
    keys = read_only_keys(ctx)
    if not keys:
        raise NotRun(
            "the profile names no key with scopes that may read but not write (a user with `scopes` lacking "
            "invoices:write), of an organization that may create invoices"
        )
    writes = [
        op
        for op, scopes in ctx.facts.scopes.items()
        if op in SENDERS
        and any(not user.may(scopes) for user, _ in keys)
        and (op == "create_invoice" or is_served(ctx, op))
    ]
    kind = default_invoice_type(ctx)

    @given(case=st.sampled_from(keys), op=st.sampled_from(writes), valid=st.booleans())
    @example(case=keys[0], op="create_invoice", valid=True)
    def test(case: tuple[User, Combination], op: str, valid: bool) -> None:
        user, combo = case
        if user.may(ctx.facts.scopes[op]):
            return
        invoice = fresh(ctx, combo)
        listed = ctx.client.list(combo.token, invoice_type=kind, per_page=1)
        total = expect.mapping(expect.success(listed, "list").get("_meta")).get("total_items")
        exchange = SENDERS[op](ctx, user.token, invoice, combo, valid)
        expect.error(exchange, 403, f"{op} with a key lacking {sorted(ctx.facts.scopes[op])}")
        unchanged(ctx, combo.token, invoice, f"{op} with a read-only key", exchange)
        again = ctx.client.list(combo.token, invoice_type=kind, per_page=1)
        after = expect.mapping(expect.success(again, "list").get("_meta")).get("total_items")
        if isinstance(total, int) and after == total + 1 and op == "create_invoice":
            raise Violation(
                f"a create with a read-only key was refused, yet total_items went {total} -> {after}",
                exchange,
                again,
            )
        if after != total:
            raise CannotDecide(f"total_items went {total} -> {after!r} around a refused {op}: other traffic")
        read(ctx, user.token, invoice["uid"], "a get with a read-only key")
        expect.success(ctx.client.list(user.token, invoice_type=kind), "a list with a read-only key")

    ctx.hypothesis("read_only_key_cannot_write", test, weight=0.3)
