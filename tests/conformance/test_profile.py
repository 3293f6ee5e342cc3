"""The profile loader is lenient and its derivations are right (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.client import Client
from conformance.core import Context, NotRun, RunSettings
from conformance.profile import ProfileError, default_profile_path, load_profile, profile_from_dict
from conformance.runner import NOT_RUN, PASSED, catalog, run_property
from tests.world import FACTS

ACME, GLOBEX = "10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002"
WAYNE = "20000000-0000-4000-8000-000000000004"


def nowhere() -> Client:
    """A client of a port nothing listens on: a property that needs no server never uses it."""
    return Client("http://127.0.0.1:9", timeout=1)


@pytest.fixture(scope="module")
def profile():
    return load_profile(None, FACTS)


def test_the_default_profile_is_the_mocks_fixtures(profile):
    assert default_profile_path().name == "default.yaml"
    assert set(profile.tokens) == {"acme-token", "globex-token", "both-token"}


def test_every_combination_may_create(profile):
    for combo in profile.combinations():
        user = profile.user(combo.token)
        assert combo.owner in user.organizations
        assert combo.owner in profile.party(combo.party).billable_by
        assert profile.document(combo.document).organization_uid == combo.owner


def test_forbidden_owner_requests_are_right_but_for_the_owner(profile):
    requests = profile.forbidden_owner_requests()
    assert requests
    for combo in requests:
        assert combo.owner not in profile.user(combo.token).organizations
        assert combo.owner in profile.party(combo.party).billable_by
        assert profile.document(combo.document).organization_uid == combo.owner


def test_derivations(profile):
    assert WAYNE in {party.uid for party in profile.unbillable_parties(ACME)}
    assert profile.outsider_tokens(ACME) == ["globex-token"]
    assert set(profile.member_tokens(ACME)) == {"acme-token", "both-token"}
    assert {bp.organization_uid for bp in profile.foreign_blueprints(ACME)} == {GLOBEX}


def test_loader_is_lenient():
    profile = profile_from_dict({"users": [{"token": "t"}, {"no": "token"}], "parties": None}, FACTS)
    assert profile.tokens == ("t",)
    assert profile.combinations() == []


def test_what_the_profile_does_not_say_is_not_guessed():
    """A party without billable_by is neither billable nor unbillable; a user without organizations
    is nobody's member and nobody's outsider."""
    profile = profile_from_dict(
        {
            "users": [{"token": "known", "organizations": [ACME]}, {"token": "unknown"}],
            "parties": [{"uid": WAYNE}],
            "documents": [{"uid": "d", "organization_uid": ACME}],
        },
        FACTS,
    )
    assert profile.combinations() == []
    assert profile.unbillable_parties(ACME) == []
    assert profile.outsider_tokens(GLOBEX) == ["known"]
    assert profile.member_tokens(ACME) == ["known"]


def test_unreadable_profiles_are_refused(tmp_path: Path):
    with pytest.raises(ProfileError):
        load_profile(tmp_path / "missing.yaml", FACTS)
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n- not a mapping\n")
    with pytest.raises(ProfileError):
        load_profile(bad, FACTS)


def test_properties_without_their_data_are_not_run(spec):
    """An empty profile can feed no property: each is `not run` with the reason, none passes, and
    none sends a request (there is no client to send one)."""
    with nowhere() as client:
        ctx = Context(client=client, profile=profile_from_dict({}, FACTS), spec=spec, settings=RunSettings())
        outcomes = {item.name: run_property(ctx, item) for item in catalog()}
    assert {outcome.status for outcome in outcomes.values()} == {NOT_RUN}, outcomes
    assert all(outcome.message for outcome in outcomes.values())
    assert PASSED not in {outcome.status for outcome in outcomes.values()}
    assert client.requests_sent == 0


def test_a_token_alone_feeds_only_the_checks_that_need_no_invoice(spec):
    profile = profile_from_dict({"users": [{"token": "t"}]}, FACTS)
    with nowhere() as client:
        ctx = Context(client=client, profile=profile, spec=spec, settings=RunSettings())
        needs_an_invoice = [item for item in catalog() if item.kind in ("create", "stateful")]
        assert {run_property(ctx, item).status for item in needs_an_invoice} == {NOT_RUN}
    assert client.requests_sent == 0


def test_a_profile_with_one_organization_skips_what_needs_two(spec):
    data = {
        "users": [{"token": "t", "organizations": [ACME]}],
        "parties": [{"uid": WAYNE, "billable_by": [ACME]}],
        "documents": [{"uid": "30000000-0000-4000-8000-000000000001", "organization_uid": ACME}],
    }
    with nowhere() as client:
        ctx = Context(
            client=client, profile=profile_from_dict(data, FACTS), spec=spec, settings=RunSettings()
        )
        for name in (
            "number_scoped_to_owner",
            "owner_forbidden",
            "party_forbidden",
            "invisible_to_other_org",
        ):
            item = next(p for p in catalog() if p.name == name)
            with pytest.raises(NotRun):
                item.check(ctx)


# The profile is the world file's format read leniently (contract/fixtures/world.schema.yaml).


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({"parties": [{"uid": WAYNE, "billable_by": ACME}]}, ["parties[0].billable_by", "list"]),
        ({"users": ["acme-token"]}, ["users[0]", "mapping"]),
        ({"users": [{"token": "t", "organizations": [ACME, 7]}]}, ["users[0].organizations[1]", "7"]),
        ({"documents": {"uid": "d"}}, ["documents", "list"]),
        (
            {"invoice_blueprints": [{"uid": "b", "line_items": [{"unit_price": -1}]}]},
            ["invoice_blueprints[0].line_items[0].unit_price", "-1"],
        ),
    ],
    ids=["billable_by not a list", "user not a mapping", "organization not a string", "section", "price"],
)
def test_what_the_profile_says_must_have_the_declared_type(data, fragments):
    """Lenient is about what may be missing, not about what is wrong: a wrong entry is named."""
    with pytest.raises(ProfileError) as refused:
        profile_from_dict(data, FACTS, source="target.yaml")
    assert str(refused.value).startswith("target.yaml: ")
    for fragment in fragments:
        assert fragment in str(refused.value)


def test_unknown_keys_and_the_servers_own_uid_forms_are_accepted():
    profile = profile_from_dict(
        {
            "notes": "tenant 42",
            "users": [{"token": "t", "organizations": ["org-1"], "role": "admin"}],
            "parties": [{"uid": "party-1", "billable_by": ["org-1"]}],
            "documents": [{"uid": "doc-1", "organization_uid": "org-1"}],
        },
        FACTS,
    )
    assert [combo.body() for combo in profile.combinations()] == [
        {"owner_uid": "org-1", "target_party_uid": "party-1", "document_uid": "doc-1"}
    ]


def test_null_reads_as_not_said():
    profile = profile_from_dict(
        {"users": [{"token": "t", "organizations": None}], "parties": [{"uid": WAYNE}]}, FACTS
    )
    party = profile.party(WAYNE)
    assert profile.user("t").organizations is None
    assert party is not None and party.billable_by is None


def test_a_broken_profile_file_is_named_in_the_message(tmp_path: Path):
    path = tmp_path / "target.yaml"
    path.write_text("users:\n  - {token: t, organizations: 5}\n", encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        load_profile(path, FACTS)
    assert str(refused.value).startswith(f"{path}: users[0].organizations: must be a list")


def test_restricted_keys_are_kept_apart(profile):
    """Keys with scopes lacking an operation, or with a rate limit, are not among the tokens every
    property uses; the scope and limit properties find them (P74, P22)."""
    restricted = {user.token: user for user in profile.restricted}
    assert set(restricted) == {"acme-readonly-token", "acme-limited-token"}
    assert restricted["acme-readonly-token"].scopes == frozenset({"invoices:read"})
    assert restricted["acme-limited-token"].rate_limit is not None
    reading, writing = frozenset({"invoices:read"}), frozenset({"invoices:write"})
    assert [u.token for u in profile.scoped_users(lacking=writing, having=reading)] == ["acme-readonly-token"]
    assert [u.token for u in profile.limited_users()] == ["acme-limited-token"]
    assert profile.user("acme-readonly-token").organizations == frozenset({ACME})


def test_products_are_read_per_organization(profile):
    acme = {product.sku: product for product in profile.products_for(ACME)}
    assert acme and all(product.organization_uid == ACME for product in acme.values())
    assert all(isinstance(product.unit_price, int) for product in acme.values())  # cents
    assert profile.product(GLOBEX, next(iter(acme))) is not profile.product(ACME, next(iter(acme)))


def test_a_key_with_every_scope_is_an_ordinary_key():
    profile = profile_from_dict(
        {"users": [{"token": "t", "scopes": ["invoices:read", "invoices:write"]}]}, FACTS
    )
    assert profile.tokens == ("t",) and profile.restricted == ()
