"""The last requests the mock answered, with their responses, for assertions in UI tests.

A UI test that clicked "Create" can ask the control API what the page actually sent and what it
got back. Only the contract's paths are recorded (not the control API's own), bodies are kept
up to `MAX_BODY_CHARS`, and the log holds the last `capacity` exchanges of all sessions.
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

from mockserver.state import DEFAULT_SESSION, SESSION_HEADER

MAX_BODY_CHARS = 16_384
DEFAULT_CAPACITY = 500


def _readable(raw: bytes | None) -> Any:
    if not raw:
        return None
    text = raw[:MAX_BODY_CHARS].decode("utf-8", errors="replace")
    if len(raw) <= MAX_BODY_CHARS:
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # a deeply nested body is shown as its text
            pass
    return text if len(raw) <= MAX_BODY_CHARS else text + f"… ({len(raw)} bytes)"


class Exchange(NamedTuple):
    """One request and its response as they were seen, raw: decoding waits until someone asks."""

    at: float
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    request_body: bytes
    status: int | None
    response_body: bytes

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
            "request": {"content_type": headers.get("content-type"), "body": _readable(self.request_body)},
            "response": {"status": self.status, "body": _readable(self.response_body)},
        }


class RequestLog:
    """The last `capacity` exchanges of all sessions, oldest dropped first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: deque[Exchange] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, entry: Exchange) -> None:
        with self._lock:
            self._entries.append(entry)

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


class RequestLogMiddleware:
    """Records each exchange under `prefix` after it is answered (errors included)."""

    def __init__(self, app: ASGIApp, log: RequestLog, prefix: str = "/api/") -> None:
        self.app, self.log, self.prefix = app, log, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        request_body: list[bytes] = []
        response: dict[str, Any] = {"status": None, "body": []}

        async def receive_and_keep() -> Message:
            message = await receive()
            if message["type"] == "http.request" and sum(map(len, request_body)) <= MAX_BODY_CHARS:
                request_body.append(message.get("body", b""))
            return message

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_keep)
        finally:
            self.log.add(
                Exchange(
                    time.time(),
                    scope["method"],
                    scope["path"],
                    scope.get("query_string", b""),
                    scope["headers"],
                    b"".join(request_body),
                    response["status"],
                    b"".join(response["body"]),
                )
            )
