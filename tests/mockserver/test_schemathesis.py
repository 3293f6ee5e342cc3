"""Schemathesis over a real server: positive and negative generation, every standard check, and
response validation inside the mock. It must find nothing.

Positive cases are steered to succeed: the token is one from the fixtures, and the owner, party,
document and blueprint uids of a generated body are replaced by a consistent set from the fixtures
(only where the generated value is a well-formed uuid, so negative cases stay negative).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from tests.mockserver.support import NOW, SPEC, SPEC_PATH, USER_BOTH, WORLD, auth, body_for, create_app
from tests.servers import serve

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MAX_EXAMPLES = 100  # Schemathesis's own default per operation

# (owner, party, document, blueprints) the user of both organizations may use together.
CONSISTENT: list[tuple[str, str, str, list[str | None]]] = [
    (
        org,
        party.uid,
        document.uid,
        [b.uid for b in WORLD.blueprints.values() if b.organization_uid == org] or [None],
    )
    for org in sorted(USER_BOTH.organizations)
    for party in WORLD.parties.values()
    if org in party.billable_by
    for document in WORLD.documents.values()
    if document.organization_uid == org
]


def is_uuid(value: Any) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def flatmap_body(context: Any, body: Any) -> Any:
    if not isinstance(body, dict):
        return st.just(body)

    def steer(choice: tuple[tuple[str, str, str, list[str | None]], str | None]) -> dict[str, Any]:
        (owner, party, document, _), blueprint = choice
        steered = dict(body)
        for key, value in (("owner_uid", owner), ("target_party_uid", party), ("document_uid", document)):
            if is_uuid(steered.get(key)):
                steered[key] = value
        if is_uuid(steered.get("invoice_blueprint_uid")):
            steered["invoice_blueprint_uid"] = blueprint
        return steered

    return (
        st.sampled_from(CONSISTENT).flatmap(lambda c: st.tuples(st.just(c), st.sampled_from(c[3]))).map(steer)
    )


# Uids of invoices the server holds, for Get invoice to read back (filled by the server fixture).
KNOWN_UIDS: list[str] = []

# Operations whose schema-valid requests may still break a rule no schema can say (a product the
# owner lacks, a line not on the invoice, a uid twice, a negative total): their 422 is
# `UnprocessableChange`, and positive data may meet it.
RULE_REFUSALS = sorted(
    op["operationId"]
    for item in SPEC["paths"].values()
    for op in item.values()
    if isinstance(op, dict)
    and op.get("responses", {}).get("422") == {"$ref": "#/components/responses/UnprocessableChange"}
)
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis's own default

schema = schemathesis.openapi.from_path(
    SPEC_PATH,
    config=SchemathesisConfig.from_dict(
        {
            "headers": auth(USER_BOTH),
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
            "operations": [
                {
                    "include-operation-id": operation_id,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
                }
                for operation_id in RULE_REFUSALS
            ],
        }
    ),
)
schema.hook(flatmap_body)


@schema.hook
def flatmap_path_parameters(context: Any, parameters: Any) -> Any:
    if not parameters or not is_uuid(parameters.get("invoice_uid")):
        return st.just(parameters)
    return st.sampled_from([parameters["invoice_uid"], *KNOWN_UIDS]).map(
        lambda uid: {**parameters, "invoice_uid": uid}
    )


@pytest.fixture(scope="module")
def schemathesis_url() -> Iterator[str]:
    """A server of its own, holding a few invoices of each organization to read back."""
    with serve(create_app(validate_responses=True, clock=NOW)) as base_url:
        with httpx.Client(base_url=base_url, headers=auth(USER_BOTH)) as http:
            KNOWN_UIDS[:] = [
                http.post("/api/invoices", json=body_for(org)).json()["data"]["uid"]
                for org in sorted(USER_BOTH.organizations)
                for _ in range(2)
            ]
        yield base_url


@schema.parametrize()
def test_schemathesis_finds_no_failure(case, schemathesis_url):
    case.call_and_validate(base_url=schemathesis_url)
