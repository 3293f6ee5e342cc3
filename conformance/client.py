"""The one HTTP client of the kit's own checks (httpx), and the record of every exchange.

Every property and the stateful checks talk to the server through `Client`, which returns an
`Exchange`: the request exactly as sent and the response as received. A violation carries the
exchanges that show it, and the report turns each into a `curl` command a developer can paste.
(The Schemathesis run sends its generated cases with Schemathesis's own transport, because its
checks re-send probes through it; its failures come with Schemathesis's own `curl`.)
"""

from __future__ import annotations

import json as jsonlib
import shlex
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

_UNSET: Any = object()
USER_AGENT = "invoice-conformance"
# openapi.yaml (precision row P22): any operation may answer 429 with Retry-After. The kit waits
# that long, at most RETRY_AFTER_CAP seconds, and tries again at most RATE_LIMIT_RETRIES times.
RETRY_AFTER_CAP = 5.0
RATE_LIMIT_RETRIES = 3


class RateLimited(Exception):
    """The server still answered 429 after the kit waited `Retry-After` and retried: the property
    that sent the request is reported as not run, with this reason (precision row P22)."""


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds (delta-seconds form), capped; None when absent or unreadable."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP) if seconds == seconds else None


@dataclass
class Exchange:
    """One request as sent and its response as received."""

    method: str
    url: str
    headers: dict[str, str]  # the headers the kit set (not httpx's defaults)
    body: bytes | None
    status: int
    response_headers: dict[str, str]
    text: str
    body_shell: str | None = None  # a shell command printing the body, for bodies too big to paste
    raw_command: str | None = None  # the exact bytes as a shell command (requests curl cannot send)
    _json: Any = field(default=_UNSET, repr=False)

    @property
    def json(self) -> Any:
        """The response body parsed as JSON, or `None` when it is not JSON."""
        if self._json is _UNSET:
            try:
                self._json = jsonlib.loads(self.text) if self.text else None
            except ValueError:
                self._json = None
        return self._json

    def header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())

    def label(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"

    def curl(self) -> str:
        if self.raw_command is not None:
            return self.raw_command
        parts = ["curl", "-sS", "-i", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.headers.items():
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.body is not None:
            if self.body_shell is not None:
                return f"{self.body_shell} | " + " ".join([*parts, "--data-binary", "@-"])
            parts += ["--data-raw", shlex.quote(self.body.decode("utf-8", errors="replace"))]
        return " ".join(parts)

    def response_excerpt(self, limit: int = 1000) -> str:
        text = self.text if len(self.text) <= limit else self.text[:limit] + "…"
        return f"HTTP {self.status} {self.header('content-type') or ''}\n{text}".rstrip()


class Client:
    """A thin httpx wrapper: bearer tokens, JSON bodies, and an `Exchange` for every call."""

    def __init__(
        self, base_url: str, *, timeout: float = 15.0, headers: dict[str, str] | None = None
    ) -> None:
        """`headers` go with every request (`X-Mock-Session` keeps two runs on one mock apart)."""
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=False,
        )
        self.requests_sent = 0
        self.timeout = timeout
        # Once the server refuses connections, or times out twice, it is gone: later calls fail at
        # once instead of each waiting (Hypothesis would retry every shrink step against it).
        self.gone: Exception | None = None
        self.timeouts = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        authorization: str | None = None,
        json: Any = _UNSET,
        content: bytes | None = None,
        content_type: str | None = None,
        params: dict[str, Any] | None = None,
        body_shell: str | None = None,
        retry: bool = True,
    ) -> Exchange:
        """Send one request. `token` makes `Authorization: Bearer <token>`; `authorization` sets the
        header verbatim (for malformed headers); neither sends no `Authorization` at all. `retry`
        False answers a 429 as it is (for the rate limit's own property)."""
        headers: dict[str, str] = {}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if json is not _UNSET:
            content = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            content_type = content_type or "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        request = self._http.build_request(
            method, path, headers=headers, content=content, params=clean_params
        )
        response = self._send(request)
        for _ in range(RATE_LIMIT_RETRIES if retry else 0):
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if response.status_code != 429 or wait is None:
                break
            time.sleep(wait)
            response = self._send(request)
        else:
            if retry and response.status_code == 429 and response.headers.get("retry-after") is not None:
                raise RateLimited(
                    f"{method} {request.url} was still rate limited (429) after {RATE_LIMIT_RETRIES} "
                    f"retries honouring Retry-After (capped at {RETRY_AFTER_CAP:g} s)"
                )
        return Exchange(
            method=method,
            url=str(request.url),
            headers=headers,
            body=content,
            status=response.status_code,
            response_headers={name.lower(): value for name, value in response.headers.items()},
            text=response.text,
            body_shell=body_shell,
        )

    def _send(self, request: httpx.Request) -> httpx.Response:
        if self.gone is not None:
            raise httpx.ConnectError(f"the server stopped answering earlier: {self.gone}", request=request)
        self.requests_sent += 1
        try:
            return self._http.send(request)
        except httpx.ConnectError as error:
            self.gone = error
            raise
        except httpx.TimeoutException as error:
            self.timeouts += 1
            if self.timeouts >= 2:
                self.gone = error
            raise

    # The operations of the contract.

    def create(self, token: str | None, body: Any, **kwargs: Any) -> Exchange:
        return self.request("POST", "/api/invoices", token=token, json=body, **kwargs)

    def get(self, token: str | None, invoice_uid: str, **kwargs: Any) -> Exchange:
        return self.request("GET", f"/api/invoices/{invoice_uid}", token=token, **kwargs)

    def list(self, token: str | None, **params: Any) -> Exchange:
        return self.request("GET", "/api/invoices", token=token, params=params)

    def update(self, token: str | None, invoice_uid: str, body: Any, **kwargs: Any) -> Exchange:
        return self.request("PUT", f"/api/invoices/{invoice_uid}", token=token, json=body, **kwargs)

    def bulk_update(self, token: str | None, items: Any, **kwargs: Any) -> Exchange:
        return self.request("PUT", "/api/invoices", token=token, json=items, **kwargs)

    def bulk_delete(self, token: str | None, uids: Any, **kwargs: Any) -> Exchange:
        return self.request("DELETE", "/api/invoices", token=token, json=uids, **kwargs)

    def create_lines(self, token: str | None, invoice_uid: str, body: Any, **kwargs: Any) -> Exchange:
        return self.request(
            "POST", f"/api/invoices/{invoice_uid}/line_items", token=token, json=body, **kwargs
        )

    def update_lines(self, token: str | None, invoice_uid: str, body: Any, **kwargs: Any) -> Exchange:
        return self.request(
            "PUT", f"/api/invoices/{invoice_uid}/line_items", token=token, json=body, **kwargs
        )

    def delete_lines(self, token: str | None, invoice_uid: str, uids: Any, **kwargs: Any) -> Exchange:
        return self.request(
            "DELETE", f"/api/invoices/{invoice_uid}/line_items", token=token, json=uids, **kwargs
        )
