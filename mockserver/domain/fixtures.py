"""The mock's world: the strict reading of a world file (`contract/fixtures/default.yaml` unless
`--fixtures` names another).

The format, its checks and its messages live in `contract.worldfile` (the schema,
`contract/fixtures/world.schema.yaml`) and `contract.world` (the typed model and the cross-checks),
shared with the conformance kit's profile; this module names them as the mock uses them.
"""

from __future__ import annotations

from contract.spec import default_fixtures_path
from contract.world import (
    Blueprint,
    BlueprintLine,
    Contact,
    Document,
    Organization,
    Party,
    User,
    World,
    load_world,
    parse_world,
)
from contract.worldfile import WorldError as FixtureError

DEFAULT_FIXTURES = default_fixtures_path()

__all__ = [
    "DEFAULT_FIXTURES",
    "Blueprint",
    "BlueprintLine",
    "Contact",
    "Document",
    "FixtureError",
    "Organization",
    "Party",
    "User",
    "World",
    "load_world",
    "parse_world",
]
