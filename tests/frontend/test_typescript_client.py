"""A TypeScript frontend's client, generated from openapi.yaml, against a real uvicorn mock.

openapi-typescript turns the contract into types, openapi-fetch's `createClient<paths>` calls
the mock: one script POSTs an invoice and GETs it back, another edits it as an edit screen and a
line-item editor do (PUT the invoice, POST a line item, PUT it, reading the invoice back after
each); `tsc --noEmit` type-checks them (and refuses a misspelt field, an immutable field in an
update, an unknown path), `tsx` runs them. The npm packages are cached across runs (see
conftest.ts_packages); node, npm or an npm install that fails SKIPS with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.spec import property_defaults, request_body_schema
from tests.frontend.conftest import (
    CONTROL,
    MINIMAL,
    NOW,
    ORG_A,
    SESSION_HEADER,
    SPEC,
    SPEC_PATH,
    USER_A,
    WORLD,
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

LIFECYCLE_SCRIPT = """\
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
const client = createClient<paths>({
  baseUrl: %(base_url)s,
  headers: { Authorization: %(authorization)s, "X-Mock-Session": %(session)s },
});

function must<T>(step: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${step} failed: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}
async function read(invoice_uid: string): Promise<Schemas["Invoice"]> {
  const got = await client.GET("/api/invoices/{invoice_uid}", { params: { path: { invoice_uid } } });
  return must("get", got).data;
}

const create: Schemas["InvoiceCreateRequest"] = %(create)s;
const created = must("create", await client.POST("/api/invoices", { body: create })).data;
const invoice_uid = created.uid;
const path = { params: { path: { invoice_uid } } };

// The edit screen: a partial update, then the invoice read back.
const change: Schemas["InvoiceUpdateRequest"] = %(change)s;
const updated = must("update", await client.PUT("/api/invoices/{invoice_uid}", { ...path, body: change }));
const afterUpdate = await read(invoice_uid);

// The line-item editor: add a line (one object answers one LineItem), then change its quantity.
const line: Schemas["LineItemCreate"] = %(line)s;
const added = must(
  "create line",
  await client.POST("/api/invoices/{invoice_uid}/line_items", { ...path, body: line }),
);
const addedLine = added.data as Schemas["LineItem"];
const afterAdd = await read(invoice_uid);
const lineChange: Schemas["LineItemUpdate"] = { uid: addedLine.uid, quantity: %(new_quantity)s };
const changed = must(
  "update line",
  await client.PUT("/api/invoices/{invoice_uid}/line_items", { ...path, body: lineChange }),
);
const afterChange = await read(invoice_uid);

