"""House rules every operation follows: it is authenticated, and its errors use the envelope.

OpenAPI allows a public operation or a bare-text 404; this API has neither (README, "The
contract"), and a spec edit that introduces one would silently change what the mock serves and
what the conformance kit accepts.
"""

from __future__ import annotations

import re
from typing import Any

from contract.spec import iter_operations, resolve_pointer
from contract.tooling.model import Tally, join, operation_pointer

ERROR_ENVELOPE = "#/components/schemas/ErrorEnvelope"
_ERROR_STATUS = re.compile(r"[45](?:\d\d|XX)")


def _requirement_problems(spec: dict[str, Any], pointer: str, requirements: Any, tally: Tally) -> None:
    """Problems of one `security` list: empty, anonymous, or naming an undefined scheme."""
    schemes = spec.get("components", {}).get("securitySchemes", {})
    if not requirements:
        tally.add(pointer, "security is empty, so the operation is public")
        return
    for index, requirement in enumerate(requirements):
        tally.checked += 1
        if not requirement:
            tally.add(join(pointer, index), "an empty security requirement lets anonymous callers in")
        for name in requirement:
            if name not in schemes:
                tally.add(join(pointer, index, name), f"names undefined security scheme {name!r}")


def check_security(spec: dict[str, Any]) -> Tally:
    """Each operation has a non-empty security requirement (its own or the global one)."""
    tally = Tally()
    if "security" in spec:
        _requirement_problems(spec, "#/security", spec["security"], tally)
    for path, method, operation in iter_operations(spec):
        tally.checked += 1
        pointer = operation_pointer(path, method)
        if "security" in operation:
            _requirement_problems(spec, join(pointer, "security"), operation["security"], tally)
        elif "security" not in spec:
            tally.add(pointer, "declares no security (neither its own `security` nor a global one)")
    return tally


def uses_envelope(spec: dict[str, Any], schema: Any, envelope: str = ERROR_ENVELOPE) -> bool:
    """Whether `schema` is the envelope: a `$ref` (chain) to it, or an `allOf` that includes it."""
    if not isinstance(schema, dict):
        return False
    if "$ref" in schema:
        return schema["$ref"] == envelope or uses_envelope(
            spec, resolve_pointer(spec, schema["$ref"]), envelope
        )
    return any(uses_envelope(spec, branch, envelope) for branch in schema.get("allOf", []))


def check_error_responses(spec: dict[str, Any], envelope: str = ERROR_ENVELOPE) -> Tally:
    """Each documented 4xx/5xx response has a body, and every body of it is the error envelope."""
    tally = Tally()
    for path, method, operation in iter_operations(spec):
        for status, response in operation.get("responses", {}).items():
            if not _ERROR_STATUS.fullmatch(str(status)):
                continue
            tally.checked += 1
            pointer = join(operation_pointer(path, method), "responses", status)
            via = f" (via {response['$ref']})" if "$ref" in response else ""
            while "$ref" in response:
                response = resolve_pointer(spec, response["$ref"])
            content = response.get("content", {})
            if not content:
                tally.add(pointer, f"error response has no body{via}; it must use {envelope}")
            elif not all(uses_envelope(spec, media.get("schema"), envelope) for media in content.values()):
                tally.add(pointer, f"error response does not use {envelope}{via}")
    return tally
