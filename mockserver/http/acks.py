"""Hold every answer until the changes its request made are on disk; 503 if they could not be.

The layer wraps the request's `send`: the response start of a request that recorded changes
(`mockserver.store.journal`) waits for their group's commit. If the commit failed, the changes were
undone, and the answer the handler built is replaced by a 503 in the envelope that says why.
A request that changed nothing passes straight through.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http.answers import send_json
from mockserver.http.error_handlers import error_envelope
from mockserver.store import journal
from mockserver.store.journal import Journal, WriteFailed

RETRY_AFTER_SECONDS = 1


def refusal(reason: str) -> dict[str, Any]:
    message = (
        f"The mock could not write this change to its state file ({reason}), so it did not make it; "
        "GET /__mock/health shows the state file's condition."
    )
    return error_envelope(503, message)


class DurableAcks:
    def __init__(self, app: ASGIApp, journal: Journal) -> None:
        self.app, self.journal = app, journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = journal.wait_for_changes_of_this_request()
        replaced = False

        async def send_when_durable(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the handler's own answer, replaced by the 503
            groups = journal.groups_of_this_request()
            if message["type"] == "http.response.start" and groups:
                try:
                    await self.journal.wait(groups)
                except WriteFailed as failure:
                    replaced = True
                    retry_after = (b"retry-after", str(RETRY_AFTER_SECONDS).encode())
                    await send_json(send, 503, refusal(str(failure)), [retry_after])
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_when_durable)
        finally:
            journal.stop_collecting(token)
