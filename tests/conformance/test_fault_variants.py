"""The kit fails against deliberately faulty servers, and its report names the broken property.

Each variant (tests/conformance/faults.py) is the correct mock with one rule broken. The run goes
through the same runner the CLI uses, with a random seed (printed in the report) and few examples:
a rule the kit checks must be caught without luck.
"""

from __future__ import annotations

import io
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from conformance.report import ConsoleHandler
from conformance.runner import RunConfig, describe, run
from tests.conformance.faults import FAULTS
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_the_fault_is_caught_and_named(faulty_url, name):
    fault = FAULTS[name]
    output = io.StringIO()
    result = run(RunConfig(base_url=f"{faulty_url}/{name}", max_examples=10), [ConsoleHandler(output)])
    report = output.getvalue()
    outcome = describe(result)
    assert outcome["exit_code"] == 1, report
    assert not outcome["errors"], report
    caught = [prop for prop in fault.caught_by if prop in outcome["failed"]]
    assert caught, f"{name} ({fault.breaks}) should fail one of {fault.caught_by}\n{report}"
    assert f"FAILED: {caught[0]} " in report  # the report names the broken property
    assert "curl -sS -i -X " in report  # with a request to reproduce it


def test_the_cli_exits_1_and_the_junit_report_names_the_property(faulty_url, tmp_path):
    junit = tmp_path / "report.xml"
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "conformance", "run", "--base-url", f"{faulty_url}/owner-not-checked"),
            *("--max-examples", "5", "--junit-xml", str(junit)),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "FAILED: owner_forbidden" in completed.stdout
    failed = [
        case.get("name") for case in ET.parse(junit).iter("testcase") if case.find("failure") is not None
    ]
    assert "owner_forbidden" in failed


def test_the_mock_behind_the_variants_is_correct(faulty_url):
    """The variants differ from the mock only by their fault: the unwrapped mock passes."""
    output = io.StringIO()
    result = run(RunConfig(base_url=f"{faulty_url}/mock", max_examples=10), [ConsoleHandler(output)])
    assert result.exit_code == 0, output.getvalue()
