"""JSON pointers (RFC 6901), written once: spec locations, request fields named in errors.

`join("#/paths", "/api/invoices", "post")` is `#/paths/~1api~1invoices/post`; `split` undoes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(token: Any) -> str:
    """One reference token: `~` as `~0`, `/` as `~1` (in that order, so `~1` stays literal)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(base: str, *tokens: Any) -> str:
    """`base` extended by `tokens`, each escaped."""
    return base + "".join(f"/{escape(token)}" for token in tokens)


def from_parts(parts: Iterable[Any]) -> str:
    """A pointer into a document (`/invoice_fields/a~1b/value`) from its path parts; `""` is the root."""
    return join("", *parts)


def split(pointer: str) -> tuple[str, ...]:
    """The unescaped reference tokens of `pointer` (a leading `#` is allowed)."""
    body = pointer.removeprefix("#")
    if not body:
        return ()
    return tuple(unescape(token) for token in body.removeprefix("/").split("/"))
