"""Client generators turn openapi.yaml into clients without a warning.

openapi-python-client 0.29 (with `ruff` on PATH, which it formats with; without it, it warns) and
openapi-typescript 7 (the TypeScript client test's pinned install) must print no warning: a
warning there is a schema they could not read, and so a field typed wrong or missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.toolchains import NODE_ENV, npm_bin, npm_packages
from tests.tools.conftest import run
from tests.world import SPEC_PATH

pytestmark = pytest.mark.e2e


def test_openapi_python_client_generates_without_warnings(python_client_bin: Path, tmp_path: Path):
    output_path = tmp_path / "client"
    command = [str(python_client_bin / "python"), "-m", "openapi_python_client", "generate"]
    result = run(
        [*command, "--path", str(SPEC_PATH), "--output-path", str(output_path), "--meta", "none"],
        cwd=tmp_path,
        PATH=f"{python_client_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    assert "warning" not in printed.lower(), printed
    models = {path.stem for path in (output_path / "models").glob("*.py")}
    assert {"invoice_create_request", "invoice", "invoice_field_input", "error_envelope"} <= models, models
    lifecycle = {"invoice_update_request", "invoice_bulk_update_item", "line_item_create", "line_item_update"}
    assert lifecycle | {"invoice_array_envelope", "line_item_envelope", "empty_envelope"} <= models, models
    api = {path.stem for path in (output_path / "api").rglob("*.py")}
    assert {"update_invoice", "bulk_update_invoices", "bulk_delete_invoices"} <= api, api
    assert {"create_line_items", "update_line_items", "delete_line_items"} <= api, api
    compiled = subprocess.run(
        [str(python_client_bin / "python"), "-m", "compileall", "-q", str(output_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_openapi_typescript_generates_without_warnings(tmp_path: Path):
    from tests.frontend.conftest import TS_PACKAGES

    packages = npm_packages(TS_PACKAGES, "the openapi-typescript test")
    result = subprocess.run(
        [npm_bin(packages, "openapi-typescript"), str(SPEC_PATH), "-o", str(tmp_path / "schema.d.ts")],
        capture_output=True,
        text=True,
        env=NODE_ENV,
        timeout=300,
        check=False,
    )
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    assert "warn" not in printed.lower(), printed
    types = (tmp_path / "schema.d.ts").read_text(encoding="utf-8")
    assert "value: unknown;" in types, "any JSON value"
    for operation_id in (
        "update_invoice",
        "bulk_update_invoices",
        "bulk_delete_invoices",
        "create_line_items",
    ):
        assert f'operations["{operation_id}"]' in types, operation_id
