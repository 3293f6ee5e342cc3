"""Precision row P22: a 429 with Retry-After is waited out and retried; a property still rate
limited after the retries is *not run* with that reason (never failed, never passed)."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.client import RATE_LIMIT_RETRIES, Client, RateLimited
from conformance.core import Property, Violation
from conformance.runner import NOT_RUN, RunConfig, build_context, run_property
from tests.servers import serve
from tests.world import SPEC_PATH

pytestmark = pytest.mark.e2e


def limited_app(limited_answers: int) -> Starlette:
    """Answers 429 (Retry-After: 0) to its first `limited_answers` requests, then 200."""
    seen = {"count": 0}

    async def invoices(request: Request) -> Response:
        seen["count"] += 1
        if seen["count"] <= limited_answers:
            body = {"status": "error", "status_code": 429, "message": "Slow down.", "errors": []}
            return Response(json.dumps(body), 429, {"Retry-After": "0"}, "application/json")
        body = {"status": "success", "status_code": 200, "message": "Success", "data": {"items": []}}
        return Response(json.dumps(body), 200, media_type="application/json")

    return Starlette(routes=[Route("/api/invoices", invoices)])


def test_a_429_with_retry_after_is_retried():
    with serve(limited_app(RATE_LIMIT_RETRIES)) as url, Client(url) as client:
        assert client.list("token").status == 200


def test_a_property_still_rate_limited_is_not_run_with_the_reason():
    with serve(limited_app(10**6)) as url:
        ctx = build_context(RunConfig(spec_path=SPEC_PATH, base_url=url, seed=1))

        def check(ctx):
            """Lists.

            Rule: none (a test property)
            """
            exchange = ctx.client.list("token")
            raise Violation(f"unexpected answer {exchange.status}", exchange)

        with pytest.raises(RateLimited):
            ctx.client.list("token")
        result = run_property(ctx, Property("limited", "test", check))
        ctx.client.close()
    assert result.status == NOT_RUN
    assert "429" in result.message and "Retry-After" in result.message
