"""The API's error envelope, and the one exception type every layer raises to produce it.

`{status: "error", status_code, message, errors: [{field, message, code}]}`: rules, auth and
validation raise `ApiError`; the HTTP wiring renders it. Keeping the shape here means no layer
can answer outside the envelope by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
class ApiError(Exception):
    """A request refused with `status`; `message` is one readable sentence."""

    status: int
    message: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @classmethod
    def for_fields(cls, status: int, errors: list[FieldError], **kwargs: Any) -> ApiError:
        """The message names the first field and its rule, and counts the rest."""
        first = errors[0]
        message = f"{first.label}: {first.message}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return cls(status, message + ".", errors, **kwargs)

    @classmethod
    def for_field(cls, status: int, pointer: str, message: str, code: str, **kwargs: Any) -> ApiError:
        return cls.for_fields(status, [FieldError(pointer, message, code)], **kwargs)

    def envelope(self) -> dict[str, Any]:
        return error_envelope(self.status, self.message, [e.as_dict() for e in self.errors])


def error_envelope(status: int, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"status": "error", "status_code": status, "message": message, "errors": errors or []}


def success_envelope(data: Any) -> dict[str, Any]:
    return {"status": "success", "status_code": 200, "message": "Success", "data": data}


def unauthorized(reason: str) -> ApiError:
    return ApiError(401, f"Authorization: {reason}.", headers={"WWW-Authenticate": "Bearer"})
