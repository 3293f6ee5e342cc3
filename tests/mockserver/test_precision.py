"""The mock follows every **fixed** row of the precision table (openapi.yaml, info.description).

One test per row, named after its id, checking the row's fixed part in-process (Connexion's test
client over the whole ASGI stack). Rows marked open are not tested here: the kit accepts every
reading of them, and so must the mock's users. Rules are read from the spec where they are values
(defaults, limits, the generated number's pattern), never restated.
"""

from __future__ import annotations

import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from contract.precision import precision_rows
from contract.spec import default_fixtures_path
from tests.mockserver import test_lifecycle
from tests.mockserver.support import (
    LIST_PARAMETERS,
    NOW,
    ORG_A,
    PARTY_NOBODY,
    SPEC,
    UNKNOWN_UID,
    USER_A,
    USER_B,
    assert_error,
    auth,
    blueprint_of,
    body_for,
    create,
    create_app,
    created,
    iso,
)
from tests.world import FACTS

ROWS = precision_rows(SPEC)
FACTS = FACTS
JSON_TYPE = {"Content-Type": "application/json"}


def listed(client: Any, user: Any = USER_A, **params: Any) -> dict[str, Any]:
    response = client.get("/api/invoices", params=params, headers=auth(user))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def post_raw(client: Any, content: bytes | str, headers: dict[str, str]) -> httpx.Response:
    return client.post("/api/invoices", content=content, headers=headers)


def test_every_fixed_row_has_a_test_here():
    names = [*globals(), *vars(test_lifecycle)]  # the lifecycle rows (P54 to P76) are tested there
    tested = {name.split("_")[1].upper() for name in names if re.fullmatch(r"test_p\d{2}_.*", name)}
    fixed = {row.id for row in ROWS.values() if row.verdict != "open"}
    assert fixed <= tested, sorted(fixed - tested)


def test_p01_authentication_comes_first(client):
    no_token = [
        (b"{not json", JSON_TYPE),
        (json.dumps(body_for()).encode(), {"Content-Type": "text/plain"}),
        (json.dumps({"currency": "US"}).encode(), JSON_TYPE),
        (json.dumps(body_for(owner_uid=UNKNOWN_UID)).encode(), JSON_TYPE),
    ]
    for content, headers in no_token:
        assert_error(post_raw(client, content, headers), 401)


def test_p03_order_schema_then_owner_then_party_then_reference_then_number(client):
    created(client, body_for(invoice_number="INV-P03"))
    bad_schema_and_owner = body_for(owner_uid=UNKNOWN_UID, currency="US")
    assert_error(create(client, bad_schema_and_owner), 422, "/currency")
    owner_and_reference = body_for(owner_uid=UNKNOWN_UID, document_uid=UNKNOWN_UID)
    assert_error(create(client, owner_and_reference), 403, "/owner_uid")
    party_and_reference = body_for(target_party_uid=PARTY_NOBODY.uid, document_uid=UNKNOWN_UID)
    assert_error(create(client, party_and_reference), 403, "/target_party_uid")
    reference_and_number = body_for(document_uid=UNKNOWN_UID, invoice_number="INV-P03")
    assert_error(create(client, reference_and_number), 422, "/document_uid")


def test_p04_newest_first(client):
    uids = [created(client, body_for())["uid"] for _ in range(3)]
    assert [item["uid"] for item in listed(client)["items"]] == uids[::-1]


@pytest.mark.parametrize("blank", ["", " ", "\t\n\r\f\v "])
def test_p05_ascii_blank_number_is_generated(client, blank):
    number = created(client, body_for(invoice_number=blank))["invoice_number"]
    assert FACTS.generated_number_pattern.fullmatch(number), number


def test_p06_no_content_type_is_415_and_json_with_parameters_is_accepted(client):
    content = json.dumps(body_for()).encode()
    assert_error(post_raw(client, content, auth(USER_A)), 415)
    headers = {**auth(USER_A), "Content-Type": "Application/JSON; charset=utf-8"}
    assert post_raw(client, content, headers).status_code == 200


def test_p08_401_carries_www_authenticate_bearer(client):
    response = client.get("/api/invoices")
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].split()[0].lower() == "bearer"


