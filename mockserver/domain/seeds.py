"""A world file's `invoices` as the mock's own invoices: what every fresh session starts with.

A recording (`invoice-mock --proxy URL --record FILE`) or a hand-written world lists invoices in
the API's terms (a line's `unit_price` in major units, custom fields in the request's map form);
here they become `rules.Invoice`s, priced by the same rule as every other invoice (the money a
recording saw is not trusted: the mock's money is always its lines'). Invoices are immutable, so
one tuple of them serves every session.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contract.facts import ContractFacts
from mockserver.domain.fixtures import FixtureError, World
from mockserver.domain.rules import Invoice, Line, priced_lines


def _line(data: dict[str, Any], where: str) -> Line:
    amounts = {key: Decimal(str(data[key])) for key in ("quantity", "unit_price")}
    for key, amount in amounts.items():
        if not amount.is_finite():  # YAML's .inf / .nan: numbers to YAML, not amounts
            raise FixtureError(f"{where}.{key}: must be a finite number, got {data[key]!r}")
    return Line(
        data["uid"],
        data["context_type_uid"],
        data["context_type"],
        data["context_name"],
        amounts["quantity"],
        amounts["unit_price"] * 100,
        data.get("sku"),
    )


def _invoice(data: dict[str, Any], where: str, facts: ContractFacts) -> Invoice:
    if data["invoice_type"] not in facts.client_by_invoice_type:
        known = ", ".join(sorted(facts.client_by_invoice_type))
        raise FixtureError(
            f"{where}.invoice_type: {data['invoice_type']!r} is not one of the spec's ({known})"
        )
    lines, money = priced_lines(
        (_line(line, f"{where}.line_items[{j}]") for j, line in enumerate(data.get("line_items", []))),
        facts,
    )
    if money.total_cents < 0:
        raise FixtureError(
            f"{where}: discounts exceed subtotal plus tax ({money.total_cents} cents); "
            "a total below 0 breaks the contract's money rules"
        )
    notes = data.get("invoice_notes", {})
    return Invoice(
        uid=data["uid"],
        owner_uid=data["owner_uid"],
        target_party_uid=data["target_party_uid"],
        document_uid=data["document_uid"],
        invoice_blueprint_uid=data.get("invoice_blueprint_uid"),
        invoice_number=data["invoice_number"],
        invoice_type=data["invoice_type"],
        status=data["status"],
        currency=data["currency"],
        issue_date=data.get("issue_date"),
        due_date=data.get("due_date"),
        paid_date=data.get("paid_date"),
        invoice_fields=tuple(
            (key, entry["type"], entry["value"]) for key, entry in data.get("invoice_fields", {}).items()
        ),
        lines=lines,
        collection_method=data["collection_method"],
        invoice_notes=(notes.get("invoice_memo"), notes.get("invoice_footer")),
        money=money,
    )


def seed_invoices(world: World, facts: ContractFacts) -> tuple[Invoice, ...]:
    """The world's invoices, in its order (their creation order), or `FixtureError` naming the entry."""
    return tuple(_invoice(data, f"invoices[{index}]", facts) for index, data in enumerate(world.invoices))
