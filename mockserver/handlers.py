"""Operation handlers: Connexion resolves each `operationId` of openapi.yaml to the function here
of the same name. They translate HTTP to the rules and the rules' results to the envelope.

The mock's state (world, store, clock, spec defaults) reaches them through the request scope,
put there by the app factory, so several apps (tests, sessions) never share state.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from connexion.context import context, scope

from mockserver import rules, views
from mockserver.errors import success_envelope
from mockserver.state import MockState


def _state() -> MockState:
    return scope["mockserver"]


def _user() -> Any:
    return context["token_info"]["user"]


async def create_invoice() -> tuple[dict[str, Any], int]:
    state = _state()
    body = scope["extensions"]["mockserver_body"]
    now = state.clock.now()
    invoice = rules.create_invoice(state.world, state.store, _user(), body, state.create_defaults, now)
    return success_envelope(views.invoice_view(state.world, invoice, now)), 200


async def get_invoice(invoice_uid: str) -> tuple[dict[str, Any], int]:
    state = _state()
    invoice = rules.find_invoice(state.store, _user(), invoice_uid)
    return success_envelope(views.invoice_view(state.world, invoice, state.clock.now())), 200


async def list_invoices(
    page: int | None = None, per_page: int | None = None, invoice_type: str | None = None
) -> tuple[dict[str, Any], int]:
    state = _state()
    page = page or state.list_defaults["page"]
    per_page = per_page or state.list_defaults["per_page"]
    invoice_type = invoice_type or state.list_defaults["invoice_type"]
    items, total_items = rules.list_page(state.store, _user(), invoice_type, page, per_page)
    pages = rules.total_pages(total_items, per_page)
    now = state.clock.now()

    def link(number: int) -> str:
        return "/api/invoices?" + urlencode(
            {"page": number, "per_page": per_page, "invoice_type": invoice_type}
        )

    return success_envelope(
        {
            "items": [views.summary_view(state.world, invoice, now) for invoice in items],
            "_meta": {"page": page, "per_page": per_page, "total_pages": pages, "total_items": total_items},
            "_links": {
                "self": link(page),
                "next": link(page + 1) if page < pages else None,
                "prev": link(min(page - 1, pages)) if page > 1 and pages > 0 else None,
            },
        }
    ), 200
