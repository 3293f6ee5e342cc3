"""The last requests the mock answered, with their responses, for assertions in UI tests.

A UI test that clicked "Create" can ask the control API what the page actually sent and what it
got back. Only the contract's paths are recorded (not the control API's own). The log is
bounded in entries *and* in bytes: of each exchange it keeps only the two headers it shows
(`Content-Type`, `X-Mock-Session`), at most `MAX_BODY_CHARS` of each body and `MAX_TEXT_CHARS`
of the path and query, and it drops the oldest exchanges once all of them together pass
`max_bytes`. Megabyte headers or bodies therefore cost the log nothing beyond those bounds.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any, NamedTuple

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.store.state import DEFAULT_SESSION, SESSION_HEADER

MAX_BODY_CHARS = 16_384
MAX_TEXT_CHARS = 4_096
DEFAULT_CAPACITY = 500
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
KEPT_HEADERS = (b"content-type", SESSION_HEADER.encode())


def _readable(raw: bytes | None, size: int) -> Any:
    """The body as JSON if it is whole JSON, else as text (cut bodies say their full size)."""
    if not raw:
        return None
    text = raw[:MAX_BODY_CHARS].decode("utf-8", errors="replace")
    if size <= MAX_BODY_CHARS:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to rebuild
            pass
    return text if size <= MAX_BODY_CHARS else text + f"… ({size} bytes)"


def _cut(raw: bytes, limit: int) -> bytes:
    return raw if len(raw) <= limit else raw[:limit]


class Exchange(NamedTuple):
    """One request and its response as they were seen, raw: decoding waits until someone asks."""

    at: float
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]  # only KEPT_HEADERS
    request_body: bytes  # at most MAX_BODY_CHARS
    request_size: int
    status: int | None
    response_body: bytes  # at most MAX_BODY_CHARS
    response_size: int

    @classmethod
    def keep(
        cls,
        at: float,
        method: str,
        path: str,
        query: bytes,
        headers: list[tuple[bytes, bytes]],
        request_body: bytes,
        request_size: int,
        status: int | None,
        response_body: bytes,
        response_size: int,
    ) -> Exchange:
        """What the log keeps of an exchange: bounded, whatever the request carried."""
        return cls(
            at,
            method[:MAX_TEXT_CHARS],
            path[:MAX_TEXT_CHARS],
            _cut(query, MAX_TEXT_CHARS),
            [(name, _cut(value, MAX_TEXT_CHARS)) for name, value in headers if name.lower() in KEPT_HEADERS],
            _cut(request_body, MAX_BODY_CHARS),
            request_size,
            status,
            _cut(response_body, MAX_BODY_CHARS),
            response_size,
        )

    @property
    def cost(self) -> int:
        """Bytes this entry holds (what `max_bytes` counts), plus a fixed overhead per entry."""
        return (
            256
            + len(self.method)
            + len(self.path)
            + len(self.query)
            + sum(len(n) + len(v) for n, v in self.headers)
            + len(self.request_body)
            + len(self.response_body)
        )

    @property
    def session(self) -> str:
        return Headers(raw=self.headers).get(SESSION_HEADER) or DEFAULT_SESSION

    def as_dict(self) -> dict[str, Any]:
        headers = Headers(raw=self.headers)
        return {
            "at": datetime.fromtimestamp(self.at, UTC).isoformat().replace("+00:00", "Z"),
            "session": self.session,
            "method": self.method,
            "path": self.path,
            "query": self.query.decode("latin-1"),
            "request": {
                "content_type": headers.get("content-type"),
                "body": _readable(self.request_body, self.request_size),
            },
            "response": {"status": self.status, "body": _readable(self.response_body, self.response_size)},
        }


class RequestLog:
    """The last `capacity` exchanges of all sessions, at most `max_bytes` together, oldest dropped first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.capacity, self.max_bytes = capacity, max_bytes
        self._entries: deque[Exchange] = deque()
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, entry: Exchange) -> None:
        with self._lock:
            self._entries.append(entry)
            self._bytes += entry.cost
            while self._entries and (len(self._entries) > self.capacity or self._bytes > self.max_bytes):
                self._bytes -= self._entries.popleft().cost

    def usage(self) -> dict[str, int]:
        with self._lock:
            return {
                "entries": len(self._entries),
                "bytes": self._bytes,
                "max_entries": self.capacity,
                "max_bytes": self.max_bytes,
            }

    def last(self, limit: int, session: str | None = None) -> list[dict[str, Any]]:
        """The newest `limit` entries (of one session, if given), newest first, bodies decoded.

        Bodies are kept as bytes and decoded only here: recording stays cheap on the hot path.
        """
        with self._lock:
            entries = list(self._entries)
        chosen = [e for e in reversed(entries) if session is None or e.session == session]
        return [e.as_dict() for e in chosen[:limit]]

    def clear(self, session: str | None = None) -> None:
        """Forget every entry, or one session's."""
        with self._lock:
            kept = [e for e in self._entries if session is not None and e.session != session]
            self._entries.clear()
            self._entries.extend(kept)
            self._bytes = sum(e.cost for e in kept)


class RequestLogMiddleware:
    """Records each exchange under `prefix` after it is answered (errors included)."""

    def __init__(self, app: ASGIApp, log: RequestLog, prefix: str = "/api/") -> None:
        self.app, self.log, self.prefix = app, log, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        request = _Kept()
        response = _Kept()
        status: list[int] = []

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request.add(message.get("body", b""))
            return message

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                response.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_keep)
        finally:
            self.log.add(
                Exchange.keep(
                    time.time(),
                    scope["method"],
                    scope["path"],
                    scope.get("query_string", b""),
                    scope["headers"],
                    request.body(),
                    request.size,
                    status[0] if status else None,
                    response.body(),
                    response.size,
                )
            )


class _Kept:
    """The first `MAX_BODY_CHARS` bytes of a body that arrives in chunks, and its full size."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.kept = 0
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.kept < MAX_BODY_CHARS and chunk:
            piece = chunk[: MAX_BODY_CHARS - self.kept]
            self.chunks.append(piece)
            self.kept += len(piece)

    def body(self) -> bytes:
        return b"".join(self.chunks)
