"""Deliberately faulty servers: a correct server, wrapped in ASGI middleware that breaks one rule.

The wrappers wrap any ASGI upstream: `build_app()` puts each over its own instance of the mock,
`build_app_over_second_server()` over the independent second server (tests/second_server), and
serves every variant from one process under its own path prefix (`/<variant>/api/invoices`), so
the kit can be pointed at `http://host:port/<variant>` and must find the fault. `FAULTS` says, for
each variant, which rule it breaks and which property must name it.

Run by hand: `python -m uvicorn tests.conformance.faults:build_app --factory --port 8081`.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract.facts import default_facts
from contract.spec import load_spec, request_body_schema


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_get(self) -> bool:
        return self.method == "GET" and self.path.startswith("/api/invoices/")

    @property
    def is_list(self) -> bool:
        return self.method == "GET" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_update(self) -> bool:
        parts = self.path.strip("/").split("/")
        return self.method == "PUT" and len(parts) == 3 and parts[:2] == ["api", "invoices"]

    @property
    def is_bulk_update(self) -> bool:
        return self.method == "PUT" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_bulk_delete(self) -> bool:
        return self.method == "DELETE" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_lines(self) -> bool:
        return self.path.rstrip("/").endswith("/line_items")

    @property
    def invoice_uid(self) -> str:
        """The path's invoice uid (get, update, line items)."""
        parts = self.path.strip("/").split("/")
        return parts[2] if len(parts) >= 3 else ""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()

    @property
    def data(self) -> Any:
        body = self.json
        return body.get("data") if isinstance(body, dict) else None


def envelope(status: int, message: str) -> Response:
    body = {"status": "error", "status_code": status, "message": message, "errors": []}
    return Response(status, {"content-type": "application/json"}, json.dumps(body).encode())


Before = Callable[["Fault", Request], Request | Response]
After = Callable[["Fault", Request, Response], Response]


@dataclass
class Fault:
    """A middleware that may rewrite the request (`before`) and the response (`after`)."""

    name: str
    breaks: str  # the rule broken, in words
    caught_by: tuple[str, ...]  # properties of which at least one must fail
    before: Before | None = None
    after: After | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request = Request(
            scope["method"], scope["path"], scope.get("query_string", b"").decode(), headers, b"".join(chunks)
        )
        outcome = self.before(self, request) if self.before else request
        if isinstance(outcome, Response):
            response = outcome
        else:
            response = await call(self.app, scope, outcome)
            if self.after:
                response = self.after(self, outcome, response)
        await respond(send, response)


async def call(app: ASGIApp, scope: Scope, request: Request) -> Response:
    """Run the inner app on `request`, buffering its answer."""
    scope = dict(scope)
    scope["headers"] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": request.body, "more_body": False}

    status, headers, body = 500, {}, bytearray()

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
            }
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return Response(status, headers, bytes(body))


async def respond(send: Send, response: Response) -> None:
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    headers["content-length"] = str(len(response.body))
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def _rewrite_data(response: Response, change: Callable[[dict[str, Any]], None]) -> Response:
    body = response.json
    if response.status == 200 and isinstance(body, dict) and isinstance(body.get("data"), dict):
        change(body["data"])
        response.set_json(body)
    return response


# -- the faults, one per rule family ---------------------------------------------------------------


def default_not_applied(fault: Fault, request: Request, response: Response) -> Response:
    """An omitted currency comes back as EUR instead of the spec's default."""
    sent = request.json if isinstance(request.json, dict) else {}
    if request.is_create and "currency" not in sent:
        return _rewrite_data(response, lambda data: data.update(currency="EUR"))
    return response


def date_not_echoed(fault: Fault, request: Request, response: Response) -> Response:
    """A supplied issue_date comes back an hour later (another instant)."""
    sent = request.json if isinstance(request.json, dict) else {}
    if request.is_create and isinstance(sent.get("issue_date"), str):

        def shift(data: dict[str, Any]) -> None:
            instant = datetime.fromisoformat(sent["issue_date"].replace("Z", "+00:00"))
            data["issue_date"] = (instant + timedelta(hours=1)).isoformat()

        return _rewrite_data(response, shift)
    return response


def generated_number_reused(fault: Fault, request: Request, response: Response) -> Response:
    """Every generated number is the first one of the year: duplicates within an owner."""
    sent = request.json if isinstance(request.json, dict) else {}
    number = sent.get("invoice_number")
    if request.is_create and (number is None or not str(number).strip()):
        first = default_facts().generated_number(datetime.now().year, 1)
        return _rewrite_data(response, lambda data: data.update(invoice_number=first))
    return response


