"""The second server's plumbing, free of state: refusals, JSON answers in its own style, strict JSON
parsing, schema problems as `(field, message, code)` and the few calculations on dates and cents."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.responses import Response

from contract import pointers

ASCII_BLANK = " \t\n\r\f\v"
MAX_DEPTH = 64
UID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Problem = tuple[str, str, str]  # (field as a JSON pointer, message, code)


class Refusal(Exception):
    """A 4xx answer in the error envelope, raised wherever a rule is broken."""

    def __init__(self, status: int, message: str, *errors: Problem, headers: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors
        self.headers = headers or {}

    def under(self, prefix: list[Any]) -> Refusal:
        """The same refusal with every field below `prefix` (an item of a bulk request: `/1/status`)."""
        errors = [
            (pointers.from_parts(prefix) + field, message, code) for field, message, code in self.errors
        ]
        return Refusal(self.status, self.message, *errors, headers=self.headers)


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """Every JSON answer: sorted keys (another key order), an extra member, charset=utf-8 (P25)."""
    body = {**body, "served_by": "second-server"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    return Response(
        text, status, {"X-Server": "second", **(headers or {})}, "application/json; charset=utf-8"
    )


def refusal(error: Refusal) -> Response:
    errors = [{"field": f, "message": m, "code": c, "hint": "see openapi.yaml"} for f, m, c in error.errors]
    body = {"status": "error", "status_code": error.status, "message": error.message, "errors": errors}
    return answer(error.status, body, error.headers)


def success(data: Any, message: str = "Success") -> Response:
    return answer(200, {"status": "success", "status_code": 200, "message": message, "data": data})


def utc_text(value: str | None) -> str | None:
    """The same instant, in this server's textual form: UTC with `+00:00` (P23)."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.strip().upper().replace("Z", "+00:00"))
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # an instant before 0001-01-01 UTC (`0001-01-01T00:00:05+01:00`): as sent
        return value


def depth(value: Any) -> int:
    """How deep arrays and objects nest (iteratively: a deep value must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in children)
    return deepest


def whole_cents(amount: Decimal) -> int:
    """An exact amount of cents rounded half up to a whole cent (P09)."""
    return int(amount.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def days_since(text: str | None, now: datetime) -> int:
    if text is None:
        return 0
    instant = datetime.fromisoformat(text)
    return max(0, (now - instant).days)


def decimals(number: int | float) -> int:
    """How many decimals a JSON number has once its float noise is gone (`0.12345` → 5, `2.0` → 0)."""
    exponent = Decimal(repr(number)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def parse_json(raw: bytes, kinds: tuple[type, ...]) -> Any:
    """The body as JSON of one of `kinds` (`dict`, `list`), else `400`: malformed, a repeated key (P32),
    NaN/Infinity, a number too large for a float, text that is not Unicode, nesting past 64 levels."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise Refusal(400, "A JSON object repeats a key.")  # P32
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise Refusal(400, f"{name} is not JSON.")

    def finite(text: str) -> float:
        value = float(text)
        if math.isinf(value):
            raise Refusal(400, f"The number {text[:20]} is too large.")
        return value

    try:
        text = raw.decode("utf-8")
        body = json.loads(
            text, object_pairs_hook=no_duplicates, parse_constant=no_constant, parse_float=finite
        )
    except (UnicodeError, ValueError, RecursionError):
        raise Refusal(400, "The body is not well-formed JSON.") from None
    if not isinstance(body, kinds):
        names: dict[type, str] = {dict: "a JSON object", list: "a JSON array"}
        wanted = " or ".join(names[kind] for kind in kinds)
        raise Refusal(400, f"The body must be {wanted}.")
    if depth(body) > MAX_DEPTH:
        raise Refusal(400, f"The JSON nests deeper than {MAX_DEPTH} levels.")
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeError:
        raise Refusal(400, "The body holds text that is not Unicode.") from None
    return body


def schema_problems(validator: Any, body: Any) -> list[Problem]:
    """What the compiled validator finds, each named by its JSON pointer (P47).

    `uniqueItems` is left to the callers, which name the repeated item itself (`/1`) where the
    validator could only name the whole array; and they compare uids case-insensitively (P12).
    """
    problems = []
    for error in validator.iter_errors(body):
        if type(error.kind).__name__ == "UniqueItems":
            continue
        path = [str(part) for part in error.instance_path]
        message = error.message
        missing = re.match(r'^"(.+)" is a required property', message)
        unexpected = getattr(error.kind, "unexpected", None)  # AdditionalProperties: the names
        if unexpected is not None:
            for name in unexpected:  # any name at all, quotes and newlines included
                problems.append((pointers.from_parts([*path, name]), "not a field of the request", "extra"))
            continue
        if missing:
            path = [*path, missing.group(1)]
        problems.append((pointers.from_parts(path), message, "bad"))
    return problems


def repeated(values: list[str]) -> int | None:
    """The index of the last value seen before it (compared case-insensitively), if any: of several
    refused items this server names the last (P62)."""
    seen: set[str] = set()
    last = None
    for index, value in enumerate(values):
        if value.lower() in seen:
            last = index
        seen.add(value.lower())
    return last


def upper_currency(item: dict[str, Any]) -> None:
    """P30: other 3-character currencies are stored upper-cased (this server's reading), ASCII
    letters only: Unicode upper-casing can change a string's length (`"ß".upper()` is `"SS"`), and a
    stored currency must stay exactly 3 characters."""
    currency = item.get("currency")
    if isinstance(currency, str) and len(currency) == 3 and currency.isascii():
        item["currency"] = currency.upper()


def field_value(entry: dict[str, Any]) -> dict[str, Any]:
    """A request's `{type, value}` as stored: `type` lower-cased (P13), `original_type` as sent."""
    return {"type": entry["type"].lower(), "original_type": entry["type"], "value": entry["value"]}
