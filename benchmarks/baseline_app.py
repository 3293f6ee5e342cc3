"""The throughput ceiling for the mock: bare Starlette on uvicorn, doing the mock's JSON work only.

Why it exists: "the mock does N req/s" says little on a shared 2-core machine. Measured in the
same run, next to the same uvicorn serving the same bytes without Connexion (no middleware stack,
no security, no validation, no rules, no store), the ratio mock/baseline says how much of the
cost is the mock's own and how much is the HTTP server and the JSON work every server pays.

Per request it does what any implementation of `POST /api/invoices` must do at least: read the
body, parse it as JSON, build a response of the mock's size and shape, serialise it. The response
is one real answer captured from the mock (`--template`), with a fresh uuid each time, so the
serialiser sees exactly the mock's nesting and key count. `GET /api/invoices/{uid}` answers the
captured invoice as it is: it serves the benchmark's stall probe, whose figure on this endpoint is
the floor (queueing behind the load alone).

It is served exactly like the mock (`mockserver/__main__.py`): `uvicorn.run(app, host, port,
log_level, access_log=False)`, one process, loop and HTTP implementation left on "auto" (uvloop
and httptools when installed). Passing them explicitly here would make the two servers differ
the day one of them is missing; the benchmark checks which ones each process really loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build_app(template: dict[str, Any]) -> Starlette:
    """A one-route app answering POST /api/invoices with `template`, a fresh uid substituted."""
    data_template: dict[str, Any] = template["data"]
    link = str(data_template.get("invoice_link", ""))
    link_prefix = link[: link.rfind("/") + 1] if "/" in link else "https://example.invalid/invoices/"

    async def create_invoice(request: Request) -> Response:
        body = json.loads(await request.body())
        if not isinstance(body, dict):
            return Response(b'{"status": "error"}', status_code=400, media_type="application/json")
        uid = str(uuid.uuid4())
        # A shallow copy: the nested parts are shared, but json.dumps walks all of them each time,
        # which is the work being compared.
        data = dict(data_template)
        data["uid"] = uid
        data["invoice_link"] = link_prefix + uid
        data["document_uid"] = body.get("document_uid")
        data["target_party_uid"] = body.get("target_party_uid")
        envelope = {"status": "success", "status_code": 200, "message": "Success", "data": data}
        # Connexion's Jsonifier also uses json.dumps (C encoder) and appends a newline.
        return Response(json.dumps(envelope) + "\n", media_type="application/json")

    read_answer = json.dumps(
        {"status": "success", "status_code": 200, "message": "Success", "data": data_template}
    ).encode()

    async def read_invoice(request: Request) -> Response:
        # The benchmark's stall probe and `read` scenario: what the cheapest answer costs a bare server.
        return Response(read_answer + b"\n", media_type="application/json")

    return Starlette(
        routes=[
            Route("/api/invoices", create_invoice, methods=["POST"]),
            Route("/api/invoices/{invoice_uid}", read_invoice, methods=["GET"]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--template", required=True, type=Path, help="a JSON envelope captured from the mock's create answer"
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    template = json.loads(args.template.read_text(encoding="utf-8"))
    import uvicorn

    # The same call as mockserver/__main__.py, so that both use the same loop and HTTP parser.
    uvicorn.run(
        build_app(template), host=args.host, port=args.port, log_level=args.log_level, access_log=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
