"""The lifecycle rules of invoices: update one, update several, delete several (no HTTP here).

Each rule runs inside `InvoiceStore.change` on a `Draft`, so a request is atomic (P75): its
items are applied in array order, each against the state the earlier ones leave (P62), and a
refusal of any item leaves the store as it was. Field values arrive schema-valid (the request
schemas of openapi.yaml); what the schema cannot say is checked here, in the order of P61:
invoice (404) → party (403) → document / blueprint reference (422) → number (409).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mockserver.domain import rules
from mockserver.domain.errors import Refusal
from mockserver.domain.fixtures import User, World
from mockserver.domain.invoice_store import Draft, DuplicateNumber, InvoiceStore
from mockserver.domain.rules import Invoice

# Request fields stored as sent (P54, P57): `null` clears the nullable ones.
_STORED_AS_SENT = ("status", "collection_method", "issue_date", "due_date", "paid_date", "currency")


def visible(draft: Draft, user: User, uid: str, pointer: str) -> Invoice:
    """The invoice `uid` as the draft has it; 404 if unknown, deleted or not the user's (P64, P66)."""
    invoice = draft.get(uid)
    if invoice is None or not rules.can_see(user, invoice):
        raise Refusal.for_field("not_found", pointer, f"no invoice {uid}", "not_found")
    return invoice


def refuse_repeats(uids: list[str], pointer: str) -> None:
    """P63: one uid at most once per request (`pointer` formats an item's index)."""
    seen: dict[str, int] = {}
    for index, uid in enumerate(uids):
        if uid in seen:
            raise Refusal.for_field(
                "invalid",
                pointer.format(index),
                f"repeats item {seen[uid]}: each uid at most once",
                "duplicate",
            )
        seen[uid] = index


def merged_fields(
    fields: tuple[tuple[str, str, Any], ...], sent: dict[str, Any]
) -> tuple[tuple[str, str, Any], ...]:
    """P59: a key the invoice has gets the new value in its place, a new key is appended."""
    merged = {key: (kind, value) for key, kind, value in fields}
    for key, entry in sent.items():
        merged[key] = (entry["type"], entry["value"])
    return tuple((key, kind, value) for key, (kind, value) in merged.items())


def changed(world: World, invoice: Invoice, body: dict[str, Any]) -> Invoice:
    """The invoice with `body`'s fields applied: 403 party, 422 references (P54 to P60)."""
    owner = invoice.owner_uid
    changes: dict[str, Any] = {key: body[key] for key in _STORED_AS_SENT if key in body}
    if "target_party_uid" in body:
        party = world.parties.get(body["target_party_uid"])
        if party is None or owner not in party.billable_by:
            raise Refusal.for_field(
                "forbidden",
                "/target_party_uid",
                f"organization {owner} may not bill party {body['target_party_uid']}",
                "forbidden",
            )
        changes["target_party_uid"] = party.uid
    document_uid = body.get("document_uid", invoice.document_uid)
    blueprint_uid = body.get("invoice_blueprint_uid")
    if "document_uid" in body or blueprint_uid is not None:
        rules.check_references(world, owner, document_uid, blueprint_uid)
    if "document_uid" in body:
        changes["document_uid"] = world.documents[document_uid].uid
    if "invoice_blueprint_uid" in body:  # P58: the reference only
        changes["invoice_blueprint_uid"] = world.blueprints[blueprint_uid].uid if blueprint_uid else None
    if "invoice_number" in body:
        changes["invoice_number"] = body["invoice_number"]
    if body.get("invoice_fields"):
        changes["invoice_fields"] = merged_fields(invoice.invoice_fields, body["invoice_fields"])
    return dataclasses.replace(invoice, **changes) if changes else invoice


def put(draft: Draft, invoice: Invoice) -> None:
    """Store the changed invoice in the draft; 409 if its new number is another invoice's (P56)."""
    try:
        draft.put(invoice)
    except DuplicateNumber as duplicate:
        raise Refusal.for_field(
            "conflict",
            "/invoice_number",
            f"{duplicate.number} is already used by this organization",
            "duplicate",
        ) from None


def update_invoice(world: World, store: InvoiceStore, user: User, uid: str, body: dict[str, Any]) -> Invoice:
    """PUT /api/invoices/{invoice_uid}: the invoice after the change."""

    def apply(draft: Draft) -> Invoice:
        invoice = changed(world, visible(draft, user, uid, "invoice_uid"), body)
        put(draft, invoice)
        return invoice

    return store.change(apply)


def bulk_update(world: World, store: InvoiceStore, user: User, items: list[dict[str, Any]]) -> list[Invoice]:
    """PUT /api/invoices: every item or none (P62); the invoices in request order (P65)."""
    refuse_repeats([item["uid"] for item in items], "/{}/uid")

    def apply(draft: Draft) -> list[Invoice]:
        found = [visible(draft, user, item["uid"], f"/{index}/uid") for index, item in enumerate(items)]
        updated = []
        for index, (invoice, item) in enumerate(zip(found, items, strict=True)):
            try:
                new = changed(world, invoice, item)  # one uid per request: nobody changed it before
                put(draft, new)  # against the numbers the earlier items left (P62)
            except Refusal as refusal:
                raise refusal.under(f"/{index}") from None
            updated.append(new)
        return updated

    return store.change(apply)


def bulk_delete(store: InvoiceStore, user: User, uids: list[str]) -> None:
    """DELETE /api/invoices: all the invoices or none (P62, P64, P66); their numbers are free (P67)."""

    def apply(draft: Draft) -> None:
        for index, uid in enumerate(uids):
            invoice = visible(draft, user, uid, f"/{index}")
            draft.delete(invoice.uid)

    store.change(apply)
