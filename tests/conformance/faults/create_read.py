"""The wrappers of the create-and-read contract: defaults, echo, numbers, parties, money, errors,
auth, reads, lists, limits and robustness (issues up to 11)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

from starlette.types import Scope

from contract.spec import default_spec_path, load_spec, request_body_schema
from tests.conformance.faults.base import (
    Fault,
    Request,
    Response,
    _rewrite_data,
    call,
    envelope,
    envelope_with,
)
from tests.world import FACTS

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
        first = FACTS.generated_number(datetime.now().year, 1)
        return _rewrite_data(response, lambda data: data.update(invoice_number=first))
    return response


class DuplicateAccepting(Fault):
    """A 409 duplicate is turned into a success: the invoice is made, showing the requested number."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        response = await call(self.app, scope, request)
        sent = request.json
        if request.method == "POST" and response.status == 409 and isinstance(sent, dict):
            number = sent.pop("invoice_number")
            retry = Request("POST", request.path, "", request.headers, json.dumps(sent).encode())
            response = _rewrite_data(
                await call(self.app, scope, retry), lambda d: d.update(invoice_number=number)
            )
        return response


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

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
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
        return response


class SequenceRace(Fault):
    """Generated numbers read the sequence, pause, then write it: concurrent creates without a number
    get the same number (shown consistently on create, get and list)."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        sent = request.json if isinstance(request.json, dict) else None
        generated = (
            request.is_create and sent is not None and not str(sent.get("invoice_number") or "").strip()
        )
        numbers: dict[str, str] = self.memory.setdefault("numbers", {})
        if generated:
            sequence = self.memory.get("next", 900001)
            await asyncio.sleep(RACE_WINDOW)
            self.memory["next"] = sequence + 1
            number = FACTS.generated_number(datetime.now().year, sequence)
        response = await call(self.app, scope, request)
        if generated and response.status == 200 and isinstance(response.data, dict):
            numbers[response.data["uid"]] = number
        return _renumber(response, numbers)


def _renumber(response: Response, numbers: dict[str, str]) -> Response:
    def change(data: dict[str, Any]) -> None:
        for item in [data, *(data.get("items") or [])]:
            if isinstance(item, dict) and item.get("uid") in numbers:
                item["invoice_number"] = numbers[item["uid"]]

    return _rewrite_data(response, change)


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


SMALL_LIMIT = 64 * 1024


def small_body_limit(fault: Fault, request: Request) -> Request | Response:
    """Bodies over 64 KiB are refused with 413, far below the documented limit."""
    if request.is_create and len(request.body) > SMALL_LIMIT:
        return envelope(413, f"The body is larger than {SMALL_LIMIT} bytes.")
    return request


KNOWN_FIELDS = frozenset(
    request_body_schema(load_spec(default_spec_path()), "create_invoice").get("properties", {})
)


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

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
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
        return response


class DefaultFilterMiscounted(Fault):
    """Without invoice_type the list's items are right but _meta counts every type's invoices."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
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
        return response


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


# -- one wrapper per create-and-read property that had none ----------------------------------------


def _names(response: Response, name: str) -> bool:
    """Whether an error answer's errors[] name the field `name` (as a pointer or a bare name)."""
    body = response.json
    errors = body.get("errors") if isinstance(body, dict) else None
    return any(isinstance(e, dict) and str(e.get("field", "")).lstrip("/") == name for e in errors or [])


def _as_status(response: Response, status: int) -> Response:
    body = response.json
    if isinstance(body, dict):
        body["status_code"] = status
        response.set_json(body)
    response.status = status
    return response


def party_refusal_as_422(fault: Fault, request: Request, response: Response) -> Response:
    """A party the owner may not bill is answered as a validation error, 422 instead of 403. Breaks
    create_invoice's "target_party_uid a party that organization may bill; otherwise 403" (P03)."""
    if request.is_create and response.status == 403 and _names(response, "target_party_uid"):
        return _as_status(response, 422)
    return response


REFERENCES = ("document_uid", "invoice_blueprint_uid")


class UnknownReferenceDropped(Fault):
    """A create naming a document or blueprint the owner does not have is made without it (the
    reference is dropped) instead of refused. Breaks create_invoice's "must exist for the owner
    organization; otherwise 422" (P03)."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        response = await call(self.app, scope, request)
        sent = request.json
        refused = [name for name in REFERENCES if response.status == 422 and _names(response, name)]
        if request.is_create and isinstance(sent, dict) and refused:
            kept = {k: v for k, v in sent.items() if k not in refused}
            response = await call(
                self.app, scope, Request("POST", request.path, "", request.headers, json.dumps(kept).encode())
            )
        return response


def numbers_unique_across_owners(fault: Fault, request: Request) -> Request | Response:
    """Supplied numbers are unique across every organization, not per owner: a number another
    organization used is 409. Breaks create_invoice's "unique within the owner organization" (P19)."""
    key = _number(request)
    if key is None:
        return request
    owner, number = key
    first: dict[str, str] = fault.memory.setdefault("owners", {})
    if first.setdefault(number, owner) != owner:
        return envelope_with(409, "invoice_number: already used.", "/invoice_number", "duplicate")
    return request


def list_oldest_first(fault: Fault, request: Request, response: Response) -> Response:
    """A page lists its invoices oldest first (`ORDER BY created_at ASC` within the page). Breaks
    list_invoices's "Items are ordered newest first" (P04)."""
    if request.is_list:

        def reverse(data: dict[str, Any]) -> None:
            if isinstance(data.get("items"), list):
                data["items"] = data["items"][::-1]

        return _rewrite_data(response, reverse)
    return response


