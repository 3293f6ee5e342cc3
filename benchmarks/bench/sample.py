"""The valid requests every server is loaded with, taken from the shared fixtures and the spec."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sample:
    """A minimal valid create (no invoice_number: every request creates an invoice) and its token.

    Derived from `contract/fixtures/default.yaml` through the measured mock's own loader, so the
    benchmark's world is exactly the world of the mock it measures.
    """

    token: str
    body: dict[str, str]
    # A line item the owner may add without making the total negative: one of its products whose
    # lines add to the subtotal (not a discount or tax: those kinds are the spec's LineItem
    # `x-money-context-types`), one unit, at the product's price. Empty if it has no such product.
    line: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_fixtures(cls) -> Sample:
        from contract.facts import read_facts
        from contract.spec import default_spec_path, load_spec
        from mockserver.domain.fixtures import load_world

        world, facts = load_world(), read_facts(load_spec(default_spec_path()))
        user = next(u for u in world.users.values() if u.scopes is None and u.rate_limit is None)
        owner = sorted(user.organizations)[0]
        party = next(p for p in world.parties.values() if owner in p.billable_by)
        document = next(d for d in world.documents.values() if d.organization_uid == owner)
        body = {"owner_uid": owner, "target_party_uid": party.uid, "document_uid": document.uid}
        products = [
            p
            for p in world.products.values()
            if p.organization_uid == owner and p.context_type not in facts.money_context_types.values()
        ]
        line = (
            {"context_type": products[0].context_type, "sku": products[0].sku, "quantity": 1}
            if products
            else {}
        )
        return cls(token=user.token, body=body, line=line)

    @property
    def body_bytes(self) -> bytes:
        return json.dumps(self.body).encode()

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def headers(self) -> dict[str, str]:
        return {**self.auth_headers, "Content-Type": "application/json"}

    def raw_post(self, port: int) -> bytes:
        """The whole keep-alive HTTP/1.1 create request, for the asyncio creator."""
        head = "".join(
            [
                "POST /api/invoices HTTP/1.1\r\n",
                f"Host: 127.0.0.1:{port}\r\n",
                *(f"{name}: {value}\r\n" for name, value in self.headers.items()),
                f"Content-Length: {len(self.body_bytes)}\r\n\r\n",
            ]
        )
        return head.encode() + self.body_bytes