def test_p09_line_totals_round_half_up(tmp_path: Path):
    world = yaml.safe_load(default_fixtures_path().read_text(encoding="utf-8"))
    blueprint = next(b for b in world["invoice_blueprints"] if b["uid"] == blueprint_of(ORG_A).uid)
    template = blueprint["line_items"][0]
    # 0.005 and 0.025: half up gives 0.01 and 0.03, half even would give 0.00 and 0.02.
    blueprint["line_items"] = [
        {**template, "quantity": 0.5, "unit_price": 0.01},
        {**template, "quantity": 2.5, "unit_price": 0.01},
    ]
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world), encoding="utf-8")
    client = create_app(fixtures_path=path, clock=NOW).test_client()
    invoice = created(client, body_for(invoice_blueprint_uid=blueprint["uid"]))
    assert sorted(line["line_total"] for line in invoice["line_items"]) == [0.01, 0.03]
    assert invoice["subtotal_cents"] == 4


def test_p10_page_past_the_end(client):
    created(client, body_for())
    data = listed(client, page=5, per_page=1)
    assert data["items"] == [] and data["_links"]["next"] is None
    assert parse_qs(urlsplit(data["_links"]["self"]).query)["page"] == ["5"]


def test_p13_original_type_is_the_request_type_and_value_as_sent(client):
    fields: dict[str, dict[str, Any]] = {
        "a": {"type": "str", "value": "x"},
        "b": {"type": "number", "value": 4.5},
    }
    invoice = created(client, body_for(invoice_fields=fields))
    for entry in invoice["invoice_fields"]:
        sent = fields[entry["key"]]
        assert entry["value"]["original_type"] == sent["type"]
        if entry["value"]["type"] == entry["value"]["original_type"]:
            assert entry["value"]["value"] == sent["value"]


def test_p16_invoice_fields_blueprint_first_then_request_order(client):
    blueprint = blueprint_of(ORG_A)
    blueprint_keys = list(blueprint.invoice_fields)
    fields = {
        "z_last": {"type": "string", "value": "1"},
        blueprint_keys[0]: {"type": "string", "value": "new"},
    }
    fields["a_after"] = {"type": "string", "value": "2"}
    invoice = created(client, body_for(invoice_blueprint_uid=blueprint.uid, invoice_fields=fields))
    keys = [entry["key"] for entry in invoice["invoice_fields"]]
    assert keys == [*blueprint_keys, "z_last", "a_after"]
    assert invoice["invoice_fields"][0]["value"]["value"] == "new"


def test_p17_unknown_field_is_422_naming_it(client):
    assert_error(create(client, body_for(invoice_numbr="INV-1")), 422, "/invoice_numbr")


def test_p18_supplied_number_compared_and_stored_exactly(client):
    for number in ["INV-P18", "inv-p18", " INV-P18", "INV-P18 "]:
        assert created(client, body_for(invoice_number=number))["invoice_number"] == number
    assert_error(create(client, body_for(invoice_number="INV-P18")), 409, "/invoice_number")


def test_p19_generated_number_has_the_utc_year_and_4_digits(client):
    number = created(client, body_for())["invoice_number"]
    match = FACTS.generated_number_pattern.fullmatch(number)
    assert match and match.group(1) == str(NOW.year), number


def test_p20_list_without_invoice_type_is_the_receivables_list(client):
    created(client, body_for())
    created(client, body_for(invoice_type="ACCOUNTS_PAYABLE"))
    assert listed(client) == listed(client, invoice_type="ACCOUNTS_RECEIVABLE")


def test_p21_per_page_default_and_bounds(client):
    assert listed(client)["_meta"]["per_page"] == LIST_PARAMETERS["per_page"]["default"] == 10
    for params in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": 1_000_001}, {"per_page": "x"}):
        name = next(iter(params))
        assert_error(client.get("/api/invoices", params=params, headers=auth(USER_A)), 422, name)
    assert listed(client, per_page=100, page=1_000_000)["items"] == []


def test_p22_429_is_documented_with_retry_after_in_the_envelope(client):
    """The mock sets no rate limit; its documented 429 (`Prefer: code=429`) shows the shape."""
    response = client.get("/api/invoices", headers={**auth(USER_A), "Prefer": "code=429"})
    assert_error(response, 429)
    assert int(response.headers["Retry-After"]) >= 0


def test_p23_date_times_come_back_as_the_same_instant(client):
    sent = "2026-03-30T09:30:00+02:00"
    invoice = created(client, body_for(issue_date=sent))
    returned = datetime.fromisoformat(invoice["issue_date"].replace("Z", "+00:00"))
    assert returned == datetime.fromisoformat(sent)


