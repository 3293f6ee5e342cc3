"""Differences between two inlined schemas, each classified by who it breaks.

The rules are one small function per keyword family. A request schema says what the server
accepts: tightening it breaks clients that sent what used to be valid. A response schema says what
clients receive: loosening it breaks clients that relied on the old promise. So most rules only
say which way a change goes (`tightened` / `loosened`) and the side decides whether it breaks.

Ignored (never reported): `description`, `title`, `example`, `externalDocs`, `deprecated`, `xml`,
`readOnly`, `writeOnly`, `discriminator` and `x-` extensions; documentation, not behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from contract.tooling.model import Change, Side, join

_LOWER_BOUNDS = ("minLength", "minimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "maxItems", "maxProperties")
_FLAGS = ("exclusiveMinimum", "exclusiveMaximum", "uniqueItems")  # true is tighter
_OPAQUE = ("pattern", "format", "multipleOf")  # added is tighter; changed cannot be ranked
_ALTERNATIVES = ("anyOf", "oneOf")


def tightened(pointer: str, side: Side, rule: str, what: str) -> Change:
    """Fewer values are valid than before: breaks requests, not responses."""
    if side == "request":
        return Change(pointer, side, True, rule, f"{what}; requests valid before may now be refused.")
    return Change(pointer, side, False, rule, f"{what}; clients receive only values they already accepted.")


def loosened(pointer: str, side: Side, rule: str, what: str) -> Change:
    """More values are valid than before: breaks responses, not requests."""
    if side == "request":
        return Change(pointer, side, False, rule, f"{what}; every request valid before is still valid.")
    return Change(pointer, side, True, rule, f"{what}; clients may receive values they were not promised.")


def changed(pointer: str, side: Side, rule: str, what: str) -> Change:
    """Neither tighter nor looser provably: breaking on either side."""
    return Change(pointer, side, True, rule, f"{what}; values valid before may no longer be, and vice versa.")


def _quote(values: list[Any]) -> str:
    return ", ".join(repr(value) for value in values)


def _type(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    before, after = old.get("type"), new.get("type")
    where = join(pointer, "type")
    if before == after:
        return
    if before and after:
        yield Change(
            where,
            side,
            True,
            "type-changed",
            f"type changed from {before} to {after}; clients built for {before} break.",
        )
    elif after:
        yield tightened(where, side, "type-added", f"type restricted to {after}")
    else:
        yield loosened(where, side, "type-removed", f"type {before} no longer required")


def _nullable(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    """`nullable` compared where it means something: OpenAPI 3.0.3 gives it meaning only beside `type`.

    A schema without `type` accepts `null` with or without `nullable`, and a `type` appearing or
    vanishing is reported by `_type`; so only a change between two typed schemas is a change.
    """
    if "type" not in old or "type" not in new:
        return
    before, after = old.get("nullable") is True, new.get("nullable") is True
    if after and not before:
        yield loosened(join(pointer, "nullable"), side, "nullable-added", "made nullable (null now allowed)")
    elif before and not after:
        yield tightened(join(pointer, "nullable"), side, "nullable-removed", "no longer nullable")


def _enum(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    before, after = old.get("enum"), new.get("enum")
    where = join(pointer, "enum")
    if before == after:
        return
    if before is None:
        yield tightened(where, side, "enum-added", f"values restricted to {_quote(after or [])}")
    elif after is None:
        yield loosened(where, side, "enum-removed", "enum restriction removed")
    else:
        removed = [value for value in before if value not in after]
        added = [value for value in after if value not in before]
        if removed:
            yield tightened(where, side, "enum-value-removed", f"enum value(s) {_quote(removed)} removed")
        if added:
            yield loosened(where, side, "enum-value-added", f"enum value(s) {_quote(added)} added")


def _bounds(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    for key in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
        before, after = old.get(key), new.get(key)
        where = join(pointer, key)
        if before == after:
            continue
        if before is None:
            yield tightened(where, side, f"{key}-added", f"{key} {after} added")
        elif after is None:
            yield loosened(where, side, f"{key}-removed", f"{key} {before} removed")
        else:
            direction = "raised" if after > before else "lowered"
            is_tighter = (after > before) == (key in _LOWER_BOUNDS)
            rank = tightened if is_tighter else loosened
            yield rank(where, side, f"{key}-{direction}", f"{key} {direction} from {before} to {after}")
    for key in _FLAGS:
        before, after = bool(old.get(key)), bool(new.get(key))
        if after != before:
            rank, verb = (tightened, "set") if after else (loosened, "unset")
            yield rank(join(pointer, key), side, f"{key}-{verb}", f"{key} {verb}")


def _opaque(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    for key in _OPAQUE:
        before, after = old.get(key), new.get(key)
        where = join(pointer, key)
        if before == after:
            continue
        if before is None:
            yield tightened(where, side, f"{key}-added", f"{key} {after!r} added")
        elif after is None:
            yield loosened(where, side, f"{key}-removed", f"{key} {before!r} removed")
        else:
            yield changed(where, side, f"{key}-changed", f"{key} changed from {before!r} to {after!r}")


def _default(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    where = join(pointer, "default")
    if "default" in old and "default" in new and old["default"] != new["default"]:
        what = f"default changed from {old['default']!r} to {new['default']!r}"
        yield Change(
            where, side, True, "default-changed", f"{what}; clients relying on the old default break."
        )
    elif "default" in old and "default" not in new:
        what = f"default {old['default']!r} removed"
        yield Change(where, side, True, "default-removed", f"{what}; clients relying on it break.")
    elif "default" in new and "default" not in old:
        what = f"default {new['default']!r} added"
        yield Change(
            where, side, False, "default-added", f"{what}; it documents a value where there was none."
        )


def _openness(schema: dict[str, Any]) -> int:
    """How many unknown properties an object schema lets through: 0 none, 1 some, 2 any."""
    extra = schema.get("additionalProperties", True)
    return 0 if extra is False else 2 if extra is True or extra == {} else 1


def _additional_properties(
    old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side
) -> Iterator[Change]:
    before, after = old.get("additionalProperties"), new.get("additionalProperties")
    where = join(pointer, "additionalProperties")
    if isinstance(before, dict) and isinstance(after, dict):
        yield from diff_schema(before, after, where, side)
    elif _openness(new) < _openness(old):
        yield tightened(where, side, "additionalProperties-restricted", "unknown properties restricted")
    elif _openness(new) > _openness(old):
        what = "unknown properties now allowed"
        if side == "request":
            yield loosened(where, side, "additionalProperties-relaxed", what)
        else:  # as for an added response field: clients must ignore fields they do not know
            yield Change(where, side, False, "additionalProperties-relaxed", f"{what}; clients ignore them.")


# (side, what happened to a field) -> (breaking, rule, reason); `{name}` is the field's name.
_PRESENCE: dict[tuple[Side, str], tuple[bool, str, str]] = {
    ("response", "removed"): (
        True,
        "property-removed",
        "response field {name} removed; clients reading it break.",
    ),
    ("response", "added"): (False, "property-added", "response field {name} added; clients ignore it."),
    ("response", "made-required"): (
        False,
        "property-made-required",
        "response field {name} now always present.",
    ),
    ("response", "made-optional"): (
        True,
        "property-made-optional",
        "response field {name} made optional; clients may not find it.",
    ),
    ("request", "removed-closed"): (
        True,
        "property-removed",
        "request field {name} removed and unknown fields are refused (additionalProperties: false), "
        "so clients still sending it are refused.",
    ),
    ("request", "removed-open"): (
        False,
        "property-removed",
        "request field {name} removed; unknown fields are allowed, so clients still sending it are fine.",
    ),
    ("request", "added-required"): (
        True,
        "property-added-required",
        "new required request field {name} without a default; requests without it are refused.",
    ),
    ("request", "added-defaulted"): (
        False,
        "property-added",
        "new required request field {name} with a default; requests without it get the default.",
    ),
    ("request", "added"): (
        False,
        "property-added",
        "new optional request field {name}; old requests stay valid.",
    ),
    ("request", "made-required"): (
        True,
        "property-made-required",
        "request field {name} made required; requests without it are refused.",
    ),
    ("request", "made-optional"): (
        False,
        "property-made-optional",
        "request field {name} made optional; requests with it stay valid.",
    ),
}


def _presence(where: str, side: Side, event: str, name: str) -> Change:
    breaking, rule, reason = _PRESENCE[(side, event)]
    return Change(where, side, breaking, rule, reason.format(name=repr(name)))


def _removed_event(new: dict[str, Any], side: Side) -> str:
    if side == "response":
        return "removed"
    return "removed-closed" if new.get("additionalProperties") is False else "removed-open"


def _added_event(schema: dict[str, Any], required: bool, side: Side) -> str:
    if side == "response" or not required:
        return "added"
    return "added-defaulted" if "default" in schema else "added-required"


def _properties(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    before, after = old.get("properties", {}), new.get("properties", {})
    required_before, required_after = set(old.get("required", [])), set(new.get("required", []))
    for name in before:
        if name not in after:
            yield _presence(join(pointer, "properties", name), side, _removed_event(new, side), name)
    for name, schema in after.items():
        where = join(pointer, "properties", name)
        if name not in before:
            yield _presence(where, side, _added_event(schema, name in required_after, side), name)
        else:
            yield from diff_schema(before[name], schema, where, side)
    appeared_or_vanished = set(before) ^ set(after)
    for name in dict.fromkeys([*new.get("required", []), *old.get("required", [])]):
        if name not in appeared_or_vanished and (name in required_after) != (name in required_before):
            event = "made-required" if name in required_after else "made-optional"
            yield _presence(join(pointer, "properties", name), side, event, name)


def _flatten_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its `allOf` merged in: properties and `required` united, first keyword wins."""
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    for branch in schema.get("allOf", []):
        branch = _flatten_all_of(branch)
        merged["properties"] = {**branch.get("properties", {}), **merged.get("properties", {})}
        merged["required"] = list(dict.fromkeys([*merged.get("required", []), *branch.get("required", [])]))
        for key, value in branch.items():
            merged.setdefault(key, value)
    return merged


