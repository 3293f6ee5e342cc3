"""The one place that writes a JSON answer: every success, refusal, canned example and bug report.

Each answer is encoded once and sent as one `http.response.start` plus one body message, with
`content-type: application/json` and its length. Nothing else in the mock builds a response.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from starlette.types import Send

CONTENT_TYPE = (b"content-type", b"application/json")


def encode(payload: Any) -> bytes:
    """JSON text as bytes; non-ASCII is escaped, so any string (a lone surrogate too) can be sent."""
    return json.dumps(payload).encode()


async def send_json(
    send: Send, status: int, payload: Any, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    body = encode(payload)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [CONTENT_TYPE, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
