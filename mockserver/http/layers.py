"""The mock's outer ASGI layers: every refusal in the envelope, and CORS only where it matters.

`EnvelopeLayer` is the one place an exception becomes an answer (through the one JSON writer,
mockserver/http/answers.py); `CrossOriginOnly` keeps CORS off the hot path, since CORS headers matter
only to requests a browser sent cross-origin (they carry `Origin`).
"""

from __future__ import annotations

import logging

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.answers import send_json
from mockserver.http.error_handlers import AllowTable, answer_for

logger = logging.getLogger("mockserver")


class EnvelopeLayer:
    """Anything raised below (a refusal, Starlette's 404/405, a Connexion problem, a bug) as the envelope."""

    def __init__(self, app: ASGIApp, allow: AllowTable) -> None:
        self.app, self.allow = app, allow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception as error:
            status, envelope, headers = answer_for(error, self.allow, scope["path"])
            try:
                await send_json(send, status, envelope, headers)
            except RuntimeError:  # the answer had started: the client sees the connection end
                logger.exception("error after the answer started", exc_info=error)


class CrossOriginOnly(CORSMiddleware):
    """Starlette's CORS, applied only to requests that carry an `Origin` header."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
