"""The contract's bearer scheme as a Connexion security handler (`security_map={"bearer": ...}`).

Connexion's `SecurityMiddleware` runs it for every operation whose `security` names the `http`
`bearer` scheme, right after routing: the token is looked up in the fixtures' users (the world
of the moment: `PUT /__mock/fixtures` replaces it), and a refusal is the mock's own 401, which
says why (mockserver/http/auth.py). Connexion keeps what the handler returns as the request's
`token_info` (in `scope["extensions"]["connexion_context"]`); the user is read from there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.security import BearerSecurityHandler
from starlette.types import Scope

from mockserver.domain.fixtures import User
from mockserver.http import auth
from mockserver.http.call import header
from mockserver.http.runtime import Runtime

CONTEXT = "connexion_context"  # where Connexion keeps a request's `token_info`
USER = "mockserver_user"  # the key of the user in that `token_info`


class FixtureBearer(BearerSecurityHandler):
    """`Authorization: Bearer <token>` against the fixtures' users."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def get_fn(self, security_scheme: dict[str, Any], required_scopes: list[str]) -> Callable[..., Any]:
        """The verification Connexion calls with each request (scopes are `x-scopes`, checked after)."""
        sessions = self.runtime.sessions

        def verify(request: ConnexionRequest) -> dict[str, Any]:
            user = auth.user_for(header(request.scope, b"authorization"), sessions.world.users)
            return {"sub": user.token, USER: user}

        return verify


def security_map(runtime: Runtime) -> dict[str, Any]:
    """Connexion's `security_map`: its factory builds each handler without arguments."""
    return {"bearer": partial(FixtureBearer, runtime)}


def user_of(scope: Scope) -> User | None:
    """The user Connexion's security stage authenticated (None for an operation without security)."""
    token_info = scope.get("extensions", {}).get(CONTEXT, {}).get("token_info")
    return token_info.get(USER) if token_info else None
