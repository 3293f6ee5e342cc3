"""`spec diff` of what schema keywords do not say: `x-` extensions and `operationId`s.

OpenAPI tools ignore `x-` extensions, but this project does not: `contract/facts.py` reads the
body limit, the number format, the parties, the money buckets, the collection method and the
scopes from them, so the mock serves them and the kit checks them. A change to one is a change a
client meets, and `spec diff` reports it like any schema change.

Extensions are compared in the documents as written (not inlined): a fact is stated once, at its
component, and reported once, where the author changed it. Each extension `facts.py` reads has a
rule saying which way a change breaks (`_RULES`, by key name); any other `x-` key that changed is
reported as `extension-unclassified`, not breaking, with "not classified: review", so no change
is ever silently "no differences". `description` inside an extension is documentation, as in a
schema, and ignored.

An `operationId` is what a generated client names its method after, and what links, Connexion's
routing and the mock's handlers resolve: a rename breaks them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from contract.spec import iter_operations, resolve_pointer
from contract.tooling.model import Change, Side, join, operation_pointer

# Maps whose keys are names (properties, paths, statuses, media types…), not keywords: a key
# `x-…` there is a name, not an extension.
_NAME_MAPS = frozenset(
    {
        "paths",
        "properties",
        "patternProperties",
        "schemas",
        "responses",
        "parameters",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "content",
        "examples",
        "encoding",
        "variables",
        "mapping",
        "scopes",
    }
)
# Keywords whose values are data (of the API, not of the document): never searched for extensions.
_DATA = frozenset({"example", "default", "enum", "value"})

UNCLASSIFIED = "extension-unclassified"  # the rule of a changed `x-` key no rule knows

Rule = Callable[[str, str, Any, Any], Iterator[Change]]


def extensions(node: Any, pointer: str = "#", names: bool = False) -> Iterator[tuple[str, Any]]:
    """(pointer, value) of every `x-` extension in a document, outermost first."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from extensions(item, join(pointer, index))
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = join(pointer, key)
        if not names and isinstance(key, str) and key.startswith("x-"):
            yield where, value
        elif names or key not in _DATA:
            yield from extensions(value, where, names=not names and key in _NAME_MAPS)


def _undocumented(value: Any) -> Any:
    """`value` without its `description`s: what a tool reading the extension acts on."""
    if isinstance(value, dict):
        return {key: _undocumented(item) for key, item in value.items() if key != "description"}
    if isinstance(value, list):
        return [_undocumented(item) for item in value]
    return value


def _vanished(key: str) -> str:
    return f"{key} removed; contract/facts.py reads it, so the mock and the kit cannot run on this spec."


def _body_limit(pointer: str, key: str, old: Any, new: Any) -> Iterator[Change]:
    """The largest body the server accepts: lowering it refuses (413) bodies that were accepted."""
    if new is None:
        yield Change(pointer, "request", True, "body-limit-removed", _vanished(key))
    elif old is None:
        reason = f"body limit of {new} bytes added; larger requests are now refused (413)."
        yield Change(pointer, "request", True, "body-limit-added", reason)
    elif not all(isinstance(value, int) and not isinstance(value, bool) for value in (old, new)):
        what = f"body limit changed from {old!r} to {new!r}"
        reason = f"{what}; not a number of bytes, so clients cannot rely on it."
        yield Change(pointer, "request", True, "body-limit-changed", reason)
    elif new < old:
        reason = f"body limit lowered from {old} to {new} bytes; requests accepted before are refused (413)."
        yield Change(pointer, "request", True, "body-limit-lowered", reason)
    else:
        reason = f"body limit raised from {old} to {new} bytes; every request accepted before still is."
        yield Change(pointer, "request", False, "body-limit-raised", reason)


def _scopes(pointer: str, key: str, old: Any, new: Any) -> Iterator[Change]:
    """A key needs one of the listed scopes (none listed: any key); P74."""
    before, after = set(old or ()), set(new or ())
    if not before and after:
        reason = f"scope requirement {sorted(after)} added; keys with other scopes are refused (403)."
        yield Change(pointer, "request", True, "scopes-added", reason)
    elif before and not after:
        reason = f"scope requirement {sorted(before)} removed; every key is let in."
        yield Change(pointer, "request", False, "scopes-removed", reason)
    elif before - after:
        reason = (
            f"scope(s) {sorted(before - after)} no longer enough; keys holding only them are refused (403)."
        )
        yield Change(pointer, "request", True, "scopes-tightened", reason)
    else:
        reason = f"scope(s) {sorted(after - before)} now also enough; keys let in before still are."
        yield Change(pointer, "request", False, "scopes-relaxed", reason)


