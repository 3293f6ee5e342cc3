"""The peer tools our users run on openapi.yaml, pinned, installed on demand by tests/toolchains.py.

Spectral, Redocly, Prism and Specmatic come from npm in one install (Specmatic's package bundles
its jar); openapi-python-client and the `ruff` it formats with come from PyPI into a venv of
their own. Without node and npm (or java, for Specmatic) the tests that need them are SKIPPED
with the reason.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.toolchains import NODE_ENV, npm_packages, pip_tool, require_on_path
from tests.world import SPEC_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
PEER_NPM_PACKAGES = {
    "@stoplight/spectral-cli": "6.16.3",
    "@redocly/cli": "2.77.0",
    "@stoplight/prism-cli": "5.14.2",
    "specmatic": "2.55.1",
}
PYTHON_CLIENT_PACKAGES = {"openapi-python-client": "0.29.1", "ruff": "0.17.6"}


@pytest.fixture(scope="session")
def peer_tools() -> Path:
    """The npm folder holding Spectral, Redocly, Prism and Specmatic."""
    return npm_packages(PEER_NPM_PACKAGES, "the peer-tool tests (Spectral, Redocly, Prism, Specmatic)")


@pytest.fixture(scope="session")
def specmatic_jar(peer_tools: Path) -> Path:
    require_on_path("java", purpose="Specmatic")
    return peer_tools / "node_modules" / "specmatic" / "specmatic.jar"


@pytest.fixture(scope="session")
def python_client_bin() -> Path:
    """The venv `bin` folder with openapi-python-client and ruff."""
    return pip_tool(PYTHON_CLIENT_PACKAGES, "the openapi-python-client test")


def run(
    command: list[str], cwd: Path = REPO_ROOT, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**NODE_ENV, **env},
        check=False,
    )


def spec_with(edit: Any, folder: Path) -> Path:
    """A copy of openapi.yaml in `folder` with `edit(spec)` applied (for tests that must fail on it)."""
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    edit(spec)
    path = folder / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def typeless_nullable(spec: dict[str, Any]) -> None:
    """The defect of issue 9: `nullable: true` without `type` on an invoice field's value."""
    spec["components"]["schemas"]["InvoiceFieldInput"]["properties"]["value"]["nullable"] = True
    spec["components"]["schemas"]["InvoiceFieldValue"]["properties"]["value"]["nullable"] = True


def warn_rules(config: Path, key: str = "rules") -> set[str]:
    """The rules a lint config keeps as warnings, each one justified by a comment just above it."""
    lines = config.read_text(encoding="utf-8").splitlines()
    rules = yaml.safe_load("\n".join(lines)).get(key, {})
    kept = {name for name, level in rules.items() if level == "warn"}
    for name in kept:
        index = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{name}:"))
        assert lines[index - 1].strip().startswith("#"), f"{config.name}: {name} is kept without a reason"
    return kept