console.log(JSON.stringify({
  created, updated, afterUpdate, added, afterAdd, changed, afterChange,
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
const change: components["schemas"]["InvoiceUpdateRequest"] = { status: "SENT", owner_uid: "z" };
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
    assert "'owner_uid' does not exist in type" in output, output  # an immutable field (P55)


def cents(amount: Decimal) -> int:
    """An exact amount of cents, rounded half up (P09)."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money_of(lines_cents: int) -> dict[str, Any]:
    """An invoice's money with product lines worth `lines_cents` and nothing paid (Choice 2, P70)."""
    return {
        "subtotal_cents": lines_cents,
        "discount_cents": 0,
        "tax_cents": 0,
        "total_cents": lines_cents,
        "amount_due_cents": lines_cents,
        "amount_remaining_cents": lines_cents,
        "amount_paid_cents": 0,
        "total": lines_cents / 100,
    }


def assert_money(invoice: dict[str, Any], lines_cents: int) -> None:
    assert {key: invoice[key] for key in money_of(0)} == money_of(lines_cents), invoice


def test_typescript_client_updates_an_invoice_and_edits_a_line_item(ts_project, session_name):
    """The edit screen and the line-item editor, typed: every answer is read back with a get."""
    generate_types(ts_project)
    product = next(p for p in WORLD.products.values() if p.organization_uid == ORG_A)
    quantity, new_quantity = 2, 3
    change: dict[str, Any] = {
        "status": "SENT",
        "issue_date": (NOW - timedelta(days=10)).isoformat().replace("+00:00", "Z"),
        "due_date": (NOW + timedelta(days=20)).isoformat().replace("+00:00", "Z"),
        "invoice_fields": {"po_number": {"type": "string", "value": "PO-7"}},
    }
    line = {"context_type": product.context_type, "sku": product.sku, "quantity": quantity}
    with serve(create_app(clock=NOW)) as base_url:
        (ts_project / "lifecycle.ts").write_text(
            LIFECYCLE_SCRIPT
            % {
                "base_url": ts_literal(base_url),
                "authorization": ts_literal(f"Bearer {USER_A.token}"),
                "session": ts_literal(session_name),
                "create": ts_literal(body_for(ORG_A, **CREATE_DEFAULTS)),
                "change": ts_literal(change),
                "line": ts_literal(line),
                "new_quantity": ts_literal(new_quantity),
            },
            encoding="utf-8",
        )
        checked = run(["npx", "--no", "--", "tsc", *TSC_FLAGS, "lifecycle.ts"], ts_project)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        ran = run(["npx", "--no", "--", "tsx", "lifecycle.ts"], ts_project)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        printed = json.loads(ran.stdout.strip().splitlines()[-1])
        stored = httpx.get(
            f"{base_url}{CONTROL}/invoices", headers={SESSION_HEADER: session_name}, timeout=30
        )
        assert stored.status_code == 200, stored.text
        (kept,) = stored.json()["data"]

    created, updated = printed["created"], printed["updated"]
    assert created["line_items"] == [] and created["status"] == CREATE_DEFAULTS["status"]
    assert_money(created, 0)

    # The update echoes what it changed and keeps the rest (P54); a get returns the same (P50).
    after = updated["data"]
    assert updated["message"] == "Success"
    assert after["status"] == "SENT"
    for field in ("issue_date", "due_date"):  # the same instant; its textual form is open (P23)
        assert datetime.fromisoformat(after[field]) == datetime.fromisoformat(change[field]), after[field]
    assert {"key": "po_number", "value": {"type": "string", "original_type": "string", "value": "PO-7"}} in (
        after["invoice_fields"]
    )
    unchanged = set(created) - {*change, "age", "overdue_days"}
    assert {k: after[k] for k in unchanged} == {k: created[k] for k in unchanged}
    assert after["age"] == 10 and after["overdue_days"] == 0  # the session's clock is NOW (P38)
    assert printed["afterUpdate"] == after

    # The new line: priced from the product in cents, shown in major units (P68, P69).
    added = printed["added"]
    assert added["message"] == "Line item updated successfully"
    new_line = added["data"]
    assert new_line["invoice_uid"] == created["uid"] and new_line["currency"] == created["currency"]
    assert (new_line["context_type"], new_line["context_name"], new_line["context_type_uid"]) == (
        product.context_type,
        product.name,
        product.context_type_uid,
    )
    assert new_line["quantity"] == quantity
    assert new_line["unit_price"] == product.unit_price_cents / 100
    line_cents = cents(Decimal(quantity) * product.unit_price_cents)
    assert new_line["line_total"] == line_cents / 100
    # The invoice's money is recomputed at once (P70) and the invoice's other fields are kept.
    after_add = printed["afterAdd"]
    assert after_add["line_items"] == [new_line]
    assert_money(after_add, line_cents)
    assert after_add["status"] == "SENT"

    # The line's quantity changed, nothing else of it; the money follows (P72, P70).
    changed = printed["changed"]["data"]
    assert changed == {**new_line, "quantity": new_quantity, "line_total": changed["line_total"]}
    new_cents = cents(Decimal(new_quantity) * product.unit_price_cents)
    assert changed["line_total"] == new_cents / 100
    after_change = printed["afterChange"]
    assert after_change["line_items"] == [changed]
    assert_money(after_change, new_cents)
    # What the mock stored is what the client read last.
    assert kept == after_change
