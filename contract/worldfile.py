"""The world file (the mock's fixtures, the kit's profile): read and checked against its one schema.

The format is declared once, in `fixtures/world.schema.yaml`, as a JSON Schema rather than in
code: the people who write a profile for their server do not read this code, and a schema file is
what their editor (and anyone's tooling) can check a profile against. It is checked here with the
same compiled validator (jsonschema-rs) that checks requests; each error carries the entry's path,
from which every message names the entry and the problem (`users[0].id: expected an integer, got
'one'`).

Two modes, one schema. *Strict* (the mock's world) applies it as written. *Lenient* (a real
server's profile names only the data it has) drops `required`, allows unknown keys and leaves the
form of uids (`format`) unchecked: what is present must still have its declared type and range.
"""

from __future__ import annotations

import copy
import datetime
import functools
from pathlib import Path
from typing import Any, Literal

import jsonschema_rs
import yaml

from contract.spec import default_spec_path, inline_refs, load_spec, resolve_pointer, to_json_schema

Mode = Literal["strict", "lenient"]
SCHEMA_PATH = Path(__file__).resolve().parent / "fixtures" / "world.schema.yaml"
# A `$ref` into the contract (`../../openapi.yaml#/components/schemas/Uid`): read from the spec
# wherever it is installed, so the world's uids and custom fields are the contract's own schemas.
_SPEC_REF = "openapi.yaml#"
_MAX_PROBLEMS = 10
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_K = jsonschema_rs.ValidationErrorKind


class WorldError(ValueError):
    """A world file cannot be used; the message names the entry and the problem."""


