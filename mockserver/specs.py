"""The specs the mock serves, and how their operations are named (the routers and plans agree on it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Api:
    """One spec and the module whose functions serve its operations (named by operationId)."""

    spec: dict[str, Any]
    handlers: str
    validated: bool = False  # already checked against the OpenAPI schema (a bundled spec)


def operation_key(handlers: str, operation_id: str) -> str:
    """An operation's name: how Connexion's router names one that `RelativeResolver(handlers)` found."""
    return f"{handlers}.{operation_id}"
