"""Every OpenAPI link can be followed: its target exists, and every value it passes exists too.

Schemathesis follows links in stateful tests and clients follow them by hand, so a link to a
renamed operation, a parameter the target does not have, or a body field the response does not
carry is a broken promise even though the document is valid OpenAPI.
"""

from __future__ import annotations

import re
from typing import Any

from contract.spec import inline_refs, iter_operations, resolve_pointer
from contract.tooling.model import Tally, join, operation_pointer, unescape

_TCHAR = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
# OpenAPI 3.0.3, "Runtime Expressions" (ABNF), one alternative per group.
RUNTIME_EXPRESSION = re.compile(
    r"\$(?:url|method|statusCode"
    r"|(?P<where>request|response)\."
    rf"(?:header\.(?P<header>{_TCHAR}+)"
    r"|query\.(?P<query>[^{}\s]+)"
    r"|path\.(?P<path>[^{}\s]+)"
    r"|body(?:#(?P<pointer>(?:/(?:[^/~{}]|~[01])*)*))?))"
)
_EMBEDDED = re.compile(r"\{(\$[^}]*)\}")
_LOCATIONS = ("path", "query", "header", "cookie")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def expressions(value: Any) -> list[str] | None:
    """The runtime expressions in a link value (`[]` for a constant), or None when malformed."""
    if not isinstance(value, str):
        return []
    found = [value] if value.startswith("$") else _EMBEDDED.findall(value)
    return found if all(RUNTIME_EXPRESSION.fullmatch(item) for item in found) else None


def schema_has_pointer(schema: Any, tokens: list[str]) -> bool:
    """Whether a value valid against the inlined `schema` is documented to have `tokens` inside it."""
    if not tokens:
        return True
    if not isinstance(schema, dict):
        return False
    if any(
        schema_has_pointer(branch, tokens)
        for key in ("allOf", "anyOf", "oneOf")
        for branch in schema.get(key, [])
    ):
        return True
    head, rest = tokens[0], tokens[1:]
    if head in schema.get("properties", {}):
        return schema_has_pointer(schema["properties"][head], rest)
    if head.isdigit() and isinstance(schema.get("items"), dict):
        return schema_has_pointer(schema["items"], rest)
    extra = schema.get("additionalProperties")
    return isinstance(extra, dict) and schema_has_pointer(extra, rest)


def parameters(spec: dict[str, Any], path: str, operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The inlined parameters of an operation, its path item's included (the operation's win)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in [*spec["paths"][path].get("parameters", []), *operation.get("parameters", [])]:
        parameter = inline_refs(spec, parameter)
        merged[(parameter.get("in", ""), parameter.get("name", ""))] = parameter
    return list(merged.values())


def _body_schemas(holder: dict[str, Any]) -> list[Any]:
    return [media.get("schema", {}) for media in holder.get("content", {}).values()]


