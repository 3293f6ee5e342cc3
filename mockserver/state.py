"""Everything one running mock knows: its world, its store, its clock and the spec's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mockserver.clock import Clock
from mockserver.contract import inline_refs, operation, property_defaults, request_body_schema
from mockserver.fixtures import World
from mockserver.store import InvoiceStore


@dataclass
class MockState:
    world: World
    store: InvoiceStore
    clock: Clock
    create_defaults: dict[str, Any] = field(default_factory=dict)
    list_defaults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], world: World, store: InvoiceStore, clock: Clock) -> MockState:
        """Defaults are read from openapi.yaml: the request body's and the list's query parameters."""
        list_parameters = inline_refs(spec, operation(spec, "list_invoices").get("parameters", []))
        return cls(
            world=world,
            store=store,
            clock=clock,
            create_defaults=property_defaults(request_body_schema(spec, "create_invoice")),
            list_defaults={p["name"]: p["schema"].get("default") for p in list_parameters},
        )
