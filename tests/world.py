"""The test data every suite shares, read from its one file: the contract and the fixture world.

Values are found by the role they play (the example's owner, a party only that owner may bill,
the user of both organizations…), so no test restates what `openapi.yaml` or
`contract/fixtures/default.yaml` holds.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

from contract.facts import read_facts
from contract.spec import default_spec_path, load_spec, operation
from contract.world import Blueprint, Document, Party, User, load_world

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Connexion imports Starlette's test client, which warns about httpx.
    import mockserver.http.app

create_app = mockserver.http.app.create_app

SPEC_PATH = default_spec_path()
SPEC = load_spec(SPEC_PATH)
FACTS = read_facts(SPEC)  # the bundled spec's facts, as a mock started without --spec has them
WORLD = load_world()

# A fixed "now" for everything that depends on the clock (age, overdue_days, generated numbers).
NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)

CREATE_EXAMPLES = operation(SPEC, "create_invoice")["requestBody"]["content"]["application/json"]["examples"]
MINIMAL = CREATE_EXAMPLES["minimal"]["value"]
FULL = CREATE_EXAMPLES["full"]["value"]

# Organizations by role: A owns the spec's examples, B is the other one.
ORG_A = MINIMAL["owner_uid"]
ORG_B = next(uid for uid in sorted(WORLD.organizations) if uid != ORG_A)


def user_of(*orgs: str) -> User:
    return next(u for u in WORLD.users.values() if u.organizations == frozenset(orgs))


def party_billable_by(*orgs: str) -> Party:
    return next(p for p in WORLD.parties.values() if p.billable_by == frozenset(orgs))


def document_of(org: str) -> Document:
    return next(d for d in WORLD.documents.values() if d.organization_uid == org)


def blueprint_of(org: str) -> Blueprint:
    return next(b for b in WORLD.blueprints.values() if b.organization_uid == org)


def body_for(org: str = ORG_A, party: Party | None = None, **fields: Any) -> dict[str, Any]:
    """A minimal create body `org` may send, plus `fields`: the one helper every test builds it with.

    The world's own pick (`World.sample_create`, the banner's too): a party only `org` may bill
    (or `party`), one of its documents, no blueprint.
    """
    body = WORLD.sample_create(org, priced=False)
    assert body is not None, f"the fixtures give {org} no party it may bill and no document"
    if party is not None:
        body["target_party_uid"] = party.uid
    return {**body, **fields}
