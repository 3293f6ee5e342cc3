"""invoice_fields: the request's map comes back as the documented list."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given

from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, Violation, prop
from conformance.properties.steps import (
    combinations,
    create,
)

# -- create: the shapes of the answer ------------------------------------------------------------------


@prop("invoice_fields_as_list", kind="create", rows=("P13", "P16"))
def invoice_fields_as_list(ctx: Context) -> None:
    """The request's invoice_fields map comes back as the documented list, blueprint fields first.

    Rule: openapi.yaml create_invoice description (invoice_fields "comes back as a list of {key, value:
    {type, original_type, value}} ... in the request's order, after the blueprint's fields") and
    #/components/schemas/InvoiceField, InvoiceFieldValue; contract notes, Facts: invoice_fields
    """
    combos = combinations(ctx)

    @given(plan=gen.create_plans(ctx.profile, ctx.spec, include=("invoice_fields",)))
    @example(
        plan=gen.CreatePlan(
            combos[0],
            fields={
                "invoice_fields": {
                    "purchase_order": {"type": "String", "value": "PO-7781"},
                    "payment_terms": {"type": "string", "value": "NET_30"},
                }
            },
        )
    )
    def test(plan: gen.CreatePlan) -> None:
        exchange, data = create(ctx, plan)
        sent: dict[str, Any] = plan.fields.get("invoice_fields", {})
        keys, by_key = _returned_fields(exchange, data.get("invoice_fields"))
        _check_sent_fields(exchange, sent, by_key)
        blueprint = ctx.profile.blueprint(plan.blueprint) if isinstance(plan.blueprint, str) else None
        if blueprint is None:
            if keys != list(sent):
                raise Violation(
                    f"without a blueprint invoice_fields must be the request's, in its order {list(sent)}; "
                    f"got {keys}",
                    exchange,
                )
            return
        if blueprint.invoice_fields is None:
            return  # the profile does not say which fields the blueprint has
        _check_with_blueprint_fields(exchange, sent, keys, by_key, blueprint.invoice_fields)

    ctx.hypothesis("invoice_fields_as_list", test)


def _returned_fields(exchange: Exchange, returned: Any) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The returned list's keys in order and its values by key, once every entry is shown to be
    {key, value: {type, original_type, value}} and no key repeats (the later checks rely on both)."""
    if not isinstance(returned, list):
        raise Violation(f"invoice_fields must come back as a list, got {type(returned).__name__}", exchange)
    keys: list[str] = []
    for entry in returned:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("key"), str)
            or not isinstance(entry.get("value"), dict)
            or not {"type", "original_type", "value"} <= entry["value"].keys()
        ):
            raise Violation(
                f"an invoice_fields entry is not {{key, value: {{type, original_type, value}}}}: {entry!r}",
                exchange,
            )
        keys.append(entry["key"])
    by_key = {entry["key"]: entry["value"] for entry in returned}
    if len(by_key) != len(keys):
        raise Violation(f"invoice_fields repeats a key: {keys}", exchange)
    return keys, by_key


def _check_sent_fields(exchange: Exchange, sent: dict[str, Any], by_key: dict[str, dict[str, Any]]) -> None:
    """Every sent field comes back with its type as original_type and its value unchanged."""
    for key, field in sent.items():
        got = by_key.get(key)
        if got is None:
            raise Violation(f"the field {key!r} was sent but is not in invoice_fields", exchange)
        if got["original_type"] != field["type"] or got["value"] != field["value"]:
            raise Violation(
                f"the field {key!r} was sent as type {field['type']!r}, value {field['value']!r}; "
                "came back "
                f"as original_type {got['original_type']!r}, value {got['value']!r}",
                exchange,
            )
        if not isinstance(got["type"], str):
            raise Violation(f"the field {key!r} has a type that is not a string: {got['type']!r}", exchange)


def _check_with_blueprint_fields(
    exchange: Exchange,
    sent: dict[str, Any],
    keys: list[str],
    by_key: dict[str, dict[str, Any]],
    inherited: dict[str, Any],
) -> None:
    """With a blueprint the list holds its fields (values kept unless the request replaces them) and
    then the request's, in the request's order."""
    inherited_keys = set(inherited)
    if set(keys) != set(sent) | inherited_keys:
        raise Violation(
            f"invoice_fields must hold the blueprint's fields {sorted(inherited_keys)} and the request's "
            f"{sorted(sent)}; got {keys}",
            exchange,
        )
    for key, field in inherited.items():
        if key not in sent and isinstance(field, dict) and by_key[key].get("value") != field.get("value"):
            raise Violation(f"the blueprint field {key!r} came back as {by_key[key]!r}", exchange)
    # A request field replacing a blueprint field may stand at either place; the others may not.
    own = [key for key in keys if key in sent and key not in inherited_keys]
    if own != [key for key in sent if key not in inherited_keys]:
        raise Violation(f"invoice_fields must keep the request's order {list(sent)}; got {keys}", exchange)
    first_own = min((i for i, key in enumerate(keys) if key in own), default=len(keys))
    if any(key not in sent for key in keys[first_own:]):
        raise Violation(f"the blueprint's fields must come before the request's: got {keys}", exchange)
