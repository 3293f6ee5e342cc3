"""The lifecycle wave (issue 13) only added to the contract: `spec diff` of the spec before it
against today's reports additions, none breaking.

The spec before the wave is stored beside this test (`fixtures/openapi-881ee45.yaml`, byte for
byte `git show 881ee45:openapi.yaml`) rather than read from git: the test then needs no history
(a shallow clone or an exported tree still runs it, never skips it), and the baseline is a file a
reader can open. Once a later wave is accepted as breaking on purpose, this test is where it says
so, with the changes it accepts listed.

Since `spec diff` reads `x-` extensions (issue 21), it sees what the wave did besides adding: it
gave create, get and list an `x-scopes` requirement (P74), where the spec before documented none
(its P37: "scopes arrive with the lifecycle issue"). A key carrying only other scopes is refused
there now, so these are breaking, and accepted here on purpose: the baseline promised the scopes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from contract.spec import default_spec_path, iter_operations, load_spec
from contract.tooling import cli
from contract.tooling.diff import diff_specs

BEFORE_PATH = Path(__file__).parent / "fixtures" / "openapi-881ee45.yaml"
BEFORE = load_spec(BEFORE_PATH)
NOW = load_spec(default_spec_path())
CREATE_200 = "#/paths/~1api~1invoices/post/responses/200"
GET_200 = "#/paths/~1api~1invoices~1{invoice_uid}/get/responses/200"
# The breaking changes the lifecycle wave made on purpose: the scopes P37 announced.
ACCEPTED_BREAKING = [
    ("#/paths/~1api~1invoices/post/x-scopes", "scopes-added"),
    ("#/paths/~1api~1invoices/get/x-scopes", "scopes-added"),
    ("#/paths/~1api~1invoices~1{invoice_uid}/get/x-scopes", "scopes-added"),
]


def test_the_baseline_is_the_spec_before_the_lifecycle():
    assert {op["operationId"] for _p, _m, op in iter_operations(BEFORE)} == {
        "create_invoice",
        "get_invoice",
        "list_invoices",
    }


def test_the_lifecycle_only_adds_operations_and_the_announced_scopes():
    changes = diff_specs(BEFORE, NOW)
    breaking = [(change.pointer, change.rule) for change in changes if change.breaking]
    assert sorted(breaking) == sorted(ACCEPTED_BREAKING)
    assert sorted((change.pointer, change.rule) for change in changes) == sorted(
        [
            *ACCEPTED_BREAKING,
            ("#/x-mock", "extension-unclassified"),  # the mock's own notes grew with the lifecycle
            ("#/paths/~1api~1invoices/put", "operation-added"),
            ("#/paths/~1api~1invoices/delete", "operation-added"),
            ("#/paths/~1api~1invoices~1{invoice_uid}/put", "operation-added"),
            ("#/paths/~1api~1invoices~1{invoice_uid}~1line_items", "path-added"),
            (f"{CREATE_200}/links/UpdateCreatedInvoice", "link-added"),
            (f"{CREATE_200}/links/AddLineItemsToCreatedInvoice", "link-added"),
            (f"{GET_200}/links/UpdateFoundInvoice", "link-added"),
            (f"{GET_200}/links/AddLineItemsToFoundInvoice", "link-added"),
        ]
    )


def test_spec_diff_on_the_command_line_reports_only_the_accepted_breaking_changes(
    capsys: pytest.CaptureFixture[str],
):
    parser = argparse.ArgumentParser(prog="invoice-conformance")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["spec", "diff", str(BEFORE_PATH), str(default_spec_path())])
    assert args.handler(args) == 1
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.endswith(": 3 breaking, 9 non-breaking (1 not classified: review)")