def read_world_file(path: Path, mode: Mode, what: str) -> dict[str, Any]:
    """Read, parse and check a world file; `what` names it in messages ("fixtures file", "profile")."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WorldError(f"{path}: cannot read the {what} ({error.strerror or error})") from None
    try:
        raw = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as error:
        raise WorldError(f"{path}: not valid YAML ({error})") from None
    try:
        return check_world_data(raw, mode)
    except WorldError as error:
        raise WorldError(f"{path}: {error}") from None


def check_world_data(raw: Any, mode: Mode) -> dict[str, Any]:
    """`raw` (parsed YAML or JSON) checked in `mode`; a normalised copy.

    Normalised: a key whose value is null is dropped where null is not a value (so `phone: null`
    reads as no phone), dates are ISO strings, and in strict mode a missing key with a `default`
    in the schema takes it. Raises WorldError listing every problem found (up to ten).
    """
    if raw is None:
        if mode == "lenient":
            return {}
        raise WorldError("must be a mapping of sections (organizations, parties, …), got an empty file")
    data = _normalise(raw, world_schema(mode), (), fill_defaults=mode == "strict")
    _refuse_problems(data, mode)
    return data


def check_normal_world_data(data: dict[str, Any]) -> None:
    """Check data already in the normal form (every section present, no null where null is no
    value, dates as strings, defaults written) as the strict mode does, without copying it: the
    cheap check of a few entries at a time (record mode checks each exchange's this way)."""
    if _validator("strict").is_valid(data):
        return
    _refuse_problems(data, "strict")


def _refuse_problems(data: Any, mode: Mode) -> None:
    schema = world_schema(mode)
    problems = sorted(
        (_describe(error, data, schema) for error in _validator(mode).iter_errors(data)),
        key=lambda problem: _sort_key(problem[0]),
    )
    if not problems:
        return
    lines = [f"{_where(path)}: {message}" if path else message for path, message in problems]
    if len(lines) == 1:
        raise WorldError(lines[0])
    shown = "; ".join(lines[:_MAX_PROBLEMS])
    more = f"; … and {len(lines) - _MAX_PROBLEMS} more" if len(lines) > _MAX_PROBLEMS else ""
    raise WorldError(f"{len(lines)} problems: {shown}{more}")


@functools.lru_cache(maxsize=2)
def world_schema(mode: Mode) -> dict[str, Any]:
    """The schema of `mode`, every `$ref` inlined (do not mutate: it is shared)."""
    declared = yaml.load(SCHEMA_PATH.read_text(encoding="utf-8"), Loader=_SafeLoader)
    # The world file's format borrows the bundled spec's schemas (addresses, contacts): it is the
    # format of the project's fixtures file, not a fact of the contract a process was given.
    schema = _inline(declared, declared, load_spec(default_spec_path()))
    return schema if mode == "strict" else _lenient(schema)


@functools.lru_cache(maxsize=2)
def _validator(mode: Mode) -> Any:
    return jsonschema_rs.Draft202012Validator(world_schema(mode), validate_formats=mode == "strict")


def _inline(node: Any, root: dict[str, Any], spec: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, root, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref, siblings = node["$ref"], {k: v for k, v in node.items() if k != "$ref"}
        if ref.startswith("#"):
            target = _inline(resolve_pointer(root, ref), root, spec)
        elif _SPEC_REF in ref:
            pointer = "#" + ref.split("#", 1)[1]
            target = to_json_schema(inline_refs(spec, resolve_pointer(spec, pointer)))
        else:
            raise ValueError(f"{SCHEMA_PATH}: cannot resolve $ref {ref!r}")
        return {**target, **_inline(siblings, root, spec)}
    return {key: _inline(value, root, spec) for key, value in node.items() if key != "$defs"}


def _lenient(node: Any) -> Any:
    """The schema with `required`, `format` and `additionalProperties: false` removed."""
    if isinstance(node, list):
        return [_lenient(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _lenient(value)
        for key, value in node.items()
        if key not in ("required", "format") and not (key == "additionalProperties" and value is False)
    }


def _property_schema(schema: Any, key: str) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    declared = schema.get("properties", {})
    if key in declared:
        return declared[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else {}


def _null_means_absent(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    if types is None:
        return False  # any value, null included (a custom field's `value`)
    return "null" not in (types if isinstance(types, list) else [types])


def _normalise(value: Any, schema: Any, path: tuple[str | int, ...], *, fill_defaults: bool) -> Any:
    if isinstance(value, dict):
        normalised: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = raw_key if isinstance(raw_key, str) else str(raw_key)
            sub = _property_schema(schema, key)
            if item is None and _null_means_absent(sub):
                continue
            normalised[key] = _normalise(item, sub, (*path, key), fill_defaults=fill_defaults)
        if fill_defaults and isinstance(schema, dict):
            for key, sub in schema.get("properties", {}).items():
                if key not in normalised and "default" in sub:
                    normalised[key] = copy.deepcopy(sub["default"])
        return normalised
    if isinstance(value, list):
        items = schema.get("items", {}) if isinstance(schema, dict) else {}
        return [
            _normalise(item, items, (*path, index), fill_defaults=fill_defaults)
            for index, item in enumerate(value)
        ]
    if isinstance(value, datetime.date):  # YAML reads 2026-05-15 as a date; the schema knows strings
        return value.isoformat()
    if value is None or isinstance(value, str | int | float):
        return value
    raise WorldError(f"{_where(path) or 'the file'}: a {type(value).__name__} is not a plain YAML value")


def _describe(error: Any, data: Any, schema: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    """(the entry's path, what is wrong with it) for one validation error."""
    path = tuple(error.instance_path)
    value = _at(data, path)
    kind = error.kind
    node = _at(schema, tuple(error.schema_path)[:-1])
    if isinstance(kind, _K.Required):
        return path, f"missing {'top-level ' if not path else ''}key '{kind.property}'"
    if isinstance(kind, _K.AdditionalProperties):
        unexpected = ", ".join(f"'{key}'" for key in kind.unexpected)
        known = ", ".join(node.get("properties", {}))
        return path, f"unknown key {unexpected} (known keys: {known})"
    if isinstance(kind, _K.Type):
        return path, _type_problem(kind.types, value, top_level=not path)
    if isinstance(kind, _K.Minimum):
        return path, f"must be a number >= {kind.limit}, got {value!r}"
    if isinstance(kind, _K.MinLength):
        return path, f"must have at least {kind.limit} character(s), got {value!r}"
    if isinstance(kind, _K.Format):
        return path, f"{value!r} is not a {kind.format}"
    if isinstance(kind, _K.Pattern) and "x-pattern-message" in node:
        return path, f"{value!r} {node['x-pattern-message']}"
    return path, error.message


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _type_problem(types: list[str], value: Any, *, top_level: bool) -> str:
    got = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else repr(value)
    if types == ["object"]:
        what = "a mapping of sections (organizations, parties, …)" if top_level else "a mapping"
        return f"must be {what}, got {got}"
    if types == ["array"]:
        return f"must be a list, got {got}"
    return f"expected {' or '.join(_TYPE_NAMES.get(name, name) for name in types)}, got {got}"


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    node = document
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _where(path: tuple[str | int, ...]) -> str:
    """`("users", 0, "id")` → `users[0].id`: the entry as a reader finds it in the file."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _sort_key(path: tuple[str | int, ...]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path)
