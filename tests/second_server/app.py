"""A second, independent implementation of the invoice API: plain Starlette, written from
`openapi.yaml` alone, sharing no code with `mockserver`.

Wherever the contract leaves a choice open (the precision table in `info.description`, and what
the spec merely allows), this server takes the reading the mock does not, so a kit that passes
both has not learnt the mock's habits. Its readings, by precision row:

- P02/P03: the body size (413) is checked before authentication; the content type (415) before JSON.
- P05: only ASCII whitespace makes a number blank; U+00A0-only numbers are stored as sent.
- P07: `bearer` in any letter case is accepted. P08: the challenge carries RFC 6750 parameters.
- P10: `prev` of a page past the end is the last page. P11/P26: its own codes and messages.
- P12: upper-case uuids match. P13: the stored `type` is lower-cased. P14: `invoice_link` is a URN.
- P15: line_items in the reverse of the blueprint's order. P19: numbers start at 1000, step 7.
- P22: every 40th request is 429 with `Retry-After: 0` (only if the spec documents 429); a key
  with a `rate_limit` in the world gets 429 past it, `Retry-After` the seconds left of its window.
- P23: date-times echoed as UTC with `+00:00`. P25: extra fields, sorted keys, `charset=utf-8`.
- P29: a repeated query parameter: the last wins. P30: other 3-character currencies are upper-cased.
- P32: duplicate JSON keys are 400. P35: OPTIONS is 204 with Allow.
- P61: the path's 404 comes before every body check (413/415/400/422), for the line items too.
- P62: of several refused items, the last one answers. P12 again: `A…` and `a…` in one bulk
  request are the same uid, so the second is a duplicate (422).
- P67: the generator issues a number again once it is free (a deleted or renumbered invoice's).
- P73: a quantity with more than 4 decimals is 422.
- P74: a key with `invoices:write` (any scope of a changing operation) may also read.
- Every answer waits a few milliseconds (a slow server); responses carry `X-Server: second`.

The lifecycle operations (update, bulk update, bulk delete, line items) can be switched off, which
makes it a server of the contract before the lifecycle issue: the six operations are 405 (with
`Allow`) or 404 like any unknown method or path; key scopes and the world's per-key rate limits still
hold (they are the keys', not the operations'). A kit must report its lifecycle properties "not run"
there, never failed: `create_app(lifecycle=False)`, the factory `create_create_read_app`, or the
environment variable `SECOND_SERVER_OPERATIONS=create-read` read by `create_app()`.

Run by hand: `python -m uvicorn tests.second_server.app:create_app --factory --http h11 --port 8082`
(h11: httptools answers unknown methods itself, in plain text, before the app sees them).
"""

from __future__ import annotations

import math
import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from contract.spec import (
    compile_validator,
    component_schema,
    default_spec_path,
    inline_refs,
    load_spec,
    operation,
    property_defaults,
    request_body_schema,
)
from tests.second_server.base import RATE_LIMIT_EVERY, Invoice
from tests.second_server.changes import ChangeRoutes
from tests.second_server.core import (
    ASCII_BLANK,
    Refusal,
    field_value,
    refusal,
    schema_problems,
    success,
    upper_currency,
    utc_text,
)
from tests.second_server.lines import LineItemRoutes
from tests.second_server.world import World, load

SEQUENCE_START, SEQUENCE_STEP = 1000, 7
OPERATIONS_VARIABLE = "SECOND_SERVER_OPERATIONS"  # "create-read": the server before the lifecycle


