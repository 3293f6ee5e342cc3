"""The specs the mock serves, and how their operations are named.

Connexion's router names a routed operation so, and the mock's plans are keyed by that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Api:
    """One spec and the module whose functions serve its operations (named by operationId)."""

    spec: dict[str, Any]
    handlers: str


def operation_key(handlers: str, operation_id: str) -> str:
    """An operation's name: how Connexion's router names one that `RelativeResolver(handlers)` found."""
    return f"{handlers}.{operation_id}"
