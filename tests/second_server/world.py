"""The second server's world, read straight from `contract/fixtures/default.yaml` (plain YAML: this
server shares no code with `mockserver`, nor the typed reading the mock uses, so it cannot inherit
the mock's bugs or readings of the file)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contract.spec import default_fixtures_path


@dataclass(frozen=True)
class Key:
    """What a bearer token may do: act for its organizations, within its scopes and rate limit."""

    organizations: frozenset[str]
    scopes: frozenset[str] | None  # None: a key without scopes, which may do everything (P74)
    rate_limit: tuple[int, float] | None  # (requests, window in seconds), or no limit


@dataclass(frozen=True)
class World:
    organizations: dict[str, dict[str, Any]]
    parties: dict[str, dict[str, Any]]
    users: dict[str, Key]  # token -> key
    documents: dict[str, dict[str, Any]]
    blueprints: dict[str, dict[str, Any]]
    products: dict[tuple[str, str], dict[str, Any]]  # (organization uid, sku) -> product

    def may_bill(self, owner: str, party: str) -> bool:
        return owner in (self.parties.get(party, {}).get("billable_by") or [])


def _key(user: dict[str, Any]) -> Key:
    scopes = frozenset(user["scopes"]) if "scopes" in user else None
    limit = user.get("rate_limit")
    rate = (int(limit["requests"]), float(limit["window_seconds"])) if limit else None
    return Key(frozenset(user.get("organizations") or []), scopes, rate)


def load(path: str | Path | None = None) -> World:
    raw = yaml.safe_load(Path(path or default_fixtures_path()).read_text(encoding="utf-8"))
    return World(
        organizations={o["uid"]: o for o in raw.get("organizations", [])},
        parties={p["uid"]: p for p in raw.get("parties", [])},
        users={u["token"]: _key(u) for u in raw.get("users", [])},
        documents={d["uid"]: d for d in raw.get("documents", [])},
        blueprints={b["uid"]: b for b in raw.get("invoice_blueprints", [])},
        products={(p["organization_uid"], p["sku"]): p for p in raw.get("products", [])},
    )
