"""The machinery of the fault wrappers: a request and an answer buffered as plain data, and `Fault`,
ASGI middleware that may rewrite either around any upstream (the mock or the second server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_get(self) -> bool:
        return self.method == "GET" and self.path.startswith("/api/invoices/")

    @property
    def is_list(self) -> bool:
        return self.method == "GET" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_update(self) -> bool:
        parts = self.path.strip("/").split("/")
        return self.method == "PUT" and len(parts) == 3 and parts[:2] == ["api", "invoices"]

    @property
    def is_bulk_update(self) -> bool:
        return self.method == "PUT" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_bulk_delete(self) -> bool:
        return self.method == "DELETE" and self.path.rstrip("/") == "/api/invoices"

    @property
    def is_lines(self) -> bool:
        return self.path.rstrip("/").endswith("/line_items")

    @property
    def invoice_uid(self) -> str:
        """The path's invoice uid (get, update, line items)."""
        parts = self.path.strip("/").split("/")
        return parts[2] if len(parts) >= 3 else ""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()

    @property
    def data(self) -> Any:
        body = self.json
        return body.get("data") if isinstance(body, dict) else None


def envelope(status: int, message: str) -> Response:
    body = {"status": "error", "status_code": status, "message": message, "errors": []}
    return Response(status, {"content-type": "application/json"}, json.dumps(body).encode())


Before = Callable[["Fault", Request], Request | Response]
After = Callable[["Fault", Request, Response], Response]


@dataclass
class Fault:
    """A middleware that may rewrite the request (`before`) and the response (`after`)."""

    name: str
    breaks: str  # the rule broken, in words
    caught_by: tuple[str, ...]  # properties of which at least one must fail
    before: Before | None = None
    after: After | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None
        request = await _read(scope, receive)
        if request is None:
            await self.app(scope, receive, send)
            return
        await respond(send, await self.exchange(scope, request))

    async def exchange(self, scope: Scope, request: Request) -> Response:
        """The answer to one buffered request: `before`, the upstream, then `after`. A fault that
        must remember, retry or send requests of its own overrides this, not the ASGI plumbing."""
        assert self.app is not None
        outcome = self.before(self, request) if self.before else request
        if isinstance(outcome, Response):
            return outcome
        response = await call(self.app, scope, outcome)
        return self.after(self, outcome, response) if self.after else response


async def call(app: ASGIApp, scope: Scope, request: Request) -> Response:
    """Run the inner app on `request`, buffering its answer."""
    scope = dict(scope)
    scope["headers"] = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": request.body, "more_body": False}

    status, headers, body = 500, {}, bytearray()

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
            }
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return Response(status, headers, bytes(body))


async def respond(send: Send, response: Response) -> None:
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    headers["content-length"] = str(len(response.body))
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


def _rewrite_data(response: Response, change: Callable[[dict[str, Any]], None]) -> Response:
    body = response.json
    if response.status == 200 and isinstance(body, dict) and isinstance(body.get("data"), dict):
        change(body["data"])
        response.set_json(body)
    return response


async def _read(scope: Scope, receive: Receive) -> Request | None:
    if scope["type"] != "http":
        return None
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    query = scope.get("query_string", b"").decode("latin-1")
    return Request(scope["method"], scope["path"], query, headers, b"".join(chunks))


def envelope_with(status: int, message: str, field: str, code: str) -> Response:
    body = {
        "status": "error",
        "status_code": status,
        "message": message,
        "errors": [{"field": field, "message": message, "code": code}],
    }
    return Response(status, {"content-type": "application/json"}, json.dumps(body).encode())


def _scope_for(scope: Scope, method: str, path: str) -> Scope:
    """The request scope of another request to the same upstream (a wrapper's own extra request)."""
    return dict(scope, method=method, path=path, raw_path=path.encode(), query_string=b"")


async def _also(app: ASGIApp, scope: Scope, request: Request, method: str, path: str, body: Any) -> Response:
    headers = {k: v for k, v in request.headers.items() if k in ("authorization", "content-type")}
    headers["content-type"] = "application/json"
    encoded = b"" if body is None else json.dumps(body).encode()
    return await call(app, _scope_for(scope, method, path), Request(method, path, "", headers, encoded))
