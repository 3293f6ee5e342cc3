"""Refusals, as the mock's rules and layers raise them: what was refused and why, never an HTTP status.

A `Refusal` names its kind (`forbidden`, `conflict`, …), one readable sentence and one
`FieldError` per broken rule. Which HTTP status each kind is, and how it is written (the API's
error envelope), is the wiring's business: `mockserver/http/error_handlers.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "malformed",  # not readable as a request: bad JSON, a body that is no object, a bad header value
    "unauthenticated",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "too_large",
    "unsupported_media_type",
    "invalid",  # readable, but breaks a rule of the schema or of the contract
    "full",  # the mock's own limits (store, sessions)
    "rate_limited",  # the key's rate limit is exceeded: `retry_after` says for how long
]


@dataclass(frozen=True)
class FieldError:
    """One broken rule: `field` is a JSON pointer into the body (`/currency`) or a parameter name."""

    field: str
    message: str
    code: str

    @property
    def label(self) -> str:
        """The field as a reader writes it: `invoice_fields.terms.value`, `per_page`."""
        return self.field.lstrip("/").replace("/", ".") or "body"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass
class Refusal(Exception):
    """A request refused for `kind`; `message` is one readable sentence."""

    kind: Kind
    message: str
    errors: list[FieldError] = field(default_factory=list)
    retry_after: int | None = None  # seconds, for `rate_limited`

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def for_fields(cls, kind: Kind, errors: list[FieldError]) -> Refusal:
        """The message names the first field and its rule, and counts the rest."""
        first = errors[0]
        message = f"{first.label}: {first.message}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return cls(kind, message + ".", errors)

    def under(self, prefix: str) -> Refusal:
        """The same refusal with every field prefixed, as an item of a bulk request (`/1/status`)."""
        errors = [FieldError(prefix + e.field, e.message, e.code) for e in self.errors]
        return Refusal.for_fields(self.kind, errors) if errors else self

    @classmethod
    def for_field(cls, kind: Kind, pointer: str, message: str, code: str) -> Refusal:
        return cls.for_fields(kind, [FieldError(pointer, message, code)])


def success_envelope(data: Any, message: str = "Success") -> dict[str, Any]:
    """The contract's success answer (its `status_code` is always 200)."""
    return {"status": "success", "status_code": 200, "message": message, "data": data}
