"""No component nothing uses: a dead schema misleads spec readers and drifts unnoticed.

"Used" means reachable from `paths` through `$ref`s (transitively, so a schema used only by an
unused schema is unused too), or, for security schemes, named by a security requirement.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contract.spec import iter_operations, resolve_pointer
from contract.tooling.model import Tally, join

SECTIONS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "securitySchemes",
    "links",
    "callbacks",
)


def _references(node: Any) -> Iterator[str]:
    """Component pointers `node` refers to: `$ref`s and discriminator mappings."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                yield "/".join(value.split("/")[:4])  # a ref deep into a component uses the component
            elif key == "discriminator" and isinstance(value, dict):
                for target in value.get("mapping", {}).values():
                    yield target if str(target).startswith("#/") else join("#/components/schemas", target)
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def used_components(spec: dict[str, Any]) -> set[str]:
    """Pointers (`#/components/schemas/Invoice`) of every component the API actually uses."""
    used: set[str] = set()
    pending = list(_references(spec.get("paths", {})))
    while pending:
        component = pending.pop()
        if component in used:
            continue
        used.add(component)
        try:
            pending.extend(_references(resolve_pointer(spec, component)))
        except (KeyError, IndexError, TypeError):
            continue  # a dangling ref is the reference check's to report
    requirements = list(spec.get("security", []))
    for _path, _method, operation in iter_operations(spec):
        requirements.extend(operation.get("security", []))
    used.update(
        join("#/components/securitySchemes", name) for requirement in requirements for name in requirement
    )
    return used


def check_unused(spec: dict[str, Any]) -> Tally:
    """A problem per component, in any section, that `used_components` does not reach."""
    tally = Tally()
    used = used_components(spec)
    components = spec.get("components", {})
    for section in SECTIONS:
        for name in components.get(section, {}):
            tally.checked += 1
            pointer = join("#/components", section, name)
            if pointer not in used:
                tally.add(pointer, "unused: nothing reachable from paths or security refers to it")
    return tally
