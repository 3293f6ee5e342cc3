"""Every refusal in the API's envelope: Connexion's problems, Starlette's HTTP errors, bugs.

Registered on the app by `register`, so no problem+json (Connexion's default) ever escapes.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from mockserver.errors import ApiError, error_envelope

logger = logging.getLogger("mockserver")


def _json(status: int, envelope: dict[str, Any], headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(envelope).encode(),
        mimetype="application/json",
        content_type="application/json",
        headers=headers or {},
    )


def _api_error(_request: ConnexionRequest, error: ApiError) -> ConnexionResponse:
    return _json(error.status, error.envelope(), error.headers)


def _problem(_request: ConnexionRequest, problem: ProblemException) -> ConnexionResponse:
    """Connexion's own problems (security, a response failing --validate-responses…) in the envelope."""
    status = problem.status
    headers = dict(problem.headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    message = str(problem.detail or problem.title or "Request refused")
    return _json(status, error_envelope(status, message.rstrip(".") + "."), headers)


def allowed_methods(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    """(path pattern, `Allow` header value) for every path of the spec.

    Starlette's 405 lists only the methods of the one route it matched; the contract's `Allow`
    must list every method the path documents.
    """
    table = []
    for path, item in spec.get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "/?$"
        methods = sorted(m.upper() for m in item if m in {"get", "put", "post", "delete", "patch"})
        table.append((re.compile(pattern), ", ".join(methods)))
    return table


def _http_error_handler(allow: list[tuple[re.Pattern[str], str]]) -> Any:
    def handle(request: ConnexionRequest, error: HTTPException) -> ConnexionResponse:
        """Starlette's HTTP errors (unknown path 404, wrong method 405) in the envelope."""
        headers = dict(error.headers or {})
        if error.status_code == 405:
            path = request.url.path
            headers["Allow"] = next((methods for pattern, methods in allow if pattern.match(path)), "")
        detail = {404: "No such endpoint", 405: "Method not allowed on this endpoint"}.get(error.status_code)
        message = detail or str(error.detail)
        return _json(error.status_code, error_envelope(error.status_code, f"{message}."), headers)

    return handle


def _unexpected(_request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    """A bug in the mock: logged with its traceback, answered in the envelope."""
    logger.exception("unexpected error", exc_info=error)
    return _json(500, error_envelope(500, "The mock failed unexpectedly; see its log."))


def register(app: AsyncApp, specs: list[dict[str, Any]]) -> None:
    app.add_error_handler(ApiError, _api_error)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(
        HTTPException, _http_error_handler([row for s in specs for row in allowed_methods(s)])
    )
    app.add_error_handler(Exception, _unexpected)