def test_p24_omitted_dates_are_null(client):
    """P24: a create without dates answers both as `null`; the server fills neither."""
    invoice = created(client, body_for())
    assert (invoice["issue_date"], invoice["due_date"]) == (None, None)


def test_p26_success_message_is_success(client):
    response = create(client, body_for())
    assert response.json()["message"] == "Success"


def test_p27_invoice_uid_that_is_not_a_uuid_is_404(client):
    assert_error(client.get("/api/invoices/not-a-uuid", headers=auth(USER_A)), 404)


def test_p28_unknown_method_is_405_with_allow(client):
    response = client.patch("/api/invoices", headers=auth(USER_A))
    assert_error(response, 405)
    documented = {m.upper() for m in SPEC["paths"]["/api/invoices"]}
    assert {m.strip() for m in response.headers["Allow"].split(",")} == documented


def test_p29_unknown_query_parameters_are_ignored(client):
    created(client, body_for())
    assert listed(client, colour="blue", sort="-uid") == listed(client)


def test_p30_status_any_string_and_iso_currency_stored_as_sent(client):
    invoice = created(client, body_for(status="Partially paid ✓", currency="EUR"))
    assert (invoice["status"], invoice["currency"]) == ("Partially paid ✓", "EUR")


def test_p31_due_date_before_issue_date_is_accepted(client):
    created(client, body_for(issue_date="2026-04-01T00:00:00Z", due_date="2026-03-01T00:00:00Z"))


def test_p33_concurrent_creates_with_one_number(fresh_live_url):
    body = body_for(invoice_number="INV-P33")

    def send(_: int) -> int:
        return httpx.post(
            f"{fresh_live_url}/api/invoices", json=body, headers=auth(USER_A), timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(send, range(8)))
    assert statuses == [200] + [409] * 7


def test_p34_body_of_the_limit_accepted_one_more_byte_413(client):
    raw = json.dumps(body_for()).encode()
    limit = FACTS.max_body_bytes
    headers = {**auth(USER_A), **JSON_TYPE}
    assert post_raw(client, raw + b" " * (limit - len(raw)), headers).status_code == 200
    assert_error(post_raw(client, raw + b" " * (limit + 1 - len(raw)), headers), 413)


def test_p36_a_retried_create_makes_a_new_invoice(client):
    """P36: no idempotency: the same create twice makes two invoices, each with its own number."""
    first, second = created(client, body_for()), created(client, body_for())
    assert first["uid"] != second["uid"] and first["invoice_number"] != second["invoice_number"]


def test_p38_age_and_overdue_days_are_whole_days_rounded_down(client):
    past = iso(NOW - timedelta(days=3, hours=23))
    future = iso(NOW + timedelta(days=2))
    invoice = created(client, body_for(issue_date=past, due_date=past))
    assert invoice["age"] == 3
    assert invoice["overdue_days"] == 0, "nothing remains to pay on an invoice without lines"
    blueprint = blueprint_of(ORG_A)
    owing = created(client, body_for(invoice_blueprint_uid=blueprint.uid, issue_date=past, due_date=past))
    assert owing["amount_remaining_cents"] > 0 and owing["overdue_days"] == 3
    assert created(client, body_for(issue_date=future, due_date=future))["age"] == 0


def test_p39_total_is_total_cents_over_100(client):
    invoice = created(client, body_for(invoice_blueprint_uid=blueprint_of(ORG_A).uid))
    assert math.isclose(invoice["total"], invoice["total_cents"] / 100)


@pytest.mark.parametrize("field", ["status", "currency", "invoice_type"])
def test_p40_null_for_a_field_with_a_default_is_422(client, field):
    """P40: `null` is not "omitted" for a field with a default: `422` naming it."""
    body = body_for()
    body[field] = None
    assert_error(create(client, body), 422, f"/{field}")


def test_p41_null_for_a_nullable_field_is_as_omitted(client):
    fields = ["invoice_blueprint_uid", "issue_date", "due_date", "invoice_number"]
    invoice = created(client, {**body_for(), **dict.fromkeys(fields)})
    assert (invoice["invoice_blueprint_uid"], invoice["issue_date"], invoice["due_date"]) == (
        None,
        None,
        None,
    )
    assert FACTS.generated_number_pattern.fullmatch(invoice["invoice_number"])


