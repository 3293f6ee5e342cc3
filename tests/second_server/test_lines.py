"""Line items on the second server, over HTTP (openapi.yaml P62, P63, P68-P73): the money identities
hold after every change, and a refused change changes nothing."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from contract.world import Product
from tests.second_server.conftest import (
    FACTS,
    ORG,
    OTHER_ORG,
    WORLD,
    create_body,
    key_of,
    product_of,
    without_clock,
)

pytestmark = pytest.mark.e2e

PRODUCT = product_of(ORG, "PRODUCT")
OTHER_PRODUCT = product_of(ORG, "PRODUCT", skip=1)
DISCOUNT = product_of(ORG, "DISCOUNT")
# a product only the other organization has
STRANGER = next(
    p for (org, sku), p in WORLD.products.items() if org == OTHER_ORG and (ORG, sku) not in WORLD.products
)
LINE_MESSAGE = "Line item updated successfully"  # the reference's message (sic), on create and update


def lines(invoice: dict[str, Any]) -> str:
    return f"/api/invoices/{invoice['uid']}/line_items"


def item(product: Product, quantity: Any = 1, **fields: Any) -> dict[str, Any]:
    return {"context_type": product.context_type, "sku": product.sku, "quantity": quantity, **fields}


def cents(quantity: Any, unit_cents: int) -> int:
    return int((Decimal(str(quantity)) * unit_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def assert_money(invoice: dict[str, Any]) -> None:
    """Choice 2 and P70: the buckets are the sums of their lines' totals; the identities hold."""
    buckets = dict.fromkeys(("subtotal_cents", *FACTS.money_context_types), 0)
    for line in invoice["line_items"]:
        buckets[FACTS.context_type_bucket(line["context_type"])] += round(line["line_total"] * 100)
    assert {name: invoice[name] for name in buckets} == buckets
    total = invoice["subtotal_cents"] - invoice["discount_cents"] + invoice["tax_cents"]
    assert invoice["total_cents"] == total and invoice["total"] == total / 100
    assert invoice["amount_due_cents"] == total - invoice["pre_payment_credit_notes_cents"]
    assert invoice["amount_remaining_cents"] == invoice["amount_due_cents"] - invoice["amount_paid_cents"]


def test_one_line_answers_one_line_in_major_units(api):
    invoice = api.create()
    response = api.call("POST", lines(invoice), item(PRODUCT, 2))
    assert response.status_code == 200 and response.json()["message"] == LINE_MESSAGE
    line = response.json()["data"]
    assert line["unit_price"] == PRODUCT.unit_price_cents / 100
    assert line["line_total"] == cents(2, PRODUCT.unit_price_cents) / 100
    assert (line["context_name"], line["context_type_uid"]) == (PRODUCT.name, PRODUCT.context_type_uid)
    assert line["invoice_uid"] == invoice["uid"] and line["currency"] == invoice["currency"]
    after = api.get(invoice["uid"])
    assert after["subtotal_cents"] == cents(2, PRODUCT.unit_price_cents)
    assert_money(after)


def test_a_batch_answers_in_request_order_and_recomputes(api):
    invoice = api.create(priced=True)
    batch = [item(PRODUCT, 3, unit_price=1234), item(DISCOUNT, 0.5)]
    data = api.ok("POST", lines(invoice), batch)
    assert [line["context_name"] for line in data] == [PRODUCT.name, DISCOUNT.name]
    assert data[0]["unit_price"] == 12.34  # the override, in cents (P68)
    after = api.get(invoice["uid"])
    assert after["subtotal_cents"] == invoice["subtotal_cents"] + 3 * 1234
    assert after["discount_cents"] == invoice["discount_cents"] + cents("0.5", DISCOUNT.unit_price_cents)
    assert after["amount_paid_cents"] == invoice["amount_paid_cents"]
    assert_money(after)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"sku": "NO-SUCH-SKU"}, "/1/sku"),
        ({"sku": STRANGER.sku}, "/1/sku"),
        ({"context_type": "DISCOUNT"}, "/1/context_type"),
        ({"currency": "JPY"}, "/1/currency"),
        ({"quantity": 0.00001}, "/1/quantity"),  # P73 open: refused here
        ({"quantity": -1}, "/1/quantity"),
        ({"unit_price": 1.5}, "/1/unit_price"),
        ({"colour": "red"}, "/1/colour"),
    ],
)
def test_a_refused_line_changes_nothing(api, bad, field):
    invoice = api.create(priced=True)
    response = api.call("POST", lines(invoice), [item(PRODUCT), {**item(PRODUCT), **bad}])
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert without_clock(api.get(invoice["uid"])) == without_clock(invoice)


