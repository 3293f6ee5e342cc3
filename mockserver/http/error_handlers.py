"""Refusals as HTTP: the status of each kind, the headers it needs, and the error envelope.

`{status: "error", status_code, message, errors: [{field, message, code}]}` (openapi.yaml,
ErrorEnvelope). The rules and layers raise `Refusal`s that name a kind; this is where a kind
becomes a status, where Starlette's HTTP errors and Connexion's problems (a response failing
`--validate-responses`) are translated, and where a bug becomes a logged 500 in the envelope.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from connexion.exceptions import ProblemException
from starlette.exceptions import HTTPException

from mockserver.domain.errors import Kind, Refusal

logger = logging.getLogger("mockserver")

STATUS: dict[Kind, int] = {
    "malformed": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "too_large": 413,
    "unsupported_media_type": 415,
    "invalid": 422,
    "full": 507,  # a mock-only status: not part of the contract
    "rate_limited": 429,
}
WWW_AUTHENTICATE = (b"www-authenticate", b"Bearer")


class AllowTable:
    """The `Allow` value of every documented path (with its servers' base path), by request path.

    Starlette's 405 lists only the methods of the one route it matched; the contract's `Allow`
    must list every method the path documents. The protocol layer asks it too, for methods its
    parser does not know.
    """

    def __init__(self, specs: list[dict[str, Any]]) -> None:
        self.rows: list[tuple[re.Pattern[str], str]] = []
        for spec in specs:
            servers: list[dict[str, str]] = spec.get("servers", [])
            base = (servers[0].get("url", "") if servers else "").rstrip("/")
            for path, item in spec.get("paths", {}).items():
                full = base + path if base.startswith("/") else path
                pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(full)) + "/?$"
                methods = sorted(m.upper() for m in item if m in {"get", "put", "post", "delete", "patch"})
                self.rows.append((re.compile(pattern), ", ".join(methods)))

    def lookup(self, path: str) -> str | None:
        return next((methods for pattern, methods in self.rows if pattern.match(path)), None)


def error_envelope(status: int, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"status": "error", "status_code": status, "message": message, "errors": errors or []}


def refusal_answer(
    refusal: Refusal, allow: AllowTable, path: str
) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
    status = STATUS[refusal.kind]
    headers = []
    if refusal.kind == "unauthenticated":
        headers.append(WWW_AUTHENTICATE)
    elif refusal.kind == "method_not_allowed":
        headers.append((b"allow", (allow.lookup(path) or "").encode()))
    if refusal.retry_after is not None:
        headers.append((b"retry-after", str(refusal.retry_after).encode()))
    return status, error_envelope(status, refusal.message, [e.as_dict() for e in refusal.errors]), headers


def answer_for(error: Exception, allow: AllowTable, path: str) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
    """(status, envelope, headers) for anything raised while a request was served."""
    if isinstance(error, Refusal):
        return refusal_answer(error, allow, path)
    if isinstance(error, HTTPException):
        kinds: dict[int, Kind] = {404: "not_found", 405: "method_not_allowed"}
        kind = kinds.get(error.status_code)
        if kind is not None:
            message = {404: "No such endpoint.", 405: "Method not allowed on this endpoint."}[
                error.status_code
            ]
            return refusal_answer(Refusal(kind, message), allow, path)
        detail = str(error.detail).rstrip(".") + "."
        return error.status_code, error_envelope(error.status_code, detail), []
    if isinstance(error, ProblemException):
        status, message = error.status, str(error.detail or error.title or "Request refused")
        if status >= 500:
            logger.error("%s", message)
        headers = [WWW_AUTHENTICATE] if status == 401 else []
        return status, error_envelope(status, message.rstrip(".") + "."), headers
    logger.exception("unexpected error", exc_info=error)
    return 500, error_envelope(500, "The mock failed unexpectedly; see its log."), []
