"""Create invoice: the documented examples, defaults, echoes, fields, parties, money and dates."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from mockserver.domain.fixtures import Contact
from tests.mockserver.support import (
    CREATE_DEFAULTS,
    FULL,
    MINIMAL,
    NOW,
    ORG_A,
    ORG_B,
    SPEC,
    SUCCESS_KEYS,
    USER_A,
    WORLD,
    blueprint_money,
    blueprint_of,
    body_for,
    create,
    created,
    iso,
    user_of,
)

INVOICE = SPEC["components"]["schemas"]["Invoice"]
CREATED_EXAMPLE = SPEC["components"]["examples"]["InvoiceCreated"]["value"]


def test_minimal_example_is_created_in_the_success_envelope(client):
    response = create(client, MINIMAL)
    assert response.status_code == 200
    envelope = response.json()
    assert envelope.keys() >= SUCCESS_KEYS
    assert (envelope["status"], envelope["status_code"], envelope["message"]) == ("success", 200, "Success")
    assert set(envelope["data"]) == set(INVOICE["required"])


def test_full_example_is_created_and_echoes_every_field(client):
    data = created(client, FULL)
    for key, value in FULL.items():
        if key not in ("owner_uid", "invoice_fields"):
            assert data[key] == value, key
    assert data["parties"]["service_provider"]["uid"] == FULL["owner_uid"]


def test_full_example_answers_the_documented_response_example(make_client):
    """The spec's `InvoiceCreated` example is what the mock answers (uids aside) on its issue date."""
    client = make_client(clock=datetime.fromisoformat(FULL["issue_date"].replace("Z", "+00:00")))
    data = created(client, FULL)
    expected = _without_uids(CREATED_EXAMPLE["data"])
    assert _without_uids(data) == expected


def _without_uids(invoice: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in invoice.items() if k not in ("uid", "invoice_link")}
    result["line_items"] = [
        {k: v for k, v in line.items() if k not in ("uid", "invoice_uid")} for line in invoice["line_items"]
    ]
    return result


@pytest.mark.parametrize("field", sorted(CREATE_DEFAULTS))
def test_omitted_field_takes_the_default_from_the_spec(client, field):
    assert created(client, body_for())[field] == CREATE_DEFAULTS[field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "SENT"),
        ("currency", "EUR"),
        ("invoice_type", "ACCOUNTS_PAYABLE"),
        ("invoice_number", "  my own number "),
        ("issue_date", "2026-03-30T10:20:30.123456+02:00"),
        ("issue_date", "2026-03-30t10:20:30z"),
        ("due_date", "2026-04-29T23:59:59.5-05:30"),
        ("issue_date", None),
        ("due_date", None),
        ("invoice_blueprint_uid", None),
    ],
)
def test_supplied_field_is_echoed_exactly(client, field, value):
    assert created(client, body_for(**{field: value}))[field] == value


def test_invoice_fields_map_comes_back_as_a_list_in_request_order(client):
    fields = {
        "payment_terms": {"type": "string", "value": "NET_30"},
        "cost": {"type": "number", "value": 12.5},
        "nothing": {"type": "json", "value": None},
        "nested": {"type": "object", "value": {"a": [1, "two", {"three": True}]}},
    }
    data = created(client, body_for(invoice_fields=fields))
    assert data["invoice_fields"] == [_field(key, field) for key, field in fields.items()]


def _field(key: str, field: Any) -> dict[str, Any]:
    kind = field["type"]
    return {"key": key, "value": {"type": kind, "original_type": kind, "value": field["value"]}}


@pytest.mark.parametrize("org", [ORG_A, ORG_B])
def test_blueprint_fields_come_first_and_a_request_field_replaces_one_in_its_place(client, org):
    blueprint = blueprint_of(org)
    replaced = next(iter(blueprint.invoice_fields))
    requested = {
        "purchase_order": {"type": "string", "value": "PO-1"},
        replaced: {"type": "text", "value": "X"},
        "cost_centre": {"type": "number", "value": 7},
    }
    body = body_for(org, invoice_blueprint_uid=blueprint.uid, invoice_fields=requested)
    own = blueprint.invoice_fields
    expected = [_field(key, requested.get(key, field)) for key, field in own.items()]
    expected += [_field(key, field) for key, field in requested.items() if key not in own]
    assert created(client, body, user_of(org))["invoice_fields"] == expected


def _party_view(entity: Any, role: str) -> dict[str, Any]:
    contact: Contact = entity.billing_contact
    return {
        "uid": entity.uid,
        "name": entity.name,
        "address": entity.address,
        "billing_contact": {
            "uid": contact.uid,
            "party_uid": entity.uid,
            "name": contact.name,
            "title": contact.title,
            "email": contact.email,
            "phone": contact.phone,
        },
        "role": role,
    }


@pytest.mark.parametrize("invoice_type", ["ACCOUNTS_RECEIVABLE", "ACCOUNTS_PAYABLE"])
def test_parties_follow_the_invoice_type(client, invoice_type):
    body = body_for(invoice_type=invoice_type)
    owner, target = WORLD.organizations[ORG_A], WORLD.parties[body["target_party_uid"]]
    client_side, provider = (target, owner) if invoice_type == "ACCOUNTS_RECEIVABLE" else (owner, target)
    assert created(client, body)["parties"] == {
        "client": _party_view(client_side, "client"),
        "service_provider": _party_view(provider, "service_provider"),
    }


