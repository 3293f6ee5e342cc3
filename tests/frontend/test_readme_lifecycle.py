"""README's lifecycle session, run as written against a real uvicorn mock.

The `<!-- lifecycle-curl -->` block is what a frontend developer pastes first: it must run
with bash and curl, and every figure its comments state must be what the mock answers (the
money is also recomputed here from the fixtures' products, so README cannot drift from them).
"""

from __future__ import annotations

import json
import re
import subprocess
from decimal import Decimal
from typing import Any

import httpx

from tests.frontend.conftest import CONTROL, ORG_A, REPO_ROOT, USER_A, WORLD, create_app, serve
from tests.toolchains import require_on_path


def marked_block(name: str) -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {name} -->\n```sh\n(.*?)```\n<!-- /{name} -->", readme, re.S)
    assert found, f"README has no {name} block"
    return found.group(1)


def answers(output: str) -> list[dict[str, Any]]:
    """The JSON bodies curl printed one after the other (without separators)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(output):
        if output[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(output, at)
        found.append(value)
    return found


def test_readmes_lifecycle_session_runs_and_says_what_the_mock_answers():
    require_on_path("bash", "curl", "python3", purpose="README's lifecycle curl session")
    block = marked_block("lifecycle-curl")
    with serve(create_app()) as base_url:
        script = block.replace("http://127.0.0.1:8080", base_url)
        assert script != block, "the block calls the mock of the quick start"
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        update, line_change, invoice, bulk, deleted = answers(done.stdout)
        left = httpx.get(f"{base_url}{CONTROL}/invoices", timeout=30).json()["data"]
        gone = httpx.get(
            f"{base_url}/api/invoices/{invoice['data']['uid']}",
            headers={"Authorization": f"Bearer {USER_A.token}"},
            timeout=30,
        )

    assert update["data"]["status"] == "SENT"
    assert line_change["data"]["quantity"] == 4
    # The comments' figures: the products' prices, in cents, times the quantities sent.
    stated = {k: int(v) for k, v in re.findall(r"(subtotal|discount|total_cents) (\d+)", block)}
    hour, discount = WORLD.products[(ORG_A, "SKU-002")], WORLD.products[(ORG_A, "DISC-10")]
    assert stated["subtotal"] == 3 * hour.unit_price_cents
    assert stated["discount"] == discount.unit_price_cents
    money = invoice["data"]
    assert money["subtotal_cents"] == int(Decimal(4) * hour.unit_price_cents)
    assert money["discount_cents"] == discount.unit_price_cents
    assert money["total_cents"] == stated["total_cents"] == money["subtotal_cents"] - money["discount_cents"]
    assert bulk["message"] == "Successfully updated 1 invoice(s)" and bulk["data"][0]["status"] == "PAID"
    assert deleted == {"status": "success", "status_code": 200, "message": "Success", "data": {}}
    assert left == [] and gone.status_code == 404, "the session's last call deleted the invoice"
