"""Spectral (`spectral:oas`) and Redocly (`recommended`) lint openapi.yaml without errors.

Spec authors run them in CI. Each tool runs with this repository's config (.spectral.yaml,
redocly.yaml): 0 errors, and a warning only for a rule the config keeps as `warn` with its reason.
Each is also shown the defect of issue 9 (`nullable` without `type`), which it must report: the
proof that the tool really looked at the schemas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.toolchains import npm_bin
from tests.tools.conftest import REPO_ROOT, run, spec_with, typeless_nullable, warn_rules
from tests.world import SPEC_PATH

pytestmark = pytest.mark.e2e

SPECTRAL_CONFIG = REPO_ROOT / ".spectral.yaml"
REDOCLY_CONFIG = REPO_ROOT / "redocly.yaml"
SPECTRAL_ERROR, SPECTRAL_WARNING = 0, 1


def spectral(peer_tools: Path, spec: Path) -> list[dict[str, Any]]:
    result = run(
        [npm_bin(peer_tools, "spectral"), "lint", str(spec), "-r", str(SPECTRAL_CONFIG), "-f", "json", "-q"]
    )
    output = result.stdout.strip()
    assert output.startswith("["), result.stdout + result.stderr
    return json.loads(output)


def redocly(peer_tools: Path, spec: Path) -> dict[str, Any]:
    command = [
        npm_bin(peer_tools, "redocly"),
        "lint",
        str(spec),
        "--config",
        str(REDOCLY_CONFIG),
        "--format",
        "json",
    ]
    result = run(command)
    assert result.stdout.strip().startswith("{"), result.stdout + result.stderr
    return json.loads(result.stdout)


def test_spectral_reports_no_errors_and_only_justified_warnings(peer_tools: Path):
    results = spectral(peer_tools, SPEC_PATH)
    errors = [r for r in results if r["severity"] == SPECTRAL_ERROR]
    assert errors == [], errors
    warnings = {r["code"] for r in results if r["severity"] == SPECTRAL_WARNING}
    assert warnings <= warn_rules(SPECTRAL_CONFIG), results


def test_spectral_reports_nullable_without_type(peer_tools: Path, tmp_path: Path):
    results = spectral(peer_tools, spec_with(typeless_nullable, tmp_path))
    messages = [r["message"] for r in results if r["severity"] == SPECTRAL_ERROR]
    assert messages and all('"nullable" cannot be used without "type"' in m for m in messages), results


def test_redocly_reports_no_errors_and_only_justified_warnings(peer_tools: Path):
    report = redocly(peer_tools, SPEC_PATH)
    assert report["totals"]["errors"] == 0, report["problems"]
    warnings = {p["ruleId"] for p in report["problems"] if p["severity"] == "warn"}
    assert warnings <= warn_rules(REDOCLY_CONFIG), report["problems"]


def test_redocly_reports_nullable_without_type(peer_tools: Path, tmp_path: Path):
    report = redocly(peer_tools, spec_with(typeless_nullable, tmp_path))
    errors = {p["ruleId"] for p in report["problems"] if p["severity"] == "error"}
    assert errors == {"nullable-type-sibling"}, report["problems"]
