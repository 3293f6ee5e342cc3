"""Facts the contract states that code needs as values, read from `openapi.yaml`.

The schema language cannot say "a generated number looks like INV-2026-0001" or "DISCOUNT lines
make up discount_cents", so the spec says it in `x-` extensions next to the schema they concern
(other tools ignore them) and this module reads them. Nothing here restates a value: change the
spec and the mock, the kit and the tests follow.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from contract.spec import iter_operations, load_spec


@dataclass(frozen=True)
class ContractFacts:
    max_body_bytes: int  # components/responses/PayloadTooLarge x-max-body-bytes
    generated_number_format: str  # InvoiceCreateRequest.invoice_number x-generated.format
    generated_number_pattern: re.Pattern[str]  # … x-generated.pattern (group 1: the year)
    collection_method_on_create: str  # Invoice.collection_method x-on-create
    money_context_types: dict[str, str]  # LineItem x-money-context-types: {"discount_cents": "DISCOUNT", …}
    client_by_invoice_type: dict[str, str]  # InvoiceParties x-client-by-invoice-type
    default_invoice_type: str  # InvoiceType default
    statuses: dict[str, frozenset[int]]  # operationId -> the documented HTTP statuses
    scopes: dict[str, frozenset[str]]  # operationId -> x-scopes: a key needs one of them (P74)

    def generated_number(self, year: int, sequence: int) -> str:
        return self.generated_number_format.format(year=year, sequence=sequence)

    def client_is_target(self, invoice_type: str) -> bool:
        """Whether the target party is the invoice's client (else the owner organization is)."""
        return self.client_by_invoice_type[invoice_type] == "target_party"

    def context_type_bucket(self, context_type: str) -> str:
        """Which money field a line of this `context_type` adds to (`subtotal_cents` by default)."""
        for bucket, kind in self.money_context_types.items():
            if kind == context_type:
                return bucket
        return "subtotal_cents"


def read_facts(spec: dict[str, Any]) -> ContractFacts:
    schemas = spec["components"]["schemas"]
    generated = schemas["InvoiceCreateRequest"]["properties"]["invoice_number"]["x-generated"]
    return ContractFacts(
        max_body_bytes=int(spec["components"]["responses"]["PayloadTooLarge"]["x-max-body-bytes"]),
        generated_number_format=generated["format"],
        generated_number_pattern=re.compile(generated["pattern"]),
        collection_method_on_create=schemas["Invoice"]["properties"]["collection_method"]["x-on-create"],
        money_context_types=dict(schemas["LineItem"]["x-money-context-types"]),
        client_by_invoice_type=dict(schemas["InvoiceParties"]["x-client-by-invoice-type"]),
        default_invoice_type=schemas["InvoiceType"]["default"],
        statuses={
            op["operationId"]: frozenset(int(code) for code in op.get("responses", {}) if code.isdigit())
            for _path, _method, op in iter_operations(spec)
            if "operationId" in op
        },
        scopes={
            op["operationId"]: frozenset(op.get("x-scopes", ()))
            for _path, _method, op in iter_operations(spec)
            if "operationId" in op
        },
    )


@functools.lru_cache(maxsize=1)
def default_facts() -> ContractFacts:
    """The facts of the default `openapi.yaml` (read once per process)."""
    return read_facts(load_spec())
