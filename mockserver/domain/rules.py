"""The invoice rules of the contract, as plain functions over plain data (no HTTP here).

Each rule cites where the contract states it. Defaults and facts come from the spec the mock was
started with (passed in as `defaults` and `facts`, `contract.facts.ContractFacts`), never from
this file nor from the bundled `openapi.yaml`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, cast

from contract.facts import ContractFacts
from mockserver.domain.errors import FieldError, Refusal
from mockserver.domain.fixtures import Blueprint, BlueprintLine, FixtureError, User, World
from mockserver.domain.invoice_store import DuplicateNumber, InvoiceStore, Stored, StoreFull
from mockserver.domain.line_list import LineList

NO_NOTES: tuple[None, None] = (None, None)
_EXACT = Context(prec=80)  # quantity x unit price in cents, exactly, at the limits of P73


@dataclass(frozen=True, slots=True)
class Line:
    """One line item as stored: amounts in cents, as requests carry them (P69).

    A blueprint line is copied onto the invoice at create (P52), so a later change of the
    blueprint reference (P58) or of the line does not depend on the blueprint. `sku` is the
    product a line-item request named; a blueprint's lines have none.
    """

    uid: str
    context_type_uid: str
    context_type: str
    context_name: str
    quantity: Decimal
    unit_price_cents: Decimal
    sku: str | None = None
    # Computed once, when the line is made: every change and every view sums all of an invoice's
    # lines, and a Decimal product per line per request made adding a line cost O(lines) of them.
    total_cents: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        """P09, P69: half up on the exact product `quantity x unit_price`, in cents."""
        product = _EXACT.multiply(self.quantity, self.unit_price_cents)
        total = int(product.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_EXACT))
        object.__setattr__(self, "total_cents", total)


@dataclass(frozen=True, slots=True)
class Money:
    """An invoice's money sums in cents, per `x-money-context-types` bucket."""

    subtotal_cents: int
    discount_cents: int
    tax_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.tax_cents

    @property
    def remaining_cents(self) -> int:
        """Choice 2: nothing is credited or paid through this API (P57, P70), so all of the total."""
        return self.total_cents

    def changed_by(
        self, buckets: Mapping[str, str], added: Iterable[Line] = (), removed: Iterable[Line] = ()
    ) -> Money:
        """These sums after `added` lines come and `removed` ones go: the cost of the change only.

        `buckets` is `ContractFacts.buckets` (context type -> money field). `price` (every line)
        stays the reference; the stored sums must always equal it.
        """
        sums = {"subtotal_cents": self.subtotal_cents, "discount_cents": self.discount_cents}
        sums["tax_cents"] = self.tax_cents
        for line in added:
            sums[buckets.get(line.context_type, "subtotal_cents")] += line.total_cents
        for line in removed:
            sums[buckets.get(line.context_type, "subtotal_cents")] -= line.total_cents
        return Money(sums["subtotal_cents"], sums["discount_cents"], sums["tax_cents"])


@dataclass(frozen=True, slots=True)
class Invoice:
    """What the store keeps of an invoice: what was sent, what was decided, and its money sums.

    Parties and `age` / `overdue_days` are derived when the invoice is shown (from the world and
    the clock), which keeps a stored invoice small. The money sums are kept (`money`, always
    `price(lines)`) so that a change of line items costs its own lines, not the invoice's: make
    a changed invoice with `with_lines`, which moves both together.
    """

    uid: str
    owner_uid: str
    target_party_uid: str
    document_uid: str
    invoice_blueprint_uid: str | None
    invoice_number: str
    invoice_type: str
    status: str
    currency: str
    issue_date: str | None
    due_date: str | None
    invoice_fields: tuple[tuple[str, str, Any], ...]  # (key, type, value)
    lines: LineList[Line]  # in order of creation (P76); a persistent sequence, see line_list.py
    paid_date: str | None
    collection_method: str
    invoice_notes: tuple[str | None, str | None]  # (memo, footer): the blueprint's at create (P58)
    money: Money  # price(lines), kept by `with_lines`


def with_lines(invoice: Invoice, lines: LineList[Line], money: Money) -> Invoice:
    """The invoice with new lines and the money sums of those lines."""
    return dataclasses.replace(invoice, lines=lines, money=money)


def priced_lines(lines: Iterable[Line], facts: ContractFacts) -> tuple[LineList[Line], Money]:
    """New lines of an invoice (at create, or read back from a state file) and their money."""
    kept: LineList[Line] = LineList(lines)
    money = price(kept.items(), facts)
    return kept, _shared_money(money.subtotal_cents, money.discount_cents, money.tax_cents)