def test_four_decimals_are_exact(api):
    invoice = api.create()
    line = api.ok("POST", lines(invoice), item(PRODUCT, 1.2345))
    assert line["line_total"] == cents("1.2345", PRODUCT.unit_price_cents) / 100


def test_a_negative_total_is_refused(api):
    invoice = api.create()
    response = api.call("POST", lines(invoice), item(DISCOUNT))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "/quantity"
    assert without_clock(api.get(invoice["uid"])) == without_clock(invoice)


def test_large_amounts_stay_exact(api):
    invoice = api.create()
    api.ok("POST", lines(invoice), item(PRODUCT, 1000000, unit_price=1000000000))
    after = api.get(invoice["uid"])
    assert after["subtotal_cents"] == 10**15
    assert_money(after)


def test_update_is_partial_and_a_sku_brings_its_product(api):
    invoice = api.create()
    first, second = api.ok("POST", lines(invoice), [item(PRODUCT, 2), item(PRODUCT, 1, unit_price=100)])
    changed = api.ok(
        "PUT",
        lines(invoice),
        [{"uid": first["uid"], "quantity": 3}, {"uid": second["uid"], "sku": OTHER_PRODUCT.sku}],
    )
    assert changed[0]["quantity"] == 3 and changed[0]["unit_price"] == first["unit_price"]
    assert changed[1]["context_name"] == OTHER_PRODUCT.name
    assert changed[1]["unit_price"] == OTHER_PRODUCT.unit_price_cents / 100 and changed[1]["quantity"] == 1
    one = api.call("PUT", lines(invoice), {"uid": first["uid"], "sku": PRODUCT.sku, "unit_price": 7})
    assert one.status_code == 200 and one.json()["data"]["unit_price"] == 0.07  # a single object answers one
    after = api.get(invoice["uid"])
    assert after["subtotal_cents"] == cents(3, 7) + OTHER_PRODUCT.unit_price_cents
    assert_money(after)


def test_update_refusals(api):
    invoice, other = api.create(), api.create()
    (line,) = api.ok("POST", lines(invoice), [item(PRODUCT)])
    (foreign,) = api.ok("POST", lines(other), [item(PRODUCT)])
    stranger = api.call("PUT", lines(invoice), [{"uid": line["uid"], "quantity": 2}, {"uid": foreign["uid"]}])
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "/1/uid"
    twice = api.call("PUT", lines(invoice), [{"uid": line["uid"]}, {"uid": line["uid"], "quantity": 2}])
    assert twice.status_code == 422 and twice.json()["errors"][0]["field"] == "/1/uid"
    kind = api.call("PUT", lines(invoice), {"uid": line["uid"], "context_type": "DISCOUNT"})
    assert kind.status_code == 422 and kind.json()["errors"][0]["field"] == "/context_type"
    assert without_clock(api.get(invoice["uid"]))["line_items"] == [line]


def test_delete_recomputes_and_is_all_or_nothing(api):
    invoice = api.create(priced=True)
    _product, discount = api.ok("POST", lines(invoice), [item(PRODUCT), item(DISCOUNT)])
    with_both = api.get(invoice["uid"])
    refused = api.call("DELETE", lines(invoice), [discount["uid"], invoice["uid"]])
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "/1"
    assert api.call("DELETE", lines(invoice), [discount["uid"], discount["uid"]]).status_code == 422
    assert api.call("DELETE", lines(invoice), []).status_code == 422
    assert without_clock(api.get(invoice["uid"])) == without_clock(with_both)
    response = api.call("DELETE", lines(invoice), [discount["uid"]])
    assert response.status_code == 200 and response.json()["data"] == {}
    after = api.get(invoice["uid"])
    assert discount["uid"] not in [line["uid"] for line in after["line_items"]]
    assert after["discount_cents"] == invoice["discount_cents"]
    assert_money(after)