class DuplicateAccepting(Fault):
    """A 409 duplicate is turned into a success: the invoice is made, showing the requested number."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request = Request("POST", scope["path"], "", headers, b"".join(chunks))
        response = await call(self.app, scope, request)
        sent = request.json
        if response.status == 409 and isinstance(sent, dict):
            number = sent.pop("invoice_number")
            retry = Request("POST", scope["path"], "", headers, json.dumps(sent).encode())
            response = _rewrite_data(
                await call(self.app, scope, retry), lambda d: d.update(invoice_number=number)
            )
        await respond(send, response)


def fields_as_map(fault: Fault, request: Request, response: Response) -> Response:
    """invoice_fields come back as the request's map instead of the documented list."""

    def to_map(data: dict[str, Any]) -> None:
        if isinstance(data.get("invoice_fields"), list):
            data["invoice_fields"] = {
                entry["key"]: {"type": entry["value"]["type"], "value": entry["value"]["value"]}
                for entry in data["invoice_fields"]
            }

    return _rewrite_data(response, to_map)


def parties_swapped(fault: Fault, request: Request, response: Response) -> Response:
    """Payable invoices name the target party as the client (roles relabelled to match)."""

    def swap(data: dict[str, Any]) -> None:
        parties = data.get("parties")
        if data.get("invoice_type") == "ACCOUNTS_PAYABLE" and isinstance(parties, dict):
            client, provider = parties["service_provider"], parties["client"]
            client["role"], provider["role"] = "client", "service_provider"
            data["parties"] = {"client": client, "service_provider": provider}

    return _rewrite_data(response, swap)


def discount_ignored(fault: Fault, request: Request, response: Response) -> Response:
    """The total forgets the discount (amounts downstream follow the wrong total)."""

    def break_total(data: dict[str, Any]) -> None:
        if data.get("discount_cents"):
            total = data["subtotal_cents"] + data["tax_cents"]
            data.update(
                total_cents=total, total=total / 100, amount_due_cents=total, amount_remaining_cents=total
            )

    if request.is_create or request.is_get:
        return _rewrite_data(response, break_total)
    return response


def error_status_code_400(fault: Fault, request: Request, response: Response) -> Response:
    """Every error envelope says status_code 400, whatever the HTTP status."""
    body = response.json
    if response.status >= 400 and isinstance(body, dict):
        body["status_code"] = 400
        response.set_json(body)
    return response


def problem_json(fault: Fault, request: Request, response: Response) -> Response:
    """Schema errors escape the envelope as application/problem+json (Connexion's default)."""
    body = response.json
    if response.status == 422 and isinstance(body, dict):
        problem = {
            "type": "about:blank",
            "title": "Unprocessable Entity",
            "detail": body["message"],
            "status": 422,
        }
        return Response(422, {"content-type": "application/problem+json"}, json.dumps(problem).encode())
    return response


def auth_skipped(fault: Fault, request: Request) -> Request | Response:
    """A request without Authorization is let in as the first user."""
    if "authorization" not in request.headers:
        request.headers["authorization"] = "Bearer acme-token"
    return request


def owner_not_checked(fault: Fault, request: Request) -> Request | Response:
    """Creates run as a user of every organization: any token may create for any owner."""
    token = request.headers.get("authorization", "")
    if request.is_create and token in {"Bearer acme-token", "Bearer globex-token"}:
        request.headers["authorization"] = "Bearer both-token"
    return request


def crashes_on_due_date(fault: Fault, request: Request) -> Request | Response:
    """A create with a due_date crashes the server (a bare 500, as a real crash looks)."""
    sent = request.json
    if request.is_create and isinstance(sent, dict) and sent.get("due_date"):
        return Response(500, {"content-type": "text/plain"}, b"Internal Server Error")
    return request


def forgets_invoices(fault: Fault, request: Request, response: Response) -> Response:
    """Every second invoice created is forgotten: reading it back is 404."""
    created = fault.memory.setdefault("created", 0)
    if request.is_create and response.status == 200:
        fault.memory["created"] = created + 1
        if created % 2 == 1:
            fault.memory.setdefault("forgotten", set()).add(response.data["uid"])
    if request.is_get and request.path.rsplit("/", 1)[-1] in fault.memory.get("forgotten", set()):
        uid = request.path.rsplit("/", 1)[-1]
        return envelope(404, f"invoice_uid: no invoice {uid}.")
    return response


