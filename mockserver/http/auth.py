"""Bearer authentication against the fixtures' users.

The token table is the fixtures' (`World.users`); the contract's security scheme is `http`
`bearer`. A refusal says why (missing, not `Bearer <token>`, unknown) and is a 401 with
`WWW-Authenticate: Bearer` (mockserver/http/error_handlers.py). A key's `scopes` decide what it may
do (403, P74) and its `rate_limit` how often (429 with `Retry-After`, P22).
"""

from __future__ import annotations

from datetime import datetime

from mockserver.domain.errors import FieldError, Refusal
from mockserver.domain.fixtures import User
from mockserver.domain.limits import RateWindows

# The reference's words (openapi.yaml KeyLacksPermission).
LACKS_PERMISSION = "Key lacks permission for the resource."


def unauthorized(reason: str) -> Refusal:
    return Refusal("unauthenticated", f"Authorization: {reason}.")


def user_for(authorization: str | None, users: dict[str, User]) -> User:
    """The user an `Authorization` header names; 401 with the reason otherwise."""
    if not authorization:
        raise unauthorized("missing bearer token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("expected 'Bearer <token>'")
    user = users.get(token)
    if user is None:
        raise unauthorized("unknown bearer token")
    return user


def needs_bearer(spec: dict, operation: dict) -> bool:
    """Whether the operation requires a bearer token (its own `security`, else the spec's)."""
    requirements = operation.get("security", spec.get("security", []))
    return any(requirements)


def lacks_permission(needed: frozenset[str]) -> Refusal:
    wanted = " or ".join(sorted(needed))
    return Refusal(
        "forbidden",
        LACKS_PERMISSION,
        [FieldError("Authorization", f"the key's scopes lack {wanted}", "scope")],
    )


def admit(user: User, windows: RateWindows, now: datetime) -> None:
    """429 once the key is over its rate limit in the current window (`Retry-After`: until it ends)."""
    assert user.rate_limit is not None
    wait = windows.admit(user.token, user.rate_limit.requests, user.rate_limit.window_seconds, now)
    if wait is not None:
        raise Refusal(
            "rate_limited",
            f"Too many requests: this key may make {user.rate_limit.requests} per "
            f"{user.rate_limit.window_seconds} seconds; retry after {wait} seconds.",
            [FieldError("Authorization", f"over the key's rate limit for {wait} more seconds", "rate_limit")],
            retry_after=wait,
        )
