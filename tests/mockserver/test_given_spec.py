"""The mock serves the spec it is given: every fact comes from that file, not from the bundled one
(issue 18 part 1), and a spec it cannot serve is refused before anything is built (issue 21)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.given import SpecRefused
from tests.given_spec import (
    BILL_PATTERN,
    NUMBER_MAX_LENGTH,
    REFUSED,
    Edit,
    bill_numbers,
    edited_spec,
    no_bulk_delete,
    renamed_read_scope,
    required_currency,
    send_invoice_on_create,
    short_numbers,
    tax_is_subtotal,
    write_spec,
)
from tests.mockserver.support import (
    NOW,
    ORG_A,
    READ_ONLY,
    USER_A,
    assert_error,
    auth,
    blueprint_money,
    blueprint_of,
    body_for,
    create,
    create_app,
    created,
)


def client_on(tmp_path: Path, *edits: Edit) -> Any:
    return create_app(spec_path=edited_spec(tmp_path, *edits), clock=NOW).test_client()


def test_the_generated_number_is_the_given_specs(tmp_path):
    """Before: `--spec` with `BILL-{year}-{sequence:05d}` still answered INV-2026-0001."""
    number = created(client_on(tmp_path, bill_numbers), body_for())["invoice_number"]
    assert number == f"BILL-{NOW.year}-00001" and re.match(BILL_PATTERN, number)


def test_collection_method_is_the_given_specs_on_create(tmp_path):
    assert (
        created(client_on(tmp_path, send_invoice_on_create), body_for())["collection_method"]
        == "send_invoice"
    )


def test_money_buckets_are_the_given_specs(tmp_path):
    """Without `tax_cents` in x-money-context-types, a TAX line adds to the subtotal."""
    blueprint = blueprint_of(ORG_A)
    usual = blueprint_money(blueprint)
    assert usual["tax_cents"] > 0, "the fixtures' blueprint has a TAX line"
    invoice = created(client_on(tmp_path, tax_is_subtotal), body_for(invoice_blueprint_uid=blueprint.uid))
    assert invoice["tax_cents"] == 0
    assert invoice["subtotal_cents"] == usual["subtotal_cents"] + usual["tax_cents"]
    assert invoice["total_cents"] == usual["subtotal_cents"] - usual["discount_cents"] + usual["tax_cents"]


def test_scopes_are_the_given_specs(tmp_path):
    """Reading needs `invoices:view` there: the key holding only `invoices:read` may no longer read."""
    client = client_on(tmp_path, renamed_read_scope)
    answer = client.get("/api/invoices", headers=auth(READ_ONLY))
    assert_error(answer, 403)
    assert client.get("/api/invoices", headers=auth(USER_A)).status_code == 200


def test_a_lowered_max_length_is_the_given_specs(tmp_path):
    client = client_on(tmp_path, short_numbers)
    assert create(client, body_for(invoice_number="N" * NUMBER_MAX_LENGTH)).status_code == 200
    too_long = create(client, body_for(invoice_number="N" * (NUMBER_MAX_LENGTH + 1)))
    assert_error(too_long, 422, field="/invoice_number")


def test_an_added_required_field_is_the_given_specs(tmp_path):
    client = client_on(tmp_path, required_currency)
    assert_error(create(client, body_for()), 422, field="/currency")
    assert create(client, body_for(currency="EUR")).status_code == 200


def test_a_removed_operation_is_not_served(tmp_path):
    answer = client_on(tmp_path, no_bulk_delete).request(
        "DELETE", "/api/invoices", headers=auth(USER_A), json=[body_for()["owner_uid"]]
    )
    assert_error(answer, 405)
    assert "DELETE" not in answer.headers["Allow"]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_spec_the_mock_cannot_serve_is_refused_naming_pointer_and_rule(tmp_path, name):
    """Before: 3.1 started and answered 500 on /openapi.json; the renamed enum value and the
    removed document_uid started and answered 500 (KeyError) at the first create."""
    edit, pointer, word = REFUSED[name]
    path = edited_spec(tmp_path, edit)
    with pytest.raises(SpecRefused) as refused:
        create_app(spec_path=path)
    assert str(refused.value).startswith(f"{path}: ") and "\n" not in str(refused.value)
    assert pointer in refused.value.pointer and word in refused.value.rule


@pytest.mark.parametrize(
    ("text", "rule"), [("openapi: [3.0.3\n", "not YAML"), ("- just\n- a list\n", "not a mapping")]
)
def test_a_file_that_is_no_spec_is_refused(tmp_path, text, rule):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecRefused, match=rule):
        create_app(spec_path=path)


def test_a_missing_spec_is_refused(tmp_path):
    with pytest.raises(SpecRefused, match="no such file"):
        create_app(spec_path=tmp_path / "nowhere.yaml")


def test_a_generated_number_its_own_schema_refuses_is_refused(tmp_path):
    """x-generated must make numbers the invoice_number schema accepts (maxLength 5 cannot hold one)."""
    spec_path = edited_spec(tmp_path, short_numbers)
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["InvoiceCreateRequest"]["properties"]["invoice_number"]["maxLength"] = 5
    with pytest.raises(SpecRefused, match="maxLength"):
        create_app(spec_path=write_spec(tmp_path / "tiny.yaml", spec))
