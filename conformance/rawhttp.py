"""A raw HTTP/1.1 sender for the requests httpx refuses to build.

httpx (rightly) will not send a header value with bytes above 0x7F unencoded, a method that is
not a token it knows how to frame, or a query string it has not normalised. Real servers receive
such requests from broken clients and scanners every day, and the contract says every one of
them gets a 4xx in the error envelope (never a 5xx). This module writes the request bytes
exactly as given on a fresh socket and reads one response (Content-Length or chunked framing, or
until the server closes), returning an `Exchange` like the kit's client does.
"""

from __future__ import annotations

import shlex
import socket
from urllib.parse import urlsplit

from conformance.client import Client, Exchange

MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class RawTarget:
    """Where raw requests go: the host, port and path prefix of the server's base URL."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, counter: Client | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http":
            raise ValueError(f"the raw sender speaks plain http only, not {parts.scheme!r}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.counter = counter  # the run's client, whose request count includes these

    def send(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
    ) -> Exchange:
        """Send one request; `target` is the path and query after the base URL's prefix."""
        lines = [method + b" " + self.prefix.encode() + target + b" HTTP/1.1"]
        lines.append(b"Host: " + f"{self.host}:{self.port}".encode())
        lines += [name + b": " + value for name, value in headers]
        if body or method in (b"POST", b"PUT", b"PATCH"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
        lines.append(b"Connection: close")
        raw = b"\r\n".join(lines) + b"\r\n\r\n" + body
        if self.counter is not None:
            self.counter.requests_sent += 1
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(raw)
            data = _read_response(sock, head_only=method == b"HEAD")
        status, response_headers, text = _parse(data)
        return Exchange(
            method=method.decode("latin-1"),
            url=self.base_url + target.decode("latin-1"),
            headers={n.decode("latin-1"): v.decode("latin-1") for n, v in headers},
            body=body or None,
            status=status,
            response_headers=response_headers,
            text=text,
            raw_command=f"{_printf(raw)} | nc {self.host} {self.port}",
        )


def _printf(raw: bytes) -> str:
    """A shell command that writes exactly these bytes (curl cannot send them), runs of one byte
    written as `b"9" * 5000` so that the command stays readable."""
    pieces: list[tuple[bytes, int]] = []  # (literal, repeat)
    start = 0
    for index in range(1, len(raw) + 1):
        if index == len(raw) or raw[index] != raw[start]:
            run = raw[start:index]
            if len(run) >= 32:
                pieces.append((run[:1], len(run)))
            elif pieces and pieces[-1][1] == 1:
                pieces[-1] = (pieces[-1][0] + run, 1)
            else:
                pieces.append((run, 1))
            start = index
    segments = [repr(literal) if count == 1 else f"{literal!r} * {count}" for literal, count in pieces]
    code = f"import sys; sys.stdout.buffer.write({' + '.join(segments) or repr(b'')})"
    return f"python3 -c {shlex.quote(code)}"


def _read_response(sock: socket.socket, *, head_only: bool) -> bytes:
    data = bytearray()
    while len(data) < MAX_RESPONSE_BYTES:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data.extend(chunk)
        if (head_only and b"\r\n\r\n" in data) or _complete(bytes(data)):
            break
    return bytes(data)


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    headers = _header_map(head)
    if "content-length" in headers:
        try:
            return len(body) >= int(headers["content-length"])
        except ValueError:
            return False
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return body.endswith(b"0\r\n\r\n")
    return False  # read until the server closes


def _header_map(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return headers


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out.extend(rest[:size])
        body = rest[size + 2 :]
    return bytes(out)


def _parse(data: bytes) -> tuple[int, dict[str, str], str]:
    """(status, headers, body text); status 0 when the server closed without an HTTP answer."""
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split(b" ")
    try:
        status = int(status_line[1])
    except (IndexError, ValueError):
        return 0, {}, data.decode("latin-1")
    headers = _header_map(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return status, headers, body.decode("utf-8", errors="replace")
