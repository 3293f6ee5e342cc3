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


class AllowTable:
    """The `Allow` value of every documented path (with its servers' base path), by request path.

    Starlette's 405 lists only the methods of the one route it matched; the contract's `Allow`
    must list every method the path documents. The protocol layer asks it too, for methods its
    parser does not know.
    """

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.rows: list[tuple[re.Pattern[str], str]] = []
        for spec in specs:
            base = next(iter(spec.get("servers", [])), {}).get("url", "").rstrip("/")
            for path, item in spec.get("paths", {}).items():
                full = base + path if base.startswith("/") else path
                pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(full)) + "/?$"
                methods = sorted(m.upper() for m in item if m in {"get", "put", "post", "delete", "patch"})
                self.rows.append((re.compile(pattern), ", ".join(methods)))

    def lookup(self, path: str) -> str | None:
        return next((methods for pattern, methods in self.rows if pattern.match(path)), None)


def _http_error_handler(allow: AllowTable) -> Any:
    def handle(request: ConnexionRequest, error: HTTPException) -> ConnexionResponse:
        """Starlette's HTTP errors (unknown path 404, wrong method 405) in the envelope."""
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allow.lookup(request.url.path) or ""
        detail = {404: "No such endpoint", 405: "Method not allowed on this endpoint"}.get(error.status_code)
        message = detail or str(error.detail)
        return _json(error.status_code, error_envelope(error.status_code, f"{message}."), headers)

    return handle


def _unexpected(_request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    """A bug in the mock: logged with its traceback, answered in the envelope."""
    logger.exception("unexpected error", exc_info=error)
    return _json(500, error_envelope(500, "The mock failed unexpectedly; see its log."))


def register(app: AsyncApp, allow: AllowTable) -> None:
    app.add_error_handler(ApiError, _api_error)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(HTTPException, _http_error_handler(allow))
    app.add_error_handler(Exception, _unexpected)
