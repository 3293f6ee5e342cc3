"""Schemas that OpenAPI 3.0.3 allows to be read two ways, which the widely used tools refuse.

OpenAPI 3.0.3 gives `nullable: true` a meaning only beside `type` ("adds null to the allowed
types"); every other keyword keeps refusing `null`. Tools disagree on the rest: Ajv (inside Prism)
refuses to compile `nullable` without `type` and Prism then validates nothing that reaches it,
Redocly and Spectral report it as an error, and Specmatic reads it as "null only" and fails on
every example. So `spec check` refuses the readings tools disagree on:

- `nullable` without `type`: for a value that may be any JSON value, `null` included, write a
  schema without `type` (and without `nullable`);
- `nullable` beside an `enum` that does not list `null`: the enum still refuses `null`;
- `$ref` with sibling keywords: OpenAPI 3.0 ignores them, some tools apply them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contract.spec import iter_operations
from contract.tooling.model import Tally, join

# Keywords that may stand beside `$ref` without changing what it means (documentation only).
_REF_DOC_SIBLINGS = frozenset({"description", "summary"})


def _nested(pointer: str, schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, sub in schema.get("properties", {}).items():
        yield join(pointer, "properties", name), sub
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            yield join(pointer, key), schema[key]
    for key in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(schema.get(key, [])):
            yield join(pointer, key, index), sub


def _walk(pointer: str, schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(schema, dict):
        return
    yield pointer, schema
    if "$ref" not in schema:
        for where, sub in _nested(pointer, schema):
            yield from _walk(where, sub)


def _holder_schemas(pointer: str, holder: Any) -> Iterator[tuple[str, Any]]:
    """The schemas of a parameter, header, request body or response (its content and headers)."""
    if not isinstance(holder, dict):
        return
    if "schema" in holder:
        yield join(pointer, "schema"), holder["schema"]
    for media_type, media in holder.get("content", {}).items():
        if isinstance(media, dict) and "schema" in media:
            yield join(pointer, "content", media_type, "schema"), media["schema"]
    for name, header in holder.get("headers", {}).items():
        yield from _holder_schemas(join(pointer, "headers", name), header)


def iter_schema_objects(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, schema) for every Schema Object written in the document, `$ref`s not followed."""
    roots: list[tuple[str, Any]] = []
    components = spec.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        roots.append((join("#/components/schemas", name), schema))
    for kind in ("parameters", "headers", "requestBodies", "responses"):
        for name, holder in components.get(kind, {}).items():
            roots.extend(_holder_schemas(join("#/components", kind, name), holder))
    for path, item in spec.get("paths", {}).items():
        for index, parameter in enumerate(item.get("parameters", [])):
            roots.extend(_holder_schemas(join("#/paths", path, "parameters", index), parameter))
    for path, method, op in iter_operations(spec):
        base = join("#/paths", path, method)
        for index, parameter in enumerate(op.get("parameters", [])):
            roots.extend(_holder_schemas(join(base, "parameters", index), parameter))
        roots.extend(_holder_schemas(join(base, "requestBody"), op.get("requestBody")))
        for status, response in op.get("responses", {}).items():
            roots.extend(_holder_schemas(join(base, "responses", status), response))
    for pointer, schema in roots:
        yield from _walk(pointer, schema)


def check_portability(spec: dict[str, Any]) -> Tally:
    tally = Tally()
    for pointer, schema in iter_schema_objects(spec):
        tally.checked += 1
        if "$ref" in schema:
            extra = sorted(set(schema) - {"$ref"} - _REF_DOC_SIBLINGS)
            if extra:
                tally.add(
                    pointer,
                    f"keywords beside $ref ({', '.join(extra)}) are ignored by OpenAPI 3.0.3 and applied "
                    "by some tools; move them into the referenced schema or wrap the $ref in allOf",
                )
            continue
        if schema.get("nullable") is True and "type" not in schema:
            tally.add(
                join(pointer, "nullable"),
                "nullable without type has no meaning in OpenAPI 3.0.3 and Prism, Redocly, Spectral and "
                "Specmatic refuse it; a value that may be any JSON value, null included, is a schema "
                "without type (and without nullable)",
            )
        elif schema.get("nullable") is True and "enum" in schema and None not in schema["enum"]:
            tally.add(
                join(pointer, "enum"),
                "nullable beside an enum without null: under OpenAPI 3.0.3 the enum still refuses null; "
                "list null among its values or drop nullable",
            )
    return tally
