"""The kit checks against the spec it is given (issue 18 part 1, issue 21 item 5).

A mock and the kit started on the same edited copy of openapi.yaml agree: the run passes (and it
sees no 5xx: `schema:not_a_server_error` is one of its properties). The kit given an edited copy
against a mock of the bundled spec fails where the two contracts differ, which proves it reads
the file it was given. A spec the kit cannot read is refused before the run, in one line, exit 2.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conformance.kit import FIXED_SEEDS, names, run_kit
from tests.conftest import REPO_ROOT
from tests.given_spec import (
    REFUSED,
    SERVABLE,
    bill_numbers,
    edited_spec,
    no_bulk_delete,
    send_invoice_on_create,
    tax_is_subtotal,
)
from tests.servers import serve
from tests.world import create_app

pytestmark = pytest.mark.e2e
EXAMPLES = 3  # small: the point is agreement on the edited facts, not depth


@pytest.mark.parametrize("name", sorted(SERVABLE))
def test_kit_and_mock_on_the_same_edited_spec_agree(tmp_path, name):
    """Before: under `short_numbers` 4 properties failed on the correct mock (numbers of 21+
    characters); under `no_bulk_delete` 36 properties ended in ERROR (KeyError); under
    `required_currency` 62 failed (bodies without the required field)."""
    spec = edited_spec(tmp_path, SERVABLE[name])
    with serve(create_app(spec_path=spec)) as url:
        outcome, report, _ = run_kit(url, names(), spec_path=spec, max_examples=EXAMPLES, seed=FIXED_SEEDS[0])
    assert outcome["exit_code"] == 0, report
    assert "schema:not_a_server_error" in report


def test_a_removed_operation_is_not_run_with_the_reason(tmp_path):
    spec = edited_spec(tmp_path, no_bulk_delete)
    with serve(create_app(spec_path=spec)) as url:
        outcome, report, _ = run_kit(
            url, ["deleted_invoice_is_gone"], spec_path=spec, max_examples=EXAMPLES, seed=FIXED_SEEDS[0]
        )
    assert outcome["exit_code"] == 0, report
    assert "has no operation bulk_delete_invoices" in report and "not run" in report


@pytest.mark.parametrize(
    ("edit", "failing"),
    [
        (bill_numbers, "invoice_number_generated"),
        (send_invoice_on_create, "new_invoice_content"),
        (tax_is_subtotal, "money_identities"),
    ],
)
def test_the_kit_given_another_spec_fails_where_the_contracts_differ(tmp_path, edit, failing):
    """The mock serves the bundled spec, the kit checks an edited copy: the difference is found."""
    spec = edited_spec(tmp_path, edit)
    with serve(create_app()) as url:
        outcome, report, _ = run_kit(
            url, [failing], spec_path=spec, max_examples=EXAMPLES, seed=FIXED_SEEDS[0]
        )
    assert outcome["exit_code"] == 1, report
    assert f"FAILED: {failing}" in report


def test_a_failed_number_names_the_specs_form_not_inv(tmp_path):
    spec = edited_spec(tmp_path, bill_numbers)
    with serve(create_app()) as url:
        _, report, _ = run_kit(
            url, ["invoice_number_generated"], spec_path=spec, max_examples=EXAMPLES, seed=FIXED_SEEDS[0]
        )
    assert "BILL-2026-00001" in report and "INV-<year>" not in report


# A handler for every operationId is the mock's need, not the kit's (it checks any server).
KIT_REFUSED = sorted(name for name in REFUSED if name != "unhandled_operation")


@pytest.mark.parametrize("name", KIT_REFUSED)
def test_the_cli_refuses_a_spec_it_cannot_check_in_one_line(tmp_path, name):
    """Before: `openapi: 3.1.0` printed a traceback and exited 1 (README: a violation)."""
    edit, pointer, _word = REFUSED[name]
    spec = edited_spec(tmp_path, edit)
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--base-url", "http://127.0.0.1:9", "--spec", str(spec)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = (completed.stdout + completed.stderr).strip()
    assert completed.returncode == 2, output
    assert len(output.splitlines()) == 1 and str(spec) in output and pointer in output, output
