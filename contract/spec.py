"""The contract, `openapi.yaml`, as Python data.

Everything that knows a schema, a default or an enum asks this module instead of restating it:
the mock's validators and rules, the conformance kit and the spec tooling all read the one file.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from contract.pointers import join, split

SPEC_FILENAME = "openapi.yaml"
# libyaml's loader parses the spec ~10x faster than the pure-Python one: it is on the start path.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_spec_path() -> Path:
    """Where `openapi.yaml` is: beside the package in a checkout, inside it when installed.

    The wheel ships a copy as `contract/openapi.yaml`; an editable install or a plain checkout
    reads the repository's top-level file, so an edit to the spec takes effect without a reinstall.
    """
    checkout_copy = Path(__file__).resolve().parent.parent / SPEC_FILENAME
    if checkout_copy.is_file():
        return checkout_copy
    return Path(str(resources.files("contract") / SPEC_FILENAME))


def default_fixtures_path() -> Path:
    """The shared test world (tokens, organizations, parties, documents, blueprints).

    One file serves the mock (its world), the conformance kit (its default profile, which fits the
    mock out of the box), the tests and README.
    """
    return Path(__file__).resolve().parent / "fixtures" / "default.yaml"


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_SafeLoader)


def load_spec(path: str | Path) -> dict[str, Any]:
    """The parsed spec at `path` (a fresh deep copy: callers may mutate it).

    No default: which spec a process serves or checks is chosen by its entry point (`--spec`, else
    `default_spec_path()`), and everything below reads the one it was given.
    """
    resolved = Path(path)
    return copy.deepcopy(_load_cached(str(resolved), resolved.stat().st_mtime_ns))


def resolve_pointer(document: Any, pointer: str) -> Any:
    """Follow a local JSON pointer (`#/components/schemas/Invoice`) inside `document`."""
    node = document
    for part in split(pointer):
        if not part:
            continue
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def inline_refs(spec: dict[str, Any], node: Any) -> Any:
    """`node` with every local `$ref` replaced by a copy of its target (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return inline_refs(spec, resolve_pointer(spec, node["$ref"]))
        return {key: inline_refs(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [inline_refs(spec, item) for item in node]
    return node


_OAS_ONLY_KEYWORDS = frozenset(
    {"nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "deprecated"}
)


def to_json_schema(schema: Any) -> Any:
    """An inlined OpenAPI 3.0 schema as plain JSON Schema (draft 4 keywords), with 3.0.3's meaning.

    OpenAPI 3.0.3's `nullable: true` "adds null to the allowed types specified by the type
    keyword, only if type is explicitly defined within the same Schema Object"; every other
    keyword keeps its meaning. So it becomes `null` added to `type` and nothing else: an `enum`
    refuses `null` unless it lists it, an `allOf` whose branches refuse `null` still does, and a
    schema without `type` accepts every value, `null` included, with or without `nullable`.
    (`spec check` refuses the last two spellings, which tools read differently.)
    """
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OAS_ONLY_KEYWORDS:
            continue
        if key in ("properties", "patternProperties"):
            converted[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            converted[key] = to_json_schema(value)
        else:
            converted[key] = value
    if schema.get("nullable") is True and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def iter_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation of the spec."""
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                yield path, method, operation


def operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for _path, _method, candidate in iter_operations(spec):
        if candidate.get("operationId") == operation_id:
            return candidate
    raise KeyError(f"no operation {operation_id!r} in the spec")


def request_body_schema(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """The inlined JSON request body schema of an operation, still in OpenAPI 3.0 form."""
    body = operation(spec, operation_id)["requestBody"]
    body = inline_refs(spec, body)
    return body["content"]["application/json"]["schema"]


def component_schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """A named component schema, inlined, still in OpenAPI 3.0 form."""
    return inline_refs(spec, spec["components"]["schemas"][name])


def property_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """`{field: default}` for the top-level properties of an inlined object schema."""
    return {
        name: sub["default"]
        for name, sub in schema.get("properties", {}).items()
        if isinstance(sub, dict) and "default" in sub
    }


def iter_examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(JSON pointer, inlined schema, example value) for every example the spec carries.

    Covers media-type `example` and `examples` (following `$ref` into `components/examples`),
    parameter examples, and `example` keywords on schemas and their properties.
    """

    def walk_schema(pointer: str, schema: Any) -> Iterator[tuple[str, dict[str, Any], Any]]:
        if not isinstance(schema, dict) or "$ref" in schema:
            return
        if "example" in schema:
            yield f"{pointer}/example", inline_refs(spec, schema), schema["example"]
        for name, sub in schema.get("properties", {}).items():
            yield from walk_schema(f"{pointer}/properties/{name}", sub)
        for key in ("items", "additionalProperties"):
            yield from walk_schema(f"{pointer}/{key}", schema.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for index, sub in enumerate(schema.get(key, [])):
                yield from walk_schema(f"{pointer}/{key}/{index}", sub)

    def media_examples(pointer: str, media: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
        schema = inline_refs(spec, media.get("schema", {}))
        if "example" in media:
            yield f"{pointer}/example", schema, media["example"]
        for name, example in media.get("examples", {}).items():
            example = inline_refs(spec, example)
            if "value" in example:
                yield f"{pointer}/examples/{name}", schema, example["value"]

    def walk_content(pointer: str, holder: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
        for media_type, media in holder.get("content", {}).items():
            yield from media_examples(join(f"{pointer}/content", media_type), media)
        for name, header in holder.get("headers", {}).items():
            yield from walk_schema(f"{pointer}/headers/{name}/schema", header.get("schema"))

    for path, method, op in iter_operations(spec):
        base = join("#/paths", path, method)
        if "requestBody" in op:
            body = op["requestBody"]
            target = body.get("$ref", f"{base}/requestBody")
            yield from walk_content(target, inline_refs(spec, body))
        for status, response in op.get("responses", {}).items():
            target = response.get("$ref", f"{base}/responses/{status}")
            yield from walk_content(target, inline_refs(spec, response))
        for index, parameter in enumerate(op.get("parameters", [])):
            parameter = inline_refs(spec, parameter)
            if "example" in parameter:
                yield f"{base}/parameters/{index}/example", parameter["schema"], parameter["example"]
            yield from walk_schema(f"{base}/parameters/{index}/schema", parameter.get("schema"))

    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        yield from walk_schema(f"#/components/schemas/{name}", schema)


def compile_validator(oas_schema: dict[str, Any]) -> Any:
    """A compiled (Rust) validator for an inlined OpenAPI 3.0 schema, formats checked.

    Draft 2020-12 rather than draft 4: only the newer drafts define the `uuid` format, and the
    keywords OpenAPI 3.0 allows mean the same in both.
    """
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(to_json_schema(oas_schema), validate_formats=True)
