"""The valid create request every server is loaded with, taken from the shared fixtures."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """A minimal valid create (no invoice_number: every request creates an invoice) and its token.

    Derived from `contract/fixtures/default.yaml` through the measured mock's own loader, so the
    benchmark's world is exactly the world of the mock it measures.
    """

    token: str
    body: dict[str, str]

    @classmethod
    def from_fixtures(cls) -> Sample:
        from mockserver.fixtures import load_world

        world = load_world()
        user = next(iter(world.users.values()))
        owner = sorted(user.organizations)[0]
        party = next(p for p in world.parties.values() if owner in p.billable_by)
        document = next(d for d in world.documents.values() if d.organization_uid == owner)
        body = {"owner_uid": owner, "target_party_uid": party.uid, "document_uid": document.uid}
        return cls(token=user.token, body=body)

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