@functools.lru_cache(maxsize=4096)
def _shared_money(subtotal_cents: int, discount_cents: int, tax_cents: int) -> Money:
    """One `Money` per sums at create: invoices of one blueprint (or none) share it (memory per invoice)."""
    return Money(subtotal_cents, discount_cents, tax_cents)


@functools.lru_cache(maxsize=4096)
def _in_cents(unit_price: Decimal) -> Decimal:
    """One Decimal per blueprint price, shared by every invoice made from it (memory per invoice)."""
    return unit_price * 100


def blueprint_line(line: BlueprintLine, uid: str) -> Line:
    """A blueprint's line as an invoice's line (its price is in major units, a line's in cents)."""
    price = _in_cents(line.unit_price)
    return Line(uid, line.context_type_uid, line.context_type, line.context_name, line.quantity, price)


def price(lines: Iterable[Line], facts: ContractFacts) -> Money:
    """openapi.yaml LineItem `x-money-context-types`: which lines make discount and tax; the rest subtotal.

    The reference for the money kept on an invoice (`Money.changed_by` moves it by a change).
    """
    buckets = facts.buckets
    sums = {"subtotal_cents": 0, "discount_cents": 0, "tax_cents": 0}
    for line in lines:  # one dict lookup per line: a change sums every line of its invoice
        sums[buckets.get(line.context_type, "subtotal_cents")] += line.total_cents
    return Money(sums["subtotal_cents"], sums["discount_cents"], sums["tax_cents"])


def check_world(world: World, facts: ContractFacts) -> None:
    """Rules the fixtures must obey that only the invoice rules know: no blueprint totals below 0."""
    for blueprint in world.blueprints.values():
        money = price([blueprint_line(line, "") for line in blueprint.line_items], facts)
        if money.total_cents < 0:
            raise FixtureError(
                f"invoice_blueprints[uid={blueprint.uid}]: discounts exceed subtotal plus tax "
                f"({money.total_cents} cents); a total below 0 breaks the contract's money rules"
            )


ASCII_WHITESPACE = " \t\n\r\f\v"


def is_blank(number: str | None) -> bool:
    """Contract notes choice 4: "blank" means empty or whitespace only, and P05 says which
    whitespace: ASCII only, the update schema's one (a U+00A0-only number is stored as sent)."""
    return number is None or not number.strip(ASCII_WHITESPACE)


def client_is_target(invoice: Invoice, facts: ContractFacts) -> bool:
    """The spec's InvoiceParties `x-client-by-invoice-type` (contract notes choice 5)."""
    return facts.client_is_target(invoice.invoice_type)


def authorize_create(world: World, user: User, owner_uid: str, target_party_uid: str) -> None:
    """Contract notes choice 3: 403 when the user may not act for the owner or bill the party."""
    if owner_uid not in user.organizations:
        raise Refusal.for_field(
            "forbidden", "/owner_uid", f"you may not act for organization {owner_uid}", "forbidden"
        )
    party = world.parties.get(target_party_uid)
    if party is None or owner_uid not in party.billable_by:
        raise Refusal.for_field(
            "forbidden",
            "/target_party_uid",
            f"organization {owner_uid} may not bill party {target_party_uid}",
            "forbidden",
        )


def check_references(world: World, owner_uid: str, document_uid: str, blueprint_uid: str | None) -> None:
    """Contract notes choice 3: 422 for a document or blueprint that does not exist for the owner."""
    errors = []
    document = world.documents.get(document_uid)
    if document is None or document.organization_uid != owner_uid:
        errors.append(
            FieldError(
                "/document_uid", f"no document {document_uid} for organization {owner_uid}", "not_found"
            )
        )
    if blueprint_uid is not None:
        blueprint = world.blueprints.get(blueprint_uid)
        if blueprint is None or blueprint.organization_uid != owner_uid:
            errors.append(
                FieldError(
                    "/invoice_blueprint_uid",
                    f"no invoice blueprint {blueprint_uid} for organization {owner_uid}",
                    "not_found",
                )
            )
    if errors:
        raise Refusal.for_fields("invalid", errors)


def merged_fields(
    blueprint: Blueprint | None, requested: dict[str, Any] | None
) -> tuple[tuple[str, str, Any], ...]:
    """The blueprint's fields, then the request's, a request field replacing one of the same key."""
    merged: dict[str, dict[str, Any]] = dict(blueprint.invoice_fields) if blueprint else {}
    merged.update(requested or {})
    return tuple((key, entry["type"], entry["value"]) for key, entry in merged.items())


