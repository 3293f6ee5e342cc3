"""What the whole mock shares across sessions: the sessions themselves and the request log."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.http.request_log import RequestLog
from mockserver.store.state import Sessions


@dataclass
class Runtime:
    sessions: Sessions
    request_log: RequestLog
