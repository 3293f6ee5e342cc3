"""Plain HTTP calls to a server under test: one-off requests (a scenario's invoice and line), its
invoice count, a known number of creates.

http.client and asyncio streams only: no extra dependency, exact status codes, and nothing that
could send traffic anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
from typing import Any

from bench.errors import BenchError
from bench.sample import Sample


def http_call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, bytes]:
    """One request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _data(status: int, body: bytes, what: str) -> Any:
    if status != 200:
        raise BenchError(f"{what} answered {status}: {body[:300]!r}")
    return json.loads(body)["data"]


def create_invoice(port: int, sample: Sample) -> str:
    """One invoice (the sample's create); its uid."""
    answer = http_call(port, "POST", "/api/invoices", sample.body_bytes, sample.headers)
    return str(_data(*answer, "POST /api/invoices")["uid"])


def add_line(port: int, sample: Sample, invoice_uid: str) -> str:
    """One line (the sample's) on the invoice; its uid."""
    if not sample.line:
        raise BenchError("the fixtures give the sample's owner no product to make a line item of")
    path = f"/api/invoices/{invoice_uid}/line_items"
    answer = http_call(port, "POST", path, json.dumps(sample.line).encode(), sample.headers)
    return str(_data(*answer, f"POST {path}")["uid"])


def count_invoices(port: int, sample: Sample) -> int:
    """The mock's own count (receivable is both the list's default filter and the create default)."""
    status, body = http_call(port, "GET", "/api/invoices?per_page=1", None, sample.headers)
    if status != 200:
        raise BenchError(f"GET /api/invoices answered {status}: {body[:200]!r}")
    return int(json.loads(body)["data"]["_meta"]["total_items"])


async def _read_status(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise BenchError("a response without Content-Length")
    await reader.readexactly(length)
    return status


async def _create(port: int, request: bytes, count: int, concurrency: int) -> None:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                writer.write(request)
                status = await _read_status(reader)
                if status != 200:
                    raise BenchError(f"create answered {status} while filling the store")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def create_invoices(port: int, sample: Sample, count: int, concurrency: int = 8) -> None:
    """Exactly `count` creates over keep-alive connections (wrk runs by time, not by count)."""
    asyncio.run(_create(port, sample.raw_post(port), count, concurrency))
