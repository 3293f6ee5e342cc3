"""Security differences of one operation: who may call it, and how they prove who they are.

A `security` list is a set of alternatives (any one suffices), each naming schemes that must all
be satisfied. So adding an alternative lets more clients in (not breaking), while adding a scheme
to an alternative, removing an alternative, or requiring auth where there was none shuts clients
out (breaking). Dropping security altogether breaks nobody, but is reported so it is not missed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contract.tooling.model import Change

Alternative = frozenset[tuple[str, frozenset[str]]]
_SCHEME_IDENTITY = ("type", "scheme", "in", "name", "bearerFormat", "flows", "openIdConnectUrl")


def alternatives(spec: dict[str, Any], operation: dict[str, Any]) -> set[Alternative]:
    """The operation's effective security (its own, else the global), as a set of alternatives."""
    requirements = operation.get("security", spec.get("security")) or []
    return {
        frozenset((name, frozenset(scopes or ())) for name, scopes in item.items()) for item in requirements
    }


def _public(options: set[Alternative]) -> bool:
    return not options or frozenset() in options


def _satisfies(held: Alternative, required: Alternative) -> bool:
    """Whether a client that meets `held` also meets `required` (same schemes, no new scopes)."""
    have = dict(held)
    return all(name in have and scopes <= have[name] for name, scopes in required)


def _describe(alternative: Alternative) -> str:
    return " + ".join(
        sorted(name + (f"[{', '.join(sorted(scopes))}]" if scopes else "") for name, scopes in alternative)
    )


def diff_security(
    old_spec: dict[str, Any], new_spec: dict[str, Any], old: dict[str, Any], new: dict[str, Any], pointer: str
) -> Iterator[Change]:
    before, after = alternatives(old_spec, old), alternatives(new_spec, new)
    if _public(before) and not _public(after):
        reason = "security requirement added; clients calling without credentials are refused (401)."
        yield Change(pointer, "request", True, "security-added", reason)
    elif not _public(before) and _public(after):
        reason = (
            "security removed: the operation no longer requires authentication (not breaking, but intended?)."
        )
        yield Change(pointer, "request", False, "security-removed", reason)
    elif not _public(before):
        yield from _alternatives_changed(before, after, pointer)
    yield from _schemes_changed(old_spec, new_spec, before & after, pointer)


def _alternatives_changed(
    before: set[Alternative], after: set[Alternative], pointer: str
) -> Iterator[Change]:
    for lost in sorted(before - after, key=_describe):
        if any(_satisfies(lost, option) for option in after):
            reason = f"security requirement {_describe(lost)} relaxed; its clients are still let in."
            yield Change(pointer, "request", False, "security-relaxed", reason)
        else:
            stricter = [option for option in after if _satisfies(option, lost)]
            what = f"tightened to {_describe(stricter[0])}" if stricter else "removed"
            reason = f"security requirement {_describe(lost)} {what}; clients meeting only it are refused."
            yield Change(pointer, "request", True, "security-tightened", reason)
    for gained in sorted(after - before, key=_describe):
        if not any(_satisfies(gained, lost) for lost in before - after):  # else reported as tightened
            reason = f"security alternative {_describe(gained)} added; clients may also authenticate with it."
            yield Change(pointer, "request", False, "security-alternative-added", reason)


def _schemes_changed(
    old_spec: dict[str, Any], new_spec: dict[str, Any], kept: set[Alternative], pointer: str
) -> Iterator[Change]:
    """A scheme name kept but redefined (bearer to API key, another header) changes every caller."""
    old_schemes = old_spec.get("components", {}).get("securitySchemes", {})
    new_schemes = new_spec.get("components", {}).get("securitySchemes", {})
    for name in sorted({name for alternative in kept for name, _scopes in alternative}):
        before, after = old_schemes.get(name, {}), new_schemes.get(name, {})
        differing = [key for key in _SCHEME_IDENTITY if before.get(key) != after.get(key)]
        if differing:
            reason = (
                f"security scheme {name} changed ({', '.join(differing)}); clients authenticate the old way."
            )
            yield Change(pointer, "request", True, "security-scheme-changed", reason)
