"""The wrappers of the lifecycle (issue 13): update, bulk update, bulk delete, line items, scopes."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.types import Scope

from contract.spec import component_schema, default_spec_path, load_spec, request_body_schema
from tests.conformance.faults.base import (
    Fault,
    Request,
    Response,
    _also,
    _rewrite_data,
    call,
    envelope,
    envelope_with,
)
from tests.conformance.faults.create_read import (
    RACE_WINDOW,
)
from tests.world import FACTS

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

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        response = await call(self.app, scope, request)
        sent = request.json
        if request.is_update and response.status in (403, 409) and isinstance(sent, dict):
            rest = {k: v for k, v in sent.items() if k not in ("invoice_number", "target_party_uid")}
            if rest:
                await _also(self.app, scope, request, "PUT", request.path, rest)
        return response


class BulkAppliesGoodItems(Fault):
    """A refused bulk update still applies each item the single update accepts."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        response = await call(self.app, scope, request)
        sent = request.json
        if request.is_bulk_update and 400 <= response.status < 500 and isinstance(sent, list):
            for item in sent:
                if isinstance(item, dict) and isinstance(item.get("uid"), str):
                    change = {k: v for k, v in item.items() if k != "uid"}
                    await _also(self.app, scope, request, "PUT", f"/api/invoices/{item['uid']}", change)
        return response


class BulkAnswerReversed(Fault):
    """A bulk update answers its invoices in reverse request order."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        response = await call(self.app, scope, request)
        body = response.json
        ordered = request.is_bulk_update and response.status == 200 and isinstance(body, dict)
        if ordered and isinstance(body.get("data"), list):
            body["data"] = body["data"][::-1]
            response.set_json(body)
        return response


class SoftDelete(Fault):
    """A bulk delete only marks the invoices (nothing is forwarded): `hide_from_get` decides whether a
    get still finds them; the list always still shows and counts them."""

    hide_from_get: bool = False

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
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
                return Response(200, {"content-type": "application/json"}, json.dumps(body).encode())
            if deleted & set(sent):
                return envelope(404, "no such invoice.")
        if request.invoice_uid in deleted and (self.hide_from_get or not request.is_get):
            return envelope(404, f"invoice_uid: no invoice {request.invoice_uid}.")
        return await call(self.app, scope, request)


class DeleteListed(SoftDelete):
    hide_from_get = True


class DeletedNumberTaken(Fault):
    """A deleted invoice's number stays taken: a create or an update that takes it is 409."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
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
            return response
        number = sent.get("invoice_number") if isinstance(sent, dict) else None
        if (request.is_create or request.is_update) and number in taken:
            return envelope_with(409, "invoice_number: already used.", "/invoice_number", "duplicate")
        return await call(self.app, scope, request)


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

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        stale: dict[str, dict[str, Any]] = self.memory.setdefault("stale", {})
        uid = request.invoice_uid
        if request.is_lines and uid not in stale:
            got = await _also(self.app, scope, request, "GET", f"/api/invoices/{uid}", None)
            if got.status == 200 and isinstance(got.data, dict):
                stale[uid] = {name: got.data.get(name) for name in MONEY_FIELDS}
        response = await call(self.app, scope, request)
        if request.is_get and uid in stale:
            response = _rewrite_data(response, lambda data: data.update(stale[uid]))
        return response


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

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        sent = request.json
        number = sent.get("invoice_number") if request.is_update and isinstance(sent, dict) else None
        if not isinstance(number, str):
            return await call(self.app, scope, request)
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
        return response


class BulkNotAtomic(Fault):
    """A bulk update runs its items one by one with a pause between them, unlocked: concurrent bulk
    updates interleave (each answer is still the right one for its own items)."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
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
            return Response(200, {"content-type": "application/json"}, json.dumps(body).encode())
        return await call(self.app, scope, request)


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


# -- one wrapper per lifecycle property that had none ----------------------------------------------


def _invoices_in(data: Any) -> list[dict[str, Any]]:
    """The invoices of a success answer's data: one (get, update), a list (bulk), a page's items."""
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    if isinstance(data, dict):
        items = data.get("items")
        return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else [data]
    return []


def _change_invoices(response: Response, change: Callable[[dict[str, Any]], None]) -> Response:
    """Apply `change` to every invoice of a 200 answer (get, update, bulk update, list)."""
    body = response.json
    if response.status == 200 and isinstance(body, dict):
        for invoice in _invoices_in(body.get("data")):
            change(invoice)
        response.set_json(body)
    return response


def _line_uids(request: Request) -> list[str]:
    sent = request.json
    return [uid for uid in sent if isinstance(uid, str)] if isinstance(sent, list) else []


class ReadCacheNotInvalidated(Fault):
    """Gets are answered from a cache (per key and uid) that create and get fill; an update or a bulk
    update does not invalidate it, so a get after an update answers the invoice as it was before
    (line-item changes and deletes do invalidate). Breaks P54: a later get returns the update's answer."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        cache: dict[tuple[str, str], Response] = self.memory.setdefault("cache", {})
        key = request.headers.get("authorization", "")
        if request.is_get and not request.is_lines and (key, request.invoice_uid) in cache:
            return cache[key, request.invoice_uid]
        response = await call(self.app, scope, request)
        gone = (
            _line_uids(request)
            if request.is_bulk_delete
            else [request.invoice_uid]
            if request.is_lines
            else []
        )
        for stale in [k for k in cache if k[1] in gone]:
            del cache[stale]
        if (
            (request.is_create or request.is_get)
            and response.status == 200
            and isinstance(response.data, dict)
        ):
            cached = Response(response.status, dict(response.headers), response.body)
            cache[key, str(response.data.get("uid"))] = cached
        return response


