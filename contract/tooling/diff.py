"""`spec diff`: every difference between two specs, classified breaking or not, per side.

Both specs are compared with every `$ref` inlined (`contract.spec.inline_refs`), so a change
inside a shared component is reported at each operation it reaches, under that operation's
pointer: that is where a client meets it. Pointers name the new spec's place (the old one's for
something removed). Schema rules live in `schema_diff`; this module walks paths, operations,
parameters, bodies, responses and security; `x-` extensions (the facts `contract/facts.py` reads)
and `operationId`s are compared in `extension_diff`, on the documents as written.

Paths and operations themselves (added, removed) are reported on the response side: the request
no longer gets the answer it used to. Security is request side: it is what clients must send.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contract.spec import inline_refs, iter_operations
from contract.tooling.extension_diff import diff_extensions, diff_operation_ids
from contract.tooling.model import Change, Side, join, operation_pointer
from contract.tooling.schema_diff import diff_schema
from contract.tooling.security_diff import diff_security

_PARAMETER_SERIALIZATION = ("style", "explode", "allowReserved")


def diff_specs(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference that matters to a client; empty when the specs agree."""
    old_paths = inline_refs(old, old.get("paths", {}))
    new_paths = inline_refs(new, new.get("paths", {}))
    changes: list[Change] = []
    for path in old_paths:
        if path not in new_paths:
            reason = f"path {path} removed; clients calling it get 404."
            changes.append(Change(join("#/paths", path), "response", True, "path-removed", reason))
    old_operations = {(path, method): op for path, method, op in iter_operations({"paths": old_paths})}
    for path in new_paths:
        if path not in old_paths:  # reported once, not once per operation
            reason = f"path {path} added; no client calls it yet."
            changes.append(Change(join("#/paths", path), "response", False, "path-added", reason))
    for path, method, operation in iter_operations({"paths": new_paths}):
        pointer = operation_pointer(path, method)
        if path not in old_paths:
            continue
        if (path, method) not in old_operations:
            reason = f"operation {method.upper()} {path} added; no client calls it yet."
            changes.append(Change(pointer, "response", False, "operation-added", reason))
        else:
            context = _OperationPair(old, new, old_paths[path], new_paths[path], pointer)
            changes.extend(context.diff(old_operations[(path, method)], operation))
    for (path, method), _operation in old_operations.items():
        if path in new_paths and method not in new_paths[path]:
            reason = f"operation {method.upper()} {path} removed; clients calling it get 404 or 405."
            changes.append(
                Change(operation_pointer(path, method), "response", True, "operation-removed", reason)
            )
    changes.extend(diff_operation_ids(old, new))
    changes.extend(diff_extensions(old, new))
    return changes


