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
- P22: every 40th request is 429 with `Retry-After: 0` (only if the spec documents 429).
- P23: date-times echoed as UTC with `+00:00`. P25: extra fields, sorted keys, `charset=utf-8`.
- P29: a repeated query parameter: the last wins. P30: other 3-character currencies are upper-cased.
- P32: duplicate JSON keys are 400. P35: OPTIONS is 204 with Allow.
- Every answer waits a few milliseconds (a slow server); responses carry `X-Server: second`.

Run by hand: `python -m uvicorn tests.second_server.app:create_app --factory --http h11 --port 8082`
(h11: httptools answers unknown methods itself, in plain text, before the app sees them).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from contract import pointers
from contract.facts import ContractFacts, read_facts
from contract.spec import (
    compile_validator,
    component_schema,
    inline_refs,
    load_spec,
    operation,
    property_defaults,
    request_body_schema,
)
from tests.second_server.world import World, load

ASCII_BLANK = " \t\n\r\f\v"
SLOW_SECONDS = 0.003
RATE_LIMIT_EVERY = 40
SEQUENCE_START, SEQUENCE_STEP = 1000, 7
UID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Refusal(Exception):
    def __init__(self, status: int, message: str, *errors: tuple[str, str, str], headers: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors
        self.headers = headers or {}


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """Every JSON answer: sorted keys (another key order), an extra member, charset=utf-8 (P25)."""
    body = {**body, "served_by": "second-server"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return Response(
        text, status, {"X-Server": "second", **(headers or {})}, "application/json; charset=utf-8"
    )


def refusal(error: Refusal) -> Response:
    errors = [{"field": f, "message": m, "code": c, "hint": "see openapi.yaml"} for f, m, c in error.errors]
    body = {"status": "error", "status_code": error.status, "message": error.message, "errors": errors}
    return answer(error.status, body, error.headers)


def success(data: Any) -> Response:
    return answer(200, {"status": "success", "status_code": 200, "message": "Success", "data": data})


def utc_text(value: str | None) -> str | None:
    """The same instant, in this server's textual form: UTC with `+00:00` (P23)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
    return parsed.astimezone(UTC).isoformat()


MAX_DEPTH = 64


def depth(value: Any) -> int:
    """How deep arrays and objects nest (iteratively: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def days_since(text: str | None, now: datetime) -> int:
    if text is None:
        return 0
    instant = datetime.fromisoformat(text)
    return max(0, (now - instant).days)


class InvoiceApi:
    def __init__(self, spec: dict[str, Any], world: World) -> None:
        self.spec, self.world = spec, world
        self.facts: ContractFacts = read_facts(spec)
        self.body_schema = request_body_schema(spec, "create_invoice")
        self.validator = compile_validator(self.body_schema)
        self.defaults = property_defaults(self.body_schema)
        self.types = list(component_schema(spec, "InvoiceType")["enum"])
        params = inline_refs(spec, operation(spec, "list_invoices").get("parameters", []))
        self.params = {p["name"]: p.get("schema", {}) for p in params}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []  # creation order
        self.numbers: dict[str, set[str]] = {}
        self.sequence: dict[str, int] = {}
        self.requests = 0
        self.rate_limits = 429 in self.facts.statuses.get("create_invoice", frozenset())

    # -- cross-cutting -------------------------------------------------------------------------------

    def user(self, request: Request) -> frozenset[str]:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token and token in self.world.users:  # P07: any case
            return self.world.users[token]
        raise Refusal(
            401,
            "Authentication is needed: send a valid bearer token.",
            headers={"WWW-Authenticate": 'Bearer realm="invoices", error="invalid_token"'},
        )

    async def handle(self, request: Request, action: Any) -> Response:
        self.requests += 1
        await asyncio.sleep(SLOW_SECONDS)
        try:
            if self.rate_limits and self.requests % RATE_LIMIT_EVERY == 0:
                raise Refusal(429, "Too many requests; retry shortly.", headers={"Retry-After": "0"})
            return await action(request)
        except Refusal as error:
            return refusal(error)

    # -- create --------------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        return await self.handle(request, self._create)

    async def _create(self, request: Request) -> Response:
        raw = await request.body()
        if len(raw) > self.facts.max_body_bytes:  # P02: before authentication, as a proxy would
            raise Refusal(413, f"The body exceeds {self.facts.max_body_bytes} bytes.")
        orgs = self.user(request)  # P01: authentication before the other refusals
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refusal(415, "Send the invoice as application/json.")
        body = self.parse(raw)
        self.validate(body)
        owner = body["owner_uid"].lower()
        party = body["target_party_uid"].lower()
        if owner not in orgs:
            raise Refusal(403, "Not your organization.", ("/owner_uid", "not a member", "not_member"))
        if not self.world.may_bill(owner, party):
            raise Refusal(
                403, "That party is not billable.", ("/target_party_uid", "not billable", "not_billable")
            )
        document = self.world.documents.get(body["document_uid"].lower())
        if document is None or document["organization_uid"] != owner:
            raise Refusal(
                422, "Unknown document.", ("/document_uid", "no such document", "unknown_reference")
            )
        blueprint = None
        if body.get("invoice_blueprint_uid") is not None:
            blueprint = self.world.blueprints.get(body["invoice_blueprint_uid"].lower())
            if blueprint is None or blueprint["organization_uid"] != owner:
                raise Refusal(
                    422,
                    "Unknown blueprint.",
                    ("/invoice_blueprint_uid", "no such blueprint", "unknown_reference"),
                )
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

    def parse(self, raw: bytes) -> dict[str, Any]:
        def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = [key for key, _ in pairs]
            if len(set(keys)) != len(keys):
                raise Refusal(400, "A JSON object repeats a key.")  # P32
            return dict(pairs)

        def no_constant(name: str) -> Any:
            raise Refusal(400, f"{name} is not JSON.")

        def finite(text: str) -> float:
            value = float(text)
            if math.isinf(value):
                raise Refusal(400, f"The number {text[:20]} is too large.")
            return value

        try:
            text = raw.decode("utf-8")
            body = json.loads(
                text, object_pairs_hook=no_duplicates, parse_constant=no_constant, parse_float=finite
            )
        except (UnicodeError, ValueError, RecursionError):
            raise Refusal(400, "The body is not well-formed JSON.") from None
        if not isinstance(body, dict):
            raise Refusal(400, "The body must be a JSON object.")
        if depth(body) > MAX_DEPTH:
            raise Refusal(400, f"The JSON nests deeper than {MAX_DEPTH} levels.")
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeError:
            raise Refusal(400, "The body holds text that is not Unicode.") from None
        return body

    def validate(self, body: dict[str, Any]) -> None:
        problems = []
        for error in self.validator.iter_errors(body):
            path = [str(part) for part in error.instance_path]
            message = error.message
            missing = re.match(r'^"(.+)" is a required property', message)
            unexpected = getattr(error.kind, "unexpected", None)  # AdditionalProperties: the names
            if unexpected is not None:
                for name in unexpected:  # any name at all, quotes and newlines included
                    problems.append(
                        (pointers.from_parts([*path, name]), "not a field of the request", "extra")
                    )
                continue
            if missing:
                path = [*path, missing.group(1)]
            problems.append((pointers.from_parts(path), message, "bad"))
        currency = body.get("currency")
        if isinstance(currency, str) and len(currency) == 3:
            body["currency"] = currency.upper()  # P30: other 3-character strings normalised
        if problems:
            raise Refusal(422, "The invoice breaks the schema.", *problems)

    def generate(self, owner: str) -> str:
        year = datetime.now(UTC).year
        while True:
            sequence = self.sequence.get(owner, SEQUENCE_START)
            self.sequence[owner] = sequence + SEQUENCE_STEP
            number = self.facts.generated_number(year, sequence)
            if number not in self.numbers.get(owner, set()):
                return number

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

    def build(
        self,
        body: dict[str, Any],
        owner: str,
        party: str,
        number: str,
        document: dict[str, Any],
        blueprint: Any,
    ) -> dict[str, Any]:
        uid = str(uuid.uuid4())
        kind = body.get("invoice_type", self.defaults.get("invoice_type", self.facts.default_invoice_type))
        currency = body.get("currency", self.defaults.get("currency"))
        lines = []
        buckets = dict.fromkeys(("subtotal_cents", *self.facts.money_context_types), 0)
        for line in reversed((blueprint or {}).get("line_items") or []):  # P15: another order
            quantity, price = Decimal(str(line["quantity"])), Decimal(str(line["unit_price"]))
            total = (quantity * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            buckets[self.facts.context_type_bucket(line["context_type"])] += cents(total)
            lines.append(
                {
                    "uid": str(uuid.uuid4()),
                    "invoice_uid": uid,
                    "context_type_uid": line["context_type_uid"],
                    "context_type": line["context_type"],
                    "context_name": line["context_name"],
                    "currency": currency,
                    "quantity": float(quantity),
                    "unit_price": float(price),
                    "line_total": float(total),
                }
            )
        fields: dict[str, dict[str, Any]] = {}
        for key, entry in ((blueprint or {}).get("invoice_fields") or {}).items():
            fields[key] = {"type": entry["type"], "original_type": entry["type"], "value": entry.get("value")}
        for key, entry in (body.get("invoice_fields") or {}).items():
            fields[key] = {
                "type": entry["type"].lower(),
                "original_type": entry["type"],
                "value": entry["value"],
            }
        client, provider = (party, owner) if self.facts.client_is_target(kind) else (owner, party)
        total_cents = (
            buckets["subtotal_cents"] - buckets.get("discount_cents", 0) + buckets.get("tax_cents", 0)
        )
        notes = (blueprint or {}).get("invoice_notes") or {}
        return {
            "uid": uid,
            "owner": owner,
            "blueprint_active": (blueprint or {}).get("is_active"),
            "document": document,
            "invoice_number": number,
            "invoice_type": kind,
            "status": body.get("status", self.defaults.get("status")),
            "collection_method": self.facts.collection_method_on_create,
            "issue_date": utc_text(body.get("issue_date")),
            "due_date": utc_text(body.get("due_date")),
            "paid_date": None,
            **buckets,
            "total_cents": total_cents,
            "total": total_cents / 100,
            "pre_payment_credit_notes_cents": 0,
            "amount_due_cents": total_cents,
            "amount_paid_cents": 0,
            "amount_remaining_cents": total_cents,
            "currency": currency,
            "invoice_link": f"urn:invoice:{uid}",
            "document_uid": document["uid"],
            "invoice_blueprint_uid": (blueprint or {}).get("uid"),
            "target_party_uid": party,
            "has_comments": False,
            "line_items": lines,
            "invoice_fields": [{"key": key, "value": value} for key, value in fields.items()],
            "parties": {
                "client": self.party(client, "client"),
                "service_provider": self.party(provider, "service_provider"),
            },
            "integrations": [],
            "invoice_notes": {
                "invoice_memo": notes.get("invoice_memo"),
                "invoice_footer": notes.get("invoice_footer"),
            },
            "comments": [],
        }

    def full(self, invoice: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        shown = {k: v for k, v in invoice.items() if k not in ("owner", "blueprint_active", "document")}
        remaining = invoice["amount_remaining_cents"]
        shown["age"] = days_since(invoice["issue_date"], now)
        shown["overdue_days"] = days_since(invoice["due_date"], now) if remaining > 0 else 0
        shown["server_revision"] = 1  # an extra field (P25)
        return shown

    def summary(self, invoice: dict[str, Any]) -> dict[str, Any]:
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
            orgs = self.user(request)
            uid = request.path_params["invoice_uid"].lower()  # P12: upper-case uuids match
            invoice = self.invoices.get(uid) if UID.match(uid) else None
            if invoice is None or invoice["owner"] not in orgs:
                raise Refusal(404, "No such invoice.", ("invoice_uid", "no invoice with this uid", "missing"))
            return success(self.full(invoice))

        return await self.handle(request, action)

    async def list(self, request: Request) -> Response:
        async def action(request: Request) -> Response:
            orgs = self.user(request)
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
    and a crash is still the envelope: all before or around Starlette's router."""

    ALLOWED: ClassVar[dict[str, str]] = {"/api/invoices": "GET, POST", "item": "GET"}

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        allowed = self.ALLOWED["/api/invoices"] if path == "/api/invoices" else None
        if allowed is None and path.startswith("/api/invoices/") and path.count("/") == 3:
            allowed = self.ALLOWED["item"]
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


def create_app(spec_path: str | None = None, fixtures_path: str | None = None) -> Any:
    api = InvoiceApi(load_spec(spec_path), load(fixtures_path))
    routes = [
        Route("/api/invoices", api.create, methods=["POST"]),
        Route("/api/invoices", api.list, methods=["GET"]),
        Route("/api/invoices/{invoice_uid}", api.get, methods=["GET"]),
    ]
    return Fallbacks(Starlette(routes=routes))
