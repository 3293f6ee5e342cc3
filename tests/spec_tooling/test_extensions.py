"""`spec diff` reports changes to `x-` extensions and `operationId`s; `spec check` finds extensions
an enum rename left naming values that are gone (issue 21, item 2).

These are changes a client or the mock observes (contract/facts.py reads the extensions), which
`spec diff` once called "no differences". Each edit is applied to a fresh copy of `openapi.yaml`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contract.spec import default_spec_path, load_spec, operation
from contract.tooling.check import check_spec
from contract.tooling.diff import diff_specs
from contract.tooling.extension_check import check_extension_enums
from contract.tooling.report import diff_text
from tests.spec_tooling.test_cli import run, write_spec

Spec = dict[str, Any]
REQUEST, RESPONSE = "request", "response"
BREAKING, FINE = True, False
LIMIT = "#/components/responses/PayloadTooLarge/x-max-body-bytes"
PARTIES = "#/components/schemas/InvoiceParties/x-client-by-invoice-type"
GENERATED = "#/components/schemas/InvoiceCreateRequest/properties/invoice_number/x-generated"
ON_CREATE = "#/components/schemas/Invoice/properties/collection_method/x-on-create"
MONEY = "#/components/schemas/LineItem/x-money-context-types"
LIST = "#/paths/~1api~1invoices/get"
GET = "#/paths/~1api~1invoices~1{invoice_uid}/get"
CREATE = "#/paths/~1api~1invoices/post"


def schemas(spec: Spec) -> dict[str, Any]:
    return spec["components"]["schemas"]


def set_limit(spec: Spec, size: int) -> None:
    spec["components"]["responses"]["PayloadTooLarge"]["x-max-body-bytes"] = size


def swap_parties(spec: Spec) -> None:
    schemas(spec)["InvoiceParties"]["x-client-by-invoice-type"] = {
        "ACCOUNTS_RECEIVABLE": "owner",
        "ACCOUNTS_PAYABLE": "target_party",
    }


def generated(spec: Spec) -> dict[str, Any]:
    return schemas(spec)["InvoiceCreateRequest"]["properties"]["invoice_number"]["x-generated"]


def set_scopes(spec: Spec, operation_id: str, scopes: list[str] | None) -> None:
    if scopes is None:
        del operation(spec, operation_id)["x-scopes"]
    else:
        operation(spec, operation_id)["x-scopes"] = scopes


@dataclass(frozen=True)
class Edit:
    name: str
    edit: Callable[[Spec], Any]
    expected: list[tuple[str, str, bool]]
    edit_old: Callable[[Spec], Any] | None = None


EDITS = [
    Edit("body limit lowered (1 MiB to 2 KiB)", lambda s: set_limit(s, 2048), [(LIMIT, REQUEST, BREAKING)]),
    Edit("body limit raised", lambda s: set_limit(s, 2 * 1048576), [(LIMIT, REQUEST, FINE)]),
    Edit(
        "parties swapped",
        swap_parties,
        [
            (f"{PARTIES}/ACCOUNTS_RECEIVABLE", RESPONSE, BREAKING),
            (f"{PARTIES}/ACCOUNTS_PAYABLE", RESPONSE, BREAKING),
        ],
    ),
    Edit(
        "generated number format changed",
        lambda s: generated(s).update(format="INV{year}{sequence:06d}", pattern=r"^INV(\d{4})(\d{6,})$"),
        [(f"{GENERATED}/format", RESPONSE, BREAKING), (f"{GENERATED}/pattern", RESPONSE, BREAKING)],
    ),
    Edit(
        "generated number's description changed (documentation only)",
        lambda s: generated(s).update(description="How numbers look."),
        [],
    ),
    Edit(
        "scope requirement added where there was none",
        lambda s: None,
        [(f"{GET}/x-scopes", REQUEST, BREAKING)],
        edit_old=lambda s: set_scopes(s, "get_invoice", None),
    ),
    Edit(
        "scope requirement removed",
        lambda s: set_scopes(s, "get_invoice", None),
        [(f"{GET}/x-scopes", REQUEST, FINE)],
    ),
    Edit(
        "another scope made enough",
        lambda s: set_scopes(s, "list_invoices", ["invoices:read", "invoices:admin"]),
        [(f"{LIST}/x-scopes", REQUEST, FINE)],
    ),
    Edit(
        "scope replaced",
        lambda s: set_scopes(s, "list_invoices", ["invoices:admin"]),
        [(f"{LIST}/x-scopes", REQUEST, BREAKING)],
    ),
    Edit(
        "collection method on create changed",
        lambda s: schemas(s)["Invoice"]["properties"]["collection_method"].update(
            {"x-on-create": "send_invoice"}
        ),
        [(ON_CREATE, RESPONSE, BREAKING)],
    ),
    Edit(
        "money bucket's context type renamed",
        lambda s: schemas(s)["LineItem"]["x-money-context-types"].update(tax_cents="VAT"),
        [(f"{MONEY}/tax_cents", RESPONSE, BREAKING)],
    ),
    Edit(
        "money bucket added",
        lambda s: schemas(s)["LineItem"]["x-money-context-types"].update(fee_cents="FEE"),
        [(f"{MONEY}/fee_cents", RESPONSE, BREAKING)],
    ),
    Edit(
        "operationId renamed",
        lambda s: operation(s, "list_invoices").update(operationId="search_invoices"),
        [(f"{LIST}/operationId", REQUEST, BREAKING)],
    ),
    Edit(
        "unknown extension changed",
        lambda s: s["x-mock"].update(server="http://127.0.0.1:9090"),
        [("#/x-mock", RESPONSE, FINE)],
    ),
    Edit(
        "unknown extension added to an operation",
        lambda s: operation(s, "create_invoice").update({"x-internal": True}),
        [(f"{CREATE}/x-internal", RESPONSE, FINE)],
    ),
    Edit(
        # A property may be called `x-…`: it is a name, not an extension, and reported as a field.
        "property named like an extension",
        lambda s: schemas(s)["InvoiceCreateRequest"]["properties"].update({"x-ref": {"type": "string"}}),
        [(f"{CREATE}/requestBody/content/application~1json/schema/properties/x-ref", REQUEST, FINE)],
    ),
]


@pytest.mark.parametrize("case", EDITS, ids=[edit.name for edit in EDITS])
def test_extension_edit_is_classified(case: Edit):
    old, new = load_spec(default_spec_path()), load_spec(default_spec_path())
    if case.edit_old is not None:
        case.edit_old(old)
    case.edit(new)
    changes = diff_specs(old, new)
    found = sorted((change.pointer, change.side, change.breaking) for change in changes)
    assert found == sorted(case.expected), "\n".join(f"{c.pointer}: {c.reason}" for c in changes)
    for change in changes:
        assert change.reason.endswith(".") and "\n" not in change.reason, change


def test_a_lowered_body_limit_says_what_clients_meet():
    new = load_spec(default_spec_path())
    set_limit(new, 2048)
    (change,) = diff_specs(load_spec(default_spec_path()), new)
    assert change.rule == "body-limit-lowered"
    assert "from 1048576 to 2048 bytes" in change.reason and "413" in change.reason


def test_an_unclassified_change_is_counted_for_review_in_the_summary():
    new = load_spec(default_spec_path())
    new["x-mock"]["server"] = "http://127.0.0.1:9090"
    changes = diff_specs(load_spec(default_spec_path()), new)
    assert "not classified: review" in changes[0].reason
    summary = diff_text(changes, "old", "new").splitlines()[-1]
    assert summary == "old -> new: 0 breaking, 1 non-breaking (1 not classified: review)"


def test_cli_diff_of_an_extension_change_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    new = load_spec(default_spec_path())
    set_limit(new, 2048)
    swap_parties(new)
    old_path, new_path = (
        write_spec(tmp_path / "old.yaml", load_spec(default_spec_path())),
        write_spec(tmp_path / "new.yaml", new),
    )
    assert run(["spec", "diff", str(old_path), str(new_path)]) == 1
    out = capsys.readouterr().out
    assert f"{LIMIT}: body limit lowered" in out
    assert out.splitlines()[-1].endswith(": 3 breaking, 0 non-breaking")


# -- spec check: extensions left naming enum values that are gone ------------------------------


def rename_payables(spec: Spec) -> None:
    values = schemas(spec)["InvoiceType"]["enum"]
    values[values.index("ACCOUNTS_PAYABLE")] = "ACCOUNTS_PAYABLES"


def declare_line_context_types(spec: Spec, values: list[str]) -> None:
    schemas(spec)["LineItem"]["properties"]["context_type"]["enum"] = values


ORPHANED: list[tuple[str, Callable[[Spec], Any], list[str]]] = [
    ("invoice type renamed", rename_payables, [f"{PARTIES}/ACCOUNTS_PAYABLE", PARTIES]),
    (
        "invoice type added without a party rule",
        lambda s: schemas(s)["InvoiceType"]["enum"].append("CREDIT_NOTE"),
        [PARTIES],
    ),
    (
        "party rule naming no party",
        lambda s: schemas(s)["InvoiceParties"]["x-client-by-invoice-type"].update(ACCOUNTS_PAYABLE="buyer"),
        [f"{PARTIES}/ACCOUNTS_PAYABLE"],
    ),
    (
        "line context type renamed under a money bucket",
        lambda s: declare_line_context_types(s, ["SERVICE", "PRODUCT", "DISCOUNTS", "TAX"]),
        [f"{MONEY}/discount_cents"],
    ),
]


@pytest.mark.parametrize(("name", "edit", "pointers"), ORPHANED, ids=[case[0] for case in ORPHANED])
def test_orphaned_extension_is_reported(name: str, edit: Callable[[Spec], Any], pointers: list[str]):
    """The check alone: a renamed value also breaks the examples that use it (other checks')."""
    spec = load_spec(default_spec_path())
    edit(spec)
    tally = check_extension_enums(spec)
    assert sorted(problem.pointer for problem in tally.problems) == sorted(pointers), name


def test_spec_check_reports_an_enum_rename_at_the_extension(fake_handlers: str):
    spec = load_spec(default_spec_path())
    rename_payables(spec)
    report = check_spec(spec, handler_module=fake_handlers)
    assert sorted(problem.pointer for problem in report.problems) == sorted(
        [f"{PARTIES}/ACCOUNTS_PAYABLE", PARTIES]
    )


def test_renamed_invoice_type_names_the_old_and_the_new_value(fake_handlers: str):
    spec = load_spec(default_spec_path())
    rename_payables(spec)
    messages = [problem.message for problem in check_spec(spec, handler_module=fake_handlers).problems]
    assert any("'ACCOUNTS_PAYABLE', which is not a value of" in message for message in messages)
    assert any("no entry for 'ACCOUNTS_PAYABLES'" in message for message in messages)


def test_money_buckets_naming_declared_context_types_pass(fake_handlers: str):
    spec = load_spec(default_spec_path())
    declare_line_context_types(spec, ["SERVICE", "PRODUCT", "DISCOUNT", "TAX"])
    assert check_spec(spec, handler_module=fake_handlers).ok
