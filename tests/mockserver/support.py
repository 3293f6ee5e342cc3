"""What the mock's tests share: the contract and the fixture world, each read from its one file.

Every uid, token and default a test uses is derived here from `contract/fixtures/default.yaml`
and `openapi.yaml`, by the role it plays (the example's owner, a party only that owner may bill,
the user of both organizations…), so no test restates a value either file holds.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx

from contract.spec import (
    component_schema,
    inline_refs,
    operation,
    property_defaults,
    request_body_schema,
)
from contract.world import Product
from mockserver.domain.fixtures import Blueprint, Party, User
from tests.world import (  # noqa: F401  (re-exported: the mock's tests import them from here)
    FULL,
    MINIMAL,
    NOW,
    ORG_A,
    ORG_B,
    SPEC,
    SPEC_PATH,
    WORLD,
    blueprint_of,
    create_app,
    document_of,
    party_billable_by,
    user_of,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

CREATE_SCHEMA = request_body_schema(SPEC, "create_invoice")
CREATE_DEFAULTS = property_defaults(CREATE_SCHEMA)
INVOICE_TYPES = component_schema(SPEC, "InvoiceType")["enum"]
LIST_PARAMETERS = {
    p["name"]: p["schema"] for p in inline_refs(SPEC, operation(SPEC, "list_invoices")["parameters"])
}
ERROR_KEYS = set(component_schema(SPEC, "ErrorEnvelope")["required"])
SUCCESS_KEYS = set(component_schema(SPEC, "SuccessEnvelope")["required"])


USER_A, USER_B, USER_BOTH = user_of(ORG_A), user_of(ORG_B), user_of(ORG_A, ORG_B)
PARTY_A, PARTY_B = party_billable_by(ORG_A), party_billable_by(ORG_B)
PARTY_BOTH, PARTY_NOBODY = party_billable_by(ORG_A, ORG_B), party_billable_by()
UNKNOWN_UID = "99999999-9999-4999-8999-999999999999"
assert UNKNOWN_UID not in {*WORLD.organizations, *WORLD.parties, *WORLD.documents, *WORLD.blueprints}


def auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def body_for(org: str = ORG_A, party: Party | None = None, **fields: Any) -> dict[str, Any]:
    """A minimal valid create body for `org`: a party only it may bill and one of its documents."""
    party = party or party_billable_by(org)
    return {"owner_uid": org, "target_party_uid": party.uid, "document_uid": document_of(org).uid, **fields}


def create(client: Any, body: Any, user: User = USER_A) -> httpx.Response:
    return client.post("/api/invoices", json=body, headers=auth(user))


def created(client: Any, body: Any, user: User = USER_A) -> dict[str, Any]:
    """Create an invoice that must be accepted; its `data`."""
    response = create(client, body, user)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def iso(instant: datetime) -> str:
    """RFC 3339, in the instant's own offset (`Z` for UTC)."""
    return instant.isoformat().replace("+00:00", "Z")


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def blueprint_money(blueprint: Blueprint | None) -> dict[str, int]:
    """Subtotal, discount and tax in cents, computed from the blueprint's lines in the fixtures file."""
    sums = {"subtotal_cents": Decimal(0), "discount_cents": Decimal(0), "tax_cents": Decimal(0)}
    for line in blueprint.line_items if blueprint else ():
        key = {"DISCOUNT": "discount_cents", "TAX": "tax_cents"}.get(line.context_type, "subtotal_cents")
        sums[key] += (line.quantity * line.unit_price).quantize(Decimal("0.01"))
    return {key: cents(value) for key, value in sums.items()}


def assert_error(
    response: httpx.Response, status: int, field: str | None = None, rule: str | None = None
) -> dict[str, Any]:
    """The contract's error envelope with `status`; `field` among its errors, named by the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0].strip() == "application/json"
    envelope = response.json()
    assert envelope.keys() >= ERROR_KEYS, envelope
    assert envelope["status"] == "error"
    assert envelope["status_code"] == status
    assert isinstance(envelope["errors"], list)
    assert envelope["message"].strip()
    if field is not None:
        errors = [e for e in envelope["errors"] if e["field"] == field]
        assert errors, envelope
        label = field.lstrip("/").replace("/", ".")
        assert label in envelope["message"], envelope
        if rule is not None:
            assert rule in errors[0]["message"], envelope
            if len(envelope["errors"]) == 1:
                assert rule in envelope["message"], envelope
    return envelope


# --- the lifecycle operations (update, bulk, line items) ---------------------------------------

READ_ONLY = next(u for u in WORLD.users.values() if u.scopes is not None and "invoices:write" not in u.scopes)
LIMITED = next(u for u in WORLD.users.values() if u.rate_limit is not None)


def product_of(org: str, context_type: str, nth: int = 0) -> Product:
    """The `nth` product of `org` of that kind, in file order (P68)."""
    found = [
        p for p in WORLD.products.values() if p.organization_uid == org and p.context_type == context_type
    ]
    return found[nth]


def line_body(product: Product, quantity: float = 1, **fields: Any) -> dict[str, Any]:
    return {"context_type": product.context_type, "sku": product.sku, "quantity": quantity, **fields}


def update(client: Any, uid: str, body: Any, user: User = USER_A) -> httpx.Response:
    return client.put(f"/api/invoices/{uid}", json=body, headers=auth(user))


def updated(client: Any, uid: str, body: Any, user: User = USER_A) -> dict[str, Any]:
    response = update(client, uid, body, user)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def bulk_update(client: Any, items: Any, user: User = USER_A) -> httpx.Response:
    return client.put("/api/invoices", json=items, headers=auth(user))


def bulk_delete(client: Any, uids: Any, user: User = USER_A) -> httpx.Response:
    return client.request("DELETE", "/api/invoices", json=uids, headers=auth(user))


def lines(client: Any, method: str, uid: str, body: Any, user: User = USER_A) -> httpx.Response:
    """POST (create), PUT (update) or DELETE the line items of invoice `uid`."""
    return client.request(method, f"/api/invoices/{uid}/line_items", json=body, headers=auth(user))


def lines_ok(client: Any, method: str, uid: str, body: Any, user: User = USER_A) -> Any:
    response = lines(client, method, uid, body, user)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def got(client: Any, uid: str, user: User = USER_A) -> httpx.Response:
    return client.get(f"/api/invoices/{uid}", headers=auth(user))


def read(client: Any, uid: str, user: User = USER_A) -> dict[str, Any]:
    response = got(client, uid, user)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def half_up_cents(quantity: Decimal | int | float, unit_price_cents: int) -> int:
    """P09/P69, computed here independently: the exact product, rounded half up."""
    exact = Decimal(str(quantity)) * Decimal(unit_price_cents)
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def money_identities_hold(invoice: dict[str, Any]) -> bool:
    """Choice 2 with P70: the sums of the lines and the identities."""
    return (
        invoice["total_cents"] == invoice["subtotal_cents"] - invoice["discount_cents"] + invoice["tax_cents"]
        and invoice["amount_due_cents"] == invoice["total_cents"] - invoice["pre_payment_credit_notes_cents"]
        and invoice["amount_remaining_cents"] == invoice["amount_due_cents"] - invoice["amount_paid_cents"]
        and invoice["total"] == invoice["total_cents"] / 100
    )
