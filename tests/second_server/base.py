"""What every operation of the second server shares: its state, the gate each request passes
(authentication, the key's rate limit and scopes, the invoice in the path, the body), how an invoice
and its lines are shown, and how its money is recomputed.

The gate's order is this server's reading of P02, P61 and P74: an unauthenticated body over the
limit is `413` (a proxy would cut it), else `401`; then the key's own rate limit (`429`) and its
scopes (`403`, before the body is read); then, for an operation on one invoice, the path's `404`
before any body check (P61 open: the mock most likely validates the body first); then size `413`,
content type `415`, JSON `400`.
"""

from __future__ import annotations

import asyncio
import copy
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from contract.facts import ContractFacts, read_facts
from contract.spec import iter_operations
from tests.second_server.core import UID, Refusal, days_since, parse_json, refusal, whole_cents
from tests.second_server.world import Key, World

SLOW_SECONDS = 0.003
RATE_LIMIT_EVERY = 40

Invoice = dict[str, Any]
HIDDEN = ("owner", "blueprint_active", "document", "lines")  # kept for the server, never shown


@dataclass
class Passed:
    """What a request brought through the gate."""

    key: Key
    invoice: Invoice | None
    body: Any


class Draft:
    """Copy-on-write view of the invoices and numbers one request changes, so that a request is all
    or nothing (P62): `commit()` applies every change at once, dropping the draft applies none."""

    def __init__(self, api: ApiBase) -> None:
        self.api = api
        self.invoices: dict[str, Invoice] = {}
        self.numbers: dict[str, set[str]] = {}

    def invoice(self, uid: str) -> Invoice:
        if uid not in self.invoices:
            self.invoices[uid] = copy.deepcopy(self.api.invoices[uid])
        return self.invoices[uid]

    def taken(self, owner: str) -> set[str]:
        if owner not in self.numbers:
            self.numbers[owner] = set(self.api.numbers.get(owner, set()))
        return self.numbers[owner]

    def commit(self) -> None:
        self.api.invoices.update(self.invoices)
        self.api.numbers.update(self.numbers)