def _subschemas(old: dict[str, Any], new: dict[str, Any], pointer: str, side: Side) -> Iterator[Change]:
    """Nested schemas: array `items`, `anyOf`/`oneOf` alternatives (by position), `not`."""
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        yield from diff_schema(old["items"], new["items"], join(pointer, "items"), side)
    for key in _ALTERNATIVES:
        before, after = old.get(key, []), new.get(key, [])
        for index in range(min(len(before), len(after))):
            yield from diff_schema(before[index], after[index], join(pointer, key, index), side)
        for index in range(len(before), len(after)):
            yield loosened(join(pointer, key, index), side, f"{key}-branch-added", f"{key} alternative added")
        for index in range(len(after), len(before)):
            yield tightened(
                join(pointer, key, index), side, f"{key}-branch-removed", f"{key} alternative removed"
            )
    if old.get("not") != new.get("not"):
        yield changed(join(pointer, "not"), side, "not-changed", "`not` schema changed")


SchemaRule = Callable[[dict[str, Any], dict[str, Any], str, Side], Iterator[Change]]
RULES: tuple[SchemaRule, ...] = (
    _nullable,
    _enum,
    _bounds,
    _opaque,
    _default,
    _additional_properties,
    _properties,
    _subschemas,
)


def diff_schema(old: Any, new: Any, pointer: str, side: Side) -> Iterator[Change]:
    """Every difference between two inlined OpenAPI 3.0 schemas, `pointer` naming `new`'s place.

    `allOf`s of the same length are compared branch by branch (exact pointers); when the number of
    branches differs, each side is compared as its merged object instead of as a list of changes
    to branches nobody reads separately.
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            yield changed(pointer, side, "schema-changed", "schema changed")
        return
    if len(old.get("allOf", [])) == len(new.get("allOf", [])):
        for index, (before, after) in enumerate(zip(old.get("allOf", []), new.get("allOf", []), strict=True)):
            yield from diff_schema(before, after, join(pointer, "allOf", index), side)
    else:
        old, new = _flatten_all_of(old), _flatten_all_of(new)
    type_changes = list(_type(old, new, pointer, side))
    yield from type_changes
    if any(change.rule == "type-changed" for change in type_changes):
        return  # everything below the type compares values that no longer share a shape
    for rule in RULES:
        yield from rule(old, new, pointer, side)
