"""The second server's world, read straight from `contract/fixtures/default.yaml` (plain YAML: this
server shares no code with `mockserver`, so it cannot inherit the mock's bugs or readings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contract.spec import default_fixtures_path


@dataclass(frozen=True)
class World:
    organizations: dict[str, dict[str, Any]]
    parties: dict[str, dict[str, Any]]
    users: dict[str, frozenset[str]]  # token -> organization uids
    documents: dict[str, dict[str, Any]]
    blueprints: dict[str, dict[str, Any]]

    def may_bill(self, owner: str, party: str) -> bool:
        return owner in (self.parties.get(party, {}).get("billable_by") or [])


def load(path: str | Path | None = None) -> World:
    raw = yaml.safe_load(Path(path or default_fixtures_path()).read_text(encoding="utf-8"))
    return World(
        organizations={o["uid"]: o for o in raw.get("organizations", [])},
        parties={p["uid"]: p for p in raw.get("parties", [])},
        users={u["token"]: frozenset(u.get("organizations") or []) for u in raw.get("users", [])},
        documents={d["uid"]: d for d in raw.get("documents", [])},
        blueprints={b["uid"]: b for b in raw.get("invoice_blueprints", [])},
    )