def leaks_invoices(fault: Fault, request: Request) -> Request | Response:
    """Reading an invoice by uid uses its creator's rights: other organizations can read it."""
    if request.is_get:
        creator = fault.memory.get("creators", {}).get(request.path.rsplit("/", 1)[-1])
        if creator and "authorization" in request.headers:
            request.headers["authorization"] = creator
    return request


def remember_creators(fault: Fault, request: Request, response: Response) -> Response:
    if request.is_create and response.status == 200:
        fault.memory.setdefault("creators", {})[response.data["uid"]] = request.headers.get("authorization")
    return response


def mixes_up_invoices(fault: Fault, request: Request, response: Response) -> Response:
    """Reading any invoice by uid answers the most recently created one."""
    if request.is_create and response.status == 200:
        fault.memory["latest"] = response.body
    if request.is_get and response.status == 200 and "latest" in fault.memory:
        return Response(200, response.headers, fault.memory["latest"])
    return response


def list_drops_newest(fault: Fault, request: Request, response: Response) -> Response:
    """The first page of a list leaves out the newest invoice."""
    page = parse_qs(request.query).get("page", ["1"])[0]
    if request.is_list and page == "1":

        def drop(data: dict[str, Any]) -> None:
            if isinstance(data.get("items"), list) and data["items"]:
                data["items"] = data["items"][1:]

        return _rewrite_data(response, drop)
    return response


def no_challenge(fault: Fault, request: Request, response: Response) -> Response:
    """401 answers lack WWW-Authenticate."""
    if response.status == 401:
        response.headers.pop("www-authenticate", None)
    return response


# -- the bug classes the kit used to miss (issue 11) -----------------------------------------------


def _number(request: Request) -> tuple[str, str] | None:
    """(owner, supplied number) of a create that supplies a non-blank number."""
    sent = request.json
    number = sent.get("invoice_number") if request.is_create and isinstance(sent, dict) else None
    if isinstance(sent, dict) and isinstance(number, str) and number.strip():
        return str(sent.get("owner_uid")), number
    return None


# Seconds between "is the number free?" and "insert it". Only the concurrency properties run
# against the race wrappers, so a wide window costs about a second per test; a narrow one could be
# missed by six creates sent at once on a machine busy enough to spread them out.
RACE_WINDOW = 1.0


class CheckThenInsert(Fault):
    """A check-then-insert race: a supplied number is checked, then stored after a pause; creates that
    checked before the first insert all succeed (the upstream's 409 is hidden by creating the
    invoice without the number and showing the requested one)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        key = _number(request)
        taken: set[tuple[str, str]] = self.memory.setdefault("taken", set())
        free = key is not None and key not in taken
        if key is not None:
            await asyncio.sleep(RACE_WINDOW)
        response = await call(self.app, scope, request)
        if response.status == 409 and free and isinstance(request.json, dict):
            number = request.json["invoice_number"]
            retry = dict(request.json)
            retry.pop("invoice_number")
            again = Request(
                request.method, request.path, request.query, request.headers, json.dumps(retry).encode()
            )
            response = _rewrite_data(
                await call(self.app, scope, again), lambda d: d.update(invoice_number=number)
            )
        if key is not None and response.status == 200:
            taken.add(key)
        await respond(send, response)


class SequenceRace(Fault):
    """Generated numbers read the sequence, pause, then write it: concurrent creates without a number
    get the same number (shown consistently on create, get and list)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        sent = request.json if isinstance(request.json, dict) else None
        generated = (
            request.is_create and sent is not None and not str(sent.get("invoice_number") or "").strip()
        )
        numbers: dict[str, str] = self.memory.setdefault("numbers", {})
        if generated:
            sequence = self.memory.get("next", 900001)
            await asyncio.sleep(RACE_WINDOW)
            self.memory["next"] = sequence + 1
            number = default_facts().generated_number(datetime.now().year, sequence)
        response = await call(self.app, scope, request)
        if generated and response.status == 200 and isinstance(response.data, dict):
            numbers[response.data["uid"]] = number
        await respond(send, _renumber(response, numbers))


def _renumber(response: Response, numbers: dict[str, str]) -> Response:
    def change(data: dict[str, Any]) -> None:
        for item in [data, *(data.get("items") or [])]:
            if isinstance(item, dict) and item.get("uid") in numbers:
                item["invoice_number"] = numbers[item["uid"]]

    return _rewrite_data(response, change)


