"""A target that answers 500 to everything is diagnosed in one line, exit 2, like an unreachable
one; a server with one real 500 bug is still checked and reported as a violation, exit 1 (issue
21, item 7: the kit printed 70 failures over 715 lines for a server that was simply down).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from conformance.report.console import ConsoleHandler
from conformance.runner import FAILING_PROBES, RunConfig, RunResult, describe, run
from tests.conformance.kit import FIXED_SEEDS
from tests.servers import serve
from tests.world import SPEC_PATH

pytestmark = pytest.mark.e2e

INTERNAL_ERROR = {
    "type": "http.response.start",
    "status": 500,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"21")],
}


async def always_500(scope: Scope, receive: Receive, send: Send) -> None:
    """A server whose every handler is broken (its database is down, say)."""
    if scope["type"] != "http":
        return
    await send(INTERNAL_ERROR)
    await send({"type": "http.response.body", "body": b"Internal Server Error"})


class UnauthenticatedListCrashes:
    """The mock with one real bug: a list without `Authorization` crashes (a bare 500, not 401)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        listing = scope["type"] == "http" and (scope["method"], scope["path"]) == ("GET", "/api/invoices")
        if listing and not any(name == b"authorization" for name, _value in scope["headers"]):
            await always_500(scope, receive, send)
            return
        await self.app(scope, receive, send)


def kit(base_url: str, select: list[str], **options: Any) -> tuple[RunResult, str]:
    output = io.StringIO()
    result = run(
        RunConfig(spec_path=SPEC_PATH, base_url=base_url, select=select, **options), [ConsoleHandler(output)]
    )
    return result, output.getvalue()


def test_a_target_answering_500_to_everything_is_one_line_and_exit_2():
    with serve(always_500) as base_url:
        result, report = kit(base_url, [], max_examples=3, seed=FIXED_SEEDS[0])
    assert result.exit_code == 2, report
    assert result.results == [], report  # no property ran: nothing to report 70 times
    assert result.requests == 1 + len(FAILING_PROBES)
    (line,) = [line for line in report.splitlines() if "Cannot check the server" in line]
    assert "answers 5xx to every preflight request" in line
    assert "GET /api/invoices without a token: 500" in line and "POST /api/invoices {}: 500" in line
    assert "FAILED" not in report


def test_a_server_with_one_500_bug_is_checked_and_fails_exit_1():
    """Its unauthenticated list crashes, but the other preflight requests answer: a violation."""
    from mockserver.http.app import create_app

    with serve(UnauthenticatedListCrashes(create_app())) as base_url:
        result, report = kit(
            base_url, ["auth_required", "defaults_applied"], max_examples=3, seed=FIXED_SEEDS[0]
        )
    assert result.exit_code == 1, report
    assert result.fatal is None, report
    outcome = describe(result)
    assert outcome["failed"] == ["auth_required"] and outcome["passed"] == ["defaults_applied"], report