def _keyed(old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(key, old value or None, new value or None) over the union of two mappings' keys."""
    for key in dict.fromkeys([*new, *old]):
        yield key, old.get(key), new.get(key)


class _OperationPair:
    """One operation in both specs, compared part by part (one method per part)."""

    def __init__(
        self,
        old_spec: dict[str, Any],
        new_spec: dict[str, Any],
        old_item: dict[str, Any],
        new_item: dict[str, Any],
        pointer: str,
    ) -> None:
        self.specs = (old_spec, new_spec)
        self.items = (old_item, new_item)
        self.pointer = pointer
        self.path_pointer = pointer.rsplit("/", 1)[0]

    def diff(self, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        yield from self.security(old, new)
        yield from self.parameters(old, new)
        yield from self.request_body(old.get("requestBody"), new.get("requestBody"))
        yield from self.responses(old.get("responses", {}), new.get("responses", {}))

    # -- security ------------------------------------------------------------------------------

    def security(self, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        yield from diff_security(self.specs[0], self.specs[1], old, new, join(self.pointer, "security"))

    # -- parameters ----------------------------------------------------------------------------

    def _parameters(self, index: int, operation: dict[str, Any]) -> dict[tuple[str, str], tuple[str, Any]]:
        """{(in, name): (pointer, parameter)}, path-item parameters overridden by the operation's."""
        found: dict[tuple[str, str], tuple[str, Any]] = {}
        for base, holder in ((self.path_pointer, self.items[index]), (self.pointer, operation)):
            for position, parameter in enumerate(holder.get("parameters", [])):
                key = (parameter.get("in", ""), parameter.get("name", ""))
                found[key] = (join(base, "parameters", position), parameter)
        return found

    def parameters(self, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        before, after = self._parameters(0, old), self._parameters(1, new)
        for key in dict.fromkeys([*after, *before]):
            label = f"{key[0]} parameter {key[1]!r}"
            if key not in after:
                pointer = before[key][0]
                reason = (
                    f"{label} removed; clients still sending it are not refused unless the server is strict."
                )
                yield Change(pointer, "request", False, "parameter-removed", reason)
                continue
            pointer, parameter = after[key]
            if key not in before:
                if parameter.get("required"):
                    reason = f"required {label} added; requests without it are refused."
                    yield Change(pointer, "request", True, "parameter-added-required", reason)
                else:
                    reason = f"optional {label} added; old requests stay valid."
                    yield Change(pointer, "request", False, "parameter-added", reason)
                continue
            yield from self._parameter(pointer, label, before[key][1], parameter)

    def _parameter(
        self, pointer: str, label: str, old: dict[str, Any], new: dict[str, Any]
    ) -> Iterator[Change]:
        if bool(new.get("required")) and not old.get("required"):
            reason = f"{label} made required; requests without it are refused."
            yield Change(join(pointer, "required"), "request", True, "parameter-made-required", reason)
        elif old.get("required") and not new.get("required"):
            reason = f"{label} made optional; requests with it stay valid."
            yield Change(join(pointer, "required"), "request", False, "parameter-made-optional", reason)
        for key in _PARAMETER_SERIALIZATION:
            if old.get(key) != new.get(key):
                what = f"{label} {key} changed from {old.get(key)!r} to {new.get(key)!r}"
                reason = f"{what}; clients serialise it the old way."
                yield Change(join(pointer, key), "request", True, "parameter-serialization-changed", reason)
        if "schema" in old or "schema" in new:
            yield from diff_schema(
                old.get("schema", {}), new.get("schema", {}), join(pointer, "schema"), "request"
            )
        yield from self.content(
            join(pointer, "content"), old.get("content", {}), new.get("content", {}), "request"
        )

    # -- bodies --------------------------------------------------------------------------------

    def content(self, pointer: str, old: dict[str, Any], new: dict[str, Any], side: Side) -> Iterator[Change]:
        """Media types of a body: removed breaks (nobody speaks it any more), added does not."""
        for media_type, before, after in _keyed(old, new):
            where = join(pointer, media_type)
            if after is None:
                who = "requests sent as it are refused" if side == "request" else "clients expecting it break"
                yield Change(
                    where, side, True, "media-type-removed", f"media type {media_type} removed; {who}."
                )
            elif before is None:
                yield Change(where, side, False, "media-type-added", f"media type {media_type} added.")
            else:
                yield from diff_schema(
                    before.get("schema", {}), after.get("schema", {}), join(where, "schema"), side
                )

    def request_body(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> Iterator[Change]:
        pointer = join(self.pointer, "requestBody")
        if old is None and new is None:
            return
        if new is None:
            reason = "request body removed; bodies clients send are no longer part of the contract."
            yield Change(pointer, "request", True, "request-body-removed", reason)
            return
        if old is None:
            required = bool(new.get("required"))
            what = (
                "required request body added; requests without one are refused."
                if required
                else ("optional request body added; old requests stay valid.")
            )
            yield Change(pointer, "request", required, "request-body-added", what)
            return
        if new.get("required") and not old.get("required"):
            reason = "request body made required; requests without one are refused."
            yield Change(join(pointer, "required"), "request", True, "request-body-made-required", reason)
        elif old.get("required") and not new.get("required"):
            reason = "request body made optional; requests with one stay valid."
            yield Change(join(pointer, "required"), "request", False, "request-body-made-optional", reason)
        yield from self.content(
            join(pointer, "content"), old.get("content", {}), new.get("content", {}), "request"
        )

    # -- responses -----------------------------------------------------------------------------

    def responses(self, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        for status, before, after in _keyed(old, new):
            pointer = join(self.pointer, "responses", status)
            if after is None:
                reason = f"response {status} removed; clients handling it no longer get it."
                yield Change(pointer, "response", True, "response-removed", reason)
            elif before is None:
                reason = f"response {status} added; clients must already cope with undocumented statuses."
                yield Change(pointer, "response", False, "response-added", reason)
            else:
                yield from self.content(
                    join(pointer, "content"), before.get("content", {}), after.get("content", {}), "response"
                )
                yield from self.headers(
                    join(pointer, "headers"), before.get("headers", {}), after.get("headers", {})
                )
                yield from self.links(join(pointer, "links"), before.get("links", {}), after.get("links", {}))

    def headers(self, pointer: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        for name, before, after in _keyed(old, new):
            where = join(pointer, name)
            if after is None:
                reason = f"response header {name} removed; clients reading it break."
                yield Change(where, "response", True, "header-removed", reason)
            elif before is None:
                yield Change(where, "response", False, "header-added", f"response header {name} added.")
            else:
                if before.get("required") and not after.get("required"):
                    reason = f"response header {name} made optional; clients may not find it."
                    yield Change(join(where, "required"), "response", True, "header-made-optional", reason)
                yield from diff_schema(
                    before.get("schema", {}), after.get("schema", {}), join(where, "schema"), "response"
                )

    def links(self, pointer: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
        """Links are followed by clients and by Schemathesis's stateful tests: losing one breaks them."""
        for name, before, after in _keyed(old, new):
            where = join(pointer, name)
            if after is None:
                reason = f"link {name} removed; clients following it break."
                yield Change(where, "response", True, "link-removed", reason)
            elif before is None:
                yield Change(where, "response", False, "link-added", f"link {name} added.")
            else:
                yield from _link_changes(where, name, before, after)


def _link_changes(pointer: str, name: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    """A link now leading elsewhere, or passing a value differently, misleads whoever follows it."""
    for key in ("operationId", "operationRef", "requestBody"):
        if old.get(key) != new.get(key):
            reason = f"link {name} {key} changed from {old.get(key)!r} to {new.get(key)!r}; followers break."
            yield Change(join(pointer, key), "response", True, "link-changed", reason)
    for parameter, before, after in _keyed(old.get("parameters", {}), new.get("parameters", {})):
        where = join(pointer, "parameters", parameter)
        if before is None:
            reason = f"link {name} also passes {parameter!r}; followers that ignore it still work."
            yield Change(where, "response", False, "link-parameter-added", reason)
        elif before != after:
            verb = "no longer passes" if after is None else f"passes {after!r} instead of {before!r} as"
            reason = f"link {name} {verb} {parameter!r}; followers break."
            yield Change(where, "response", True, "link-parameter-changed", reason)
