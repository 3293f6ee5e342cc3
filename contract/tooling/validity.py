"""Is the document valid OpenAPI at all: its `$ref`s, then openapi-spec-validator.

`$ref`s are checked first and on their own because everything downstream (the validator, the
mock's `contract.inline_refs`, the other checks) follows them: a dangling one makes the validator
raise instead of report, and a cycle makes `inline_refs` recurse forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openapi_spec_validator import OpenAPIV30SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from contract.spec import resolve_pointer
from contract.tooling.model import Tally, join

_MAX_MESSAGE = 200


def _refs(node: Any, pointer: str = "#") -> Iterator[tuple[str, str]]:
    """(pointer of the `$ref` keyword, its target) for every `$ref` under `node`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield join(pointer, "$ref"), value
            else:
                yield from _refs(value, join(pointer, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _refs(item, join(pointer, index))


def _resolves(spec: dict[str, Any], target: str) -> bool:
    try:
        resolve_pointer(spec, target)
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return True


def reference_problems(spec: dict[str, Any]) -> Tally:
    """Every `$ref` is local and resolves, and no chain of `$ref`s leads back to itself."""
    tally = Tally()
    for where, target in _refs(spec):
        tally.checked += 1
        if not target.startswith("#/"):
            tally.add(where, f"$ref {target!r} is not a local reference; the kit resolves only '#/...' refs")
        elif not _resolves(spec, target):
            tally.add(where, f"$ref {target!r} points to nothing")
    if not tally.problems:
        for cycle in _cycles(spec):
            tally.add(cycle[0], "$ref cycle " + " -> ".join(cycle) + " (the kit inlines $refs and cannot)")
    return tally


def _cycles(spec: dict[str, Any]) -> list[tuple[str, ...]]:
    """Each `$ref` cycle once, as the chain of targets that closes it."""
    done: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(target: str, active: tuple[str, ...]) -> None:
        if target in active:
            found.append((*active[active.index(target) :], target))
            return
        if target in done:
            return
        for _where, inner in _refs(resolve_pointer(spec, target)):
            visit(inner, (*active, target))
        done.add(target)

    for _where, target in _refs(spec):
        visit(target, ())
    return found


def _located(cls: type) -> type:
    """A keyword validator of openapi-spec-validator that stamps its errors with where it was looking.

    The library's second stage (schemas, defaults, parameters, operationIds) reports paths relative
    to the schema it checks, or none; its validators receive a `SchemaPath` whose `parts` say where
    in the document they are, so the innermost one records it on each error it yields.
    """
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.validation import keywords

    is_value_validator = issubclass(cls, keywords.ValueValidator)

    class Located(cls):
        def __call__(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            where = next((arg for arg in args if isinstance(arg, SchemaPath)), None)
            for error in super().__call__(*args, **kwargs):
                if not isinstance(error, OpenAPIValidationError):
                    error = OpenAPIValidationError.create_from(error)
                if where is not None and not hasattr(error, "spec_parts"):
                    parts = tuple(where.parts)
                    error.spec_parts = (*parts, "default") if is_value_validator else parts
                    error.relative = not is_value_validator
                yield error

    return Located


def _validator_class() -> type[OpenAPIV30SpecValidator]:
    """The 3.0 validator, with located second-stage errors and a first stage that explains `oneOf`.

    The first stage (the OpenAPI 3.0 JSON schema) runs on plain `jsonschema` rather than the faster
    `jsonschema-rs` backend, because only `jsonschema` says which branch of a `oneOf` came closest.
    """
    try:
        from jsonschema.validators import validator_for
        from openapi_spec_validator.schemas import schema_v30

        overrides = {
            "keyword_validators": {
                name: _located(cls) for name, cls in OpenAPIV30SpecValidator.keyword_validators.items()
            },
            "schema_validator": validator_for(dict(schema_v30))(dict(schema_v30)),
        }
    except Exception:  # a release with other internals: plain errors, pointers where they have them
        return OpenAPIV30SpecValidator
    return type("LocatedOpenAPIV30SpecValidator", (OpenAPIV30SpecValidator,), overrides)


def _closest(error: Any) -> Any:
    """The deepest failure under a `oneOf`/`anyOf`: the branch the author most likely meant.

    (`best_match` prefers shallow errors, which for a parameter names the `$ref` alternative.)
    """
    if not error.context:
        return error
    return max((_closest(child) for child in error.context), key=lambda leaf: len(leaf.absolute_path))


def _describe(error: Any) -> tuple[str, str]:
    """(pointer, one-line message) of a validator error."""
    leaf = _closest(error)
    if hasattr(error, "spec_parts"):
        parts = [*error.spec_parts, *(leaf.absolute_path if error.relative else ())]
    else:
        parts = list(leaf.absolute_path)
    message = leaf.message.split("\n")[0]
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return join("#", *parts), message


def validity_problems(spec: dict[str, Any]) -> Tally:
    """openapi-spec-validator's verdict (OpenAPI 3.0, which is all Connexion 3.3 serves)."""
    tally = Tally(checked=1)
    try:
        errors = list(_validator_class()(spec).iter_errors())
    except Exception as exc:  # the validator fails rather than reports on some broken documents
        tally.add("#", f"openapi-spec-validator could not check the document: {type(exc).__name__}: {exc}")
        return tally
    # Both stages can fault the same spot (a bad `type` is a meta-schema error in each): say it once.
    seen: set[str] = set()
    for error in errors:
        pointer, message = _describe(error)
        if pointer not in seen or not hasattr(error, "spec_parts"):
            seen.add(pointer)
            tally.add(pointer, message)
    return tally
