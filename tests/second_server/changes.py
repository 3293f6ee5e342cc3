"""Update invoice, bulk update and bulk delete (openapi.yaml P54-P67), from the spec alone.

Each request works on a `Draft` and commits it whole, after the last `await`: a request is atomic
(P75) because nothing else runs on the event loop between its first change and its commit.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from contract.spec import compile_validator, component_schema, request_body_schema
from tests.second_server.base import ApiBase, Draft
from tests.second_server.core import (
    Refusal,
    field_value,
    repeated,
    schema_problems,
    success,
    upper_currency,
    utc_text,
)
from tests.second_server.world import Key

NULLABLE_CLEARED = ("issue_date", "due_date", "paid_date")


class ChangeRoutes(ApiBase):
    def prepare_changes(self) -> None:
        self.update_validator = compile_validator(request_body_schema(self.spec, "update_invoice"))
        self.bulk_update_validator = compile_validator(request_body_schema(self.spec, "bulk_update_invoices"))
        self.bulk_delete_validator = compile_validator(request_body_schema(self.spec, "bulk_delete_invoices"))
        # The reference's sentence, "Successfully updated 2 invoice(s)", with its count as a field.
        example = component_schema(self.spec, "InvoiceArrayEnvelope")["allOf"][1]["properties"]["message"]
        self.bulk_message = re.sub(r"\d+", "{count}", example["example"], count=1)

    # -- update --------------------------------------------------------------------------------------

    async def update(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            passed = await self.gate(request, "update_invoice", kinds=(dict,), invoice=True)
            assert passed.invoice is not None
            changes = passed.body
            problems = schema_problems(self.update_validator, changes)
            upper_currency(changes)
            if problems:
                raise Refusal(422, "The change breaks the schema.", *problems)
            uid = passed.invoice["uid"]
            draft = Draft(self)
            self.change(draft, uid, changes)
            draft.commit()
            return success(self.full(self.invoices[uid]))

        return await self.handle(request, action)

    def change(self, draft: Draft, uid: str, changes: dict[str, Any]) -> None:
        """Apply one partial update to the draft, or refuse it untouched: `403` party, `422` document or
        blueprint, `409` number, in that order (P61)."""
        current = draft.invoices.get(uid) or self.invoices[uid]
        owner = current["owner"]
        party = changes.get("target_party_uid")
        if party is not None and not self.world.may_bill(owner, party.lower()):
            raise Refusal(
                403, "That party is not billable.", ("/target_party_uid", "not billable", "not_billable")
            )
        document = (
            self.document(owner, changes["document_uid"], "/document_uid")
            if "document_uid" in changes
            else None
        )
        blueprint = None
        if changes.get("invoice_blueprint_uid") is not None:
            blueprint = self.blueprint(owner, changes["invoice_blueprint_uid"], "/invoice_blueprint_uid")
        number = changes.get("invoice_number")
        if number is not None and number != current["invoice_number"] and number in draft.taken(owner):
            raise Refusal(409, "That number is taken.", ("/invoice_number", "already used", "taken"))
        if not changes:
            return
        invoice = draft.invoice(uid)
        if party is not None:
            invoice["target_party_uid"] = party.lower()
            invoice["parties"] = self.parties(invoice)
        if document is not None:
            invoice["document"], invoice["document_uid"] = document, document["uid"]
        if "invoice_blueprint_uid" in changes:  # P58: the reference only
            invoice["invoice_blueprint_uid"] = (blueprint or {}).get("uid")
            invoice["blueprint_active"] = (blueprint or {}).get("is_active")
        if number is not None:
            taken = draft.taken(owner)
            taken.discard(invoice["invoice_number"])
            taken.add(number)
            invoice["invoice_number"] = number
        for name in ("status", "collection_method", "currency"):  # P57, P60 (lines show it)
            if name in changes:
                invoice[name] = changes[name]
        for name in NULLABLE_CLEARED:
            if name in changes:
                invoice[name] = utc_text(changes[name])
        merge_fields(invoice, changes.get("invoice_fields") or {})

    # -- bulk update ---------------------------------------------------------------------------------

    async def bulk_update(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            passed = await self.gate(request, "bulk_update_invoices", kinds=(list,))
            items = passed.body
            problems = schema_problems(self.bulk_update_validator, items)
            for item in items:
                if isinstance(item, dict):
                    upper_currency(item)
            if problems:
                raise Refusal(422, "An item breaks the schema.", *problems)
            twice = repeated([item["uid"] for item in items])
            if twice is not None:
                raise Refusal(
                    422, "An invoice is named twice.", (f"/{twice}/uid", "named twice", "duplicate")
                )
            draft, last, uids = Draft(self), None, []
            for index, item in enumerate(items):  # in order, each on what the earlier ones left (P62)
                try:
                    uid = self.bulk_visible(passed.key, item["uid"], f"/{index}/uid")
                    self.change(draft, uid, {k: v for k, v in item.items() if k != "uid"})
                    uids.append(uid)
                except Refusal as error:
                    last = error if error.status == 404 else error.under([index])
            if last is not None:
                raise last  # of several refused items, the last answers (P62 open)
            draft.commit()
            data = [self.full(self.invoices[uid]) for uid in uids]
            return success(data, self.bulk_message.format(count=len(data)))

        return await self.handle(request, action)

    def bulk_visible(self, key: Key, text: str, field: str) -> str:
        """P64: an invoice the key may not see is `404` for the whole request, naming the item."""
        try:
            return str(self.visible(key, text)["uid"])
        except Refusal:
            raise Refusal(404, "No such invoice.", (field, "no invoice with this uid", "missing")) from None

    # -- bulk delete ---------------------------------------------------------------------------------

    async def bulk_delete(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            passed = await self.gate(request, "bulk_delete_invoices", kinds=(list,))
            texts = passed.body
            problems = schema_problems(self.bulk_delete_validator, texts)
            if problems:
                raise Refusal(422, "The list of uids breaks the schema.", *problems)
            twice = repeated(texts)
            if twice is not None:
                raise Refusal(422, "An invoice is named twice.", (f"/{twice}", "named twice", "duplicate"))
            uids, last = [], None
            for index, text in enumerate(texts):
                try:
                    uids.append(self.bulk_visible(passed.key, text, f"/{index}"))
                except Refusal as error:
                    last = error
            if last is not None:
                raise last
            for uid in uids:  # P66: gone; P67: its number free again
                invoice = self.invoices.pop(uid)
                self.numbers.get(invoice["owner"], set()).discard(invoice["invoice_number"])
            gone = set(uids)
            self.order = [uid for uid in self.order if uid not in gone]
            return success({})

        return await self.handle(request, action)


def merge_fields(invoice: dict[str, Any], fields: dict[str, Any]) -> None:
    """P59: a key the invoice has gets the new value in its place, a new key is appended."""
    entries = invoice["invoice_fields"]
    places = {entry["key"]: index for index, entry in enumerate(entries)}
    for key, entry in fields.items():
        value = {"key": key, "value": field_value(entry)}
        if key in places:
            entries[places[key]] = value
        else:
            places[key] = len(entries)
            entries.append(value)
