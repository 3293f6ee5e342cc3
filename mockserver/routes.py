"""The mock's own router for the specs' operations: a dict for fixed paths, one regex per templated one.

Routing every request through Connexion would mean importing it before the first answer, and
its import is most of the mock's start-up time; the operations' paths are few and fixed by the
specs, so the mock matches them itself. What it does not match (Swagger UI, `/openapi.json`,
unknown paths, a documented path with another method) goes on to the Connexion app
(mockserver/connexion_fence.py), which answers it or raises the 404/405 the envelope layer writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from mockserver.dispatch import Plan
from mockserver.specs import Api, operation_key

METHODS = {"get", "put", "post", "delete", "patch"}


class Routes:
    """(method, path) -> the operation's `Plan` and its path parameters."""

    def __init__(self, apis: Sequence[Api], plans: dict[str, Plan]) -> None:
        self.fixed: dict[tuple[str, str], Plan] = {}
        self.templated: list[tuple[str, re.Pattern[str], Plan]] = []
        for api in apis:
            servers = api.spec.get("servers") or [{"url": ""}]
            base = urlsplit(servers[0].get("url", "")).path.rstrip("/")
            for path, item in api.spec.get("paths", {}).items():
                for method, op in item.items():
                    if method not in METHODS or "operationId" not in op:
                        continue
                    plan = plans[operation_key(api.handlers, op["operationId"])]
                    if "{" not in path:
                        self.fixed[(method.upper(), base + path)] = plan
                        continue
                    pattern = re.sub(
                        r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}", r"(?P<\1>[^/]+)", re.escape(base + path)
                    )
                    self.templated.append((method.upper(), re.compile(pattern + "$"), plan))

    def match(self, method: str, path: str) -> tuple[Plan, dict[str, str]] | None:
        plan = self.fixed.get((method, path))
        if plan is not None:
            return plan, {}
        for wanted, pattern, plan in self.templated:
            if wanted == method:
                found = pattern.match(path)
                if found:
                    return plan, found.groupdict()
        return None