def _without_nulls(item: Any) -> Any:
    return {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item


def update_null_ignored(fault: Fault, request: Request) -> Request | Response:
    """An update reads `null` as "not sent" (`if value is not None: invoice[name] = value`), so a
    nullable field cannot be cleared. Breaks P54: `null` clears a nullable field."""
    sent = request.json
    if request.is_update and isinstance(sent, dict):
        request.body = json.dumps(_without_nulls(sent)).encode()
    if request.is_bulk_update and isinstance(sent, list):
        request.body = json.dumps([_without_nulls(item) for item in sent]).encode()
    return request


def fields_replaced(fault: Fault, request: Request, response: Response) -> Response:
    """An update's invoice_fields replace the invoice's fields: the keys it did not send are dropped
    (from then on, in every answer). Breaks P59: merged by key, keys not sent are kept."""
    kept: dict[str, list[Any]] = fault.memory.setdefault("kept", {})
    sent = request.json
    items = [dict(sent, uid=request.invoice_uid)] if request.is_update and isinstance(sent, dict) else []
    items += (
        [i for i in sent if isinstance(i, dict)] if request.is_bulk_update and isinstance(sent, list) else []
    )
    if response.status == 200:
        for item in items:
            if isinstance(item.get("invoice_fields"), dict):
                kept[str(item.get("uid"))] = list(item["invoice_fields"])

    def drop(invoice: dict[str, Any]) -> None:
        keys = kept.get(str(invoice.get("uid")))
        if keys is not None and isinstance(invoice.get("invoice_fields"), list):
            fields = invoice["invoice_fields"]
            invoice["invoice_fields"] = [e for e in fields if isinstance(e, dict) and e.get("key") in keys]

    return _change_invoices(response, drop)


def lines_keep_their_currency(fault: Fault, request: Request, response: Response) -> Response:
    """A line item's currency is stored once, when the line is made: an update's new currency is the
    invoice's only. Breaks P60: every line item's currency becomes the invoice's new currency."""
    made: dict[str, Any] = fault.memory.setdefault("made", {})

    def pin(line: Any) -> None:
        if isinstance(line, dict) and isinstance(line.get("uid"), str):
            line["currency"] = made.setdefault(line["uid"], line.get("currency"))

    body = response.json
    if response.status == 200 and isinstance(body, dict):
        data = body.get("data")
        if request.is_lines:
            for line in data if isinstance(data, list) else [data]:
                pin(line)
        else:
            for invoice in _invoices_in(data):
                for line in invoice.get("line_items") or []:
                    pin(line)
        response.set_json(body)
    return response


BULK_MAX_ITEMS = int(request_body_schema(load_spec(default_spec_path()), "bulk_update_invoices")["maxItems"])


def bulk_truncated(fault: Fault, request: Request) -> Request | Response:
    """A bulk update longer than the maximum is cut to its first maxItems items (`items[:100]`)
    instead of refused. Breaks P63: more than 100 items is 422."""
    sent = request.json
    if request.is_bulk_update and isinstance(sent, list) and len(sent) > BULK_MAX_ITEMS:
        request.body = json.dumps(sent[:BULK_MAX_ITEMS]).encode()
    return request


class BulkUpdateChecksExistenceOnly(Fault):
    """A bulk update checks that each uid exists, not that the caller may see it: each invoice is
    updated with the rights of the key that created it. Breaks P64: an invoice of an organization
    the token's user is not in is 404 for the whole request."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        creators: dict[str, str] = self.memory.setdefault("creators", {})
        sent, caller = request.json, request.headers.get("authorization", "")
        items = sent if request.is_bulk_update and isinstance(sent, list) else []
        owners = [
            creators.get(str(item.get("uid")), caller) if isinstance(item, dict) else caller for item in items
        ]
        if any(owner != caller for owner in owners):
            return await self._by_owner(scope, request, items, owners)
        response = await call(self.app, scope, request)
        if request.is_create and response.status == 200 and isinstance(response.data, dict):
            creators[str(response.data.get("uid"))] = caller
        return response

    async def _by_owner(
        self, scope: Scope, request: Request, items: list[Any], owners: list[str]
    ) -> Response:
        """The batch split by creating key, each part sent with its key; answers put back in order."""
        assert self.app is not None
        updated: dict[str, Any] = {}
        last: Response | None = None
        for owner in dict.fromkeys(owners):
            part = [item for item, o in zip(items, owners, strict=True) if o == owner]
            headers = dict(request.headers, authorization=owner)
            last = await call(
                self.app, scope, Request("PUT", request.path, "", headers, json.dumps(part).encode())
            )
            if last.status != 200 or not isinstance(last.data, list):
                return last
            updated.update({str(x.get("uid")): x for x in last.data if isinstance(x, dict)})
        assert last is not None
        body = dict(last.json, data=[updated.get(str(item.get("uid"))) for item in items])
        body["message"] = re.sub(r"\d+", str(len(items)), str(body.get("message")), count=1)
        return Response(200, last.headers, json.dumps(body).encode())


class BulkDeleteOneByOne(Fault):
    """A bulk delete deletes one uid at a time and stops at the first it cannot delete, answering that
    error: the uids before it stay deleted. Breaks P62-P64: all or nothing."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        uids = _line_uids(request) if request.is_bulk_delete else []
        if not uids:
            return await call(self.app, scope, request)
        for uid in uids:
            response = await _also(self.app, scope, request, "DELETE", request.path, [uid])
            if response.status != 200:
                break
        return response


class LineBatchPartlyApplied(Fault):
    """A refused line-item batch (create or update) still applies, one by one, the items the server
    accepts on their own. Breaks P62: a line-item batch is all or nothing (P72, P68)."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        response = await call(self.app, scope, request)
        sent = request.json
        batch = request.is_lines and request.method in ("POST", "PUT") and isinstance(sent, list)
        if batch and response.status == 422:
            for item in sent:
                await _also(self.app, scope, request, request.method, request.path, item)
        return response


def _cents(quantity: Any, unit_cents: int) -> int:
    return int((Decimal(str(quantity)) * unit_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class DiscountCapped(Fault):
    """A discount line bigger than what is left of the total is capped (its unit_price lowered to fit)
    instead of refused. Breaks P70: a change that would make total_cents negative is 422."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        response = await call(self.app, scope, request)
        sent = request.json
        lines = sent if isinstance(sent, list) else [sent]
        discount = FACTS.context_type_bucket
        capped = (
            request.is_lines
            and request.method == "POST"
            and response.status == 422
            and all(
                isinstance(line, dict)
                and discount(str(line.get("context_type"))) == "discount_cents"
                and isinstance(line.get("unit_price"), int)
                and isinstance(line.get("quantity"), int | float)
                and line["quantity"] > 0
                for line in lines
            )
        )
        if capped:
            got = await _also(self.app, scope, request, "GET", f"/api/invoices/{request.invoice_uid}", None)
            left = got.data.get("total_cents") if got.status == 200 and isinstance(got.data, dict) else None
            if isinstance(left, int):
                fitted = []
                for line in lines:
                    price = min(line["unit_price"], int(Decimal(left) // Decimal(str(line["quantity"]))))
                    left -= _cents(line["quantity"], price)
                    fitted.append({**line, "unit_price": price})
                body = fitted if isinstance(sent, list) else fitted[0]
                response = await _also(self.app, scope, request, "POST", request.path, body)
        return response


def _paid_date_marks_paid(item: Any) -> Any:
    if isinstance(item, dict) and item.get("paid_date") is not None and "status" not in item:
        return {**item, "status": "PAID"}
    return item


def paid_date_marks_paid(fault: Fault, request: Request) -> Request | Response:
    """An update with a paid_date and no status also sets the status to PAID. Breaks P57: status and
    paid_date are stored as sent and imply nothing else."""
    sent = request.json
    if request.is_update and isinstance(sent, dict):
        request.body = json.dumps(_paid_date_marks_paid(sent)).encode()
    if request.is_bulk_update and isinstance(sent, list):
        request.body = json.dumps([_paid_date_marks_paid(item) for item in sent]).encode()
    return request


class OwnNumberConflicts(Fault):
    """The update's uniqueness check does not leave the invoice itself out: sending its own number is
    409. Breaks P56: the invoice's own number is no conflict."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        sent = request.json
        number = sent.get("invoice_number") if request.is_update and isinstance(sent, dict) else None
        if isinstance(number, str):
            got = await _also(self.app, scope, request, "GET", request.path, None)
            if got.status == 200 and isinstance(got.data, dict) and got.data.get("invoice_number") == number:
                return envelope_with(409, "invoice_number: already used.", "/invoice_number", "duplicate")
        return await call(self.app, scope, request)


class LineDeleteMoneyStale(Fault):
    """A line-item delete removes the lines but does not recompute the invoice's money: reads show the
    amounts from before the delete until the next line-item create or update. Breaks P70: the money
    is recomputed at once after every line-item change."""

    async def exchange(self, scope: Scope, request: Request) -> Response:
        assert self.app is not None
        stale: dict[str, dict[str, Any]] = self.memory.setdefault("stale", {})
        uid = request.invoice_uid
        before = None
        if request.is_lines and request.method == "DELETE":
            before = await _also(self.app, scope, request, "GET", f"/api/invoices/{uid}", None)
        response = await call(self.app, scope, request)
        if request.is_lines and response.status == 200:
            stale.pop(uid, None)
            if before is not None and before.status == 200 and isinstance(before.data, dict):
                stale[uid] = {name: before.data.get(name) for name in MONEY_FIELDS}
        if request.is_get and not request.is_lines and uid in stale:
            response = _rewrite_data(response, lambda data: data.update(stale[uid]))
        return response


# -- line-item limits (P73) and batch sizes (P63) -------------------------------------------------

CENTS_FIELDS = tuple(name for name in MONEY_FIELDS if name.endswith("_cents"))
QUANTITY_MAXIMUM = component_schema(load_spec(default_spec_path()), "LineItemQuantity")["maximum"]
UNIT_PRICE_MAXIMUM = component_schema(load_spec(default_spec_path()), "LineItemUnitPrice")["maximum"]
LINE_BATCH_MAX_ITEMS = int(
    request_body_schema(load_spec(default_spec_path()), "delete_line_items")["maxItems"]
)


def cents_through_double(fault: Fault, request: Request, response: Response) -> Response:
    """The invoice's cents are summed as doubles (a JavaScript-style number): past 2**53 cents an odd
    cent is lost, 10**16 + 1 becomes 10**16. Breaks P73: amounts stay exact integers of cents."""
    if not request.is_get or request.is_lines or response.status != 200:
        return response
    return _rewrite_data(
        response,
        lambda data: data.update(
            {name: int(float(data[name])) for name in CENTS_FIELDS if isinstance(data.get(name), int)}
        ),
    )


def _lines_of(request: Request) -> list[tuple[int | None, dict[str, Any]]]:
    """(index in the array, or None for a single object; item) of a line-item create or update."""
    sent = request.json
    if not request.is_lines or request.method not in ("POST", "PUT"):
        return []
    if isinstance(sent, dict):
        return [(None, sent)]
    if isinstance(sent, list):
        return [(i, item) for i, item in enumerate(sent) if isinstance(item, dict)]
    return []


def quantity_maximum_exclusive(fault: Fault, request: Request) -> Request | Response:
    """The quantity's maximum is checked as exclusive (`quantity < 1000000`): the largest quantity is
    422. Breaks P73: quantity 0-1000000, both bounds accepted."""
    for index, item in _lines_of(request):
        quantity = item.get("quantity")
        if isinstance(quantity, int | float) and quantity >= QUANTITY_MAXIMUM:
            where = "/quantity" if index is None else f"/{index}/quantity"
            message = f"quantity: must be less than {QUANTITY_MAXIMUM}."
            return envelope_with(422, message, where, "maximum")
    return request


def unit_price_clamped(fault: Fault, request: Request) -> Request | Response:
    """A unit_price above the maximum is lowered to it and accepted instead of refused. Breaks P73:
    unit_price 0-1000000000 cents, beyond is 422."""
    items = _lines_of(request)
    if any(isinstance(i.get("unit_price"), int) and i["unit_price"] > UNIT_PRICE_MAXIMUM for _, i in items):
        clamped = [
            {**i, "unit_price": min(i["unit_price"], UNIT_PRICE_MAXIMUM)} if "unit_price" in i else i
            for _, i in items
        ]
        request.body = json.dumps(clamped[0] if items[0][0] is None else clamped).encode()
    return request


def line_batch_truncated(fault: Fault, request: Request) -> Request | Response:
    """A line-item create, update or delete longer than the maximum is cut to its first maxItems
    items instead of refused. Breaks P63: more than 100 items is 422, and nothing changes."""
    sent = request.json
    if request.is_lines and isinstance(sent, list) and len(sent) > LINE_BATCH_MAX_ITEMS:
        request.body = json.dumps(sent[:LINE_BATCH_MAX_ITEMS]).encode()
    return request