class InvoiceApi(ChangeRoutes, LineItemRoutes):
    def __init__(
        self,
        spec: dict[str, Any],
        world: World,
        rate_limit_every: int | None = RATE_LIMIT_EVERY,
    ) -> None:
        super().__init__(spec, world, rate_limit_every)
        self.body_schema = request_body_schema(spec, "create_invoice")
        self.validator = compile_validator(self.body_schema)
        self.defaults = property_defaults(self.body_schema)
        self.types = list(component_schema(spec, "InvoiceType")["enum"])
        params = inline_refs(spec, operation(spec, "list_invoices").get("parameters", []))
        self.params = {p["name"]: p.get("schema", {}) for p in params}
        self.prepare_changes()
        self.prepare_lines()

    # -- create --------------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        return await self.handle(request, self._create)

    async def _create(self, request: Request) -> Response:
        passed = await self.gate(request, "create_invoice", kinds=(dict,))
        orgs, body = passed.key.organizations, passed.body
        problems = schema_problems(self.validator, body)
        upper_currency(body)
        if problems:
            raise Refusal(422, "The invoice breaks the schema.", *problems)
        owner = body["owner_uid"].lower()
        party = body["target_party_uid"].lower()
        if owner not in orgs:
            raise Refusal(403, "Not your organization.", ("/owner_uid", "not a member", "not_member"))
        if not self.world.may_bill(owner, party):
            raise Refusal(
                403, "That party is not billable.", ("/target_party_uid", "not billable", "not_billable")
            )
        document = self.document(owner, body["document_uid"], "/document_uid")
        blueprint = None
        if body.get("invoice_blueprint_uid") is not None:
            blueprint = self.blueprint(owner, body["invoice_blueprint_uid"], "/invoice_blueprint_uid")
        number = body.get("invoice_number")
        taken = self.numbers.setdefault(owner, set())
        if number is None or number.strip(ASCII_BLANK) == "":  # P05: ASCII whitespace only
            number = self.generate(owner)
        elif number in taken:
            raise Refusal(409, "That number is taken.", ("/invoice_number", "already used", "taken"))
        taken.add(number)
        invoice = self.build(body, owner, party, number, document, blueprint)
        self.invoices[invoice["uid"]] = invoice
        self.order.append(invoice["uid"])
        return success(self.full(invoice))

    def generate(self, owner: str) -> str:
        """The owner's number for a new invoice: one it issued before this year and that is free again
        (its invoice deleted or renumbered) if there is one, the earliest first (P67 open: the mock
        never reissues), else the next of its sequence. Either way of the creation's UTC year (P19)."""
        year = datetime.now(UTC).year
        taken = self.numbers.get(owner, set())
        issued = self.issued.setdefault(owner, {})
        for number in issued:
            match = self.facts.generated_number_pattern.match(number)
            if number not in taken and match is not None and int(match.group(1)) == year:
                return number
        while True:
            sequence = self.sequence.get(owner, SEQUENCE_START)
            self.sequence[owner] = sequence + SEQUENCE_STEP
            number = self.facts.generated_number(year, sequence)
            if number not in taken:
                issued[number] = None
                return number

    def build(
        self,
        body: dict[str, Any],
        owner: str,
        party: str,
        number: str,
        document: dict[str, Any],
        blueprint: Any,
    ) -> Invoice:
        uid = str(uuid.uuid4())
        kind = body.get("invoice_type", self.defaults.get("invoice_type", self.facts.default_invoice_type))
        lines = []
        for line in reversed((blueprint or {}).get("line_items") or []):  # P15: another order
            lines.append(
                {
                    "uid": str(uuid.uuid4()),
                    "sku": None,
                    "context_type_uid": line["context_type_uid"],
                    "context_type": line["context_type"],
                    "context_name": line["context_name"],
                    "quantity": Decimal(str(line["quantity"])),
                    "price_cents": Decimal(str(line["unit_price"])) * 100,
                }
            )
        fields: dict[str, dict[str, Any]] = {}
        for key, entry in ((blueprint or {}).get("invoice_fields") or {}).items():
            fields[key] = {"type": entry["type"], "original_type": entry["type"], "value": entry.get("value")}
        for key, entry in (body.get("invoice_fields") or {}).items():
            fields[key] = field_value(entry)
        notes = (blueprint or {}).get("invoice_notes") or {}
        invoice: Invoice = {
            "uid": uid,
            "owner": owner,
            "blueprint_active": (blueprint or {}).get("is_active"),
            "document": document,
            "lines": lines,
            "invoice_number": number,
            "invoice_type": kind,
            "status": body.get("status", self.defaults.get("status")),
            "collection_method": self.facts.collection_method_on_create,
            "issue_date": utc_text(body.get("issue_date")),
            "due_date": utc_text(body.get("due_date")),
            "paid_date": None,
            "pre_payment_credit_notes_cents": 0,
            "amount_paid_cents": 0,
            "currency": body.get("currency", self.defaults.get("currency")),
            "invoice_link": f"urn:invoice:{uid}",
            "document_uid": document["uid"],
            "invoice_blueprint_uid": (blueprint or {}).get("uid"),
            "target_party_uid": party,
            "has_comments": False,
            "invoice_fields": [{"key": key, "value": value} for key, value in fields.items()],
            "integrations": [],
            "invoice_notes": {
                "invoice_memo": notes.get("invoice_memo"),
                "invoice_footer": notes.get("invoice_footer"),
            },
            "comments": [],
        }
        invoice["parties"] = self.parties(invoice)
        self.recompute(invoice)
        return invoice

    def summary(self, invoice: Invoice) -> dict[str, Any]:
        full = self.full(invoice)
        names = [
            "uid",
            "invoice_number",
            "subtotal_cents",
            "discount_cents",
            "tax_cents",
            "total",
            "total_cents",
            "pre_payment_credit_notes_cents",
            "amount_due_cents",
            "amount_paid_cents",
            "amount_remaining_cents",
            "overdue_days",
            "issue_date",
            "due_date",
            "paid_date",
            "document_uid",
            "status",
            "collection_method",
        ]
        document = invoice["document"]
        item = {name: full[name] for name in names}
        item["parent_contract"] = {
            "filename": document["filename"],
            "uid": document["uid"],
            "is_archived": document["is_archived"],
        }
        active = invoice["blueprint_active"]
        item["blueprint"] = None if invoice["invoice_blueprint_uid"] is None else {"is_active": bool(active)}
        item["parties"] = {"client": full["parties"]["client"]}
        return item

    # -- read ----------------------------------------------------------------------------------------

    async def get(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            passed = await self.gate(request, "get_invoice", invoice=True)
            assert passed.invoice is not None
            return success(self.full(passed.invoice))

        return await self.handle(request, action)

    async def list(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            orgs = (await self.gate(request, "list_invoices")).key.organizations
            query = dict(parse_qsl(request.url.query, keep_blank_values=True))  # P29: the last wins
            page = self.integer(query, "page")
            per_page = self.integer(query, "per_page")
            kind = query.get("invoice_type", self.facts.default_invoice_type)
            if kind not in self.types:
                raise Refusal(
                    422, "Unknown invoice_type.", ("invoice_type", f"one of {self.types}", "choice")
                )
            uids = [
                u
                for u in reversed(self.order)
                if self.invoices[u]["owner"] in orgs and self.invoices[u]["invoice_type"] == kind
            ]
            total_pages = math.ceil(len(uids) / per_page)
            items = [self.summary(self.invoices[u]) for u in uids[(page - 1) * per_page : page * per_page]]

            def link(number: int) -> str:
                return "/api/invoices?" + urlencode(
                    {"page": number, "per_page": per_page, "invoice_type": kind}
                )

            prev = None
            if page > 1:
                prev = link(min(page - 1, total_pages)) if total_pages else None  # P10: the last page
            data = {
                "items": items,
                "_meta": {
                    "page": page,
                    "per_page": per_page,
                    "total_pages": total_pages,
                    "total_items": len(uids),
                },
                "_links": {
                    "self": link(page),
                    "next": link(page + 1) if page < total_pages else None,
                    "prev": prev,
                },
            }
            return success(data)

        return await self.handle(request, action)

    def integer(self, query: dict[str, str], name: str) -> int:
        schema = self.params[name]
        text = query.get(name)
        if text is None:
            return int(schema["default"])
        low, high = int(schema.get("minimum", 1)), int(schema.get("maximum", 10**9))
        if not (text.isascii() and text.isdigit()) or len(text) > 12 or not low <= int(text) <= high:
            raise Refusal(
                422, f"{name} must be an integer from {low} to {high}.", (name, "out of range", "range")
            )
        return int(text)


class Fallbacks:
    """Unknown methods on known paths are 405 with Allow (P28), OPTIONS 204 (P35), unknown paths 404,
    all before Starlette's router."""

    ALLOWED: ClassVar[dict[str, str]] = {
        "collection": "GET, POST, PUT, DELETE",
        "item": "GET, PUT",
        "line_items": "POST, PUT, DELETE",
    }
    ALLOWED_CREATE_READ: ClassVar[dict[str, str]] = {"collection": "GET, POST", "item": "GET"}

    def __init__(self, app: Any, lifecycle: bool = True) -> None:
        self.app = app
        self.allowed = self.ALLOWED if lifecycle else self.ALLOWED_CREATE_READ

    def uvicorn_options(self) -> dict[str, Any]:
        """For `tests.servers.serve`: h11, so that unknown methods reach this app."""
        return {"http": "h11"}

    def kind(self, path: str) -> str | None:
        parts = path.split("/")
        if path == "/api/invoices":
            return "collection"
        if path.startswith("/api/invoices/") and len(parts) == 4 and parts[3]:
            return "item"
        if path.startswith("/api/invoices/") and len(parts) == 5 and parts[3] and parts[4] == "line_items":
            return "line_items"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        kind = self.kind(scope["path"])
        allowed = self.allowed.get(kind) if kind else None
        response: Response | None = None
        if allowed is None:
            response = refusal(Refusal(404, "Nothing lives at this path."))
        elif method == "OPTIONS":
            response = Response(status_code=204, headers={"Allow": allowed})
        elif method not in allowed.split(", ") and not (method == "HEAD" and "GET" in allowed):
            response = refusal(Refusal(405, f"{method} is not allowed here.", headers={"Allow": allowed}))
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(
    spec_path: str | None = None,
    fixtures_path: str | None = None,
    lifecycle: bool | None = None,
    rate_limit_every: int | None = RATE_LIMIT_EVERY,
) -> Fallbacks:
    """The server. `lifecycle=None` reads `SECOND_SERVER_OPERATIONS` (`create-read`: off).
    `rate_limit_every=None` drops the periodic 429 (the server's own tests of its rules)."""
    if lifecycle is None:
        lifecycle = os.environ.get(OPERATIONS_VARIABLE, "all") != "create-read"
    api = InvoiceApi(
        load_spec(spec_path if spec_path is not None else default_spec_path()),
        load(fixtures_path),
        rate_limit_every,
    )
    routes = [
        Route("/api/invoices", api.create, methods=["POST"]),
        Route("/api/invoices", api.list, methods=["GET"]),
        Route("/api/invoices/{invoice_uid}", api.get, methods=["GET"]),
    ]
    if lifecycle:
        routes += [
            Route("/api/invoices", api.bulk_update, methods=["PUT"]),
            Route("/api/invoices", api.bulk_delete, methods=["DELETE"]),
            Route("/api/invoices/{invoice_uid}", api.update, methods=["PUT"]),
            Route("/api/invoices/{invoice_uid}/line_items", api.create_lines, methods=["POST"]),
            Route("/api/invoices/{invoice_uid}/line_items", api.update_lines, methods=["PUT"]),
            Route("/api/invoices/{invoice_uid}/line_items", api.delete_lines, methods=["DELETE"]),
        ]
    return Fallbacks(Starlette(routes=routes), lifecycle)


def create_create_read_app() -> Fallbacks:
    """The server without the lifecycle: create, get and list only
    (`uvicorn --factory tests.second_server.app:create_create_read_app --http h11`)."""
    return create_app(lifecycle=False)