def total_pages_floored(fault: Fault, request: Request, response: Response) -> Response:
    """total_pages is total_items // per_page (floor), one short when the last page is partial.
    Breaks list_invoices's total_pages = ceil(total_items / per_page) (P10)."""
    if request.is_list:

        def floor(data: dict[str, Any]) -> None:
            meta = data.get("_meta")
            if isinstance(meta, dict) and isinstance(meta.get("total_items"), int) and meta.get("per_page"):
                meta["total_pages"] = meta["total_items"] // meta["per_page"]

        return _rewrite_data(response, floor)
    return response


LIST_PARAMETERS = {
    p["name"]: p["schema"]
    for p in load_spec(default_spec_path())["paths"]["/api/invoices"]["get"].get("parameters", [])
    if "schema" in p
}
OWN_PER_PAGE_DEFAULT = 25


class OwnPageSizeDefault(Fault):
    """Without per_page the list uses the server's own page size (25), not the spec's default. Breaks
    list_invoices's per_page default (P21)."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        query = dict(parse_qsl(request.query))
        if request.is_list and "per_page" not in query:
            query["per_page"] = str(OWN_PER_PAGE_DEFAULT)
            scope = dict(scope, query_string=urlencode(query).encode())
        return await call(self.app, scope, request)


def has_comments_always(fault: Fault, request: Request, response: Response) -> Response:
    """has_comments is true whenever the invoice has a comments list (`comments is not None`), even an
    empty one. Breaks #/components/schemas/Invoice ("has_comments equals comments being non-empty";
    a new invoice has no comments)."""
    if request.is_create or request.is_get:
        return _rewrite_data(
            response, lambda data: data.update(has_comments=isinstance(data.get("comments"), list))
        )
    return response


def _days_until(text: Any) -> int:
    try:
        instant = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return 0
    if instant.tzinfo is None:
        return 0
    return (instant - datetime.now(instant.tzinfo)).days


def days_not_clamped(fault: Fault, request: Request, response: Response) -> Response:
    """age and overdue_days are the signed day difference, negative before issue_date / due_date (no
    max(0, ...)). Breaks #/components/schemas/Invoice age / overdue_days (0 for a date in the future, P38)."""
    if request.is_create or request.is_get:

        def signed(data: dict[str, Any]) -> None:
            for name, date in (("age", "issue_date"), ("overdue_days", "due_date")):
                ahead = _days_until(data.get(date)) if data.get(date) else 0
                if ahead > 0 and data.get(name) == 0:
                    data[name] = -ahead

        return _rewrite_data(response, signed)
    return response


def errors_as_text_plain(fault: Fault, request: Request, response: Response) -> Response:
    """Error answers are sent as text/plain (the body is still the JSON envelope). Breaks every
    operation's documented application/json error responses."""
    if 400 <= response.status < 500:
        response.headers["content-type"] = "text/plain; charset=utf-8"
    return response


def list_query_error_as_400(fault: Fault, request: Request, response: Response) -> Response:
    """A list with a bad query parameter is 400 instead of 422: a status list_invoices does not
    document (#/components/responses/InvalidQuery is 422)."""
    if request.is_list and response.status == 422:
        return _as_status(response, 400)
    return response


def total_as_string(fault: Fault, request: Request, response: Response) -> Response:
    """`total` is serialized as a decimal string ("12.34"), not a number. Breaks
    #/components/schemas/Invoice total (type: number) and P39."""
    if request.is_create or request.is_get:

        def stringify(data: dict[str, Any]) -> None:
            if isinstance(data.get("total"), int | float):
                data["total"] = f"{data['total']:.2f}"

        return _rewrite_data(response, stringify)
    return response


def page_past_end_refused(fault: Fault, request: Request, response: Response) -> Response:
    """A page past the last one is 422 instead of an empty page. Breaks list_invoices's "a page past
    the end is empty" (P10): a schema-valid page must be accepted."""
    page = dict(parse_qsl(request.query)).get("page", "1")
    data = response.data
    meta = data.get("_meta") if isinstance(data, dict) else None
    past = isinstance(meta, dict) and page.isdigit() and int(page) > max(1, int(meta.get("total_pages") or 0))
    if request.is_list and response.status == 200 and past:
        return envelope_with(422, "page: past the last page.", "page", "maximum")
    return response


def _clamped(name: str, value: str) -> str:
    schema = LIST_PARAMETERS.get(name, {})
    default = str(schema.get("default", 1))
    if not value.lstrip("-").isdigit():
        return default
    low, high = schema.get("minimum", 1), schema.get("maximum", 10**6)
    return str(min(max(int(value), low), high))


class PagingClamped(Fault):
    """page and per_page outside their bounds, or not integers, are clamped to the bounds (or the
    default) instead of refused. Breaks list_invoices's parameter schemas (minimum, maximum, integer:
    422, #/components/responses/InvalidQuery)."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        if request.is_list:
            query = parse_qsl(request.query, keep_blank_values=True)
            fixed = [(k, _clamped(k, v) if k in ("page", "per_page") else v) for k, v in query]
            scope = dict(scope, query_string=urlencode(fixed).encode())
        return await call(self.app, scope, request)


def content_type_ignored(fault: Fault, request: Request) -> Request | Response:
    """The create parses its body as JSON whatever the Content-Type says (text/plain included). Breaks
    create_invoice's "a content type other than application/json is 415" (P03)."""
    if request.is_create and request.headers.get("content-type", "").startswith("text/"):
        request.headers["content-type"] = "application/json"
    return request