async def _read(scope: Scope, receive: Receive) -> Request | None:
    if scope["type"] != "http":
        return None
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    query = scope.get("query_string", b"").decode("latin-1")
    return Request(scope["method"], scope["path"], query, headers, b"".join(chunks))


def numbers_case_insensitive(fault: Fault, request: Request) -> Request | Response:
    """Number uniqueness compared case- and whitespace-insensitively (a database collation)."""
    key = _number(request)
    if key is None:
        return request
    folded = (key[0], key[1].strip().casefold())
    seen: dict[tuple[str, str], str] = fault.memory.setdefault("folded", {})
    if folded in seen and seen[folded] != key[1]:
        return envelope_with(409, "invoice_number: already used.", "/invoice_number", "duplicate")
    seen.setdefault(folded, key[1])
    return request


def envelope_with(status: int, message: str, field: str, code: str) -> Response:
    body = {
        "status": "error",
        "status_code": status,
        "message": message,
        "errors": [{"field": field, "message": message, "code": code}],
    }
    return Response(status, {"content-type": "application/json"}, json.dumps(body).encode())


SMALL_LIMIT = 64 * 1024


def small_body_limit(fault: Fault, request: Request) -> Request | Response:
    """Bodies over 64 KiB are refused with 413, far below the documented limit."""
    if request.is_create and len(request.body) > SMALL_LIMIT:
        return envelope(413, f"The body is larger than {SMALL_LIMIT} bytes.")
    return request


KNOWN_FIELDS = frozenset(request_body_schema(load_spec(), "create_invoice").get("properties", {}))


def unknown_fields_ignored(fault: Fault, request: Request) -> Request | Response:
    """Unknown request fields are silently dropped instead of refused with 422."""
    sent = request.json
    if request.is_create and isinstance(sent, dict) and set(sent) - KNOWN_FIELDS:
        kept = {k: v for k, v in sent.items() if k in KNOWN_FIELDS}
        request.body = json.dumps(kept).encode()
    return request


