"""Bearer authentication against the fixtures' users, plugged into Connexion's security layer.

Connexion's stock bearer handler needs `x-bearerInfoFunc` in the spec (which would tie the
contract to this mock) and answers problem+json. This handler is handed the token table by the
app factory and raises the API's own 401, with `WWW-Authenticate: Bearer` and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.security import BearerSecurityHandler

from mockserver.errors import unauthorized
from mockserver.fixtures import User


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


def bearer_handler(users: Callable[[], dict[str, User]]) -> type[BearerSecurityHandler]:
    """A Connexion security handler class bound to the current token table."""

    class FixtureBearer(BearerSecurityHandler):
        def get_fn(self, security_scheme: dict[str, Any], required_scopes: Any) -> Callable[..., Any]:
            async def verify(request: Any, required_scopes: Any = None) -> dict[str, Any]:
                user = user_for(request.headers.get("authorization"), users())
                return {"sub": user.token, "user": user}

            return verify

    return FixtureBearer
