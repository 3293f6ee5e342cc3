"""`Prefer` scenarios: make the mock answer a documented response on demand.

A frontend developer building the "duplicate number" screen should not have to stage a
duplicate: `Prefer: code=409` answers the operation's documented 409 with its example body,
`Prefer: example=NAME` answers the documented example of that name, and `Prefer: delay=MS`
holds any response back (at most `MAX_DELAY_MS`). Without the header the mock behaves for real.
An undocumented code or unknown example name is a 400 that lists what is documented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from contract.spec import inline_refs, iter_operations
from mockserver.domain.errors import Refusal

MAX_DELAY_MS = 30_000
_STATUS = re.compile(r"[1-5][0-9][0-9]")
_DELAY = re.compile(r"[0-9]{1,9}")
_PREFERENCE = re.compile(r'\s*([A-Za-z_-]+)\s*=\s*("([^"]*)"|[^\s,;]+)\s*')


@dataclass(frozen=True)
class Canned:
    status: int
    body: Any
    headers: tuple[tuple[bytes, bytes], ...]


def preferences(header_values: list[str]) -> dict[str, str]:
    """`code=422, delay=100` (RFC 7240: comma-separated, quoted values allowed, repeatable header)."""
    found: dict[str, str] = {}
    for value in header_values:
        for part in value.split(","):
            match = _PREFERENCE.fullmatch(part.split(";", 1)[0]) if part.strip() else None
            if match:
                found[match.group(1).lower()] = (
                    match.group(3) if match.group(3) is not None else match.group(2)
                )
    return found


def documented_headers(response: dict[str, Any]) -> tuple[tuple[bytes, bytes], ...]:
    """Each documented header of a response with its documented example.

    `WWW-Authenticate: Bearer` on a 401, `Retry-After: 60` on a 429: a canned answer carries the
    headers the contract promises with it, not only its body.
    """
    found = []
    for name, header in response.get("headers", {}).items():
        example = header.get("example", header.get("schema", {}).get("example"))
        if example is not None:
            found.append((name.lower().encode(), str(example).encode()))
    return tuple(found)


def canned_responses(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per operationId: `codes` {status: Canned (first example)} and `examples` {name: Canned}."""
    table: dict[str, dict[str, Any]] = {}
    for _path, _method, op in iter_operations(spec):
        codes: dict[int, Canned] = {}
        examples: dict[str, Canned] = {}
        for status_text, response in op.get("responses", {}).items():
            if not status_text.isdigit():
                continue
            status = int(status_text)
            response = inline_refs(spec, response)
            headers = documented_headers(response)
            media = response.get("content", {}).get("application/json", {})
            named = {name: ex["value"] for name, ex in media.get("examples", {}).items() if "value" in ex}
            for name, value in named.items():
                examples[name] = Canned(status, value, headers)
            first = media["example"] if "example" in media else next(iter(named.values()), None)
            if first is not None:
                codes[status] = Canned(status, first, headers)
        table[op["operationId"]] = {"codes": codes, "examples": examples}
    return table


@dataclass(frozen=True)
class Scenario:
    """What a request's `Prefer` header asks for: a canned answer (or None), after a delay."""

    canned: Canned | None
    delay_ms: int
    applied: str  # the `Preference-Applied` value: the code/example preferences honoured


def scenario(prefer: list[str], operation: dict[str, Any] | None) -> Scenario | None:
    """The scenario a request asks for (None without a `Prefer` the mock knows).

    `operation` is the canned table of the routed operation (`canned_responses`), None for an
    operation outside the contract (the control API).
    """
    wanted = preferences(prefer)
    if not wanted:
        return None
    canned = _choose(wanted, operation)
    delay = _delay_ms(wanted["delay"]) if "delay" in wanted else 0
    applied = ", ".join(f"{k}={wanted[k]}" for k in ("code", "example") if k in wanted)
    return Scenario(canned, delay, applied)


def _choose(wanted: dict[str, str], operation: dict[str, Any] | None) -> Canned | None:
    if "code" not in wanted and "example" not in wanted:
        return None
    if operation is None:
        raise Refusal("malformed", "Prefer: code and example apply to the contract's operations only.")
    codes, examples = operation["codes"], operation["examples"]
    if "example" in wanted:
        canned = examples.get(wanted["example"])
        if canned is None or ("code" in wanted and str(canned.status) != wanted["code"]):
            known = ", ".join(f"{name} ({c.status})" for name, c in sorted(examples.items())) or "none"
            raise Refusal(
                "malformed",
                f"Prefer: no documented example {wanted['example'][:60]!r}"
                f"{' for code ' + wanted['code'][:20] if 'code' in wanted else ''}; documented: {known}.",
            )
        return canned
    code = wanted["code"]
    canned = codes.get(int(code)) if _STATUS.fullmatch(code) else None
    if canned is None:
        known = ", ".join(str(status) for status in sorted(codes))
        raise Refusal(
            "malformed",
            f"Prefer: code={code[:20]} is not a documented response of this operation; documented: {known}.",
        )
    return canned


def _delay_ms(text: str) -> int:
    # ASCII digits only, and few of them: str.isdigit() takes "²", and int() refuses 4,301 digits.
    if not _DELAY.fullmatch(text) or int(text) > MAX_DELAY_MS:
        raise Refusal(
            "malformed",
            f"Prefer: delay must be a whole number of milliseconds from 0 to {MAX_DELAY_MS}, "
            f"got {text[:20]!r}.",
        )
    return int(text)
