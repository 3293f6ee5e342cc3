"""The pytest plugin runs the same suite from another project's directory, and stays out of the
way of a test run that does not use it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


def pytest_in(directory, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """pytest as another project runs it: another directory, the kit importable as installed.

    The kit's own INVOICE_CONFORMANCE_* variables are not inherited (a developer's shell may set
    them); `variables` are the ones the test means.
    """
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith("INVOICE_CONFORMANCE_")
    }
    env = {**inherited, **variables, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.e2e
def test_the_suite_passes_against_the_mock_from_another_directory(mock_url, tmp_path):
    completed = pytest_in(
        tmp_path,
        "-p",
        "conformance.plugin",
        "--pyargs",
        "conformance.suite",
        "-q",
        "--invoice-base-url",
        mock_url,
        "--invoice-max-examples",
        "3",
        "--invoice-seed",
        "11",
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout and "failed" not in completed.stdout


@pytest.mark.e2e
def test_the_suite_fails_and_names_the_property(faulty_url, tmp_path):
    completed = pytest_in(
        tmp_path,
        "-p",
        "conformance.plugin",
        "--pyargs",
        "conformance.suite",
        "-q",
        "-k",
        "forbidden",
        "--invoice-base-url",
        f"{faulty_url}/owner-not-checked",
        "--invoice-max-examples",
        "5",
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "FAILED" in completed.stdout and "test_contract[owner_forbidden]" in completed.stdout
    assert "curl -sS -i -X POST" in completed.stdout


def test_the_plugin_leaves_other_runs_alone(tmp_path):
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert True\n")
    completed = pytest_in(tmp_path, "-p", "conformance.plugin", "-q")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 passed" in completed.stdout


SUITE = ("--pyargs", "conformance.suite", "-q")


def exit_line(completed: subprocess.CompletedProcess[str]) -> str:
    """The line pytest ends a `pytest.exit` run with."""
    (line,) = [line for line in completed.stdout.splitlines() if "no server to check" in line]
    return line


def test_the_suite_without_a_server_is_a_usage_error_not_a_green_run(tmp_path):
    """Issue 21: it skipped all 70 tests and exited 0, having checked nothing."""
    completed = pytest_in(tmp_path, "-p", "conformance.plugin", *SUITE)
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout + completed.stderr
    assert "pass --invoice-base-url URL" in exit_line(completed)
    assert " passed" not in completed.stdout and "skipped" not in completed.stdout


def test_a_misspelt_variable_is_named(tmp_path):
    """Without the plugin the suite reads the environment; a near-miss is what a user meets."""
    completed = pytest_in(tmp_path, *SUITE, INVOICE_CONFORMANCE_BASEURL="http://127.0.0.1:1")
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout + completed.stderr
    assert "INVOICE_CONFORMANCE_BASEURL is not a setting: misspelt?" in exit_line(completed)


@pytest.mark.parametrize(
    ("args", "variables"),
    [(("-p", "conformance.plugin", "--invoice-skip"), {}), ((), {"INVOICE_CONFORMANCE_SKIP": "1"})],
    ids=["option", "environment"],
)
def test_the_suite_is_skipped_only_on_purpose(tmp_path, args: tuple[str, ...], variables: dict[str, str]):
    completed = pytest_in(tmp_path, *args, *SUITE, "-rs", **variables)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "skipped on purpose" in completed.stdout and " passed" not in completed.stdout


@pytest.mark.e2e
def test_a_target_answering_500_to_everything_stops_the_run_in_one_line(tmp_path):
    """Issue 21 item 7 under pytest: one line and exit 2, like the CLI, not 70 errors."""
    from tests.conformance.test_failing_target import always_500
    from tests.servers import serve

    with serve(always_500) as base_url:
        completed = pytest_in(tmp_path, "-p", "conformance.plugin", *SUITE, "--invoice-base-url", base_url)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    (line,) = [line for line in completed.stdout.splitlines() if "cannot check the server" in line]
    assert "answers 5xx to every preflight request" in line
    assert " error" not in completed.stdout and "failed" not in completed.stdout
