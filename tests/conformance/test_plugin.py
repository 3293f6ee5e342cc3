"""The pytest plugin runs the same suite from another project's directory, and stays out of the
way of a test run that does not use it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


def pytest_in(directory, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest as another project runs it: another directory, the kit importable as installed."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
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


def test_the_suite_skips_without_a_server(tmp_path):
    completed = pytest_in(
        tmp_path, "-p", "conformance.plugin", "--pyargs", "conformance.suite", "-q", "-k", "defaults"
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "skipped" in completed.stdout
