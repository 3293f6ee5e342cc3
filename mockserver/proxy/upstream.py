"""The real server behind the proxy: a request sent on, its answer read back, within bounds.

Everything that can go wrong with the upstream becomes an `UpstreamError` the proxy answers in
the API's envelope: it cannot be reached (502), it does not answer within the time-out (504), its
answer is larger than the limit (502). Hop-by-hop headers stay on their side of the proxy; the
answer is asked for without content coding, so the bytes checked are the bytes the client gets.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import yarl

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
    }
)


class UpstreamError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]  # as sent, hop-by-hop and content-length removed
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name), None)


class Upstream:
    """One upstream base URL (`http://host:port`, optionally with a path prefix) and its client.

    aiohttp, not httpx: under 8 concurrent requests httpx's connection pool (httpcore) walks every
    connection for every request, and the proxy then forwarded a sixth of what the mock serves
    (benchmarks/bench_proxy.py, README's performance section). The session is made on the first
    request, inside the server's event loop, as aiohttp requires.
    """

    def __init__(self, base_url: str, *, timeout: float, max_body_bytes: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout, self.max_body_bytes = timeout, max_body_bytes
        self._session: aiohttp.ClientSession | None = None

    def url(self, path: str, query: str) -> str:
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                cookie_jar=aiohttp.DummyCookieJar(),  # the client's cookies are the client's
            )
        return self._session

    async def send(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        sent = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP] + [("accept-encoding", "identity")]
        try:
            async with self.session().request(
                method, yarl.URL(url, encoded=True), headers=sent, data=body or None, allow_redirects=False
            ) as response:
                chunks, size = [], 0
                async for chunk in response.content.iter_any():
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise UpstreamError(
                            502,
                            f"{self.base_url} answered more than {self.max_body_bytes} bytes (the limit)",
                        )
                    chunks.append(chunk)
                raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
                kept = [(k, v) for k, v in raw if k.lower() not in HOP_BY_HOP]
                return Answer(response.status, kept, b"".join(chunks))
        except TimeoutError:
            raise UpstreamError(504, f"{self.base_url} did not answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as error:
            cause = str(error) or type(error).__name__
            raise UpstreamError(502, f"{self.base_url} cannot be reached: {cause}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
