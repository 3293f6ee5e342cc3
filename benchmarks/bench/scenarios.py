"""What is loaded: one small definition per operation, so a new operation is one more entry.

The create scenario is the one every ratio is about (each request stores an invoice, so the
mock's own count cross-checks wrk's). The others run after it on the same fresh process, with
`{invoice_uid}` in their path standing for an invoice created just before their load. To add an
operation (the lifecycle's PUT update or line items, say), add a `Scenario` to `SCENARIOS` with the
spec's method and path template, the body it sends (built from the fixtures' sample, never a
restated schema), and the servers that can answer it; `tests/benchmarks/` checks that every
scenario's operation is in `openapi.yaml`. Run it with `--scenario NAME`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.sample import Sample
from bench.servers import BASELINE, MOCK, MOCK_STATE_FILE, PRISM

UID_PLACEHOLDER = "{invoice_uid}"


@dataclass(frozen=True)
class Scenario:
    """One request shape, sent by wrk on every connection for the whole load."""

    name: str
    method: str
    path: str  # the spec's path template; `{invoice_uid}` is filled with a freshly created invoice
    about: str
    body: Callable[[Sample], dict[str, Any]] | None = None
    creates: bool = False  # every 2xx stores an invoice: the mock's count must grow by as much
    servers: tuple[str, ...] = (MOCK, MOCK_STATE_FILE, PRISM)  # the bare endpoint has create and read only

    def path_for(self, invoice_uid: str) -> str:
        return self.path.replace(UID_PLACEHOLDER, invoice_uid)

    def body_bytes(self, sample: Sample) -> bytes | None:
        return None if self.body is None else json.dumps(self.body(sample)).encode()


CREATE = Scenario(
    name="create",
    method="POST",
    path="/api/invoices",
    about="the minimal valid create from the fixtures; no invoice_number, so every request stores one",
    body=lambda sample: sample.body,
    creates=True,
    servers=(MOCK, MOCK_STATE_FILE, BASELINE, PRISM),
)
READ = Scenario(
    name="read",
    method="GET",
    path=f"/api/invoices/{UID_PLACEHOLDER}",
    about="one stored invoice by uid (also the stall probe's request)",
    servers=(MOCK, MOCK_STATE_FILE, BASELINE, PRISM),
)
# The lifecycle operations land here, e.g. (once openapi.yaml has the operation):
#   Scenario(name="update", method="PUT", path=f"/api/invoices/{UID_PLACEHOLDER}",
#            about="...", body=lambda sample: {...}),
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (CREATE, READ)}
