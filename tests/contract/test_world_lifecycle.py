"""contract.world's lifecycle parts: products by (organization, sku), key scopes and rate limits.

Built from the shared fixtures file (parsed, then edited one fact at a time), so that each refusal
is proven against a world that is otherwise valid.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from contract.facts import read_facts
from contract.spec import default_fixtures_path, default_spec_path, load_spec
from contract.world import Product, RateLimit, load_world, parse_world
from contract.worldfile import WorldError

RAW: dict[str, Any] = yaml.safe_load(default_fixtures_path().read_text(encoding="utf-8"))
WORLD = load_world()
SCOPES = read_facts(load_spec(default_spec_path())).scopes


def edited(edit: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    edit(raw)
    return raw


def test_products_are_indexed_by_organization_and_sku():
    assert len(WORLD.products) == len(RAW["products"])
    for item in RAW["products"]:
        product = WORLD.products[(item["organization_uid"], item["sku"])]
        assert product == Product(
            item["sku"],
            item["organization_uid"],
            item["context_type"],
            item["context_type_uid"],
            item["name"],
            item["unit_price"],
        )
        assert isinstance(product.unit_price_cents, int)


def test_two_organizations_may_use_one_sku():
    organizations_by_sku: dict[str, set[str]] = {}
    for organization, sku in WORLD.products:
        organizations_by_sku.setdefault(sku, set()).add(organization)
    assert any(len(organizations) > 1 for organizations in organizations_by_sku.values())


def test_a_sku_twice_in_one_organization_is_refused():
    raw = edited(lambda r: r["products"].append({**r["products"][0], "name": "Same sku again"}))
    sku, organization = raw["products"][0]["sku"], raw["products"][0]["organization_uid"]
    with pytest.raises(WorldError, match=f"duplicate sku '{sku}' in organization '{organization}'"):
        parse_world(raw)


def test_a_product_of_an_unknown_organization_is_refused():
    unknown = "10000000-0000-4000-8000-0000000000ff"
    raw = edited(lambda r: r["products"][0].update(organization_uid=unknown))
    with pytest.raises(WorldError, match=f"unknown organization '{unknown}'"):
        parse_world(raw)


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda r: r["products"][0].update(unit_price=12.5), "unit_price"),
        (lambda r: r["products"][0].update(unit_price=-1), "unit_price"),
        (lambda r: r["products"][0].update(context_type="SERVICE"), "context_type"),
        (lambda r: r["products"][0].pop("sku"), "sku"),
    ],
    ids=["price not in whole cents", "negative price", "unknown context type", "no sku"],
)
def test_a_product_breaking_its_schema_is_refused(edit: Any, complaint: str):
    with pytest.raises(WorldError, match=complaint):
        parse_world(edited(edit))


def test_a_world_without_products_has_none():
    assert parse_world(edited(lambda r: r.pop("products"))).products == {}


def test_scopes_and_rate_limits_load_from_the_fixtures():
    for item in RAW["users"]:
        user = WORLD.users[item["token"]]
        assert user.scopes == (frozenset(item["scopes"]) if "scopes" in item else None)
        assert user.rate_limit == (RateLimit(**item["rate_limit"]) if "rate_limit" in item else None)
    assert any(user.scopes is not None for user in WORLD.users.values())
    assert any(user.rate_limit is not None for user in WORLD.users.values())


def test_a_read_only_key_may_read_and_not_write():
    reader = next(user for user in WORLD.users.values() if user.scopes == frozenset({"invoices:read"}))
    assert {op for op, needed in SCOPES.items() if reader.may(needed)} == {"get_invoice", "list_invoices"}


def test_a_key_without_scopes_may_do_everything():
    unscoped = next(user for user in WORLD.users.values() if user.scopes is None)
    assert all(unscoped.may(needed) for needed in SCOPES.values())


def test_an_empty_scope_list_is_refused():
    """`[]` is ambiguous ("a key without scopes has full access"): a world leaves the key out."""
    with pytest.raises(WorldError, match="scopes"):
        parse_world(edited(lambda r: r["users"][0].update(scopes=[])))


@pytest.mark.parametrize(
    "rate_limit",
    [
        {"requests": 0, "window_seconds": 60},
        {"requests": 3},
        {"requests": 3, "window_seconds": 60, "burst": 1},
    ],
    ids=["zero requests", "no window", "unknown key"],
)
def test_a_bad_rate_limit_is_refused(rate_limit: dict[str, Any]):
    with pytest.raises(WorldError, match="rate_limit"):
        parse_world(edited(lambda r: r["users"][0].update(rate_limit=rate_limit)))
