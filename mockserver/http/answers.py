"""The one place that writes a JSON answer: every success, refusal, canned example and bug report.

Each answer is encoded once and sent as one `http.response.start` plus one body message, with
`content-type: application/json` and its length. Nothing else in the mock builds a response.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.types import Send

CONTENT_TYPE = (b"content-type", b"application/json")


def encode(payload: Any) -> bytes:
    """JSON text as bytes, with orjson (the profile's largest single cost with the standard encoder).

    orjson refuses what JSON allows but UTF-8 cannot carry (a lone surrogate, as a request log may
    show one) and integers beyond 64 bits (an invoice field may hold one): those answers fall
    back to the standard encoder, which escapes the first and writes the second exactly.
    """
    try:
        return orjson.dumps(payload)
    except TypeError:
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
