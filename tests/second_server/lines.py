"""An invoice's line items: create, update, delete (openapi.yaml P62, P63, P68-P73), from the spec alone.

Every request changes a copy of the invoice and stores it only when every item passed and the money,
recomputed, is not negative (P70): all or nothing.
"""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from contract import pointers
from contract.spec import compile_validator, component_schema, request_body_schema
from tests.second_server.base import ApiBase, Invoice
from tests.second_server.core import Refusal, decimals, repeated, schema_problems, success

QUANTITY_DECIMALS = 4  # P73 open: this server refuses finer quantities (the mock most likely keeps them)


def by_kind(schema: dict[str, Any]) -> dict[type, Any]:
    """A `oneOf` of an object and an array, as one validator per JSON kind: errors then name the
    broken field (`/0/sku`) instead of "not valid under any of the given schemas"."""
    kinds = {"object": dict, "array": list}
    return {kinds[branch["type"]]: compile_validator(branch) for branch in schema["oneOf"]}


def quantity(number: int | float) -> Decimal:
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


class LineItemRoutes(ApiBase):
    def prepare_lines(self) -> None:
        self.create_line_validators = by_kind(request_body_schema(self.spec, "create_line_items"))
        self.update_line_validators = by_kind(request_body_schema(self.spec, "update_line_items"))
        self.delete_line_validator = compile_validator(request_body_schema(self.spec, "delete_line_items"))
        example = component_schema(self.spec, "LineItemEnvelope")["allOf"][1]["properties"]["message"]
        self.line_message = example["example"]  # "Line item updated successfully" (reference, sic)

    # -- create --------------------------------------------------------------------------------------

    async def create_lines(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            passed = await self.gate(request, "create_line_items", kinds=(dict, list), invoice=True)
            assert passed.invoice is not None
            items, single = self.items(passed.body, self.create_line_validators)
            invoice = copy.deepcopy(passed.invoice)
            new, last = [], None
            for index, item in enumerate(items):
                try:
                    new.append(self.new_line(invoice, item))
                except Refusal as error:
                    last = error.under(self.prefix(single, index))
            if last is not None:
                raise last  # of several refused items, the last answers (P62 open)
            invoice["lines"] = new + invoice["lines"]  # first (P15: the order is open)
            self.store(invoice, [*self.prefix(single, len(items) - 1), "quantity"])
            shown = [self.line(invoice, line) for line in new]
            return success(shown[0] if single else shown, self.line_message)

        return await self.handle(request, action)

    def items(self, body: Any, validators: dict[type, Any]) -> tuple[list[Any], bool]:
        """The body's items and whether it was a single object; `422` for a schema break."""
        problems = schema_problems(validators[type(body)], body)
        if problems:
            raise Refusal(422, "A line item breaks the schema.", *problems)
        return ([body], True) if isinstance(body, dict) else (body, False)

    @staticmethod
    def prefix(single: bool, index: int) -> list[Any]:
        return [] if single else [index]

    def store(self, invoice: Invoice, blamed: list[Any]) -> None:
        """Recompute the money and keep the invoice, unless a total would go negative (P70): then
        `blamed` is named (the last item's quantity, or the last uid deleted)."""
        self.recompute(invoice)
        if self.negative(invoice):
            field = pointers.from_parts(blamed)
            raise Refusal(
                422,
                "The change would make the invoice's total negative.",
                (field, "total below zero", "negative"),
            )
        self.invoices[invoice["uid"]] = invoice

    def product(self, invoice: Invoice, sku: str) -> dict[str, Any]:
        found = self.world.products.get((invoice["owner"], sku))
        if found is None:
            raise Refusal(
                422, "Unknown product.", ("/sku", "no such product in this organization", "unknown_sku")
            )
        return found

    def check(self, invoice: Invoice, item: dict[str, Any], context_type: str) -> None:
        """P68: the product's context type and the invoice's currency; P73: at most 4 decimals."""
        if "context_type" in item and item["context_type"] != context_type:
            raise Refusal(
                422,
                "The context type is not the product's.",
                ("/context_type", f"must be {context_type}", "mismatch"),
            )
        if "currency" in item and item["currency"] != invoice["currency"]:
            raise Refusal(
                422,
                "The currency is not the invoice's.",
                ("/currency", f"must be {invoice['currency']}", "mismatch"),
            )
        if "quantity" in item and decimals(item["quantity"]) > QUANTITY_DECIMALS:
            raise Refusal(
                422,
                f"A quantity has at most {QUANTITY_DECIMALS} decimals here.",
                ("/quantity", f"more than {QUANTITY_DECIMALS} decimals", "precision"),
            )

    def new_line(self, invoice: Invoice, item: dict[str, Any]) -> dict[str, Any]:
        product = self.product(invoice, item["sku"])
        self.check(invoice, item, product["context_type"])
        return {
            "uid": str(uuid.uuid4()),
            "sku": product["sku"],
            "context_type_uid": product["context_type_uid"],
            "context_type": product["context_type"],
            "context_name": product["name"],
            "quantity": quantity(item["quantity"]),
            "price_cents": Decimal(item.get("unit_price", product["unit_price"])),
        }

    # -- update --------------------------------------------------------------------------------------

    async def update_lines(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            passed = await self.gate(request, "update_line_items", kinds=(dict, list), invoice=True)
            assert passed.invoice is not None
            items, single = self.items(passed.body, self.update_line_validators)
            twice = repeated([item["uid"] for item in items])
            if twice is not None:
                field = pointers.from_parts([*self.prefix(single, twice), "uid"])
                raise Refusal(422, "A line item is named twice.", (field, "named twice", "duplicate"))
            invoice = copy.deepcopy(passed.invoice)
            lines = {line["uid"]: line for line in invoice["lines"]}
            changed, last = [], None
            for index, item in enumerate(items):
                try:
                    line = lines.get(item["uid"].lower())
                    if line is None:
                        raise Refusal(
                            422, "Not a line of this invoice.", ("/uid", "no such line here", "unknown_line")
                        )
                    self.change_line(invoice, line, item)
                    changed.append(line)
                except Refusal as error:
                    last = error.under(self.prefix(single, index))
            if last is not None:
                raise last
            final = items[-1]
            blamed = next((name for name in ("quantity", "unit_price", "sku") if name in final), "uid")
            self.store(invoice, [*self.prefix(single, len(items) - 1), blamed])
            shown = [self.line(invoice, line) for line in changed]
            return success(shown[0] if single else shown, self.line_message)

        return await self.handle(request, action)

    def change_line(self, invoice: Invoice, line: dict[str, Any], item: dict[str, Any]) -> None:
        """P72: partial; a sent `sku` brings its product's name, context type and price unless
        `unit_price` is sent too. A line without a product (from a blueprint) keeps its own type."""
        product = self.product(invoice, item["sku"]) if "sku" in item else None
        current = self.world.products.get((invoice["owner"], line["sku"])) if line["sku"] else None
        self.check(invoice, item, (product or current or line)["context_type"])
        if product is not None:
            line.update(
                sku=product["sku"],
                context_type_uid=product["context_type_uid"],
                context_type=product["context_type"],
                context_name=product["name"],
                price_cents=Decimal(product["unit_price"]),
            )
        if "unit_price" in item:
            line["price_cents"] = Decimal(item["unit_price"])
        if "quantity" in item:
            line["quantity"] = quantity(item["quantity"])

    # -- delete --------------------------------------------------------------------------------------

    async def delete_lines(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            passed = await self.gate(request, "delete_line_items", kinds=(list,), invoice=True)
            assert passed.invoice is not None
            texts = passed.body
            problems = schema_problems(self.delete_line_validator, texts)
            if problems:
                raise Refusal(422, "The list of uids breaks the schema.", *problems)
            twice = repeated(texts)
            if twice is not None:
                raise Refusal(422, "A line item is named twice.", (f"/{twice}", "named twice", "duplicate"))
            invoice = copy.deepcopy(passed.invoice)
            present = {line["uid"] for line in invoice["lines"]}
            strangers = [index for index, text in enumerate(texts) if text.lower() not in present]
            if strangers:
                raise Refusal(
                    422,
                    "Not a line of this invoice.",
                    (f"/{strangers[-1]}", "no such line here", "unknown_line"),
                )
            gone = {text.lower() for text in texts}
            invoice["lines"] = [line for line in invoice["lines"] if line["uid"] not in gone]
            self.store(invoice, [len(texts) - 1])
            return success({})

        return await self.handle(request, action)