def test_deleting_a_product_line_under_a_discount_is_refused(api):
    invoice = api.create()
    product, _discount = api.ok("POST", lines(invoice), [item(PRODUCT), item(DISCOUNT)])
    response = api.call("DELETE", lines(invoice), [product["uid"]])
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "/0"


def test_the_line_item_operations_need_a_visible_invoice(api):
    other = api.ok("POST", "/api/invoices", create_body(OTHER_ORG), token=key_of(OTHER_ORG).token)
    for method, body in (("POST", item(PRODUCT)), ("PUT", {"uid": other["uid"]}), ("DELETE", [other["uid"]])):
        assert api.call(method, lines(other), body).status_code == 404


def test_a_body_of_the_wrong_kind(api):
    invoice = api.create()
    assert api.call("POST", lines(invoice), 3).status_code == 400
    assert api.call("DELETE", lines(invoice), {"uid": invoice["uid"]}).status_code == 400
    assert (
        api.call(
            "POST", lines(invoice), content=b"[", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        api.call("POST", lines(invoice), content=b"[]", headers={"Content-Type": "text/csv"}).status_code
        == 415
    )


# --- issue 19 (P63, P68, P70, P72, P78) -------------------------------------------------------------


def test_a_line_currency_is_compared_exactly(api):
    """P68: `usd` on a `USD` invoice is `422`, letter case counts."""
    invoice = api.create()
    response = api.call("POST", lines(invoice), item(PRODUCT, currency=invoice["currency"].lower()))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "/currency"


def test_a_batch_is_judged_on_its_final_state(api):
    """P70: a discount before the product covering it is accepted; ending negative is refused."""
    invoice = api.create()
    api.ok("POST", lines(invoice), [item(DISCOUNT, unit_price=100), item(PRODUCT, unit_price=500)])
    assert api.get(invoice["uid"])["total_cents"] == 400
    other = api.create()
    response = api.call("POST", lines(other), [item(PRODUCT, unit_price=500), item(DISCOUNT, unit_price=600)])
    assert response.status_code == 422
    assert without_clock(api.get(other["uid"])) == without_clock(other)


def test_context_type_without_sku_is_the_lines_products(api):
    """P72: checked against the stored line's product, `422` naming `/0/context_type`."""
    invoice = api.create()
    [line] = api.ok("POST", lines(invoice), [item(PRODUCT)])
    response = api.call("PUT", lines(invoice), [{"uid": line["uid"], "context_type": DISCOUNT.context_type}])
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "/0/context_type"
    api.ok("PUT", lines(invoice), [{"uid": line["uid"], "context_type": PRODUCT.context_type}])


@pytest.mark.parametrize("size", [0, 101])
def test_an_empty_or_oversized_line_batch_names_the_whole_body(api, size):
    """P63: `field` `""`, the array itself."""
    invoice = api.create()
    response = api.call("POST", lines(invoice), [item(PRODUCT)] * size)
    assert response.status_code == 422 and "" in [e["field"] for e in response.json()["errors"]]


def test_a_fractional_cent_blueprint_price_is_shown_as_is_and_rounded_once(tmp_path):
    """P78: `0.335` shown as is; `3 * 0.335` → `1.01` (not `1.02`); subtotal `135`."""
    import httpx
    import yaml

    from contract.spec import default_fixtures_path
    from tests.second_server.app import create_app
    from tests.second_server.conftest import Api
    from tests.servers import serve

    world = yaml.safe_load(default_fixtures_path().read_text(encoding="utf-8"))
    blueprint = next(b for b in world["invoice_blueprints"] if b["organization_uid"] == ORG)
    template = next(
        line for line in blueprint["line_items"] if line["context_type"] not in ("DISCOUNT", "TAX")
    )
    blueprint["line_items"] = [
        {**template, "quantity": 1, "unit_price": 0.335},
        {**template, "quantity": 3, "unit_price": "0.335"},
    ]
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world), encoding="utf-8")
    app = create_app(fixtures_path=str(path), rate_limit_every=None)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        invoice = Api(http, key_of(ORG).token).create(invoice_blueprint_uid=blueprint["uid"])
    shown = sorted(
        (line["quantity"], line["unit_price"], line["line_total"]) for line in invoice["line_items"]
    )
    assert shown == [(1, 0.335, 0.34), (3, 0.335, 1.01)]
    assert invoice["subtotal_cents"] == 135
