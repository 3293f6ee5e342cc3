"""The fixtures file: a broken one is refused with a message naming the entry; the default one
holds the world the issue asks for."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.fixtures import DEFAULT_FIXTURES, FixtureError, load_world
from tests.mockserver.support import REPO_ROOT, WORLD, document_of

RAW = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
ORG0 = RAW["organizations"][0]["uid"]
UNKNOWN_ORG = "19999999-9999-4999-8999-999999999999"


def write(tmp_path: Path, raw: Any) -> Path:
    path = tmp_path / "fixtures.yaml"
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def mutated(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


# (id, fixtures file contents, fragments the message must contain)
BROKEN: list[tuple[str, Any, list[str]]] = [
    ("not YAML", "organizations: [\n  - {uid: x", ["not valid YAML"]),
    ("not a mapping", "- just\n- a list\n", ["mapping"]),
    ("empty file", "", ["mapping"]),
    *[
        (f"missing section {key}", mutated(lambda raw, key=key: raw.pop(key)), [f"'{key}'"])
        for key in ("organizations", "parties", "users", "documents")
    ],
    ("section not a list", mutated(lambda raw: raw.__setitem__("parties", {"a": 1})), ["parties", "list"]),
    (
        "entry not a mapping",
        mutated(lambda raw: raw["documents"].__setitem__(0, "doc")),
        ["documents[0]", "mapping"],
    ),
    ("missing key", mutated(lambda raw: raw["organizations"][0].pop("name")), ["organizations[0]", "'name'"]),
    (
        "missing contact key",
        mutated(lambda raw: raw["parties"][1]["billing_contact"].pop("email")),
        ["parties[1].billing_contact", "'email'"],
    ),
    ("wrong type", mutated(lambda raw: raw["users"][0].__setitem__("id", "one")), ["users[0].id", "'one'"]),
    (
        "bad uuid",
        mutated(lambda raw: raw["organizations"][0].__setitem__("uid", "not-a-uuid")),
        ["organizations[0].uid", "'not-a-uuid'", "uuid"],
    ),
    (
        "bad document org uuid",
        mutated(lambda raw: raw["documents"][0].__setitem__("organization_uid", "x")),
        ["documents[0].organization_uid", "'x'"],
    ),
    (
        "negative unit price",
        mutated(lambda raw: raw["invoice_blueprints"][0]["line_items"][0].__setitem__("unit_price", -1)),
        ["invoice_blueprints[0].line_items[0].unit_price"],
    ),
    (
        "unknown org in billable_by",
        mutated(lambda raw: raw["parties"][0]["billable_by"].append(UNKNOWN_ORG)),
        [f"parties[uid={RAW['parties'][0]['uid']}].billable_by", UNKNOWN_ORG],
    ),
    (
        "unknown org of a user",
        mutated(lambda raw: raw["users"][1].__setitem__("organizations", [UNKNOWN_ORG])),
        [f"users[token={RAW['users'][1]['token']}]", UNKNOWN_ORG],
    ),
    (
        "unknown org of a document",
        mutated(lambda raw: raw["documents"][0].__setitem__("organization_uid", UNKNOWN_ORG)),
        [f"documents[uid={RAW['documents'][0]['uid']}]", UNKNOWN_ORG],
    ),
    (
        "unknown org of a blueprint",
        mutated(lambda raw: raw["invoice_blueprints"][0].__setitem__("organization_uid", UNKNOWN_ORG)),
        [f"invoice_blueprints[uid={RAW['invoice_blueprints'][0]['uid']}]", UNKNOWN_ORG],
    ),
    (
        "duplicate uid in a section",
        mutated(lambda raw: raw["parties"].append(copy.deepcopy(raw["parties"][0]))),
        ["parties", "duplicate", RAW["parties"][0]["uid"]],
    ),
    (
        "uid used by two kinds",
        mutated(lambda raw: raw["documents"][0].__setitem__("uid", ORG0)),
        ["documents", ORG0],
    ),
    (
        "duplicate token",
        mutated(lambda raw: raw["users"][1].__setitem__("token", raw["users"][0]["token"])),
        ["users", "duplicate", RAW["users"][0]["token"]],
    ),
    (
        "billable_by entry not a string",
        mutated(lambda raw: raw["parties"][0].__setitem__("billable_by", [[ORG0]])),
        ["parties[", "billable_by"],
    ),
    (
        "user organizations of mixed types",
        mutated(lambda raw: raw["users"][0].__setitem__("organizations", [ORG0, 1])),
        ["users[", "organizations"],
    ),
]


@pytest.mark.parametrize(("contents", "fragments"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_fixtures_file_is_refused_naming_the_entry(tmp_path, contents, fragments):
    path = write(tmp_path, contents)
    with pytest.raises(FixtureError) as refused:
        load_world(path)
    message = str(refused.value)
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message


def test_missing_fixtures_file_is_refused(tmp_path):
    with pytest.raises(FixtureError, match="cannot read"):
        load_world(tmp_path / "nowhere.yaml")


def test_cli_refuses_a_broken_fixtures_file_with_exit_2(tmp_path):
    path = write(
        tmp_path, mutated(lambda raw: raw["users"][1].__setitem__("token", raw["users"][0]["token"]))
    )
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", "9", "--fixtures", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"duplicate token '{RAW['users'][0]['token']}'" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


# The default world, as the issue requires it.


def test_default_world_has_two_organizations_with_a_user_each_and_one_of_both():
    orgs = set(WORLD.organizations)
    assert len(orgs) >= 2
    memberships = [user.organizations for user in WORLD.users.values()]
    for org in orgs:
        assert frozenset({org}) in memberships
    assert any(len(m) >= 2 for m in memberships)


def test_default_world_has_parties_billable_by_one_org_by_several_and_by_none():
    billable = [party.billable_by for party in WORLD.parties.values()]
    for org in WORLD.organizations:
        assert frozenset({org}) in billable
    assert any(len(b) >= 2 for b in billable)
    assert frozenset() in billable


@pytest.mark.parametrize("org", sorted(WORLD.organizations))
def test_default_world_gives_each_org_a_document_and_a_priced_blueprint(org):
    assert document_of(org)
    blueprints = [b for b in WORLD.blueprints.values() if b.organization_uid == org]
    assert any(b.line_items and all(line.unit_price > 0 for line in b.line_items) for b in blueprints)


def test_tokens_and_uids_are_unique_across_the_default_world():
    uids = [*WORLD.organizations, *WORLD.parties, *WORLD.documents, *WORLD.blueprints]
    assert len(uids) == len(set(uids))
    assert len(WORLD.users) == len(RAW["users"])
