"""Auth: 401 without a valid token, 403 for an owner or party the token may not use."""

from __future__ import annotations

import uuid

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.core import Context, NotRun, Violation, prop
from conformance.profile import Combination
from conformance.properties.steps import (
    identity,
)

# -- auth ------------------------------------------------------------------------------------------


@prop("auth_required", kind="auth", rows=("P01", "P07", "P08", "P37"))
def auth_required(ctx: Context) -> None:
    """Every operation answers 401 with WWW-Authenticate: Bearer without a token, or with a bad one.

    Rule: openapi.yaml #/components/securitySchemes/bearerAuth ("A missing, malformed (not Bearer <token>)
    or unknown token is 401 with WWW-Authenticate: Bearer") and #/components/responses/Unauthorized;
    contract notes, choice 3 (401); precision row P01 (authentication first: a malformed body without
    a valid token is 401 too)
    """
    combo = identity(ctx)
    credentials = st.one_of(
        st.just(("no Authorization header", None)),
        gen.malformed_authorizations(ctx.profile).map(lambda h: (f"Authorization: {h!r}", h)),
        gen.unknown_tokens(ctx.profile).map(lambda t: (f"an unknown token {t!r}", f"Bearer {t}")),
    )
    operations = {
        "create": lambda header: ctx.client.request(
            "POST", "/api/invoices", authorization=header, json=combo.body()
        ),
        "create with malformed JSON": lambda header: ctx.client.request(
            "POST",
            "/api/invoices",
            authorization=header,
            content=b'{"owner_uid": ',
            content_type="application/json",
        ),
        "get": lambda header: ctx.client.request(
            "GET", f"/api/invoices/{uuid.uuid4()}", authorization=header
        ),
        "list": lambda header: ctx.client.request("GET", "/api/invoices", authorization=header),
    }

    @given(operation=st.sampled_from(sorted(operations)), credential=credentials)
    def test(operation: str, credential: tuple[str, str | None]) -> None:
        what, header = credential
        exchange = operations[operation](header)
        expect.error(exchange, 401, f"{operation} with {what}")
        challenge = exchange.header("www-authenticate") or ""
        if not challenge.strip().lower().startswith("bearer"):
            raise Violation(
                f"{operation} with {what}: a 401 must carry WWW-Authenticate: Bearer; got {challenge!r}",
                exchange,
            )

    for operation in sorted(operations):
        test = example(operation=operation, credential=("no Authorization header", None))(test)
        test = example(operation=operation, credential=("an unknown token", "Bearer ck-unknown-token"))(test)
    test = example(operation="list", credential=("Authorization: 'Bearer'", "Bearer"))(test)
    ctx.hypothesis("auth_required", test)


@prop("owner_forbidden", kind="auth", rows=("P03",))
def owner_forbidden(ctx: Context) -> None:
    """Creating for an organization the token's user does not belong to is 403 naming owner_uid.

    Rule: openapi.yaml create_invoice description ("owner_uid must be one of the authenticated user's
    organizations ... otherwise 403") and #/components/responses/Forbidden; contract notes, choice 3 (403)
    """
    requests = ctx.profile.forbidden_owner_requests()
    if not requests:
        raise NotRun(
            "the profile names no organization (with a party it may bill and a document) that some token's "
            "user does not belong to"
        )

    @given(combo=st.sampled_from(requests), plan=gen.create_plans(ctx.profile, ctx.spec, blueprint=False))
    @example(combo=requests[0], plan=gen.CreatePlan(requests[0]))
    def test(combo: Combination, plan: gen.CreatePlan) -> None:
        body = plan.body() | combo.body()
        exchange = ctx.client.create(combo.token, body)
        expect.expect_field_error(exchange, 403, "/owner_uid", f"a create for organization {combo.owner}")

    ctx.hypothesis("owner_forbidden", test, weight=0.5)


@prop("party_forbidden", kind="auth", rows=("P03",))
def party_forbidden(ctx: Context) -> None:
    """Billing a party the owner organization may not bill is 403 naming target_party_uid.

    Rule: openapi.yaml create_invoice description ("target_party_uid a party that organization may bill;
    otherwise 403") and #/components/responses/Forbidden; contract notes, Facts (target_party_uid) and
    choice 3 (403)
    """
    cases = [
        (combo, party.uid)
        for combo in ctx.profile.combinations()
        for party in ctx.profile.unbillable_parties(combo.owner)
    ]
    if not cases:
        raise NotRun("the profile names no party that one of its owner organizations may not bill")

    @given(case=st.sampled_from(cases), plan=gen.create_plans(ctx.profile, ctx.spec, blueprint=False))
    @example(case=cases[0], plan=gen.CreatePlan(cases[0][0]))
    def test(case: tuple[Combination, str], plan: gen.CreatePlan) -> None:
        combo, party = case
        body = plan.body() | combo.body() | {"target_party_uid": party}
        exchange = ctx.client.create(combo.token, body)
        expect.expect_field_error(
            exchange, 403, "/target_party_uid", f"organization {combo.owner} billing party {party}"
        )

    ctx.hypothesis("party_forbidden", test, weight=0.5)
