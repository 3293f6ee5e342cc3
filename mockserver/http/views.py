"""The contract's response shapes (`Invoice`, `InvoiceSummary`) built from stored invoices.

Everything derivable is derived here when an invoice is shown (money from the sums the
invoice keeps of its lines), parties from the fixtures and `invoice_type`, `age` and
`overdue_days` from the clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contract.facts import ContractFacts
from mockserver.domain.fixtures import Contact, Organization, Party, World
from mockserver.domain.rules import Invoice, Line, client_is_target

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
_LEAP_SECOND = re.compile(r"(?<=T\d\d:\d\d):60")


def parse_instant(text: str | None) -> datetime | None:
    """An RFC 3339 date-time as an aware datetime; None where Python cannot represent it.

    Python's parser takes neither more than 6 fractional digits, lower-case `t`/`z` nor a leap
    second, all of which RFC 3339 allows (the leap second is read as :59); a time without an
    offset (never valid here) is read as UTC rather than crashing.
    """
    if text is None:
        return None
    normalized = _LEAP_SECOND.sub(":59", _LONG_FRACTION.sub(r"\1", text.upper())).replace("Z", "+00:00")
    try:
        instant = datetime.fromisoformat(normalized)
        instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        instant.astimezone(UTC)  # 0001-01-01T00:00:00+01:00 has no UTC time: unrepresentable
    except (ValueError, OverflowError):
        return None
    return instant


def format_instant(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def whole_days_since(instant: datetime | None, now: datetime) -> int:
    if instant is None:
        return 0
    try:
        return max(0, (now - instant).days)
    except OverflowError:
        return 0


def _contact(contact: Contact, party_uid: str) -> dict[str, Any]:
    return {
        "uid": contact.uid,
        "party_uid": party_uid,
        "name": contact.name,
        "title": contact.title,
        "email": contact.email,
        "phone": contact.phone,
    }


def _party(entity: Organization | Party, role: str) -> dict[str, Any]:
    return {
        "uid": entity.uid,
        "name": entity.name,
        "address": entity.address,
        "billing_contact": _contact(entity.billing_contact, entity.uid),
        "role": role,
    }


def parties(world: World, invoice: Invoice, facts: ContractFacts) -> dict[str, Any]:
    """Contract notes choice 5: receivable bills the target party; payable is billed by it."""
    owner, target = world.organizations[invoice.owner_uid], world.parties[invoice.target_party_uid]
    client, provider = (target, owner) if client_is_target(invoice, facts) else (owner, target)
    return {"client": _party(client, "client"), "service_provider": _party(provider, "service_provider")}


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def money_fields(invoice: Invoice, now: datetime) -> dict[str, Any]:
    """Contract notes choice 2, the money identities; nothing is paid or credited (P57, P70)."""
    money = invoice.money  # kept with the lines (rules.with_lines): always price(invoice.lines)
    credited = paid = 0
    amount_due = money.total_cents - credited
    remaining = amount_due - paid
    overdue = whole_days_since(parse_instant(invoice.due_date), now) if remaining > 0 else 0
    return {
        "subtotal_cents": money.subtotal_cents,
        "discount_cents": money.discount_cents,
        "tax_cents": money.tax_cents,
        "total": money.total_cents / 100,
        "total_cents": money.total_cents,
        "pre_payment_credit_notes_cents": credited,
        "amount_due_cents": amount_due,
        "amount_paid_cents": paid,
        "amount_remaining_cents": remaining,
        "overdue_days": overdue,
    }


def line_view(invoice: Invoice, line: Line) -> dict[str, Any]:
    """One `LineItem`: amounts in major units (P69), the invoice's currency (P60)."""
    return {
        "uid": line.uid,
        "invoice_uid": invoice.uid,
        "context_type_uid": line.context_type_uid,
        "context_type": line.context_type,
        "context_name": line.context_name,
        "currency": invoice.currency,
        "quantity": _number(line.quantity),
        "unit_price": _number(line.unit_price_cents / 100),
        "line_total": _number(Decimal(line.total_cents) / 100),
    }


def invoice_view(world: World, invoice: Invoice, now: datetime, facts: ContractFacts) -> dict[str, Any]:
    """The full `Invoice` of the contract."""
    memo, footer = invoice.invoice_notes
    comments: list[dict[str, Any]] = []
    return {
        "uid": invoice.uid,
        "invoice_number": invoice.invoice_number,
        "invoice_type": invoice.invoice_type,
        "status": invoice.status,
        "collection_method": invoice.collection_method,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "paid_date": invoice.paid_date,
        **money_fields(invoice, now),
        "age": whole_days_since(parse_instant(invoice.issue_date), now),
        "currency": invoice.currency,
        "invoice_link": f"{world.app_url}/invoices/{invoice.uid}",
        "document_uid": invoice.document_uid,
        "invoice_blueprint_uid": invoice.invoice_blueprint_uid,
        "target_party_uid": invoice.target_party_uid,
        "has_comments": bool(comments),
        "line_items": [line_view(invoice, line) for line in invoice.lines],
        "invoice_fields": [
            {"key": key, "value": {"type": kind, "original_type": kind, "value": value}}
            for key, kind, value in invoice.invoice_fields
        ],
        "parties": parties(world, invoice, facts),
        "integrations": [],
        "invoice_notes": {"invoice_memo": memo, "invoice_footer": footer},
        "comments": comments,
    }


def summary_view(world: World, invoice: Invoice, now: datetime, facts: ContractFacts) -> dict[str, Any]:
    """The smaller `InvoiceSummary` of the list."""
    document = world.documents[invoice.document_uid]
    blueprint = world.blueprints.get(invoice.invoice_blueprint_uid) if invoice.invoice_blueprint_uid else None
    return {
        "uid": invoice.uid,
        "parent_contract": {
            "filename": document.filename,
            "uid": document.uid,
            "is_archived": document.is_archived,
        },
        "invoice_number": invoice.invoice_number,
        **money_fields(invoice, now),
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "paid_date": invoice.paid_date,
        "document_uid": invoice.document_uid,
        "status": invoice.status,
        "collection_method": invoice.collection_method,
        "blueprint": {"is_active": blueprint.is_active} if blueprint else None,
        "parties": {"client": parties(world, invoice, facts)["client"]},
    }