def create_invoice(
    world: World,
    store: InvoiceStore,
    user: User,
    body: dict[str, Any],
    defaults: dict[str, Any],
    now: datetime,
    facts: ContractFacts,
) -> Invoice:
    """Apply every create rule to a schema-valid body and store the invoice.

    `facts` (of the spec the mock was started with) give the generated number's form (P19,
    `x-generated`), `collection_method` (`x-on-create`) and the money buckets.
    """
    owner_uid, party_uid = body["owner_uid"], body["target_party_uid"]
    authorize_create(world, user, owner_uid, party_uid)
    blueprint_uid = body.get("invoice_blueprint_uid")
    check_references(world, owner_uid, body["document_uid"], blueprint_uid)
    blueprint = world.blueprints[blueprint_uid] if blueprint_uid else None
    values = {**defaults, **{k: v for k, v in body.items() if k in defaults}}
    requested_number = body.get("invoice_number")
    invoice_uid = str(uuid.uuid4())
    # Share the fixtures' string objects instead of keeping a copy of each uid per invoice.
    owner_uid = world.organizations[owner_uid].uid
    party_uid = world.parties[party_uid].uid
    document_uid = world.documents[body["document_uid"]].uid

    notes, lines, money = blueprint_content(blueprint, facts)

    def build(number: str) -> Invoice:
        return Invoice(
            uid=invoice_uid,
            owner_uid=owner_uid,
            target_party_uid=party_uid,
            document_uid=document_uid,
            invoice_blueprint_uid=blueprint.uid if blueprint else None,
            invoice_number=number,
            invoice_type=values["invoice_type"],
            status=values["status"],
            currency=values["currency"],
            issue_date=body.get("issue_date"),
            due_date=body.get("due_date"),
            paid_date=None,
            invoice_fields=merged_fields(blueprint, body.get("invoice_fields")),
            lines=lines,
            collection_method=facts.collection_method_on_create,
            invoice_notes=notes,
            money=money,
        )

    return store_numbered(store, owner_uid, requested_number, now, facts, build)


def blueprint_content(
    blueprint: Blueprint | None, facts: ContractFacts
) -> tuple[tuple[str | None, str | None], LineList[Line], Money]:
    """What a new invoice copies from its blueprint (P46, P52): the notes and the line items, each
    under a new uid, priced with the money sums they make; nothing without a blueprint."""
    if blueprint is None:
        return NO_NOTES, *priced_lines((), facts)
    notes = (blueprint.invoice_notes["invoice_memo"], blueprint.invoice_notes["invoice_footer"])
    lines = (blueprint_line(line, str(uuid.uuid4())) for line in blueprint.line_items)
    return notes, *priced_lines(lines, facts)


def store_numbered(
    store: InvoiceStore,
    owner_uid: str,
    requested_number: str | None,
    now: datetime,
    facts: ContractFacts,
    build: Callable[[str], Invoice],
) -> Invoice:
    """Store the invoice `build` makes under the requested number, or a generated one when the
    request's is blank (P05, P19); the store's refusals become the API's (409 number taken, full)."""
    try:
        stored = store.create(
            owner_uid,
            None if is_blank(requested_number) else requested_number,
            lambda sequence: facts.generated_number(now.year, sequence),
            cast("Callable[[str], Stored]", build),  # a frozen Invoice has the Protocol's fields, read-only
        )
    except DuplicateNumber as duplicate:
        raise Refusal.for_field(
            "conflict",
            "/invoice_number",
            f"{duplicate.number} is already used by this organization",
            "duplicate",
        ) from None
    except StoreFull as full:
        raise Refusal("full", full.message) from None
    return cast(Invoice, stored)


def can_see(user: User, invoice: Invoice) -> bool:
    """Contract notes choice 6: a user sees the invoices of their organizations only."""
    return invoice.owner_uid in user.organizations


def find_invoice(store: InvoiceStore, user: User, invoice_uid: str) -> Invoice:
    invoice = store.get(invoice_uid)
    if invoice is None or not can_see(user, invoice):
        raise Refusal.for_field("not_found", "invoice_uid", f"no invoice {invoice_uid}", "not_found")
    return invoice


def list_page(
    store: InvoiceStore, user: User, invoice_type: str, page: int, per_page: int
) -> tuple[list[Invoice], int]:
    """One page of the user's invoices of `invoice_type`, newest first, and the total count."""
    matching = [
        inv for inv in store.newest_first() if inv.invoice_type == invoice_type and can_see(user, inv)
    ]
    start = (page - 1) * per_page
    return matching[start : start + per_page], len(matching)


def total_pages(total_items: int, per_page: int) -> int:
    return math.ceil(total_items / per_page)
