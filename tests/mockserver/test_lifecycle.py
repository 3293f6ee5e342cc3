"""The lifecycle rows of the precision table (P54 to P76), one test each, in-process.

Every answer is checked against the spec (the `client` fixture validates responses). Values come
from the fixtures and the spec through `tests/mockserver/support.py`; what a rule computes
(cents, rounding) is computed here independently.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from contract.spec import operation
from tests.mockserver.support import (
    LIMITED,
    NOW,
    ORG_A,
    ORG_B,
    PARTY_A,
    PARTY_B,
    PARTY_BOTH,
    PARTY_NOBODY,
    READ_ONLY,
    SPEC,
    UNKNOWN_UID,
    USER_A,
    USER_B,
    WORLD,
    assert_error,
    auth,
    blueprint_of,
    body_for,
    bulk_delete,
    bulk_update,
    created,
    document_of,
    got,
    half_up_cents,
    line_body,
    lines,
    lines_ok,
    money_identities_hold,
    product_of,
    read,
    update,
    updated,
)

PRODUCT_A = product_of(ORG_A, "PRODUCT")
OTHER_PRODUCT_A = product_of(ORG_A, "PRODUCT", 1)
DISCOUNT_A = product_of(ORG_A, "DISCOUNT")
PRODUCT_B = product_of(ORG_B, "PRODUCT")
FOREIGN_B = next(
    p for p in WORLD.products.values() if p.organization_uid == ORG_B and (ORG_A, p.sku) not in WORLD.products
)
OTHER_DOCUMENT_A = next(
    d for d in WORLD.documents.values() if d.organization_uid == ORG_A and d.uid != document_of(ORG_A).uid
)
BLUEPRINT_A, BLUEPRINT_B = blueprint_of(ORG_A), blueprint_of(ORG_B)
IMMUTABLE_FIELDS = sorted(
    set(SPEC["components"]["schemas"]["Invoice"]["properties"])
    - set(SPEC["components"]["schemas"]["InvoiceUpdateRequest"]["properties"])
)


def new(client: Any, **fields: Any) -> dict[str, Any]:
    return created(client, body_for(ORG_A, **fields))


def priced(client: Any) -> dict[str, Any]:
    return new(client, invoice_blueprint_uid=BLUEPRINT_A.uid)


def comparable(invoice: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in invoice.items() if k not in ("age", "overdue_days")}


def test_p54_partial_update_null_clears_and_empty_changes_nothing(client):
    invoice = new(client, issue_date="2026-03-30T00:00:00Z", due_date="2026-04-29T00:00:00Z")
    after = updated(client, invoice["uid"], {"status": "SENT"})
    assert after["status"] == "SENT"
    assert comparable({**after, "status": invoice["status"]}) == comparable(invoice)
    cleared = updated(client, invoice["uid"], {"issue_date": None, "due_date": None})
    assert (cleared["issue_date"], cleared["due_date"]) == (None, None)
    assert updated(client, invoice["uid"], {}) == cleared
    assert read(client, invoice["uid"]) == cleared


@pytest.mark.parametrize("name", IMMUTABLE_FIELDS)
def test_p55_fields_outside_the_update_schema_are_422_named(client, name):
    invoice = new(client)
    assert_error(update(client, invoice["uid"], {name: invoice[name]}), 422, f"/{name}", "is not a field")
    assert read(client, invoice["uid"]) == invoice


def test_p55_owner_and_invoice_type_cannot_change(client):
    invoice = new(client)
    for field, value in (("owner_uid", ORG_B), ("invoice_type", "ACCOUNTS_PAYABLE")):
        assert_error(update(client, invoice["uid"], {field: value}), 422, f"/{field}")


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_p56_blank_or_null_number_is_422(client, blank):
    invoice = new(client)
    assert_error(update(client, invoice["uid"], {"invoice_number": blank}), 422, "/invoice_number")
    assert_error(update(client, invoice["uid"], {"invoice_number": None}), 422, "/invoice_number")


def test_p56_own_number_is_no_conflict_another_is_409(client):
    first, second = new(client), new(client)
    same = updated(client, first["uid"], {"invoice_number": first["invoice_number"]})
    assert same["invoice_number"] == first["invoice_number"]
    refused = update(client, second["uid"], {"invoice_number": first["invoice_number"]})
    assert_error(refused, 409, "/invoice_number")
    case_differs = first["invoice_number"].lower()
    assert updated(client, second["uid"], {"invoice_number": case_differs})["invoice_number"] == case_differs


def test_p56_another_organizations_number_is_free(client):
    theirs = created(client, body_for(ORG_B), USER_B)
    mine = new(client)
    assert (
        updated(client, mine["uid"], {"invoice_number": theirs["invoice_number"]})["invoice_number"]
        == (theirs["invoice_number"])
    )


def test_p57_status_and_paid_date_imply_nothing(client):
    invoice = priced(client)
    paid = updated(client, invoice["uid"], {"status": "PAID", "paid_date": "2026-04-20T00:00:00Z"})
    assert (paid["status"], paid["paid_date"]) == ("PAID", "2026-04-20T00:00:00Z")
    money = [k for k in invoice if k.endswith("_cents")] + ["total"]
    assert {k: paid[k] for k in money} == {k: invoice[k] for k in money}
    assert updated(client, invoice["uid"], {"status": "any string at all"})["paid_date"] == paid["paid_date"]
    assert updated(client, invoice["uid"], {"paid_date": None})["status"] == "any string at all"


def test_p57_overdue_days_follow_the_due_date(client):
    invoice = priced(client)
    due = NOW - timedelta(days=3)
    assert updated(client, invoice["uid"], {"due_date": due.isoformat()})["overdue_days"] == 3


def test_p58_blueprint_changes_the_reference_only(client):
    bare = new(client)
    changed = updated(client, bare["uid"], {"invoice_blueprint_uid": BLUEPRINT_A.uid})
    assert changed["invoice_blueprint_uid"] == BLUEPRINT_A.uid
    for kept in ("line_items", "invoice_fields", "invoice_notes", "total_cents"):
        assert changed[kept] == bare[kept], kept
    invoice = priced(client)
    dropped = updated(client, invoice["uid"], {"invoice_blueprint_uid": None})
    assert dropped["invoice_blueprint_uid"] is None
    for kept in ("line_items", "invoice_fields", "invoice_notes", "total_cents"):
        assert dropped[kept] == invoice[kept], kept
    refused = update(client, invoice["uid"], {"invoice_blueprint_uid": BLUEPRINT_B.uid})
    assert_error(refused, 422, "/invoice_blueprint_uid")


def test_p59_invoice_fields_merge_by_key(client):
    invoice = new(
        client, invoice_fields={"a": {"type": "string", "value": 1}, "b": {"type": "string", "value": 2}}
    )
    merged = updated(
        client,
        invoice["uid"],
        {"invoice_fields": {"a": {"type": "number", "value": 9}, "c": {"type": "x", "value": 3}}},
    )
    assert [(f["key"], f["value"]["value"]) for f in merged["invoice_fields"]] == [
        ("a", 9),
        ("b", 2),
        ("c", 3),
    ]
    assert merged["invoice_fields"][0]["value"]["original_type"] == "number"
    assert (
        updated(client, invoice["uid"], {"invoice_fields": {}})["invoice_fields"] == merged["invoice_fields"]
    )


def test_p60_currency_follows_to_every_line_without_conversion(client):
    invoice = priced(client)
    lines_ok(client, "POST", invoice["uid"], line_body(PRODUCT_A))
    changed = updated(client, invoice["uid"], {"currency": "EUR"})
    assert {line["currency"] for line in changed["line_items"]} == {"EUR"}
    assert changed["total_cents"] == read(client, invoice["uid"])["total_cents"]
    before = [(line["unit_price"], line["line_total"]) for line in changed["line_items"]]
    assert before == [
        (line["unit_price"], line["line_total"]) for line in read(client, invoice["uid"])["line_items"]
    ]
    assert_error(
        lines(client, "POST", invoice["uid"], line_body(PRODUCT_A, currency="USD")), 422, "/currency"
    )


def test_p61_update_error_order(client):
    first, second = new(client), new(client)
    uid = second["uid"]
    everything = {
        "target_party_uid": PARTY_NOBODY.uid,
        "document_uid": UNKNOWN_UID,
        "invoice_number": first["invoice_number"],
    }
    no_auth = client.put(f"/api/invoices/{uid}", json={**everything, "currency": "US"})
    assert_error(no_auth, 401)
    assert_error(update(client, uid, {**everything, "currency": "US"}, READ_ONLY), 403)
    assert_error(update(client, uid, {**everything, "currency": "US"}), 422, "/currency")
    assert_error(update(client, UNKNOWN_UID, everything), 404, "invoice_uid")
    assert_error(update(client, uid, everything), 403, "/target_party_uid")
    assert_error(update(client, uid, {**everything, "target_party_uid": PARTY_A.uid}), 422, "/document_uid")
    number_only = {"target_party_uid": PARTY_A.uid, "invoice_number": first["invoice_number"]}
    assert_error(update(client, uid, number_only), 409, "/invoice_number")
    assert read(client, uid) == second


def test_p62_bulk_is_all_or_nothing_and_names_the_index(client):
    first, second = new(client), new(client)
    refused = bulk_update(
        client, [{"uid": first["uid"], "status": "SENT"}, {"uid": second["uid"], "currency": "US"}]
    )
    assert_error(refused, 422, "/1/currency")
    conflict = bulk_update(
        client,
        [
            {"uid": first["uid"], "status": "SENT"},
            {"uid": second["uid"], "invoice_number": first["invoice_number"]},
        ],
    )
    assert_error(conflict, 409, "/1/invoice_number")
    party = bulk_update(
        client,
        [{"uid": first["uid"], "status": "SENT"}, {"uid": second["uid"], "target_party_uid": PARTY_B.uid}],
    )
    assert_error(party, 403, "/1/target_party_uid")
    assert (read(client, first["uid"]), read(client, second["uid"])) == (first, second)


def test_p62_bulk_items_apply_in_order_a_freed_number_may_be_taken(client):
    first, second = new(client), new(client)
    swapped = bulk_update(
        client,
        [
            {"uid": first["uid"], "invoice_number": "FREED-0"},
            {"uid": second["uid"], "invoice_number": first["invoice_number"]},
        ],
    )
    assert swapped.status_code == 200, swapped.text
    assert read(client, second["uid"])["invoice_number"] == first["invoice_number"]
    taken = read(client, second["uid"])["invoice_number"]
    reversed_order = bulk_update(
        client,
        [
            {"uid": first["uid"], "invoice_number": taken},
            {"uid": second["uid"], "invoice_number": "X"},
        ],
    )
    assert_error(reversed_order, 409, "/0/invoice_number")


def test_p62_line_item_batch_is_all_or_nothing(client):
    invoice = priced(client)
    refused = lines(client, "POST", invoice["uid"], [line_body(PRODUCT_A), line_body(FOREIGN_B)])
    assert_error(refused, 422, "/1/sku")
    assert read(client, invoice["uid"]) == invoice


@pytest.mark.parametrize("count", [0, 101])
def test_p63_sizes_are_1_to_100(client, count):
    invoice = new(client)
    assert_error(bulk_update(client, [{"uid": invoice["uid"]}] * count), 422)
    assert_error(bulk_delete(client, [invoice["uid"]] * count), 422)
    assert_error(lines(client, "POST", invoice["uid"], [line_body(PRODUCT_A)] * count), 422)
    assert_error(lines(client, "DELETE", invoice["uid"], [invoice["uid"]] * count), 422)
    assert read(client, invoice["uid"]) == invoice


def test_p63_the_same_uid_twice_is_422(client):
    invoice = priced(client)
    line = invoice["line_items"][0]["uid"]
    assert_error(bulk_update(client, [{"uid": invoice["uid"]}, {"uid": invoice["uid"]}]), 422, "/1/uid")
    assert_error(bulk_delete(client, [invoice["uid"], invoice["uid"]]), 422, "/1")
    assert_error(
        lines(client, "PUT", invoice["uid"], [{"uid": line}, {"uid": line, "quantity": 2}]), 422, "/1/uid"
    )
    assert_error(lines(client, "DELETE", invoice["uid"], [line, line]), 422, "/1")
    assert read(client, invoice["uid"]) == invoice


def test_p64_unknown_deleted_or_invisible_uids_are_404_for_the_whole_request(client):
    mine, theirs, gone = new(client), created(client, body_for(ORG_B), USER_B), new(client)
    assert bulk_delete(client, [gone["uid"]]).status_code == 200
    for stranger in (UNKNOWN_UID, theirs["uid"], gone["uid"]):
        assert_error(
            bulk_update(client, [{"uid": mine["uid"], "status": "X"}, {"uid": stranger}]), 404, "/1/uid"
        )
        assert_error(bulk_delete(client, [mine["uid"], stranger]), 404, "/1")
    assert read(client, mine["uid"]) == mine
    assert read(client, theirs["uid"], USER_B) == theirs


def test_p65_bulk_answer_in_request_order_with_the_count_message(client):
    invoices = [new(client) for _ in range(3)]
    items = [{"uid": inv["uid"], "status": f"S{n}"} for n, inv in enumerate(reversed(invoices))]
    response = bulk_update(client, items)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Successfully updated 3 invoice(s)"
    data = response.json()["data"]
    assert [inv["uid"] for inv in data] == [item["uid"] for item in items]
    assert [inv["status"] for inv in data] == ["S0", "S1", "S2"]
    assert data == [read(client, item["uid"]) for item in items]


def test_p66_a_deleted_invoice_is_gone_everywhere(client):
    kept, gone = new(client), priced(client)
    response = bulk_delete(client, [gone["uid"]])
    assert response.status_code == 200, response.text
    assert (response.json()["data"], response.json()["message"]) == ({}, "Success")
    assert_error(got(client, gone["uid"]), 404, "invoice_uid")
    assert_error(update(client, gone["uid"], {}), 404, "invoice_uid")
    for method, body in (
        ("POST", line_body(PRODUCT_A)),
        ("PUT", {"uid": gone["line_items"][0]["uid"]}),
        ("DELETE", [gone["line_items"][0]["uid"]]),
    ):
        assert_error(lines(client, method, gone["uid"], body), 404, "invoice_uid")
    listing = client.get("/api/invoices", headers=auth(USER_A)).json()["data"]
    assert [item["uid"] for item in listing["items"]] == [kept["uid"]]
    assert listing["_meta"]["total_items"] == 1
    dump = client.get("/__mock/invoices").json()["data"]
    assert [inv["uid"] for inv in dump] == [kept["uid"]]
    assert_error(bulk_delete(client, [gone["uid"]]), 404, "/0")


def test_p67_a_deleted_invoices_number_is_free_again(client):
    gone, other = new(client, invoice_number="REUSED-1"), new(client)
    assert bulk_delete(client, [gone["uid"]]).status_code == 200
    assert updated(client, other["uid"], {"invoice_number": "REUSED-1"})["invoice_number"] == "REUSED-1"
    assert bulk_delete(client, [other["uid"]]).status_code == 200
    assert new(client, invoice_number="REUSED-1")["invoice_number"] == "REUSED-1"


def test_p68_products_by_owner_and_sku_with_default_price_and_override(client):
    invoice = new(client)
    default = lines_ok(client, "POST", invoice["uid"], line_body(PRODUCT_A, 2))
    assert (default["context_name"], default["context_type_uid"]) == (
        PRODUCT_A.name,
        PRODUCT_A.context_type_uid,
    )
    assert default["unit_price"] == PRODUCT_A.unit_price_cents / 100
    override = lines_ok(client, "POST", invoice["uid"], line_body(PRODUCT_A, 1, unit_price=12345))
    assert override["unit_price"] == 123.45
    unknown_sku = f"{PRODUCT_B.sku}-none"
    assert_error(lines(client, "POST", invoice["uid"], line_body(PRODUCT_A, sku=unknown_sku)), 422, "/sku")
    other_org = next(
        p
        for p in WORLD.products.values()
        if p.organization_uid == ORG_B and (ORG_A, p.sku) not in WORLD.products
    )
    assert_error(lines(client, "POST", invoice["uid"], line_body(other_org)), 422, "/sku")
    wrong_kind = line_body(PRODUCT_A, context_type=DISCOUNT_A.context_type)
    assert_error(lines(client, "POST", invoice["uid"], wrong_kind), 422, "/context_type")
    assert_error(
        lines(client, "POST", invoice["uid"], line_body(PRODUCT_A, currency="EUR")), 422, "/currency"
    )


@pytest.mark.parametrize(
    ("quantity", "unit_price"), [(2, 12500), (0.5, 1), (1.5, 3), (2.5, 333), (0.125, 4), (3, 0)]
)
def test_p69_units_major_line_total_half_up(client, quantity, unit_price):
    invoice = new(client)
    line = lines_ok(client, "POST", invoice["uid"], line_body(PRODUCT_A, quantity, unit_price=unit_price))
    total_cents = half_up_cents(quantity, unit_price)
    assert (line["quantity"], line["unit_price"], line["line_total"]) == (
        quantity,
        unit_price / 100,
        total_cents / 100,
    )
    assert read(client, invoice["uid"])["subtotal_cents"] == total_cents


def test_p70_money_recomputed_after_every_change(client):
    invoice = priced(client)
    uid = invoice["uid"]
    product = lines_ok(client, "POST", uid, line_body(PRODUCT_A, 2))
    discount = lines_ok(client, "POST", uid, line_body(DISCOUNT_A, 1))
    after = read(client, uid)
    assert after["subtotal_cents"] == invoice["subtotal_cents"] + 2 * PRODUCT_A.unit_price_cents
    assert after["discount_cents"] == invoice["discount_cents"] + DISCOUNT_A.unit_price_cents
    assert money_identities_hold(after)
    lines_ok(client, "PUT", uid, {"uid": product["uid"], "quantity": 1})
    assert read(client, uid)["subtotal_cents"] == invoice["subtotal_cents"] + PRODUCT_A.unit_price_cents
    assert lines_ok(client, "DELETE", uid, [discount["uid"]]) == {}
    final = read(client, uid)
    assert final["discount_cents"] == invoice["discount_cents"]
    assert money_identities_hold(final)
    assert (final["amount_paid_cents"], final["pre_payment_credit_notes_cents"]) == (0, 0)


def test_p70_a_change_making_the_total_negative_is_422_and_changes_nothing(client):
    invoice = new(client)
    product = lines_ok(client, "POST", invoice["uid"], line_body(PRODUCT_A, 1, unit_price=100))
    discount = lines_ok(client, "POST", invoice["uid"], line_body(DISCOUNT_A, 1, unit_price=100))
    before = read(client, invoice["uid"])
    assert before["total_cents"] == 0
    assert_error(
        lines(client, "POST", invoice["uid"], line_body(DISCOUNT_A, 1, unit_price=1)), 422, "/quantity"
    )
    assert_error(lines(client, "PUT", invoice["uid"], {"uid": discount["uid"], "unit_price": 101}), 422)
    assert_error(lines(client, "PUT", invoice["uid"], {"uid": product["uid"], "quantity": 0.5}), 422)
    assert_error(lines(client, "DELETE", invoice["uid"], [product["uid"]]), 422, "/0")
    assert read(client, invoice["uid"]) == before
    together = [{"uid": product["uid"], "quantity": 2}, {"uid": discount["uid"], "quantity": 2}]
    assert len(lines_ok(client, "PUT", invoice["uid"], together)) == 2


def test_p71_answers_follow_the_request_shape(client):
    invoice = new(client)
    response = lines(client, "POST", invoice["uid"], line_body(PRODUCT_A))
    assert response.json()["message"] == "Line item updated successfully"
    one = response.json()["data"]
    assert one["invoice_uid"] == invoice["uid"] and isinstance(one, dict)
    batch = lines_ok(client, "POST", invoice["uid"], [line_body(DISCOUNT_A), line_body(OTHER_PRODUCT_A, 3)])
    assert [line["context_name"] for line in batch] == [DISCOUNT_A.name, OTHER_PRODUCT_A.name]
    listed_lines = read(client, invoice["uid"])["line_items"]
    assert sorted(line["uid"] for line in listed_lines) == sorted(
        [one["uid"], *(line["uid"] for line in batch)]
    )
    changed = lines(client, "PUT", invoice["uid"], {"uid": one["uid"], "quantity": 4})
    assert changed.json()["message"] == "Line item updated successfully"
    assert changed.json()["data"]["quantity"] == 4
    deleted = lines(client, "DELETE", invoice["uid"], [one["uid"]])
    assert (deleted.json()["message"], deleted.json()["data"]) == ("Success", {})


def test_p72_line_update_is_partial_a_new_sku_brings_its_product(client):
    invoice = priced(client)
    line = lines_ok(client, "POST", invoice["uid"], line_body(PRODUCT_A, 2, unit_price=999))
    same = lines_ok(client, "PUT", invoice["uid"], {"uid": line["uid"]})
    assert same == line
    swapped = lines_ok(client, "PUT", invoice["uid"], {"uid": line["uid"], "sku": OTHER_PRODUCT_A.sku})
    assert (swapped["context_name"], swapped["unit_price"], swapped["quantity"]) == (
        OTHER_PRODUCT_A.name,
        OTHER_PRODUCT_A.unit_price_cents / 100,
        2,
    )
    priced_too = lines_ok(
        client, "PUT", invoice["uid"], {"uid": line["uid"], "sku": PRODUCT_A.sku, "unit_price": 7}
    )
    assert (priced_too["context_name"], priced_too["unit_price"]) == (PRODUCT_A.name, 0.07)
    blueprint_line = invoice["line_items"][0]
    assert (
        lines_ok(client, "PUT", invoice["uid"], {"uid": blueprint_line["uid"], "quantity": 1})["quantity"]
        == 1
    )
    foreign = new(client)
    foreign_line = lines_ok(client, "POST", foreign["uid"], line_body(PRODUCT_A))
    assert_error(lines(client, "PUT", invoice["uid"], [{"uid": foreign_line["uid"]}]), 422, "/0/uid")
    assert_error(lines(client, "DELETE", invoice["uid"], [foreign_line["uid"]]), 422, "/0")
    assert_error(lines(client, "PUT", invoice["uid"], {"uid": UNKNOWN_UID}), 422, "/uid")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", -1),
        ("quantity", 1_000_001),
        ("unit_price", -1),
        ("unit_price", 10**9 + 1),
        ("unit_price", 1.5),
    ],
)
def test_p73_limits(client, field, value):
    invoice = new(client)
    assert_error(
        lines(client, "POST", invoice["uid"], line_body(PRODUCT_A, **{field: value})), 422, f"/{field}"
    )


def test_p73_amounts_stay_exact_at_the_limits(client):
    invoice = new(client)
    top = line_body(PRODUCT_A, 1_000_000, unit_price=10**9)
    line = lines_ok(client, "POST", invoice["uid"], [top] * 100)[0]
    assert line["line_total"] == 10**13
    assert read(client, invoice["uid"])["subtotal_cents"] == 100 * 10**15


def test_p74_scopes_before_the_body_or_the_invoice(client):
    invoice = new(client)
    for method, path in (
        ("POST", "/api/invoices"),
        ("PUT", f"/api/invoices/{UNKNOWN_UID}"),
        ("PUT", "/api/invoices"),
        ("DELETE", "/api/invoices"),
        ("POST", f"/api/invoices/{UNKNOWN_UID}/line_items"),
        ("PUT", f"/api/invoices/{invoice['uid']}/line_items"),
        ("DELETE", f"/api/invoices/{invoice['uid']}/line_items"),
    ):
        response = client.request(
            method, path, content=b"{not json", headers={**auth(READ_ONLY), "Content-Type": "text/plain"}
        )
        envelope = assert_error(response, 403)
        assert envelope["message"] == "Key lacks permission for the resource.", (method, path)
        assert [e["field"] for e in envelope["errors"]] == ["Authorization"]
    assert read(client, invoice["uid"], READ_ONLY) == read(client, invoice["uid"])
    assert client.get("/api/invoices", headers=auth(READ_ONLY)).status_code == 200


def test_p74_scopes_are_read_from_the_spec():
    needed = {op: set(operation(SPEC, op)["x-scopes"]) for op in ("get_invoice", "update_invoice")}
    assert READ_ONLY.may(frozenset(needed["get_invoice"])) and not READ_ONLY.may(
        frozenset(needed["update_invoice"])
    )


def test_p75_concurrent_updates_to_one_number_one_wins(make_client):
    client = make_client(validate_responses=False)
    first, second = new(client), new(client)
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda uid: update(client, uid, {"invoice_number": "RACE-1"}), [first["uid"], second["uid"]]
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 409]


def test_p76_changes_do_not_move_an_invoice_in_the_list(client):
    invoices = [new(client) for _ in range(3)]
    order = [
        item["uid"] for item in client.get("/api/invoices", headers=auth(USER_A)).json()["data"]["items"]
    ]
    assert order == [inv["uid"] for inv in reversed(invoices)]
    updated(client, invoices[0]["uid"], {"status": "SENT"})
    lines_ok(client, "POST", invoices[1]["uid"], line_body(PRODUCT_A))
    assert (
        bulk_update(
            client, [{"uid": invoices[2]["uid"], "status": "X"}, {"uid": invoices[0]["uid"]}]
        ).status_code
        == 200
    )
    after = [
        item["uid"] for item in client.get("/api/invoices", headers=auth(USER_A)).json()["data"]["items"]
    ]
    assert after == order


def test_rate_limit_429_with_retry_after_freed_by_the_clock_or_a_reset(client):
    """P22: the fixtures' limited key; the window is the session's clock (control.yaml)."""
    limit = LIMITED.rate_limit
    assert limit is not None
    for _ in range(limit.requests):
        assert client.get("/api/invoices", headers=auth(LIMITED)).status_code == 200
    refused = client.get("/api/invoices", headers=auth(LIMITED))
    assert [e["field"] for e in assert_error(refused, 429)["errors"]] == ["Authorization"]
    assert int(refused.headers["retry-after"]) == limit.window_seconds
    later = NOW + timedelta(seconds=limit.window_seconds - 1)
    assert client.put("/__mock/clock", json={"now": later.isoformat()}).status_code == 200
    assert int(client.get("/api/invoices", headers=auth(LIMITED)).headers["retry-after"]) == 1
    past = NOW + timedelta(seconds=limit.window_seconds)
    assert client.put("/__mock/clock", json={"now": past.isoformat()}).status_code == 200
    assert client.get("/api/invoices", headers=auth(LIMITED)).status_code == 200
    for _ in range(limit.requests):
        client.get("/api/invoices", headers=auth(LIMITED))
    assert client.get("/api/invoices", headers=auth(LIMITED)).status_code == 429
    assert client.post("/__mock/reset").status_code == 200
    assert client.get("/api/invoices", headers=auth(LIMITED)).status_code == 200
    other_session = {**auth(LIMITED), "X-Mock-Session": "elsewhere"}
    assert client.get("/api/invoices", headers=other_session).status_code == 200
    assert client.get("/api/invoices", headers=auth(USER_A)).status_code == 200


def test_party_change_moves_the_parties(client):
    invoice = new(client)
    changed = updated(
        client, invoice["uid"], {"target_party_uid": PARTY_BOTH.uid, "document_uid": OTHER_DOCUMENT_A.uid}
    )
    assert changed["parties"]["client"]["uid"] == PARTY_BOTH.uid
    assert changed["document_uid"] == OTHER_DOCUMENT_A.uid
    summary = client.get("/api/invoices", headers=auth(USER_A)).json()["data"]["items"][0]
    assert summary["parent_contract"]["uid"] == OTHER_DOCUMENT_A.uid


@pytest.mark.parametrize(
    ("method", "path", "wrong"),
    [
        ("PUT", "/api/invoices/{uid}", []),
        ("PUT", "/api/invoices", {}),
        ("DELETE", "/api/invoices", {}),
        ("POST", "/api/invoices/{uid}/line_items", 3),
        ("PUT", "/api/invoices/{uid}/line_items", "x"),
        ("DELETE", "/api/invoices/{uid}/line_items", {}),
        ("PUT", "/api/invoices", None),  # JSON null
    ],
)
def test_a_body_of_the_wrong_json_type_is_400_naming_the_type(client, method, path, wrong):
    invoice = new(client)
    headers = {**auth(USER_A), "Content-Type": "application/json"}
    content = json.dumps(wrong).encode()
    response = client.request(method, path.format(uid=invoice["uid"]), content=content, headers=headers)
    envelope = assert_error(response, 400)
    assert "must be" in envelope["message"], envelope
    assert read(client, invoice["uid"]) == invoice


# --- issue 19: the ten questions, each answered in a row ---------------------------------------------


@pytest.mark.parametrize("shape", ["bulk", "line batch"])
def test_p63_an_empty_or_oversized_batch_names_the_whole_body(client, shape):
    """P63: `[]` and 101 items are `422` with `field` `""` (the body's pointer), not an item's index."""
    invoice = new(client)
    for count in (0, 101):
        if shape == "bulk":
            answers = [
                bulk_update(client, [{"uid": invoice["uid"]}] * count),
                bulk_delete(client, [invoice["uid"]] * count),
            ]
        else:
            answers = [lines(client, "POST", invoice["uid"], [line_body(PRODUCT_A)] * count)]
        for answer in answers:
            assert_error(answer, 422, "")
    assert read(client, invoice["uid"]) == invoice


def test_p63_uids_differing_in_letter_case_are_one_of_the_allowed_answers(client):
    """P63 (open, after P12): the same uid in upper case is a duplicate (`422`) or unknown (`404`);
    this server matches uids exactly, so it is unknown, and nothing changes either way."""
    invoice = new(client)
    twice = [{"uid": invoice["uid"], "status": "X"}, {"uid": invoice["uid"].upper()}]
    assert_error(bulk_update(client, twice), 404, "/1/uid")
    assert_error(bulk_delete(client, [invoice["uid"], invoice["uid"].upper()]), 404, "/1")
    assert read(client, invoice["uid"]) == invoice


def test_p68_line_currency_is_compared_exactly(client):
    """P68: a line's `currency` must be the invoice's letter for letter: `usd` on `USD` is `422`."""
    invoice = new(client)
    lowered = invoice["currency"].lower()
    assert lowered != invoice["currency"]
    assert_error(
        lines(client, "POST", invoice["uid"], line_body(PRODUCT_A, currency=lowered)), 422, "/currency"
    )
    lines_ok(client, "POST", invoice["uid"], line_body(PRODUCT_A, currency=invoice["currency"]))


def test_p70_a_batch_is_judged_on_its_final_state(client):
    """P70: a discount before the product that covers it is accepted (a per-item check would refuse
    it); a batch ending negative is refused whatever came before."""
    invoice = new(client)
    discount = line_body(DISCOUNT_A, unit_price=100)
    product = line_body(PRODUCT_A, unit_price=500)
    lines_ok(client, "POST", invoice["uid"], [discount, product])
    assert read(client, invoice["uid"])["total_cents"] == 400
    other = new(client)
    too_much = line_body(DISCOUNT_A, unit_price=600)
    assert_error(lines(client, "POST", other["uid"], [product, too_much]), 422)
    assert read(client, other["uid"]) == other


def test_p72_context_type_without_sku_is_checked_against_the_lines_product(client):
    """P72: `context_type` alone must be the stored line's product's; the same one is accepted."""
    invoice = new(client)
    [line] = lines_ok(client, "POST", invoice["uid"], [line_body(PRODUCT_A)])
    before = read(client, invoice["uid"])
    wrong = [{"uid": line["uid"], "context_type": DISCOUNT_A.context_type}]
    assert_error(lines(client, "PUT", invoice["uid"], wrong), 422, "/0/context_type")
    assert read(client, invoice["uid"]) == before
    same = [{"uid": line["uid"], "context_type": PRODUCT_A.context_type}]
    assert lines_ok(client, "PUT", invoice["uid"], same)[0]["context_type"] == PRODUCT_A.context_type


def test_p77_a_schema_break_wins_over_an_unknown_uid_in_either_order(client):
    """P77: `422` naming the broken item, before any uid is looked up; `404` would be the other reading."""
    invoice = new(client)
    broken, unknown = {"uid": invoice["uid"], "currency": "US"}, {"uid": UNKNOWN_UID}
    assert_error(bulk_update(client, [unknown, broken]), 422, "/1/currency")
    assert_error(bulk_update(client, [broken, unknown]), 422, "/0/currency")
    assert_error(bulk_delete(client, [UNKNOWN_UID, "not-a-uuid"]), 422, "/1")
    assert read(client, invoice["uid"]) == invoice


def test_p22_a_request_answered_429_changes_nothing(client):
    """P22: the limited key's create past its limit is `429` and makes no invoice."""
    limit = LIMITED.rate_limit
    assert limit is not None
    org = sorted(LIMITED.organizations)[0]
    for _ in range(limit.requests):
        client.get("/api/invoices", headers=auth(LIMITED))
    refused = client.post("/api/invoices", json=body_for(org), headers=auth(LIMITED))
    assert_error(refused, 429)
    later = NOW + timedelta(seconds=limit.window_seconds)
    assert client.put("/__mock/clock", json={"now": later.isoformat()}).status_code == 200
    listed = client.get("/api/invoices", headers=auth(LIMITED)).json()["data"]
    assert listed["_meta"]["total_items"] == 0
