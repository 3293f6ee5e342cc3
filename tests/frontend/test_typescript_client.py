"""A TypeScript frontend's client, generated from openapi.yaml, against a real uvicorn mock.

openapi-typescript turns the contract into types, openapi-fetch's `createClient<paths>` calls
the mock: the script POSTs an invoice and GETs it back, `tsc --noEmit` type-checks it (and
refuses a misspelt field or an unknown path), `tsx` runs it. The npm packages are cached across runs (see
conftest.ts_packages); node, npm or an npm install that fails SKIPS with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.spec import property_defaults, request_body_schema
from tests.frontend.conftest import (
    CONTROL,
    MINIMAL,
    ORG_A,
    SESSION_HEADER,
    SPEC,
    SPEC_PATH,
    USER_A,
    blueprint_of,
    body_for,
    create_app,
    serve,
)

pytestmark = pytest.mark.e2e

NODE_ENV = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false"}
TSC_FLAGS = [
    "--noEmit",
    "--strict",
    "--target",
    "ES2022",
    "--module",
    "ESNext",
    "--moduleResolution",
    "Bundler",
    "--lib",
    "ES2022,DOM",
    "--skipLibCheck",
]
CREATE_DEFAULTS = property_defaults(request_body_schema(SPEC, "create_invoice"))

SCRIPT = """\
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

const client = createClient<paths>({
  baseUrl: %(base_url)s,
  headers: { Authorization: %(authorization)s, "X-Mock-Session": %(session)s },
});

const body: components["schemas"]["InvoiceCreateRequest"] = %(body)s;
const created = await client.POST("/api/invoices", { body });
if (created.data === undefined) {
  throw new Error(`create failed: ${created.response.status} ${JSON.stringify(created.error)}`);
}
const invoice: components["schemas"]["Invoice"] = created.data.data;
const fetched = await client.GET("/api/invoices/{invoice_uid}", {
  params: { path: { invoice_uid: invoice.uid } },
});
const listed = await client.GET("/api/invoices", { params: { query: { per_page: 5 } } });
const total: number | undefined = listed.data?.data._meta.total_items;
console.log(JSON.stringify({
  createdStatus: created.response.status,
  created: invoice,
  fetchedStatus: fetched.response.status,
  fetched: fetched.data?.data,
  listedTotal: total,
}));
"""

BAD_SCRIPT = """\
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:1" });
const body: components["schemas"]["InvoiceCreateRequest"] = {
  owner_uidd: "10000000-0000-4000-8000-000000000001",
  target_party_uid: "x",
  document_uid: "y",
};
await client.GET("/api/invoice/{uid}", {});
"""


def run(command: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=NODE_ENV, check=False
    )


def generate_types(project: Path, *options: str) -> Path:
    command = ["npx", "--no", "--", "openapi-typescript", str(SPEC_PATH), "-o", "schema.d.ts", *options]
    result = run(command, project)
    assert result.returncode == 0, result.stdout + result.stderr
    schema = project / "schema.d.ts"
    text = schema.read_text(encoding="utf-8")
    assert '"/api/invoices"' in text and "InvoiceCreateRequest" in text
    return schema


def ts_literal(value: Any) -> str:
    return json.dumps(value, indent=2)


def test_typescript_client_creates_and_reads_back_an_invoice(ts_project, session_name):
    generate_types(ts_project)  # openapi-typescript's defaults, as a team would run it first
    # With its defaults (`--default-non-nullable`), openapi-typescript 7 makes every request field
    # that has a `default` in the spec required in the type: the body states them (see the test below).
    body = body_for(
        ORG_A, **{**CREATE_DEFAULTS, "currency": "EUR"}, invoice_blueprint_uid=blueprint_of(ORG_A).uid
    )
    with serve(create_app()) as base_url:
        (ts_project / "script.ts").write_text(
            SCRIPT
            % {
                "base_url": ts_literal(base_url),
                "authorization": ts_literal(f"Bearer {USER_A.token}"),
                "session": ts_literal(session_name),
                "body": ts_literal(body),
            },
            encoding="utf-8",
        )
        checked = run(["npx", "--no", "--", "tsc", *TSC_FLAGS, "script.ts"], ts_project)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        ran = run(["npx", "--no", "--", "tsx", "script.ts"], ts_project)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        printed = json.loads(ran.stdout.strip().splitlines()[-1])

        stored = httpx.get(
            f"{base_url}{CONTROL}/invoices", headers={SESSION_HEADER: session_name}, timeout=30
        )
        assert stored.status_code == 200, stored.text
        (invoice,) = stored.json()["data"]

    assert printed["createdStatus"] == 200
    assert printed["created"]["uid"] == invoice["uid"]
    assert printed["created"]["invoice_number"] == invoice["invoice_number"]
    assert printed["created"]["invoice_number"].startswith("INV-")
    assert printed["created"]["currency"] == "EUR"
    assert printed["fetchedStatus"] == 200
    assert printed["fetched"] == printed["created"], "the GET returned the same invoice"
    assert printed["listedTotal"] == 1


def test_typescript_types_accept_the_minimal_body_and_refuse_a_misspelt_field(ts_project):
    """With `--default-non-nullable false` the spec's minimal request type-checks; mistakes do not."""
    generate_types(ts_project, "--default-non-nullable", "false")
    (ts_project / "minimal.ts").write_text(
        'import type { components } from "./schema";\n'
        f'const body: components["schemas"]["InvoiceCreateRequest"] = {ts_literal(MINIMAL)};\n'
        "console.log(body);\n",
        encoding="utf-8",
    )
    minimal = run(["npx", "--no", "--", "tsc", *TSC_FLAGS, "minimal.ts"], ts_project)
    assert minimal.returncode == 0, minimal.stdout + minimal.stderr

    (ts_project / "bad.ts").write_text(BAD_SCRIPT, encoding="utf-8")
    checked = run(["npx", "--no", "--", "tsc", *TSC_FLAGS, "bad.ts"], ts_project)
    output = checked.stdout + checked.stderr
    assert checked.returncode != 0, output
    assert "owner_uidd" in output, output
    assert "/api/invoice/{uid}" in output, output
