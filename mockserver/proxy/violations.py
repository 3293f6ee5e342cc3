"""What the proxy saw break the contract, kept for `GET /__mock/violations`, bounded.

A proxy runs all day: the store keeps the newest `limit` exchanges with violations and counts
the ones it dropped, so memory stays flat however long it runs. Tokens are never kept: the curl
that reproduces an exchange carries `$TOKEN` where the request had its key.
"""

from __future__ import annotations

import shlex
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contract.exchanges import Problem

BODY_SHOWN = 4096  # characters of each body kept with a violation


@dataclass(frozen=True)
class Exchange:
    """One forwarded request and the upstream's answer, as the proxy saw them."""

    method: str
    url: str  # the upstream URL the request went to
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_body: bytes

    def curl(self) -> str:
        """A command that sends the same request to the upstream (its key as `$TOKEN`)."""
        parts = ["curl", "-s", "-X", self.method, shlex.quote(self.url)]
        if "authorization" in self.request_headers:
            parts += ["-H", '"Authorization: Bearer $TOKEN"']
        if "content-type" in self.request_headers:
            parts += ["-H", shlex.quote(f"Content-Type: {self.request_headers['content-type']}")]
        if self.request_body:
            parts += ["--data-binary", shlex.quote(shown(self.request_body))]
        return " ".join(parts)


def shown(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= BODY_SHOWN else text[:BODY_SHOWN] + "…"


@dataclass
class ViolationLog:
    """The newest `limit` exchanges that broke the contract, and counts of everything seen."""

    limit: int = 1000
    exchanges: int = 0
    violations: int = 0
    dropped: int = 0
    recent: deque[dict[str, Any]] = field(default_factory=deque)

    def record(self, operation: str | None, exchange: Exchange, problems: list[Problem]) -> None:
        self.exchanges += 1
        if not problems:
            return
        self.violations += len(problems)
        if len(self.recent) >= self.limit:
            self.recent.popleft()
            self.dropped += 1
        self.recent.append(
            {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "operation": operation,
                "method": exchange.method,
                "url": exchange.url,
                "status": exchange.status,
                "violations": [problem.as_dict() for problem in problems],
                "request_body": shown(exchange.request_body),
                "response_body": shown(exchange.response_body),
                "curl": exchange.curl(),
            }
        )

    def clear(self) -> None:
        self.recent.clear()
        self.exchanges = self.violations = self.dropped = 0

    def summary(self) -> dict[str, Any]:
        return {
            "exchanges": self.exchanges,
            "violations": self.violations,
            "dropped": self.dropped,
            "limit": self.limit,
            "items": list(self.recent),
        }