class PageOverlap(Fault):
    """Pages after the first start one item early: each repeats the previous page's last item and
    the last item of the page is skipped."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        response = await call(self.app, scope, request)
        query = dict(parse_qsl(request.query))
        page = int(query["page"]) if query.get("page", "").isdigit() else 1
        if request.is_list and page > 1 and response.status == 200:
            previous = dict(query, page=str(page - 1))
            earlier_scope = dict(scope, query_string=urlencode(previous).encode())
            earlier = await call(
                self.app, earlier_scope, Request("GET", request.path, "", request.headers, b"")
            )
            before = (earlier.data or {}).get("items") or []
            if before:

                def overlap(data: dict[str, Any]) -> None:
                    data["items"] = [before[-1], *(data.get("items") or [])][
                        : len(data.get("items") or []) or 1
                    ]

                response = _rewrite_data(response, overlap)
        await respond(send, response)


class DefaultFilterMiscounted(Fault):
    """Without invoice_type the list's items are right but _meta counts every type's invoices."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        response = await call(self.app, scope, request)
        query = dict(parse_qsl(request.query))
        if request.is_list and "invoice_type" not in query and response.status == 200:
            other = dict(query, invoice_type="ACCOUNTS_PAYABLE")
            other_scope = dict(scope, query_string=urlencode(other).encode())
            extra = await call(self.app, other_scope, Request("GET", request.path, "", request.headers, b""))
            more = ((extra.data or {}).get("_meta") or {}).get("total_items") or 0

            def miscount(data: dict[str, Any]) -> None:
                meta = data.get("_meta") or {}
                meta["total_items"] = meta.get("total_items", 0) + more
                meta["total_pages"] = -(-meta["total_items"] // max(1, meta.get("per_page", 1)))

            response = _rewrite_data(response, miscount)
        await respond(send, response)


def crashes_on_odd_input(fault: Fault, request: Request) -> Request | Response:
    """Input outside the schema crashes the server (bare 500s): a long query string, a header value
    with bytes above 0x7F, a JSON escape that is not Unicode, deep nesting, an unknown method."""
    odd = (
        len(request.query) > 1000
        or any(any(ord(c) > 0x7E for c in value) for value in request.headers.values())
        or b"\\ud8" in request.body.lower()
        or b"\\udc" in request.body.lower()
        or request.body.count(b"[") > 100
        or request.method not in ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS")
    )
    if odd:
        return Response(500, {"content-type": "text/plain"}, b"Internal Server Error")
    return request


# -- the lifecycle (issue 13): update, bulk update, bulk delete, line items, scopes -------------------


def _scope_for(scope: Scope, method: str, path: str) -> Scope:
    """The request scope of another request to the same upstream (a wrapper's own extra request)."""
    return dict(scope, method=method, path=path, raw_path=path.encode(), query_string=b"")


async def _also(app: ASGIApp, scope: Scope, request: Request, method: str, path: str, body: Any) -> Response:
    headers = {k: v for k, v in request.headers.items() if k in ("authorization", "content-type")}
    headers["content-type"] = "application/json"
    encoded = b"" if body is None else json.dumps(body).encode()
    return await call(app, _scope_for(scope, method, path), Request(method, path, "", headers, encoded))


NULLABLE_ON_UPDATE = ("issue_date", "due_date", "paid_date", "invoice_blueprint_uid")


def update_clears_omitted(fault: Fault, request: Request) -> Request | Response:
    """An update is a replacement: the nullable fields it omits are cleared (set to null)."""
    sent = request.json
    if request.is_update and isinstance(sent, dict):
        request.body = json.dumps({**dict.fromkeys(NULLABLE_ON_UPDATE), **sent}).encode()
    return request


def update_ignores_status(fault: Fault, request: Request) -> Request | Response:
    """An update (single or bulk) silently drops `status`; the answer shows the old one."""
    sent = request.json
    if request.is_update and isinstance(sent, dict) and "status" in sent:
        request.body = json.dumps({k: v for k, v in sent.items() if k != "status"}).encode()
    if request.is_bulk_update and isinstance(sent, list):
        items = [{k: v for k, v in i.items() if k != "status"} if isinstance(i, dict) else i for i in sent]
        request.body = json.dumps(items).encode()
    return request


class RefusedUpdateHalfApplied(Fault):
    """An update refused for its number (409) or its party (403) still applies its other fields."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        response = await call(self.app, scope, request)
        sent = request.json
        if request.is_update and response.status in (403, 409) and isinstance(sent, dict):
            rest = {k: v for k, v in sent.items() if k not in ("invoice_number", "target_party_uid")}
            if rest:
                await _also(self.app, scope, request, "PUT", request.path, rest)
        await respond(send, response)


class BulkAppliesGoodItems(Fault):
    """A refused bulk update still applies each item the single update accepts."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        response = await call(self.app, scope, request)
        sent = request.json
        if request.is_bulk_update and 400 <= response.status < 500 and isinstance(sent, list):
            for item in sent:
                if isinstance(item, dict) and isinstance(item.get("uid"), str):
                    change = {k: v for k, v in item.items() if k != "uid"}
                    await _also(self.app, scope, request, "PUT", f"/api/invoices/{item['uid']}", change)
        await respond(send, response)


class BulkAnswerReversed(Fault):
    """A bulk update answers its invoices in reverse request order."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        response = await call(self.app, scope, request)
        body = response.json
        ordered = request.is_bulk_update and response.status == 200 and isinstance(body, dict)
        if ordered and isinstance(body.get("data"), list):
            body["data"] = body["data"][::-1]
            response.set_json(body)
        await respond(send, response)


class SoftDelete(Fault):
    """A bulk delete only marks the invoices (nothing is forwarded): `hide_from_get` decides whether a
    get still finds them; the list always still shows and counts them."""

    hide_from_get: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        deleted: set[str] = self.memory.setdefault("deleted", set())
        sent = request.json
        if (
            request.is_bulk_delete
            and isinstance(sent, list)
            and sent
            and all(isinstance(u, str) for u in sent)
        ):
            answers = [
                await _also(self.app, scope, request, "GET", f"/api/invoices/{uid}", None) for uid in sent
            ]
            if (
                all(a.status == 200 for a in answers)
                and not deleted & set(sent)
                and len(set(sent)) == len(sent)
            ):
                deleted.update(sent)
                body = {"status": "success", "status_code": 200, "message": "Success", "data": {}}
                await respond(
                    send, Response(200, {"content-type": "application/json"}, json.dumps(body).encode())
                )
                return
            if deleted & set(sent):
                await respond(send, envelope(404, "no such invoice."))
                return
        if request.invoice_uid in deleted and (self.hide_from_get or not request.is_get):
            await respond(send, envelope(404, f"invoice_uid: no invoice {request.invoice_uid}."))
            return
        await respond(send, await call(self.app, scope, request))


class DeleteListed(SoftDelete):
    hide_from_get = True


class DeletedNumberTaken(Fault):
    """A deleted invoice's number stays taken: a create or an update that takes it is 409."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        taken: set[str] = self.memory.setdefault("taken", set())
        sent = request.json
        if request.is_bulk_delete and isinstance(sent, list):
            numbers = []
            for uid in sent:
                if isinstance(uid, str):
                    got = await _also(self.app, scope, request, "GET", f"/api/invoices/{uid}", None)
                    if got.status == 200 and isinstance(got.data, dict):
                        numbers.append(got.data.get("invoice_number"))
            response = await call(self.app, scope, request)
            if response.status == 200:
                taken.update(n for n in numbers if isinstance(n, str))
            await respond(send, response)
            return
        number = sent.get("invoice_number") if isinstance(sent, dict) else None
        if (request.is_create or request.is_update) and number in taken:
            await respond(
                send, envelope_with(409, "invoice_number: already used.", "/invoice_number", "duplicate")
            )
            return
        await respond(send, await call(self.app, scope, request))


MONEY_FIELDS = (
    "subtotal_cents",
    "discount_cents",
    "tax_cents",
    "total",
    "total_cents",
    "amount_due_cents",
    "amount_remaining_cents",
)


class LineMoneyStale(Fault):
    """Line-item changes do not recompute the invoice's money: reads show the amounts it had before
    its first line-item change."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        stale: dict[str, dict[str, Any]] = self.memory.setdefault("stale", {})
        uid = request.invoice_uid
        if request.is_lines and uid not in stale:
            got = await _also(self.app, scope, request, "GET", f"/api/invoices/{uid}", None)
            if got.status == 200 and isinstance(got.data, dict):
                stale[uid] = {name: got.data.get(name) for name in MONEY_FIELDS}
        response = await call(self.app, scope, request)
        if request.is_get and uid in stale:
            response = _rewrite_data(response, lambda data: data.update(stale[uid]))
        await respond(send, response)


def unit_price_as_major_units(fault: Fault, request: Request) -> Request | Response:
    """A line item's unit_price is read as major units (dollars), so it is stored 100 times too big."""
    sent = request.json
    if request.is_lines and request.method in ("POST", "PUT"):

        def scale(item: Any) -> Any:
            if isinstance(item, dict) and isinstance(item.get("unit_price"), int):
                return {**item, "unit_price": item["unit_price"] * 100}
            return item

        scaled = [scale(i) for i in sent] if isinstance(sent, list) else scale(sent)
        request.body = json.dumps(scaled).encode()
    return request


def read_only_key_writes(fault: Fault, request: Request) -> Request | Response:
    """The read-only key may write: its writes run as a full member of its organization."""
    if request.method != "GET" and request.headers.get("authorization") == "Bearer acme-readonly-token":
        request.headers["authorization"] = "Bearer acme-token"
    return request


class UpdateNumberRace(Fault):
    """Update's number check and write are two steps: a number checked free, then written after a
    pause; concurrent updates that checked before the first write all succeed (the upstream's 409
    is hidden by updating without the number and showing the requested one)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        sent = request.json
        number = sent.get("invoice_number") if request.is_update and isinstance(sent, dict) else None
        if not isinstance(number, str):
            await respond(send, await call(self.app, scope, request))
            return
        taken: set[str] = self.memory.setdefault("taken", set())
        free = number not in taken
        await asyncio.sleep(RACE_WINDOW)
        response = await call(self.app, scope, request)
        if response.status == 409 and free:
            rest = {k: v for k, v in sent.items() if k != "invoice_number"}
            response = _rewrite_data(
                await _also(self.app, scope, request, "PUT", request.path, rest),
                lambda d: d.update(invoice_number=number),
            )
        if response.status == 200:
            taken.add(number)
        await respond(send, response)


class BulkNotAtomic(Fault):
    """A bulk update runs its items one by one with a pause between them, unlocked: concurrent bulk
    updates interleave (each answer is still the right one for its own items)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        sent = request.json
        first = await call(self.app, scope, request)
        valid = request.is_bulk_update and isinstance(sent, list) and len(sent) > 1
        if valid and first.status == 200 and isinstance(first.json, dict):
            # The check above applied the whole batch; now apply it again, item by item, interleaving.
            answers = []
            for index, item in enumerate(sent):
                if index:
                    await asyncio.sleep(RACE_WINDOW / 2)
                change = {k: v for k, v in item.items() if k != "uid"}
                single = await _also(self.app, scope, request, "PUT", f"/api/invoices/{item['uid']}", change)
                answers.append(single.data)
            body = {
                "status": "success",
                "status_code": 200,
                "message": f"Successfully updated {len(answers)} invoice(s)",
                "data": answers,
            }
            await respond(
                send, Response(200, {"content-type": "application/json"}, json.dumps(body).encode())
            )
            return
        await respond(send, await call(self.app, scope, request))


def changed_moves_to_top(fault: Fault, request: Request, response: Response) -> Response:
    """The list is ordered by last change: an updated invoice moves to the top of its list."""
    touched: list[str] = fault.memory.setdefault("touched", [])
    if (request.is_update or request.is_lines) and response.status == 200:
        touched.append(request.invoice_uid)
    if request.is_list and response.status == 200:

        def reorder(data: dict[str, Any]) -> None:
            items = data.get("items")
            if isinstance(items, list):
                rank = {uid: i for i, uid in enumerate(touched)}
                moved = sorted((x for x in items if x.get("uid") in rank), key=lambda x: -rank[x["uid"]])
                data["items"] = moved + [x for x in items if x.get("uid") not in rank]

        return _rewrite_data(response, reorder)
    return response


def no_retry_after(fault: Fault, request: Request, response: Response) -> Response:
    """A 429 without Retry-After (the client cannot know when to come back)."""
    if response.status == 429:
        response.headers.pop("retry-after", None)
    return response


def lifecycle_absent(fault: Fault, request: Request) -> Request | Response:
    """A server of the contract before the lifecycle: only create and read exist (405 / 404 otherwise)."""
    if request.is_lines:
        return envelope(404, f"no route {request.path}")
    if request.is_update or request.is_bulk_update or request.is_bulk_delete:
        response = envelope(405, f"{request.method} is not allowed here.")
        response.headers["allow"] = "GET" if request.is_update else "GET, POST"
        return response
    return request


# A correct server of the contract as it was before issue 13 (not a fault: the kit must pass it and
# report the lifecycle properties as not run). Served under `/create-read-only`.
CREATE_READ_ONLY = Fault("create-read-only", "nothing (the lifecycle is absent)", (), before=lifecycle_absent)


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault("default-not-applied", "defaults", ("defaults_applied",), after=default_not_applied),
        Fault("date-not-echoed", "echo", ("supplied_fields_echoed",), after=date_not_echoed),
        Fault(
            "number-reused", "generated numbers", ("invoice_number_generated",), after=generated_number_reused
        ),
        DuplicateAccepting("duplicate-accepted", "409 duplicate", ("duplicate_number_refused",)),
        Fault("fields-as-map", "invoice_fields list", ("invoice_fields_as_list",), after=fields_as_map),
        Fault("parties-swapped", "parties", ("parties_by_invoice_type",), after=parties_swapped),
        Fault("discount-ignored", "money", ("money_identities",), after=discount_ignored),
        Fault("status-code-400", "envelope", ("envelope_consistent",), after=error_status_code_400),
        Fault(
            "problem-json",
            "error envelope",
            ("envelope_consistent", "field_errors_named"),
            after=problem_json,
        ),
        Fault("auth-skipped", "401", ("auth_required", "schema:ignored_auth"), before=auth_skipped),
        Fault("owner-not-checked", "403 owner", ("owner_forbidden",), before=owner_not_checked),
        Fault("crash-on-due-date", "5xx", ("schema:not_a_server_error",), before=crashes_on_due_date),
        Fault(
            "forgets-invoices", "read back", ("get_returns_created", "state_machine"), after=forgets_invoices
        ),
        Fault(
            "leaks-invoices",
            "visibility",
            ("invisible_to_other_org",),
            before=leaks_invoices,
            after=remember_creators,
        ),
        Fault(
            "mixes-up-invoices",
            "read back",
            ("get_returns_created", "state_machine"),
            after=mixes_up_invoices,
        ),
        Fault(
            "list-drops-newest", "list", ("list_contains_created", "state_machine"), after=list_drops_newest
        ),
        Fault("no-challenge", "WWW-Authenticate", ("auth_required",), after=no_challenge),
        CheckThenInsert("number-race", "409 under concurrency", ("concurrent_creates_one_number",)),
        SequenceRace("sequence-race", "distinct generated numbers", ("concurrent_creates_distinct_numbers",)),
        Fault(
            "numbers-case-insensitive",
            "exact numbers",
            ("numbers_compared_exactly",),
            before=numbers_case_insensitive,
        ),
        Fault("small-body-limit", "1 MiB limit", ("large_body_accepted",), before=small_body_limit),
        Fault(
            "unknown-fields-ignored",
            "422 unknown fields",
            ("unknown_fields_refused",),
            before=unknown_fields_ignored,
        ),
        PageOverlap("page-overlap", "paging", ("pages_disjoint_and_complete",)),
        DefaultFilterMiscounted(
            "default-filter-miscounted", "default filter", ("list_default_filter_is_explicit",)
        ),
        Fault(
            "update-clears-omitted",
            "partial update",
            ("update_changes_only_what_it_sends", "state_machine"),
            before=update_clears_omitted,
        ),
        Fault(
            "update-ignores-status",
            "update echo",
            ("update_changes_only_what_it_sends", "update_status_and_paid_date_imply_nothing"),
            before=update_ignores_status,
        ),
        RefusedUpdateHalfApplied(
            "refused-update-half-applied",
            "a refused update changes nothing",
            ("refused_update_changes_nothing", "update_number_rules"),
        ),
        BulkAppliesGoodItems(
            "bulk-applies-good-items", "bulk all or nothing", ("bulk_update_all_or_nothing",)
        ),
        BulkAnswerReversed("bulk-answer-reversed", "bulk answer order", ("bulk_update_applies_in_order",)),
        SoftDelete("delete-still-gettable", "deleted is gone", ("deleted_invoice_is_gone", "state_machine")),
        DeleteListed(
            "delete-still-listed", "deleted is unlisted", ("deleted_invoice_is_gone", "state_machine")
        ),
        DeletedNumberTaken("deleted-number-taken", "a deleted number is free", ("deleted_number_is_free",)),
        LineMoneyStale(
            "line-money-stale",
            "money recomputed",
            ("line_items_priced_from_products", "line_items_money_after_every_change", "state_machine"),
        ),
        Fault(
            "unit-price-major-units",
            "unit_price in cents",
            ("line_items_priced_from_products", "line_items_money_after_every_change"),
            before=unit_price_as_major_units,
        ),
        Fault(
            "read-only-key-writes", "key scopes", ("read_only_key_cannot_write",), before=read_only_key_writes
        ),
        UpdateNumberRace(
            "update-number-race", "409 on concurrent updates", ("concurrent_updates_one_number",)
        ),
        BulkNotAtomic(
            "bulk-not-atomic", "serializable bulk requests", ("concurrent_bulk_requests_serializable",)
        ),
        Fault(
            "changed-moves-to-top",
            "list order",
            ("list_order_kept_after_changes",),
            after=changed_moves_to_top,
        ),
        Fault("no-retry-after", "429 Retry-After", ("rate_limit_answers_429",), after=no_retry_after),
        Fault(
            "crashes-on-odd-input",
            "robustness",
            ("robust_query_strings", "robust_header_values", "robust_json_bodies", "robust_unknown_methods"),
            before=crashes_on_odd_input,
        ),
    )
}