def _mapping(rule: str, what: str, added_breaks: bool) -> Rule:
    """A rule for a mapping extension: each entry changed or removed breaks; an added one may not."""

    def compare(pointer: str, key: str, old: Any, new: Any) -> Iterator[Change]:
        if not isinstance(new, dict):
            reason = _vanished(key) if new is None else f"{key} is no longer a mapping; {what}."
            yield Change(pointer, "response", True, f"{rule}-removed", reason)
            return
        before, after = (old if isinstance(old, dict) else {}), new
        for name in dict.fromkeys([*after, *before]):
            where = join(pointer, name)
            if name not in after:
                reason = f"{key} no longer maps {name!r} (was {before[name]!r}); {what}."
                yield Change(where, "response", True, f"{rule}-entry-removed", reason)
            elif name not in before:
                effect = what if added_breaks else "nothing answered before changes"
                reason = f"{key} now maps {name!r} to {after[name]!r}; {effect}."
                yield Change(where, "response", added_breaks, f"{rule}-entry-added", reason)
            elif before[name] != after[name]:
                reason = f"{key} maps {name!r} to {after[name]!r} instead of {before[name]!r}; {what}."
                yield Change(where, "response", True, f"{rule}-entry-changed", reason)

    return compare


def _generated_number(pointer: str, key: str, old: Any, new: Any) -> Iterator[Change]:
    """The form of a generated invoice number: clients parse and display it."""
    if new is None:
        yield Change(pointer, "response", True, "generated-number-removed", _vanished(key))
        return
    for part in ("format", "pattern"):
        before = old.get(part) if isinstance(old, dict) else old
        after = new.get(part) if isinstance(new, dict) else new
        if before != after:
            reason = (
                f"generated invoice numbers' {part} changed from {before!r} to {after!r}; "
                "clients parsing or matching them break."
            )
            yield Change(join(pointer, part), "response", True, "generated-number-changed", reason)


def _on_create(pointer: str, key: str, old: Any, new: Any) -> Iterator[Change]:
    """The value a new invoice gets (like a default, but on the response)."""
    if new is None:
        yield Change(pointer, "response", True, "on-create-removed", _vanished(key))
    elif old is None:
        reason = f"new invoices documented as getting {new!r}; it documents a value where there was none."
        yield Change(pointer, "response", False, "on-create-added", reason)
    else:
        reason = f"new invoices get {new!r} instead of {old!r}; clients relying on the old value break."
        yield Change(pointer, "response", True, "on-create-changed", reason)


_RULES: dict[str, Rule] = {
    "x-max-body-bytes": _body_limit,
    "x-scopes": _scopes,
    "x-client-by-invoice-type": _mapping(
        "parties", "clients reading parties.client find the other party", added_breaks=False
    ),
    "x-money-context-types": _mapping(
        "money-buckets", "lines of that context type now add to another money sum", added_breaks=True
    ),
    "x-generated": _generated_number,
    "x-on-create": _on_create,
}


def _side_of(pointer: str) -> Side:
    """An unknown extension's side: request if it sits in a request body or a parameter."""
    return "request" if "/requestBody" in pointer or "/parameters/" in pointer else "response"


def _unclassified(pointer: str, key: str, old: Any, new: Any) -> Iterator[Change]:
    verb = "added" if old is None else "removed" if new is None else "changed"
    reason = f"extension {key} {verb}; not classified: review whether clients or the mock depend on it."
    yield Change(pointer, _side_of(pointer), False, UNCLASSIFIED, reason)


def _holder_in_both(old: dict[str, Any], new: dict[str, Any], pointer: str) -> bool:
    """Whether what holds the extension is in both specs; if not, its own appearance is the change."""
    holder = pointer.rsplit("/", 1)[0]
    try:
        resolve_pointer(old, holder), resolve_pointer(new, holder)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def diff_extensions(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    """Every `x-` extension added, removed or changed, by its rule (else unclassified).

    An extension of an operation or component that was itself added or removed is not reported
    again: the operation's removal (or the places the component reached) already is.
    """
    before, after = dict(extensions(old)), dict(extensions(new))
    for pointer in dict.fromkeys([*after, *before]):
        old_value, new_value = before.get(pointer), after.get(pointer)
        if _undocumented(old_value) == _undocumented(new_value) or not _holder_in_both(old, new, pointer):
            continue
        key = pointer.rsplit("/", 1)[1]
        yield from _RULES.get(key, _unclassified)(pointer, key, old_value, new_value)


def diff_operation_ids(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    """An operation kept at its path and method but given another (or no) `operationId`."""
    before = {(path, method): op.get("operationId") for path, method, op in iter_operations(old)}
    for path, method, operation in iter_operations(new):
        if (path, method) not in before:
            continue
        was, now = before[(path, method)], operation.get("operationId")
        if was == now:
            continue
        pointer = join(operation_pointer(path, method), "operationId")
        if was is None:
            reason = f"operationId {now!r} added; clients generated before keep their own names."
            yield Change(pointer, "request", False, "operation-id-added", reason)
        else:
            reason = (
                f"operationId {was!r} {'removed' if now is None else f'renamed to {now!r}'}; generated "
                "clients lose the method named after it, and links and handlers naming it break."
            )
            yield Change(pointer, "request", True, "operation-id-changed", reason)