def test_p42_enum_values_are_case_sensitive(client):
    """P42: enum values are exact, in the body (`/invoice_type`) and in the query parameter."""
    assert_error(create(client, body_for(invoice_type="accounts_receivable")), 422, "/invoice_type")
    response = client.get(
        "/api/invoices", params={"invoice_type": "accounts_receivable"}, headers=auth(USER_A)
    )
    assert_error(response, 422, "invoice_type")


def test_p43_date_time_needs_an_offset(client):
    """P43: a date-time needs an offset (`Z` or `±hh:mm`); a date alone or a local time is `422`."""
    for accepted in ["2026-03-30T00:00:00Z", "2026-03-30T00:00:00.123+05:30"]:
        created(client, body_for(issue_date=accepted))
    for refused in ["2026-03-30", "2026-03-30T00:00:00"]:
        assert_error(create(client, body_for(issue_date=refused)), 422, "/issue_date")


def test_p44_uuid_syntax(client):
    """P44: only the hyphenated 8-4-4-4-12 form is a uuid; any version is one (unknown, not malformed)."""
    uid = ORG_A
    for refused in [f"{{{uid}}}", f"urn:uuid:{uid}", uid.replace("-", "")]:
        assert_error(create(client, body_for(owner_uid=refused)), 422, "/owner_uid")
    version_0 = "00000000-0000-0000-0000-000000000001"  # well-formed, any version: refused as unknown
    assert_error(create(client, body_for(owner_uid=version_0)), 403, "/owner_uid")


def test_p45_field_type_is_not_checked_against_value_and_null_is_a_value(client):
    """P45: `type` is not checked against `value`, `null` is a value, and `{}` means no fields."""
    fields = {"n": {"type": "number", "value": "x"}, "nothing": {"type": "string", "value": None}}
    invoice = created(client, body_for(invoice_fields=fields))
    assert [e["value"]["value"] for e in invoice["invoice_fields"]] == ["x", None]
    assert created(client, body_for(invoice_fields={}))["invoice_fields"] == []


def test_p46_strings_of_255_characters_are_accepted(client):
    """P46: 255-character free-text strings (number, status, field key and type) are accepted as sent."""
    long = "N" * 255
    invoice = created(
        client, body_for(invoice_number=long, status=long, invoice_fields={long: {"type": long, "value": 1}})
    )
    assert (invoice["invoice_number"], invoice["status"]) == (long, long)


def test_p47_errors_name_the_body_field_and_the_parameter(client):
    envelope = assert_error(create(client, body_for(currency="US")), 422)
    assert envelope["errors"][0]["field"] in ("/currency", "currency")
    envelope = assert_error(client.get("/api/invoices", params={"per_page": 0}, headers=auth(USER_A)), 422)
    assert envelope["errors"][0]["field"] == "per_page"


def test_p48_several_problems_name_at_least_one_field(client):
    """P48: a request with several problems names at least one field in `errors`."""
    envelope = assert_error(create(client, {"currency": "US", "status": 1}), 422)
    assert envelope["errors"] and all(error["field"] for error in envelope["errors"])


def test_p49_links_carry_page_per_page_and_invoice_type(client):
    """P49: `self`, `next` and `prev` carry exactly `page`, `per_page` and `invoice_type`."""
    for _ in range(3):
        created(client, body_for())
    links = listed(client, page=2, per_page=1)["_links"]
    for name, page in (("self", "2"), ("next", "3"), ("prev", "1")):
        query = parse_qs(urlsplit(links[name]).query)
        assert query == {"page": [page], "per_page": ["1"], "invoice_type": ["ACCOUNTS_RECEIVABLE"]}, links


def test_p50_get_returns_the_created_invoice(client):
    invoice = created(client, body_for(invoice_blueprint_uid=blueprint_of(ORG_A).uid, issue_date=iso(NOW)))
    fetched = client.get(f"/api/invoices/{invoice['uid']}", headers=auth(USER_A)).json()["data"]
    assert fetched == invoice


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "text/plain;q=1"])
def test_p51_accept_without_json_is_answered_in_json(client, accept):
    """P51 is open (JSON anyway, or `406`): this server's reading is JSON anyway, the same answer as
    without the header, so a client sending a browser's `Accept` still gets the envelope."""
    headers = {**auth(USER_A), "Accept": accept}
    response = client.get("/api/invoices", headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] == listed(client)