def _assert_money_identities(data: dict[str, Any]) -> None:
    assert data["total_cents"] == data["subtotal_cents"] - data["discount_cents"] + data["tax_cents"]
    assert data["amount_due_cents"] == data["total_cents"] - data["pre_payment_credit_notes_cents"]
    assert data["amount_remaining_cents"] == data["amount_due_cents"] - data["amount_paid_cents"]
    assert Decimal(str(data["total"])) == Decimal(data["total_cents"]) / 100


@pytest.mark.parametrize("blueprint", list(WORLD.blueprints.values()), ids=lambda b: b.name)
def test_blueprint_prices_the_invoice_from_its_lines(client, blueprint):
    org = blueprint.organization_uid
    data = created(client, body_for(org, invoice_blueprint_uid=blueprint.uid), user_of(org))
    money = blueprint_money(blueprint)
    assert {key: data[key] for key in money} == money
    assert data["total_cents"] == money["subtotal_cents"] - money["discount_cents"] + money["tax_cents"] > 0
    assert (data["pre_payment_credit_notes_cents"], data["amount_paid_cents"]) == (0, 0)
    _assert_money_identities(data)


def test_a_blueprint_with_a_fractional_quantity_is_priced_to_the_cent(client):
    blueprint = next(b for b in WORLD.blueprints.values() if any(line.quantity % 1 for line in b.line_items))
    org = blueprint.organization_uid
    data = created(client, body_for(org, invoice_blueprint_uid=blueprint.uid), user_of(org))
    fractional = next(line for line in data["line_items"] if Decimal(str(line["quantity"])) % 1)
    assert Decimal(str(fractional["line_total"])) == (
        Decimal(str(fractional["quantity"])) * Decimal(str(fractional["unit_price"]))
    ).quantize(Decimal("0.01"))
    assert data["subtotal_cents"] == blueprint_money(blueprint)["subtotal_cents"]


def test_blueprint_line_items_belong_to_the_invoice_in_its_currency(client):
    blueprint = blueprint_of(ORG_A)
    data = created(client, body_for(invoice_blueprint_uid=blueprint.uid, currency="EUR"))
    lines = data["line_items"]
    assert len(lines) == len(blueprint.line_items)
    assert len({line["uid"] for line in lines} | {data["uid"]}) == len(lines) + 1
    for line, source in zip(lines, blueprint.line_items, strict=True):
        assert uuid.UUID(line["uid"])
        assert (line["invoice_uid"], line["currency"]) == (data["uid"], "EUR")
        assert (line["context_type_uid"], line["context_type"], line["context_name"]) == (
            source.context_type_uid,
            source.context_type,
            source.context_name,
        )
        assert Decimal(str(line["quantity"])) == source.quantity
        assert Decimal(str(line["unit_price"])) == source.unit_price
        assert Decimal(str(line["line_total"])) == (source.quantity * source.unit_price).quantize(
            Decimal("0.01")
        )
    assert data["invoice_notes"] == blueprint.invoice_notes


def test_without_blueprint_money_is_zero_and_there_are_no_line_items(client):
    data = created(client, body_for())
    assert data["line_items"] == []
    assert data["invoice_blueprint_uid"] is None
    assert data["invoice_notes"] == {"invoice_memo": None, "invoice_footer": None}
    money = [key for key in INVOICE["properties"] if key.endswith("_cents") or key == "total"]
    assert {key: data[key] for key in money} == dict.fromkeys(money, 0)


def test_new_invoice_has_its_link_and_nothing_attached(client):
    data = created(client, body_for())
    assert data["invoice_link"] == f"{WORLD.app_url}/invoices/{data['uid']}"
    assert uuid.UUID(data["uid"])
    assert (data["has_comments"], data["comments"], data["integrations"], data["paid_date"]) == (
        False,
        [],
        [],
        None,
    )
    assert data["collection_method"] == INVOICE["properties"]["collection_method"]["example"]


@pytest.mark.parametrize(
    ("issue", "age"),
    [
        (NOW - timedelta(days=10), 10),
        (NOW - timedelta(days=10, hours=23), 10),
        ((NOW - timedelta(days=10)).astimezone(timezone(timedelta(hours=-7))), 10),
        (NOW, 0),
        (NOW + timedelta(days=5), 0),
        (None, 0),
    ],
)
def test_age_is_whole_days_since_the_issue_date(client, issue, age):
    assert created(client, body_for(issue_date=issue and iso(issue)))["age"] == age


@pytest.mark.parametrize(
    ("due", "with_blueprint", "overdue"),
    [
        (NOW - timedelta(days=3), True, 3),
        (NOW - timedelta(days=3, hours=5), True, 3),
        (NOW - timedelta(days=3), False, 0),  # nothing remains to pay
        (NOW + timedelta(days=3), True, 0),
        (None, True, 0),
    ],
)
def test_overdue_days_count_while_money_remains(client, due, with_blueprint, overdue):
    blueprint = blueprint_of(ORG_A).uid if with_blueprint else None
    data = created(client, body_for(due_date=due and iso(due), invoice_blueprint_uid=blueprint))
    assert data["overdue_days"] == overdue


def test_created_invoice_reads_back_identical(client):
    data = created(client, FULL)
    response = client.get(f"/api/invoices/{data['uid']}", headers={"Authorization": f"Bearer {USER_A.token}"})
    assert response.status_code == 200
    assert response.json() == {"status": "success", "status_code": 200, "message": "Success", "data": data}
