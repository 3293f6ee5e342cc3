"""What is loaded: one small definition per operation, so a new operation is one more entry.

The create scenario is the one every ratio is about (each request stores an invoice, so the
mock's own count cross-checks wrk's). The others run after it on the same fresh process, each on
an invoice of its own created just before its load (`{invoice_uid}` in its path and `Target` in
its body stand for it), so no scenario meets what another left behind. To add an operation, add
a `Scenario` to `SCENARIOS` with the spec's method and path template, the body it sends (built
from the fixtures' sample or the spec's own examples, never a restated schema), and the servers
that can answer it; `tests/benchmarks/` checks that every scenario's operation is in
`openapi.yaml` and that its body fits the operation's schema. Run it with `--scenario NAME`
(`--lifecycle`: every lifecycle scenario).

Only operations a client can repeat for the whole load are scenarios: an update, a bulk update
and a line-item update answer 200 every time on the same invoice; a line-item create adds a line
each time. Deleting (an invoice, a line item) succeeds once per uid, so wrk cannot load it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bench.sample import Sample
from bench.servers import BASELINE, MOCK, MOCK_STATE_FILE, PRISM

UID_PLACEHOLDER = "{invoice_uid}"


@dataclass(frozen=True)
class Target:
    """What a scenario's requests name on the server under load: made just before that load."""

    sample: Sample
    invoice_uid: str
    line_uid: str = ""  # a line of that invoice, for scenarios with `needs_line`


@dataclass(frozen=True)
class Scenario:
    """One request shape, sent by wrk on every connection for the whole load."""

    name: str
    method: str
    path: str  # the spec's path template; `{invoice_uid}` is filled with a freshly created invoice
    about: str
    body: Callable[[Target], Any] | None = None
    creates: bool = False  # every 2xx stores an invoice: the mock's count must grow by as much
    servers: tuple[str, ...] = (MOCK, MOCK_STATE_FILE, PRISM)  # the bare endpoint has create and read only
    needs_line: bool = False  # its invoice gets one line (the sample's) before the load
    lifecycle: bool = False  # one of issue 13's operations (`--lifecycle` loads them all)

    def path_for(self, invoice_uid: str) -> str:
        return self.path.replace(UID_PLACEHOLDER, invoice_uid)

    def body_bytes(self, target: Target) -> bytes | None:
        return None if self.body is None else json.dumps(self.body(target)).encode()


@cache
def spec_example(operation_id: str, name: str) -> Any:
    """A named request example of the measured copy's openapi.yaml (the spec's own words)."""
    from contract.spec import default_spec_path, load_spec, operation

    content = operation(load_spec(default_spec_path()), operation_id)["requestBody"]["content"][
        "application/json"
    ]
    return content["examples"][name]["value"]


def _send(_target: Target) -> Any:
    return spec_example("update_invoice", "send")


CREATE = Scenario(
    name="create",
    method="POST",
    path="/api/invoices",
    about="the minimal valid create from the fixtures; no invoice_number, so every request stores one",
    body=lambda target: target.sample.body,
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
UPDATE = Scenario(
    name="update",
    method="PUT",
    path=f"/api/invoices/{UID_PLACEHOLDER}",
    about="update_invoice with the spec's `send` example (status and both dates), on one invoice",
    body=_send,
    servers=(MOCK, MOCK_STATE_FILE),
    lifecycle=True,
)
BULK_UPDATE = Scenario(
    name="bulk_update",
    method="PUT",
    path="/api/invoices",
    about="bulk_update_invoices: a one-item array, the `send` example for the scenario's invoice",
    body=lambda target: [{"uid": target.invoice_uid, **_send(target)}],
    servers=(MOCK, MOCK_STATE_FILE),
    lifecycle=True,
)
LINE_ITEMS_CREATE = Scenario(
    name="line_items_create",
    method="POST",
    path=f"/api/invoices/{UID_PLACEHOLDER}/line_items",
    about="create_line_items: the sample's product line, one object; every request adds a line",
    body=lambda target: target.sample.line,
    servers=(MOCK, MOCK_STATE_FILE),
    lifecycle=True,
)
LINE_ITEMS_UPDATE = Scenario(
    name="line_items_update",
    method="PUT",
    path=f"/api/invoices/{UID_PLACEHOLDER}/line_items",
    about="update_line_items: a new quantity for the invoice's one line (money recomputed)",
    body=lambda target: {"uid": target.line_uid, "quantity": 2},
    servers=(MOCK, MOCK_STATE_FILE),
    needs_line=True,
    lifecycle=True,
)
SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (CREATE, READ, UPDATE, BULK_UPDATE, LINE_ITEMS_CREATE, LINE_ITEMS_UPDATE)
}
LIFECYCLE = [s.name for s in SCENARIOS.values() if s.lifecycle]