def test_p52_blueprint_lines_are_new_lines_of_the_new_invoice(client):
    blueprint = blueprint_of(ORG_A)
    first = created(client, body_for(invoice_blueprint_uid=blueprint.uid, currency="EUR"))
    second = created(client, body_for(invoice_blueprint_uid=blueprint.uid))
    assert {line["invoice_uid"] for line in first["line_items"]} == {first["uid"]}
    assert {line["currency"] for line in first["line_items"]} == {"EUR"}
    assert not {line["uid"] for line in first["line_items"]} & {line["uid"] for line in second["line_items"]}
    sent = sorted(
        (line.context_type, line.context_name, float(line.quantity)) for line in blueprint.line_items
    )
    got = sorted(
        (line["context_type"], line["context_name"], line["quantity"]) for line in first["line_items"]
    )
    assert got == sent


def test_p53_totals_count_the_listed_type_the_user_may_see(client):
    for _ in range(3):
        created(client, body_for())
    created(client, body_for(invoice_type="ACCOUNTS_PAYABLE"))
    meta = listed(client, per_page=2)["_meta"]
    assert (meta["total_items"], meta["total_pages"]) == (3, 2)
    assert listed(client, USER_B)["_meta"]["total_items"] == 0
    assert listed(client, USER_B)["_meta"]["total_pages"] == 0


def test_p38_clock_is_the_sessions(client):
    """Guard for P38: `age` follows the mock's clock, not the wall clock (so the test above is exact)."""
    assert NOW.tzinfo is UTC
    assert created(client, body_for(issue_date=iso(NOW)))["age"] == 0


@pytest.mark.parametrize("blank", ["\u00a0", "\u2003 \u00a0"])
def test_p05_unicode_blank_is_stored_as_sent_on_create_and_on_update(client, blank):
    """P05: only ASCII whitespace is blank; a U+00A0-only number is kept as sent, on create as on
    update (a server generating on create would refuse it on update: two notions of blank)."""
    first = created(client, body_for(invoice_number=blank))
    assert first["invoice_number"] == blank
    other = created(client, body_for())
    again = client.put(f"/api/invoices/{other['uid']}", json={"invoice_number": blank}, headers=auth(USER_A))
    assert_error(again, 409, "/invoice_number")  # the same number as `first`: taken, not blank
    renamed = blank + "\u00a0"
    answer = client.put(
        f"/api/invoices/{other['uid']}", json={"invoice_number": renamed}, headers=auth(USER_A)
    )
    assert answer.status_code == 200 and answer.json()["data"]["invoice_number"] == renamed


def test_p52_collection_method_is_not_copied_from_the_blueprint(client):
    """P52: with or without a blueprint, a new invoice has `collection_method`'s `x-on-create` value."""
    plain = created(client, body_for())
    from_blueprint = created(client, body_for(invoice_blueprint_uid=blueprint_of(ORG_A).uid))
    assert plain["collection_method"] == from_blueprint["collection_method"]
    assert plain["collection_method"] == FACTS.collection_method_on_create


def test_p78_a_fractional_cent_unit_price_is_shown_as_is_and_rounded_once_per_line(tmp_path: Path):
    """P78: `0.335` stays `0.335`; `3 * 0.335` is `1.005` → `1.01` (rounding the price first: `1.02`)."""
    world = yaml.safe_load(default_fixtures_path().read_text(encoding="utf-8"))
    blueprint = next(b for b in world["invoice_blueprints"] if b["uid"] == blueprint_of(ORG_A).uid)
    template = next(
        line for line in blueprint["line_items"] if line["context_type"] not in ("DISCOUNT", "TAX")
    )
    blueprint["line_items"] = [
        {**template, "quantity": 1, "unit_price": 0.335},
        {**template, "quantity": 3, "unit_price": "0.335"},
    ]
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world), encoding="utf-8")
    client = create_app(fixtures_path=path, clock=NOW).test_client()
    invoice = created(client, body_for(invoice_blueprint_uid=blueprint["uid"]))
    shown = sorted(
        (line["quantity"], line["unit_price"], line["line_total"]) for line in invoice["line_items"]
    )
    assert shown == [(1, 0.335, 0.34), (3, 0.335, 1.01)]
    assert invoice["subtotal_cents"] == 135
