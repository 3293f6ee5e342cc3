"""`x-` extensions that name enum values still name values that exist.

`x-client-by-invoice-type` is keyed by `InvoiceType` values, `x-money-context-types` maps money
sums to `LineItem` `context_type` values. An enum rename leaves them naming a value no request or
response carries, while the new value has no rule: the mock and the kit then meet an invoice
type they cannot place (contract/facts.py reads both). No OpenAPI validator sees it, because OpenAPI
tools ignore extensions; this check does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from contract.spec import resolve_pointer
from contract.tooling.model import Tally, join

PARTY_ROLES = ("target_party", "owner")  # what x-client-by-invoice-type may map to (facts.client_is_target)


@dataclass(frozen=True)
class EnumLink:
    """An extension whose keys or values are values of the enum of `schema`."""

    extension: str  # pointer of the extension (where contract/facts.py reads it)
    names: Literal["keys", "values"]
    schema: str  # pointer of the schema holding the enum
    complete: bool  # every enum value needs an entry (else the mock has no rule for it)


LINKS = (
    EnumLink(
        "#/components/schemas/InvoiceParties/x-client-by-invoice-type",
        "keys",
        "#/components/schemas/InvoiceType",
        complete=True,
    ),
    # The rest of the types make up `subtotal_cents`, so not every value needs an entry. Today
    # `LineItem.context_type` declares no enum (lines come from the world's products too), and
    # then there is nothing to check against.
    EnumLink(
        "#/components/schemas/LineItem/x-money-context-types",
        "values",
        "#/components/schemas/LineItem/properties/context_type",
        complete=False,
    ),
)


def _get(spec: dict[str, Any], pointer: str) -> Any:
    """The node at `pointer`, its `$ref`s followed; None when the spec has none there."""
    try:
        node = resolve_pointer(spec, pointer)
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = resolve_pointer(spec, node["$ref"])
    except (KeyError, IndexError, TypeError):
        return None
    return node


def _link_problems(spec: dict[str, Any], link: EnumLink) -> Iterator[tuple[str, str]]:
    extension, schema = _get(spec, link.extension), _get(spec, link.schema)
    if not isinstance(extension, dict) or not isinstance(schema, dict) or "enum" not in schema:
        return
    enum = list(schema["enum"])
    named = list(extension) if link.names == "keys" else list(extension.values())
    key = link.extension.rsplit("/", 1)[1]
    for entry, value in extension.items():
        name = entry if link.names == "keys" else value
        if name not in enum:
            yield (
                join(link.extension, entry),
                f"{key} names {name!r}, which is not a value of {link.schema} (enum: {enum}); "
                "renamed or removed?",
            )
    if link.complete:
        for value in enum:
            if value not in named:
                yield link.extension, f"{key} has no entry for {value!r} of {link.schema}"


def _party_problems(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    pointer = LINKS[0].extension
    mapping = _get(spec, pointer)
    if not isinstance(mapping, dict):
        return
    for entry, role in mapping.items():
        if role not in PARTY_ROLES:
            yield (
                join(pointer, entry),
                f"maps {entry!r} to {role!r}; the client is one of {list(PARTY_ROLES)}",
            )


def check_extension_enums(spec: dict[str, Any]) -> Tally:
    """Problems of the extensions that name enum values (see `LINKS`)."""
    tally = Tally()
    for link in LINKS:
        tally.checked += 1
        for pointer, message in _link_problems(spec, link):
            tally.add(pointer, message)
    tally.checked += 1
    for pointer, message in _party_problems(spec):
        tally.add(pointer, message)
    return tally
