"""The fixtures file: a broken one is refused with a message naming the entry; the default one
holds the world the issue asks for."""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from contract.spec import component_schema, to_json_schema
from contract.worldfile import world_schema
from mockserver.__main__ import banner, sample_create
from mockserver.domain.fixtures import DEFAULT_FIXTURES, FixtureError, load_world
from tests.mockserver.support import WORLD, create_app, document_of
from tests.servers import REPO_ROOT, refused_at_start

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


def without_section(key: str) -> dict[str, Any]:
    return mutated(lambda raw: raw.pop(key))


# (id, fixtures file contents, fragments the message must contain)
BROKEN: list[tuple[str, Any, list[str]]] = [
    ("not YAML", "organizations: [\n  - {uid: x", ["not valid YAML"]),
    ("not a mapping", "- just\n- a list\n", ["mapping"]),
    ("empty file", "", ["mapping"]),
    *[
        (f"missing section {key}", without_section(key), [f"'{key}'"])
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
    result = refused_at_start("--fixtures", str(path))
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


# What the one declared format adds (contract/fixtures/world.schema.yaml, read in strict mode).


def refused(tmp_path: Path, raw: Any) -> str:
    with pytest.raises(FixtureError) as refusal:
        load_world(write(tmp_path, raw))
    return str(refusal.value)


def test_an_unknown_key_is_refused_naming_it_and_the_keys_the_entry_takes(tmp_path):
    message = refused(tmp_path, mutated(lambda raw: raw["parties"][0].__setitem__("billabel_by", [])))
    assert "parties[0]: unknown key 'billabel_by'" in message
    assert "billable_by" in message.split("'billabel_by'", 1)[1]


def test_every_problem_of_the_file_is_named_at_once(tmp_path):
    def break_twice(raw: dict[str, Any]) -> None:
        raw["users"][0]["id"] = "one"
        del raw["documents"][1]["filename"]

    message = refused(tmp_path, mutated(break_twice))
    assert "2 problems" in message
    assert "users[0].id: expected an integer, got 'one'" in message
    assert "documents[1]: missing key 'filename'" in message


def test_null_reads_as_absent_so_an_optional_key_may_be_null_and_a_required_one_may_not(tmp_path):
    world = load_world(
        write(tmp_path, mutated(lambda raw: raw["organizations"][0].__setitem__("address", None)))
    )
    assert world.organizations[ORG0].address is None
    message = refused(tmp_path, mutated(lambda raw: raw["users"][0].__setitem__("fullname", None)))
    assert "users[0]: missing key 'fullname'" in message


def test_a_custom_fields_value_may_be_null(tmp_path):
    blueprint = RAW["invoice_blueprints"][0]
    name = next(iter(blueprint["invoice_fields"]))
    raw = mutated(lambda raw: raw["invoice_blueprints"][0]["invoice_fields"][name].__setitem__("value", None))
    assert load_world(write(tmp_path, raw)).blueprints[blueprint["uid"]].invoice_fields[name]["value"] is None


def test_a_key_left_out_takes_the_schemas_default(tmp_path):
    def leave_out(raw: dict[str, Any]) -> None:
        raw.pop("app_url")
        raw["documents"][0].pop("is_archived")

    world = load_world(write(tmp_path, mutated(leave_out)))
    schema = world_schema("strict")
    assert world.app_url == schema["properties"]["app_url"]["default"].rstrip("/")
    is_archived = schema["properties"]["documents"]["items"]["properties"]["is_archived"]["default"]
    assert world.documents[RAW["documents"][0]["uid"]].is_archived is is_archived


def test_an_unquoted_date_where_text_is_expected_reads_as_its_text(tmp_path):
    text = yaml.safe_dump(RAW, sort_keys=False).replace(
        f"filename: {RAW['documents'][0]['filename']}", "filename: 2026-01-31"
    )
    assert load_world(write(tmp_path, text)).documents[RAW["documents"][0]["uid"]].filename == "2026-01-31"


def test_an_infinite_amount_is_refused_naming_it(tmp_path):
    text = yaml.safe_dump(
        mutated(lambda raw: raw["invoice_blueprints"][0]["line_items"][0].update(quantity=7))
    )
    message = refused(tmp_path, text.replace("quantity: 7", "quantity: .inf", 1))
    assert "invoice_blueprints[0].line_items[0].quantity" in message
    assert "inf" in message


def test_the_worlds_uids_and_custom_fields_are_the_contracts_own_schemas(spec):
    schema = world_schema("strict")
    organization = schema["properties"]["organizations"]["items"]
    assert organization["properties"]["uid"] == to_json_schema(component_schema(spec, "Uid"))
    fields = schema["properties"]["invoice_blueprints"]["items"]["properties"]["invoice_fields"]
    assert fields["additionalProperties"] == to_json_schema(component_schema(spec, "InvoiceFieldInput"))


def test_the_declared_format_is_a_valid_json_schema():
    for mode in ("strict", "lenient"):
        jsonschema_rs.meta.validate(world_schema(mode))


@pytest.mark.parametrize("org", sorted(WORLD.organizations))
def test_the_worlds_sample_create_makes_a_priced_invoice(org):
    """The body the start banner prints (World.sample_create): accepted, and the answer shows money."""
    body = WORLD.sample_create(org)
    assert body is not None and "invoice_blueprint_uid" in body
    token = next(user.token for user in WORLD.users.values() if user.organizations == {org})
    client = create_app(validate_responses=True).test_client()
    response = client.post("/api/invoices", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["total_cents"] > 0


def test_the_start_banner_prints_a_priced_sample_and_names_the_control_api():
    text = banner(WORLD, "http://127.0.0.1:8080", "http://127.0.0.1:8080/__mock")
    assert '"invoice_blueprint_uid"' in text
    assert "http://127.0.0.1:8080/__mock" in text and "--no-control" in text
    assert "__mock" not in banner(WORLD, "http://127.0.0.1:8080", None)


def test_readmes_sample_curl_is_the_banners():
    """README shows what the mock prints at start, so a newcomer can paste either."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- sample-curl -->\n```sh\n(.*?)```", readme, re.S)
    assert block, "README has no sample-curl block"
    words = shlex.split(block.group(1).replace("\\\n", " "))
    sample = sample_create(WORLD)
    assert sample is not None
    token, body = sample
    assert f"Authorization: Bearer {token}" in words
    assert json.loads(words[words.index("-d") + 1]) == body
