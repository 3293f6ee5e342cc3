"""The wrappers of the lifecycle (issue 13): update, bulk update, bulk delete, line items, scopes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Receive, Scope, Send

from tests.conformance.faults.base import (
    Fault,
    Request,
    Response,
    _also,
    _read,
    _rewrite_data,
    call,
    envelope,
    envelope_with,
    respond,
)
from tests.conformance.faults.create_read import (
    RACE_WINDOW,
)

# -- the lifecycle (issue 13): update, bulk update, bulk delete, line items, scopes -------------------


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
