"""The proxy as an ASGI app: forward, check, answer with the upstream's answer and a count.

Per request: the body is read (up to the limit), the operation named by method and path
(contract/exchanges.py), the request sent upstream, the exchange checked, the violations
recorded, and the upstream's answer sent on unchanged but for `X-Contract-Violations`. The proxy's
own answers (its limit, an upstream down, slow or not speaking JSON) are in the API's envelope.
`GET /__mock/violations` shows what was seen, `DELETE /__mock/violations` starts afresh.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.types import Receive, Scope, Send

from contract.exchanges import ContractExchanges, Operation, Problem, parse_json
from contract.given import load_given
from mockserver.http.answers import send_json
from mockserver.http.error_handlers import error_envelope
from mockserver.proxy.recorder import Recorder
from mockserver.proxy.upstream import Answer, Upstream, UpstreamError
from mockserver.proxy.violations import Exchange, ViolationLog

VIOLATIONS_PATH = "/__mock/violations"
COUNT_HEADER = b"x-contract-violations"  # the server's: what the real service breaks
REQUEST_COUNT_HEADER = b"x-contract-request-violations"  # the client's: what the request broke
logger = logging.getLogger("mockserver.proxy")


class TooLarge(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def decoded_headers(scope: Scope) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]


def path_parameter(template: str, path: str, name: str) -> str:
    """The value of `{name}` in `path`, which matched `template` ("" if it has none)."""
    parts = template.split("/")
    return path.split("/")[parts.index(f"{{{name}}}")] if f"{{{name}}}" in parts else ""


def has_bearer(headers: dict[str, str]) -> bool:
    scheme, _, key = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(key.strip())


class ValidatingProxy:
    """Forwards every request to `upstream` and checks each exchange against `exchanges`."""

    def __init__(
        self,
        exchanges: ContractExchanges,
        upstream: Upstream,
        log: ViolationLog,
        max_body_bytes: int,
        recorder: Recorder | None = None,
    ) -> None:
        self.exchanges, self.upstream, self.log = exchanges, upstream, log
        self.max_body_bytes = max_body_bytes
        self.recorder = recorder  # --record FILE: what the upstream answered, kept as a world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.http(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.recorder is not None:
                    self.recorder.stop()
                await self.upstream.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        if path == VIOLATIONS_PATH and method in {"GET", "DELETE"}:
            if method == "DELETE":
                self.log.clear()
            await send_json(
                send,
                200,
                {
                    "status": "success",
                    "status_code": 200,
                    "message": "Violations",
                    "data": self.log.summary(),
                },
            )
            return
        try:
            body = await read_body(receive, self.max_body_bytes)
        except TooLarge:
            message = f"Request body: the proxy forwards at most {self.max_body_bytes} bytes."
            await send_json(send, 413, error_envelope(413, message))
            return
        headers = decoded_headers(scope)
        url = self.upstream.url(path, scope.get("query_string", b"").decode("latin-1"))
        try:
            answer = await self.upstream.send(method, url, headers, body)
        except UpstreamError as error:
            logger.warning("%s %s: %s", method, path, error.message)
            await send_json(send, error.status, error_envelope(error.status, f"Upstream: {error.message}."))
            return
        by_name = {k.lower(): v for k, v in headers}
        exchange = Exchange(method, url, by_name, body, answer.status, answer.body)
        op, problems = self.check(method, path, by_name, body, answer)
        operation = op.operation_id if op else None
        self.log.record(operation, exchange, problems)
        if self.recorder is not None and op is not None and not problems:
            invoice_uid = path_parameter(op.template, path, "invoice_uid")
            request = parse_json(body)[1] if body else None
            self.recorder.observe(
                op.operation_id, invoice_uid, by_name, request, answer.status, parse_json(answer.body)[1]
            )
        server = sum(problem.side == "response" for problem in problems)
        counts = [
            (COUNT_HEADER, str(server).encode()),
            (REQUEST_COUNT_HEADER, str(len(problems) - server).encode()),
        ]
        if problems:
            seen = "; ".join(f"{p.side} {p.pointer or '/'} {p.rule}: {p.message}" for p in problems)
            logger.warning(
                "%s %s (%s) -> %s: %s", method, path, operation or "undocumented", answer.status, seen
            )
        if not parse_json(answer.body)[0]:
            kind = answer.header("content-type") or "no content type"
            message = f"Upstream: {self.upstream.base_url} answered {answer.status} with {kind}, not JSON."
            await send_json(send, 502, error_envelope(502, message), counts)
            return
        await self.send_answer(send, answer, counts)

    def check(
        self, method: str, path: str, headers: dict[str, str], body: bytes, answer: Answer
    ) -> tuple[Operation | None, list[Problem]]:
        op = self.exchanges.match(method, path)
        found = self.exchanges.request_problems(op, headers.get("content-type"), body) if op else []
        answer_headers = {k.lower(): v for k, v in answer.headers}
        found += self.exchanges.response_problems(
            op,
            answer.status,
            answer_headers,
            answer.body,
            authorized=has_bearer(headers),
            refused_request=any(problem.rule.startswith("schema:") for problem in found),
        )
        return op, found

    @staticmethod
    async def send_answer(send: Send, answer: Answer, counts: list[tuple[bytes, bytes]]) -> None:
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        headers += [(b"content-length", str(len(answer.body)).encode()), *counts]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


def create_proxy_app(
    upstream_url: str,
    spec_path: str | Path,
    *,
    timeout: float = 10.0,
    max_body_bytes: int = 10 * 1024 * 1024,
    max_violations: int = 1000,
    record: str | Path | None = None,
) -> ValidatingProxy:
    """A proxy to `upstream_url` checking the spec at `spec_path` (refused as the mock refuses it);
    `record`: the world file it keeps (written once before this returns; `RecordFileError`)."""
    spec, facts = load_given(spec_path)
    recorder = Recorder(Path(record), facts) if record is not None else None
    if recorder is not None:
        recorder.start()
    upstream = Upstream(upstream_url, timeout=timeout, max_body_bytes=max_body_bytes)
    log = ViolationLog(max_violations)
    return ValidatingProxy(ContractExchanges(spec), upstream, log, max_body_bytes, recorder)
