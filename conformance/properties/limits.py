"""Rate limits: a key over its limit is answered 429 with Retry-After, in the error envelope."""

from __future__ import annotations

import time

from conformance import expect
from conformance.core import Context, NotRun, Violation, prop
from conformance.properties.lifecycle import served


@prop("rate_limit_answers_429", kind="auth", rows=("P22",))
def rate_limit_answers_429(ctx: Context) -> None:
    """A key the profile says is limited to N requests per window gets a 429 with a Retry-After of
    whole seconds, in the error envelope, within 2N + 1 requests sent at once after another.

    Rule: openapi.yaml #/components/responses/TooManyRequests (Retry-After required, integer seconds) and
    precision row P22 (any operation may answer 429; when is the server's). 2N + 1 requests sent in less
    than one window put N + 1 in one fixed window whatever its start, so the answer cannot depend on
    when the run began or on earlier runs (the kit never waits out a limit here: no retry)
    """
    try:
        served(ctx, "update_invoice")
    except NotRun as reason:  # per-key limits came with the lifecycle (issue 13), like key scopes
        raise NotRun(f"{reason}; per-key rate limits came with the lifecycle operations") from None
    limited = [user for user in ctx.profile.limited_users() if user.rate_limit is not None]
    if not limited:
        raise NotRun(
            "the profile names no key with a rate_limit (a user with rate_limit: {requests, window_seconds})"
        )
    user = limited[0]
    assert user.rate_limit is not None
    window = user.rate_limit.window_seconds
    started = time.monotonic()
    answers = []
    for _ in range(2 * user.rate_limit.requests + 1):
        answers.append(ctx.client.request("GET", "/api/invoices", token=user.token, retry=False))
        if answers[-1].status == 429:
            break
    if time.monotonic() - started >= user.rate_limit.window_seconds:
        raise NotRun(f"the {len(answers)} requests took longer than the key's window of {window} s")
    limited_answer = answers[-1]
    if limited_answer.status != 429:
        raise Violation(
            f"{len(answers)} requests with a key limited to {user.rate_limit.requests} per "
            f"{window} s were all answered (HTTP {sorted({a.status for a in answers})}); one must be 429",
            *answers[-2:],
        )
    expect.error(limited_answer, 429, "a request over the key's rate limit")
    retry_after = (limited_answer.header("retry-after") or "").strip()
    if not retry_after.isdigit():
        raise Violation(
            "a 429 must carry Retry-After as a number of seconds; got "
            f"{limited_answer.header('retry-after')!r}",
            limited_answer,
        )
