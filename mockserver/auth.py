"""Bearer authentication against the fixtures' users.

The token table is the fixtures' (`World.users`); the contract's security scheme is `http`
`bearer`. A refusal says why (missing, not `Bearer <token>`, unknown) and is a 401 with
`WWW-Authenticate: Bearer` (mockserver/error_handlers.py).
"""

from __future__ import annotations

from mockserver.errors import Refusal
from mockserver.fixtures import User


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
