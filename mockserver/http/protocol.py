"""The HTTP/1.1 protocol under the app: uvicorn's, with its own refusals in the API's envelope.

uvicorn answers a request it cannot parse (a malformed request line, a method its parser does not
know, bytes a header may not hold) itself, with a plain-text 400, before the ASGI app sees
anything; and it buffers request heads of any size. This is the one place that changes both:

- every such refusal is the error envelope: `405` with `Allow` for a well-formed request line
  whose method is a token the parser does not know, on a path the specs document (P28);
  `400` naming the rule otherwise;
- the request head is bounded: at most `MAX_HEAD_BYTES` bytes (request line and headers) and
  `MAX_HEADERS` header fields. Past the limit the connection answers `431` (`414` while the
  request line itself is still unfinished) and is closed, so a megabyte header is never kept.

The subclass touches uvicorn's documented extension point (`Config(http=<protocol class>)`) and
three members of `HttpToolsProtocol`: `data_received`, `on_message_begin`/`on_header`/
`on_headers_complete` and `transport` (tests/mockserver/test_connexion_assumptions.py checks
they exist).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.http.error_handlers import error_envelope

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (/[^ \x00-\x1f]*) HTTP/1\.[01]")

AllowLookup = Callable[[str], str | None]


class HeadTooLarge(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def raw_answer(status: int, reason: bytes, message: str, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 answer with the envelope as its body; the connection closes after it."""
    body = json.dumps(error_envelope(status, message)).encode()
    head = [f"HTTP/1.1 {status} ".encode() + reason]
    head += [f"{name}: {value}".encode("latin-1") for name, value in (headers or {}).items()]
    head += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with envelope refusals and bounded heads; `allow` is set by
    `envelope_protocol` for the paths of the specs served."""

    def allow(self, path: str) -> str | None:
        """The `Allow` value of a documented path, None for any other (`envelope_protocol`'s)."""
        return None

    _head_bytes = 0
    _in_head = True
    _header_count = 0
    _head_size = 0  # request target and header fields, as parsed
    _first_line: bytes | None = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._header_count, self._head_size = True, 0, 0

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        if self._head_size > MAX_HEAD_BYTES:
            raise HeadTooLarge(414, f"Request line: the request head is limited to {MAX_HEAD_BYTES} bytes.")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._head_size += len(name) + len(value) + 4
        if self._header_count > MAX_HEADERS:
            raise HeadTooLarge(431, f"Request headers: at most {MAX_HEADERS} fields are accepted.")
        if self._head_size > MAX_HEAD_BYTES:
            raise HeadTooLarge(
                431, f"Request headers: the request head is limited to {MAX_HEAD_BYTES} bytes."
            )
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes, self._first_line = False, 0, None
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_head and self._first_line is None:
            self._first_line = data[:8192]
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # as uvicorn does
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError as error:
            cause = error.__cause__ or error.__context__
            if isinstance(cause, HeadTooLarge):
                self._refuse(cause.status, cause.message)
            else:
                self._refuse_unparsable(error)
            return
        if self._in_head:  # still no end of the head: count what is buffered, not yet parsed
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                first = self._first_line or b""
                status, what = (431, "headers") if b"\n" in first else (414, "request line")
                self._refuse(
                    status, f"Request {what}: the request head is limited to {MAX_HEAD_BYTES} bytes."
                )

    def _refuse_unparsable(self, error: Exception) -> None:
        line = (self._first_line or b"").split(b"\r\n", 1)[0].split(b"\n", 1)[0]
        match = _REQUEST_LINE.fullmatch(line)
        if match:
            path = match.group(2).split(b"?", 1)[0].decode("latin-1")
            methods = self.allow(path)
            if methods is not None:
                self._refuse(405, "Method not allowed on this endpoint.", {"Allow": methods})
                return
        reason = str(error).rstrip(".") or "not HTTP/1.1"
        self._refuse(400, f"Malformed HTTP request: {reason}.")

    def _refuse(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        reasons = {400: b"Bad Request", 405: b"Method Not Allowed", 414: b"URI Too Long"}
        reason = reasons.get(status, b"Request Header Fields Too Large")
        self.logger.info("refused before the app: %s %s", status, message)
        self.transport.write(raw_answer(status, reason, message, headers))
        self.transport.close()


def envelope_protocol(allow: AllowLookup) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with envelope refusals and bounded heads.

    `allow(path)` is the `Allow` value for a documented path, None for any other. uvicorn takes a
    protocol class, not an instance, hence a subclass that carries the lookup.
    """
    return type(
        "EnvelopeHttpToolsProtocol", (EnvelopeHttpToolsProtocol,), {"allow": lambda _self, path: allow(path)}
    )


def uvicorn_options(allow: AllowLookup) -> dict[str, Any]:
    """What `uvicorn.Config` needs to run the mock with this protocol.

    The mock binds 127.0.0.1 and trusts no proxy: uvicorn's proxy-headers layer would only cost.
    """
    return {"http": envelope_protocol(allow), "proxy_headers": False}
