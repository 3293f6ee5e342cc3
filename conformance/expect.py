"""What a response must look like, as small functions that raise `Violation` with the evidence.

Shared by the properties and the stateful checks, so "a 200 invoice answer" or "a 403 naming
/owner_uid" means the same thing everywhere. Each function accepts exactly what the contract
allows and nothing less (no false alarms): e.g. a field error may name its field as a JSON
pointer (`/currency`) or a dotted path (`currency`), both of which the contract notes allow.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from conformance.client import Exchange
from conformance.core import Violation
from contract import exchanges, pointers


def envelope_problems(exchange: Exchange) -> list[str]:
    """Every way the response breaks the envelope rule (empty when it holds): the contract's one
    definition (contract/exchanges.py), which the mock's validating proxy applies too."""
    return exchanges.envelope_problems(exchange.status, exchange.header("content-type"), exchange.json)


def body_object(exchange: Exchange) -> dict[str, Any]:
    body = exchange.json
    if not isinstance(body, dict):
        raise Violation(f"the response body is not a JSON object: {exchange.text[:200]!r}", exchange)
    return body


def success(exchange: Exchange, what: str) -> dict[str, Any]:
    """The `data` of a 200 success envelope; a Violation naming `what` was expected otherwise."""
    if exchange.status != 200:
        raise Violation(f"{what}: expected HTTP 200, got {exchange.status}", exchange)
    body = body_object(exchange)
    if body.get("status") != "success" or body.get("status_code") != 200:
        raise Violation(
            f"{what}: HTTP 200 but the envelope says status={body.get('status')!r}, "
            f"status_code={body.get('status_code')!r}",
            exchange,
        )
    data = body.get("data")
    if not isinstance(data, dict):
        raise Violation(f"{what}: the success envelope has no data object", exchange)
    return data


def error(exchange: Exchange, statuses: set[int] | int, what: str) -> dict[str, Any]:
    """The error envelope of a refusal with one of `statuses`."""
    allowed = {statuses} if isinstance(statuses, int) else statuses
    if exchange.status not in allowed:
        expected = " or ".join(str(s) for s in sorted(allowed))
        raise Violation(f"{what}: expected HTTP {expected}, got {exchange.status}", exchange)
    body = body_object(exchange)
    if body.get("status") != "error" or not isinstance(body.get("errors"), list):
        raise Violation(f"{what}: HTTP {exchange.status} without the error envelope", exchange)
    return body


def field_path(field: Any) -> tuple[str, ...]:
    """`/invoice_fields/a~1b/value`, `invoice_fields.terms.value` or `per_page` as path parts."""
    if not isinstance(field, str):
        return ()
    if field.startswith("/"):
        return pointers.split(field)
    return tuple(field.split(".")) if field else ()


def names_field(envelope: dict[str, Any], offending: tuple[str, ...]) -> bool:
    """Whether an entry of `errors` names the offending field.

    The field itself counts, and so does a path within one step of it (the object missing a
    required member, or a member of the offending value), never the whole body.
    """
    for entry in envelope.get("errors") or []:
        if not isinstance(entry, dict):
            continue
        named = field_path(entry.get("field"))
        if not named:
            continue
        if named == offending:
            return True
        shorter, longer = sorted((named, offending), key=len)
        if longer[: len(shorter)] == shorter and len(shorter) >= max(1, len(offending) - 1):
            return True
    return False


def expect_field_error(exchange: Exchange, statuses: set[int] | int, offending: str, what: str) -> None:
    """A refusal with one of `statuses` whose `errors` name `offending` (a JSON pointer)."""
    envelope = error(exchange, statuses, what)
    if not names_field(envelope, field_path(offending)):
        named = [e.get("field") for e in envelope.get("errors") or [] if isinstance(e, dict)]
        raise Violation(f"{what}: no entry of errors names {offending} (errors name {named})", exchange)


def parse_instant(text: Any) -> datetime | None:
    """An RFC 3339 date-time as an aware datetime, or None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def same_instant(sent: str | None, returned: Any) -> bool:
    """Dates are compared as instants: `2026-03-30T02:00:00+02:00` is `2026-03-30T00:00:00Z`."""
    if sent is None:
        return returned is None
    left, right = parse_instant(sent), parse_instant(returned)
    return left is not None and right is not None and left == right


def canonical(value: Any) -> str:
    """One text per JSON value whatever its key order (precision row P25: any key order)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def same_multiset(left: list[Any], right: list[Any]) -> bool:
    """Lists whose order the contract leaves open (line_items, precision row P15) are equal when
    they hold the same items the same number of times."""
    return Counter(map(canonical, left)) == Counter(map(canonical, right))


def mapping(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else `{}` (a shape problem is reported where it matters)."""
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else `[]`."""
    return value if isinstance(value, list) else []
