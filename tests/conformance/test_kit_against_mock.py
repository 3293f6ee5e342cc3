"""The kit passes against the correct mock (no false alarms), through the runner and the CLI."""

from __future__ import annotations

import io
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from conformance.report import ConsoleHandler
from conformance.runner import FAILED, RunConfig, describe, run
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e


def run_kit(base_url: str, **options: object) -> tuple[dict, str, float]:
    output = io.StringIO()
    result = run(RunConfig(base_url=base_url, **options), [ConsoleHandler(output)])
    return describe(result), output.getvalue(), result.elapsed


def test_a_default_run_passes_within_a_minute(mock_url):
    outcome, report, elapsed = run_kit(mock_url)
    assert outcome["exit_code"] == 0, report
    assert not outcome["not_run"], report  # the mock's fixtures feed every property
    assert "Elapsed:" in report
    assert elapsed < 60, report


@pytest.mark.parametrize("run_number", [1, 2])
def test_other_seeds_pass_too(mock_url, run_number):
    """Random seeds (printed in the report on failure), smaller runs."""
    outcome, report, _ = run_kit(mock_url, max_examples=20)
    assert outcome["exit_code"] == 0, report


def test_the_cli_exits_0_and_writes_junit(mock_url, tmp_path):
    junit = tmp_path / "report.xml"
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "conformance", "run", "--base-url", mock_url, "--max-examples", "5"),
            *("--junit-xml", str(junit)),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Summary by property:" in completed.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests")) > 20 and suite.get("failures") == "0"


def test_a_thin_profile_reports_what_it_could_not_check(mock_url, tmp_path):
    profile = tmp_path / "thin.yaml"
    acme = "10000000-0000-4000-8000-000000000001"
    profile.write_text(
        f"users: [{{token: acme-token, organizations: [{acme}]}}]\n"
        f"parties: [{{uid: 20000000-0000-4000-8000-000000000001, billable_by: [{acme}]}}]\n"
        f"documents: [{{uid: 30000000-0000-4000-8000-000000000001, organization_uid: {acme}}}]\n"
    )
    outcome, report, _ = run_kit(mock_url, profile_path=profile, max_examples=5)
    assert outcome["exit_code"] == 0, report
    assert {"number_scoped_to_owner", "owner_forbidden", "party_forbidden", "invisible_to_other_org"} <= set(
        outcome["not_run"]
    )
    assert "Not run" in report and FAILED not in report


def test_an_unreachable_server_is_exit_2():
    outcome, report, _ = run_kit("http://127.0.0.1:9")
    assert outcome["exit_code"] == 2
    assert "does not answer" in report