# The faults that only the robustness family can see (the other wrappers are judged without it).
ROBUSTNESS_FAULTS = frozenset({"crashes-on-odd-input"})


class PrefixDispatcher:
    """Routes `/<name>/...` to the app registered under `name`, with the prefix stripped."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        name, _, rest = scope["path"].lstrip("/").partition("/")
        app = self.apps.get(name)
        if app is None:
            await respond(send, envelope(404, f"no variant {name!r}"))
            return
        scope = dict(scope)
        scope["path"] = "/" + rest
        scope["raw_path"] = ("/" + rest).encode()
        await app(scope, receive, send)


def build_app(
    upstream: Callable[[], ASGIApp] | None = None,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Every fault over its own instance of `upstream` (default: the mock), plus the unwrapped
    upstream under `/clean`."""
    if upstream is None:
        from mockserver.app import create_app

        upstream = create_app
    apps: dict[str, ASGIApp] = {"clean": upstream()}
    for name, template in {**FAULTS, CREATE_READ_ONLY.name: CREATE_READ_ONLY}.items():
        fault = copy.copy(template)
        fault.memory = {}
        fault.app = upstream()
        apps[name] = fault
    return PrefixDispatcher(apps)


def build_app_over_second_server() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    from tests.second_server.app import create_app

    return build_app(create_app)
