"""The kit passes against the correct mock (no false alarms), through the runner and the CLI."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from xml.etree import ElementTree as ET

import pytest

from conformance.report import ConsoleHandler
from conformance.runner import FAILED, RunConfig, describe, run
from tests.conformance.kit import FIXED_SEEDS, explore_seeds, names, run_kit
from tests.conftest import REPO_ROOT
from tests.servers import free_port, wait_until_answers
from tests.world import SPEC_PATH

pytestmark = pytest.mark.e2e


def test_a_run_passes(mock_url):
    outcome, report, _ = run_kit(mock_url, names(), max_examples=20, seed=FIXED_SEEDS[0])
    assert outcome["exit_code"] == 0, report
    assert not outcome["not_run"], report  # the mock's fixtures feed every property
    assert "Elapsed:" in report


@pytest.mark.parametrize("seed", [*FIXED_SEEDS[1:], *explore_seeds()])
def test_other_seeds_pass_too(mock_url, seed):
    outcome, report, _ = run_kit(mock_url, names(), max_examples=10, seed=seed)
    assert outcome["exit_code"] == 0, f"reproduce: --seed {seed} --max-examples 10\n{report}"


def test_the_cli_exits_0_and_writes_junit(mock_url, tmp_path):
    junit = tmp_path / "report.xml"
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "conformance", "run", "--base-url", mock_url, "--max-examples", "5"),
            *("--junit-xml", str(junit), "--seed", str(FIXED_SEEDS[0])),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Summary by property:" in completed.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests") or 0) > 20 and suite.get("failures") == "0"


def test_a_thin_profile_reports_what_it_could_not_check(mock_url, tmp_path):
    profile = tmp_path / "thin.yaml"
    acme = "10000000-0000-4000-8000-000000000001"
    profile.write_text(
        f"users: [{{token: acme-token, organizations: [{acme}]}}]\n"
        f"parties: [{{uid: 20000000-0000-4000-8000-000000000001, billable_by: [{acme}]}}]\n"
        f"documents: [{{uid: 30000000-0000-4000-8000-000000000001, organization_uid: {acme}}}]\n"
    )
    outcome, report, _ = run_kit(mock_url, names(), profile_path=profile, max_examples=5, seed=FIXED_SEEDS[0])
    assert outcome["exit_code"] == 0, report
    assert {"number_scoped_to_owner", "owner_forbidden", "party_forbidden", "invisible_to_other_org"} <= set(
        outcome["not_run"]
    )
    # No products, no read-only key: the line-item and scope properties say so.
    assert {"line_items_priced_from_products", "read_only_key_cannot_write"} <= set(outcome["not_run"])
    assert "names no products" in report and "names no key with scopes" in report
    assert "Not run" in report and FAILED not in report


def test_an_unreachable_server_is_exit_2():
    outcome, report, _ = run_kit("http://127.0.0.1:9")
    assert outcome["exit_code"] == 2
    assert "does not answer" in report


def test_a_server_that_stops_answering_mid_run_is_exit_2():
    """The mock is stopped after the first property: the run says the server stopped answering
    (not that the profile lacks data), marks the rest not run, and exits 2."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(base_url, time.monotonic() + 60, alive=lambda: process.poll() is None)

        class StopTheServer:
            def started(self, result, properties):
                pass

            def finished_property(self, result):
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=10)

            def finished(self, result):
                pass

        output = io.StringIO()
        selected = names(robustness=False)[8:14]
        config = RunConfig(
            spec_path=SPEC_PATH, base_url=base_url, select=selected, max_examples=3, seed=FIXED_SEEDS[0]
        )
        result = run(config, [ConsoleHandler(output), StopTheServer()])
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    report = output.getvalue()
    assert result.exit_code == 2, report
    assert "stopped answering during" in report
    assert "profile lacks" not in report
    assert describe(result)["not_run"] == selected[1:], report