class _LinkChecker:
    """Checks the links of one response of one operation (the link's *source*)."""

    def __init__(self, spec: dict[str, Any], path: str, operation: dict[str, Any], response: dict[str, Any]):
        self.spec = spec
        self.source_parameters = parameters(spec, path, operation)
        self.request_schemas = _body_schemas(inline_refs(spec, operation.get("requestBody", {})))
        self.response = response
        self.targets = {op.get("operationId"): (p, op) for p, _m, op in iter_operations(spec)}

    def check(self, pointer: str, link: dict[str, Any], tally: Tally) -> None:
        tally.checked += 1
        target = self._target(pointer, link, tally)
        if target is not None:
            self._check_parameters(pointer, link.get("parameters", {}), target, tally)
        if "requestBody" in link:
            self._check_value(join(pointer, "requestBody"), link["requestBody"], tally)

    def _target(self, pointer: str, link: dict[str, Any], tally: Tally) -> tuple[str, dict[str, Any]] | None:
        if "operationId" in link and "operationRef" in link:
            tally.add(pointer, "a link names either operationId or operationRef, not both")
            return None
        if "operationId" in link:
            if link["operationId"] not in self.targets:
                tally.add(
                    join(pointer, "operationId"), f"no operation has operationId {link['operationId']!r}"
                )
                return None
            return self.targets[link["operationId"]]
        ref = link.get("operationRef")
        if not isinstance(ref, str):
            tally.add(pointer, "link names no target (neither operationId nor operationRef)")
            return None
        tokens = [unescape(token) for token in ref.removeprefix("#").strip("/").split("/")]
        if ref.startswith("#/paths/") and len(tokens) == 3 and tokens[2] in _METHODS:
            try:
                return tokens[1], resolve_pointer(self.spec, ref)
            except (KeyError, IndexError, TypeError):
                pass
        tally.add(join(pointer, "operationRef"), f"operationRef {ref!r} is not an operation of this document")
        return None

    def _check_parameters(
        self, pointer: str, given: dict[str, Any], target: tuple[str, dict[str, Any]], tally: Tally
    ) -> None:
        path, operation = target
        available = parameters(self.spec, path, operation)
        for key, value in given.items():
            tally.checked += 1
            location, _, name = key.partition(".") if key.split(".")[0] in _LOCATIONS else ("", "", key)
            if not any(p.get("name") == name and location in ("", p.get("in")) for p in available):
                label = operation.get("operationId", path)
                tally.add(
                    join(pointer, "parameters", key), f"target operation {label} has no parameter {key!r}"
                )
            self._check_value(join(pointer, "parameters", key), value, tally)
        supplied = {key.split(".")[-1] for key in given}
        for parameter in available:
            if parameter.get("in") == "path" and parameter.get("name") not in supplied:
                tally.add(
                    join(pointer, "parameters"), f"does not supply path parameter {parameter.get('name')!r}"
                )

    def _check_value(self, pointer: str, value: Any, tally: Tally) -> None:
        found = expressions(value)
        if found is None:
            tally.add(pointer, f"{value!r} is not a valid runtime expression")
            return
        for expression in found:
            missing = self._missing(RUNTIME_EXPRESSION.fullmatch(expression))
            if missing:
                tally.add(pointer, f"{expression} refers to {missing}")

    def _missing(self, match: re.Match[str] | None) -> str | None:
        """What an expression refers to that its source does not document, if anything."""
        if match is None or match["where"] is None:
            return None
        where = match["where"]
        if match["pointer"] is not None or match.group(0).endswith(".body"):
            schemas = self.request_schemas if where == "request" else _body_schemas(self.response)
            tokens = [unescape(token) for token in (match["pointer"] or "").split("/")[1:]]
            if not schemas:
                return f"a {where} body the operation does not document"
            if not any(schema_has_pointer(schema, tokens) for schema in schemas):
                return f"a {where} body field its schema does not have"
            return None
        location, name = next((loc, match[loc]) for loc in ("header", "query", "path") if match[loc])
        if where == "response":
            if location != "header":
                return f"a response {location} parameter, which responses do not have"
            headers = {header.lower() for header in self.response.get("headers", {})}
            return None if name.lower() in headers else "a response header the response does not declare"
        fold = str.lower if location == "header" else str  # header names are case-insensitive
        known = any(
            p.get("in") == location and fold(str(p.get("name"))) == fold(name) for p in self.source_parameters
        )
        return None if known else f"a {location} parameter the operation does not have"


def check_links(spec: dict[str, Any]) -> Tally:
    """Every link of every response (inline or `$ref`d), reported under the operation's pointer."""
    tally = Tally()
    for path, method, operation in iter_operations(spec):
        for status, response in operation.get("responses", {}).items():
            response = inline_refs(spec, response)
            checker = _LinkChecker(spec, path, operation, response)
            for name, link in response.get("links", {}).items():
                pointer = join(operation_pointer(path, method), "responses", status, "links", name)
                checker.check(pointer, inline_refs(spec, link), tally)
    return tally
