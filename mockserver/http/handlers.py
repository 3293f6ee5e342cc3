"""Operation handlers: each `operationId` of openapi.yaml names the function here that serves it.

A handler receives a `Call` (the request Connexion has routed, authenticated and validated, plus
the mock's state) and returns the success envelope; refusals are raised as `Refusal`s by the
rules. No HTTP objects and no global state: each app (a test's, a session's) passes its own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from mockserver.domain import line_items, rules, updates
from mockserver.domain.errors import success_envelope
from mockserver.domain.fixtures import User
from mockserver.http import views
from mockserver.http.call import Call

# The reference's success messages (openapi.yaml Bulk update invoices, Create line items; sic).
BULK_UPDATED = "Successfully updated {count} invoice(s)"
LINE_ITEMS_CHANGED = "Line item updated successfully"


def _user(call: Call) -> User:
    assert call.user is not None, "the contract's operations all require bearer auth"
    return call.user


async def create_invoice(call: Call) -> dict[str, Any]:
    state = call.state
    now = state.clock.now()
    invoice = rules.create_invoice(
        state.world, state.store, _user(call), call.body, state.defaults.create, now, state.defaults.facts
    )
    return success_envelope(views.invoice_view(state.world, invoice, now, state.defaults.facts))


async def get_invoice(call: Call) -> dict[str, Any]:
    state = call.state
    invoice = rules.find_invoice(state.store, _user(call), call.path_params["invoice_uid"])
    return success_envelope(views.invoice_view(state.world, invoice, state.clock.now(), state.defaults.facts))


async def list_invoices(call: Call) -> dict[str, Any]:
    """One page, with `_links` that repeat `per_page` and `invoice_type` (openapi.yaml, List invoices)."""
    state = call.state
    defaults = state.defaults.list
    # The query was validated against the spec already: what is present converts cleanly.
    query = call.query()
    page = int(query.get("page", defaults["page"]))
    per_page = int(query.get("per_page", defaults["per_page"]))
    invoice_type = query.get("invoice_type", defaults["invoice_type"])
    items, total_items = rules.list_page(state.store, _user(call), invoice_type, page, per_page)
    pages = rules.total_pages(total_items, per_page)
    now = state.clock.now()

    def link(number: int) -> str:
        return "/api/invoices?" + urlencode(
            {"page": number, "per_page": per_page, "invoice_type": invoice_type}
        )

    return success_envelope(
        {
            "items": [
                views.summary_view(state.world, invoice, now, state.defaults.facts) for invoice in items
            ],
            "_meta": {"page": page, "per_page": per_page, "total_pages": pages, "total_items": total_items},
            "_links": {
                "self": link(page),
                "next": link(page + 1) if page < pages else None,
                "prev": link(min(page - 1, pages)) if page > 1 and pages > 0 else None,
            },
        }
    )


async def update_invoice(call: Call) -> dict[str, Any]:
    state = call.state
    invoice = updates.update_invoice(
        state.world, state.store, _user(call), call.path_params["invoice_uid"], call.body
    )
    return success_envelope(views.invoice_view(state.world, invoice, state.clock.now(), state.defaults.facts))


async def bulk_update_invoices(call: Call) -> dict[str, Any]:
    """P65: the invoices in request order, and the reference's count message."""
    state = call.state
    invoices = updates.bulk_update(state.world, state.store, _user(call), call.body)
    now = state.clock.now()
    return success_envelope(
        [views.invoice_view(state.world, invoice, now, state.defaults.facts) for invoice in invoices],
        BULK_UPDATED.format(count=len(invoices)),
    )


async def bulk_delete_invoices(call: Call) -> dict[str, Any]:
    updates.bulk_delete(call.state.store, _user(call), call.body)
    return success_envelope({})


def _lines_answer(body: Any, invoice: rules.Invoice, lines: list[rules.Line]) -> dict[str, Any]:
    """P71: one object answers one `LineItem`, an array the `LineItem`s in request order."""
    shown = [views.line_view(invoice, line) for line in lines]
    return success_envelope(shown if isinstance(body, list) else shown[0], LINE_ITEMS_CHANGED)


async def create_line_items(call: Call) -> dict[str, Any]:
    state = call.state
    invoice, lines = line_items.create_lines(
        state.world,
        state.store,
        _user(call),
        call.path_params["invoice_uid"],
        call.body,
        state.defaults.facts,
    )
    return _lines_answer(call.body, invoice, lines)


async def update_line_items(call: Call) -> dict[str, Any]:
    state = call.state
    invoice, lines = line_items.update_lines(
        state.world,
        state.store,
        _user(call),
        call.path_params["invoice_uid"],
        call.body,
        state.defaults.facts,
    )
    return _lines_answer(call.body, invoice, lines)


async def delete_line_items(call: Call) -> dict[str, Any]:
    state = call.state
    line_items.delete_lines(
        state.world,
        state.store,
        _user(call),
        call.path_params["invoice_uid"],
        call.body,
        state.defaults.facts,
    )
    return success_envelope({})
