"""Auth and visibility: 401 for a bad token everywhere, 403 for who may bill whom, 404 for what
the token's user may not see."""

from __future__ import annotations

import pytest

from mockserver.domain.fixtures import User
from tests.mockserver.support import (
    MINIMAL,
    ORG_A,
    ORG_B,
    PARTY_A,
    PARTY_B,
    PARTY_BOTH,
    PARTY_NOBODY,
    UNKNOWN_UID,
    USER_A,
    USER_B,
    USER_BOTH,
    WORLD,
    assert_error,
    auth,
    body_for,
    create,
    created,
)

OPERATIONS = {
    "create": ("POST", "/api/invoices", MINIMAL),
    "list": ("GET", "/api/invoices", None),
    "get": ("GET", f"/api/invoices/{UNKNOWN_UID}", None),
}
UNKNOWN_TOKEN = "not-a-token"
assert UNKNOWN_TOKEN not in WORLD.users

BAD_AUTHORIZATION = {
    "missing": None,
    "empty": "",
    "other scheme": f"Token {USER_A.token}",
    "basic": "Basic YWxpY2U6c2VjcmV0",
    "bearer without token": "Bearer",
    "bearer with blank token": "Bearer   ",
    "token without scheme": USER_A.token,
    "unknown token": f"Bearer {UNKNOWN_TOKEN}",
    "token with a suffix": f"Bearer {USER_A.token}x",
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION.values(), ids=BAD_AUTHORIZATION)
def test_bad_bearer_token_is_401_with_www_authenticate(client, operation, authorization):
    method, path, body = OPERATIONS[operation]
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.request(method, path, json=body, headers=headers)
    assert_error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("token", sorted(WORLD.users))
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_every_fixture_token_is_accepted(client, token, scheme):
    response = client.get("/api/invoices", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200


def test_owner_not_among_the_users_organizations_is_403(client):
    envelope = assert_error(create(client, body_for(ORG_B), USER_A), 403, "/owner_uid")
    assert envelope["errors"][0]["code"] == "forbidden"
    assert ORG_B in envelope["message"]


def test_unknown_owner_is_403(client):
    assert_error(create(client, body_for(ORG_A, owner_uid=UNKNOWN_UID), USER_BOTH), 403, "/owner_uid")


@pytest.mark.parametrize(
    "party_uid",
    [PARTY_B.uid, PARTY_NOBODY.uid, UNKNOWN_UID, ORG_A],
    ids=["billable by the other org only", "billable by nobody", "unknown uid", "an organization uid"],
)
def test_party_the_owner_may_not_bill_is_403(client, party_uid):
    body = body_for(ORG_A, target_party_uid=party_uid)
    envelope = assert_error(create(client, body, USER_BOTH), 403, "/target_party_uid")
    assert envelope["errors"][0]["code"] == "forbidden"
    assert party_uid in envelope["message"]


@pytest.mark.parametrize("org", [ORG_A, ORG_B])
@pytest.mark.parametrize("party", [PARTY_BOTH, None], ids=["party of both orgs", "party of that org only"])
def test_user_of_both_organizations_bills_from_either(client, org, party):
    data = created(client, body_for(org, party), USER_BOTH)
    assert data["parties"]["service_provider"]["uid"] == org


@pytest.mark.parametrize("user", [USER_A, USER_BOTH], ids=["single-org user", "both-org user"])
def test_party_of_both_orgs_is_billable_by_each_orgs_user(client, user):
    assert created(client, body_for(ORG_A, PARTY_BOTH), user)["target_party_uid"] == PARTY_BOTH.uid


def test_invoice_of_another_organization_is_404_exactly_like_an_unknown_uid(client):
    invoice_uid = created(client, body_for(ORG_B), USER_B)["uid"]
    hidden = client.get(f"/api/invoices/{invoice_uid}", headers=auth(USER_A))
    unknown = client.get(f"/api/invoices/{UNKNOWN_UID}", headers=auth(USER_A))
    assert_error(hidden, 404, "invoice_uid")
    assert_error(unknown, 404, "invoice_uid")
    assert hidden.json() == _with_uid(unknown.json(), UNKNOWN_UID, invoice_uid)
    assert hidden.headers.keys() == unknown.headers.keys()


def _with_uid(envelope: dict, old: str, new: str) -> dict:
    def swap(value: object) -> object:
        if isinstance(value, str):
            return value.replace(old, new)
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    return swap(envelope)  # type: ignore[return-value]


def test_invoice_is_visible_to_every_user_of_its_organization(client):
    invoice_uid = created(client, body_for(ORG_A), USER_BOTH)["uid"]
    for user in (USER_A, USER_BOTH):
        assert client.get(f"/api/invoices/{invoice_uid}", headers=auth(user)).status_code == 200


@pytest.mark.parametrize(
    "invoice_uid",
    [
        "not-a-uuid",
        "123",
        UNKNOWN_UID.replace("-", ""),
        UNKNOWN_UID.upper(),
        f"{UNKNOWN_UID}0",
        "%20",
    ],
)
def test_invoice_uid_that_names_no_invoice_is_404(client, invoice_uid):
    created(client, body_for())
    assert_error(client.get(f"/api/invoices/{invoice_uid}", headers=auth(USER_A)), 404, "invoice_uid")


@pytest.mark.parametrize("invoice_uid", ["%0Anewline", "a%2Fb", "%00"])
def test_invoice_uid_with_encoded_control_or_slash_is_404_in_the_envelope(client, invoice_uid):
    assert_error(client.get(f"/api/invoices/{invoice_uid}", headers=auth(USER_A)), 404)


def test_list_shows_only_the_invoices_of_the_users_organizations(client):
    of_a = {created(client, body_for(ORG_A), USER_A)["uid"] for _ in range(2)}
    of_b = {created(client, body_for(ORG_B), USER_B)["uid"] for _ in range(3)}

    def listed(user: User) -> set[str]:
        response = client.get("/api/invoices", params={"per_page": 100}, headers=auth(user))
        assert response.status_code == 200
        return {item["uid"] for item in response.json()["data"]["items"]}

    assert listed(USER_A) == of_a
    assert listed(USER_B) == of_b
    assert listed(USER_BOTH) == of_a | of_b


def test_party_uids_are_not_confused_with_organizations(client):
    """Billing rights come from `billable_by`, not from the party a user could otherwise name."""
    assert PARTY_A.billable_by == frozenset({ORG_A})
    assert_error(create(client, body_for(ORG_B, PARTY_A), USER_BOTH), 403, "/target_party_uid")