class ApiBase:
    def __init__(self, spec: dict[str, Any], world: World, rate_limit_every: int | None) -> None:
        self.spec, self.world = spec, world
        self.facts: ContractFacts = read_facts(spec)
        self.invoices: dict[str, Invoice] = {}
        self.order: list[str] = []  # creation order (P04, P76)
        self.numbers: dict[str, set[str]] = {}
        self.sequence: dict[str, int] = {}
        self.issued: dict[str, dict[str, None]] = {}  # owner -> every number it generated, in order
        self.requests = 0
        self.rate_limit_every = rate_limit_every
        self.windows: dict[str, tuple[float, int]] = {}  # token -> (window start, requests in it)
        reads = [op for _path, method, op in iter_operations(spec) if method == "get"]
        writes = [op for _path, method, op in iter_operations(spec) if method != "get"]
        self.read_scopes = frozenset(scope for op in reads for scope in op.get("x-scopes", ()))
        self.write_scopes = frozenset(scope for op in writes for scope in op.get("x-scopes", ()))

    # -- the gate ------------------------------------------------------------------------------------

    async def handle(self, request: Request, action: Any) -> Response:
        """Every answer waits a little (a slow server); every `RATE_LIMIT_EVERY`th is `429` (P22)."""
        self.requests += 1
        await asyncio.sleep(SLOW_SECONDS)
        try:
            if self.rate_limit_every and self.requests % self.rate_limit_every == 0:
                raise Refusal(429, "Too many requests; retry shortly.", headers={"Retry-After": "0"})
            return await action(request)
        except Refusal as error:
            return refusal(error)

    async def gate(
        self, request: Request, operation_id: str, kinds: tuple[type, ...] = (), invoice: bool = False
    ) -> Passed:
        """Authenticate, apply the key's limit and scopes, find the path's invoice, read the body.

        `kinds`: the JSON kinds the body may be (none: the operation takes no body).
        """
        raw = await request.body() if kinds else b""
        key = self.key(request)
        if key is None:
            if len(raw) > self.facts.max_body_bytes:  # P02: before authentication, as a proxy would
                raise Refusal(413, f"The body exceeds {self.facts.max_body_bytes} bytes.")
            raise Refusal(
                401,
                "Authentication is needed: send a valid bearer token.",
                headers={"WWW-Authenticate": 'Bearer realm="invoices", error="invalid_token"'},
            )
        self.spend(request, key)
        self.permit(key, operation_id)
        found = self.visible(key, request.path_params["invoice_uid"]) if invoice else None
        body = None
        if kinds:
            if len(raw) > self.facts.max_body_bytes:
                raise Refusal(413, f"The body exceeds {self.facts.max_body_bytes} bytes.")
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                raise Refusal(415, "Send the body as application/json.")
            body = parse_json(raw, kinds)
        return Passed(key, found, body)

    def key(self, request: Request) -> Key | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:  # P07: any letter case
            return self.world.users.get(token)
        return None

    def spend(self, request: Request, key: Key) -> None:
        """The key's own limit, a fixed window on this server's monotonic clock (the world's numbers)."""
        if key.rate_limit is None:
            return
        allowed, window = key.rate_limit
        token = request.headers["authorization"].partition(" ")[2]
        now = time.monotonic()
        start, count = self.windows.get(token, (now, 0))
        if now - start >= window:
            start, count = now, 0
        self.windows[token] = (start, count + 1)
        if count + 1 > allowed:
            wait = max(1, math.ceil(start + window - now))
            raise Refusal(
                429, f"This key's rate limit is spent; retry in {wait} s.", headers={"Retry-After": str(wait)}
            )

    def permit(self, key: Key, operation_id: str) -> None:
        """P74: a key needs one of the operation's `x-scopes`. This server's reading of the open part:
        a key holding a scope of some changing operation may also read (write implies read)."""
        needed = self.facts.scopes.get(operation_id, frozenset())
        if key.scopes is None or not needed:
            return
        granted = key.scopes | (self.read_scopes if key.scopes & self.write_scopes else frozenset())
        if not granted & needed:
            raise Refusal(
                403, f"This API key has no permission for that; it needs {' or '.join(sorted(needed))}."
            )

    def visible(self, key: Key, text: str) -> Invoice:
        """The invoice `text` names if the key may see it (P12: any letter case), else `404` (P27, P66)."""
        uid = text.lower()
        found = self.invoices.get(uid) if UID.match(uid) else None
        if found is None or found["owner"] not in key.organizations:
            raise Refusal(404, "No such invoice.", ("invoice_uid", "no invoice with this uid", "missing"))
        return found

    def document(self, owner: str, uid: str, field: str) -> dict[str, Any]:
        document = self.world.documents.get(uid.lower())
        if document is None or document["organization_uid"] != owner:
            raise Refusal(422, "Unknown document.", (field, "no such document", "unknown_reference"))
        return document

    def blueprint(self, owner: str, uid: str, field: str) -> dict[str, Any]:
        blueprint = self.world.blueprints.get(uid.lower())
        if blueprint is None or blueprint["organization_uid"] != owner:
            raise Refusal(422, "Unknown blueprint.", (field, "no such blueprint", "unknown_reference"))
        return blueprint

    # -- showing an invoice --------------------------------------------------------------------------

    def full(self, invoice: Invoice) -> dict[str, Any]:
        now = datetime.now(UTC)
        shown = {k: v for k, v in invoice.items() if k not in HIDDEN}
        shown["line_items"] = [self.line(invoice, line) for line in invoice["lines"]]
        remaining = invoice["amount_remaining_cents"]
        shown["age"] = days_since(invoice["issue_date"], now)
        shown["overdue_days"] = days_since(invoice["due_date"], now) if remaining > 0 else 0
        shown["server_revision"] = 1  # an extra field (P25)
        return shown

    def line(self, invoice: Invoice, line: dict[str, Any]) -> dict[str, Any]:
        """A line as the API shows it: amounts in major units (P69), the invoice's currency (P52, P60),
        and an extra `sku` (P25)."""
        return {
            "uid": line["uid"],
            "invoice_uid": invoice["uid"],
            "context_type_uid": line["context_type_uid"],
            "context_type": line["context_type"],
            "context_name": line["context_name"],
            "currency": invoice["currency"],
            "quantity": float(line["quantity"]),
            "unit_price": float(line["price_cents"] / 100),
            "line_total": line_cents(line) / 100,
            "sku": line["sku"],
        }

    def party(self, uid: str, role: str) -> dict[str, Any]:
        source = self.world.parties.get(uid) or self.world.organizations[uid]
        contact = dict(source["billing_contact"]) | {"party_uid": uid}
        return {
            "uid": uid,
            "name": source["name"],
            "address": source.get("address"),
            "billing_contact": contact,
            "role": role,
        }

    def parties(self, invoice: Invoice) -> dict[str, Any]:
        """Choice 5: who is client and who service provider follows the invoice type."""
        owner, target = invoice["owner"], invoice["target_party_uid"]
        kind = invoice["invoice_type"]
        client, provider = (target, owner) if self.facts.client_is_target(kind) else (owner, target)
        return {
            "client": self.party(client, "client"),
            "service_provider": self.party(provider, "service_provider"),
        }

    # -- money ---------------------------------------------------------------------------------------

    def recompute(self, invoice: Invoice) -> None:
        """P70: the money fields from the lines (buckets by `x-money-context-types`) and Choice 2."""
        buckets = dict.fromkeys(("subtotal_cents", *self.facts.money_context_types), 0)
        for line in invoice["lines"]:
            buckets[self.facts.context_type_bucket(line["context_type"])] += line_cents(line)
        invoice.update(buckets)
        total = buckets["subtotal_cents"] - buckets.get("discount_cents", 0) + buckets.get("tax_cents", 0)
        invoice["total_cents"] = total
        invoice["total"] = total / 100
        invoice["amount_due_cents"] = total - invoice["pre_payment_credit_notes_cents"]
        invoice["amount_remaining_cents"] = invoice["amount_due_cents"] - invoice["amount_paid_cents"]

    @staticmethod
    def negative(invoice: Invoice) -> bool:
        return invoice["total_cents"] < 0 or invoice["amount_remaining_cents"] < 0


def line_cents(line: dict[str, Any]) -> int:
    """`quantity * unit_price` in cents, exact, rounded half up (P09, P69)."""
    amount: Decimal = line["quantity"] * line["price_cents"]
    return whole_cents(amount)
