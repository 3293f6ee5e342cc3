"""Errors: the envelope, field errors, unknown references, malformed requests."""

from __future__ import annotations

import json
import shlex
import uuid
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance import strategies as gen
from conformance.client import Exchange
from conformance.core import Context, Violation, prop
from conformance.profile import Combination
from conformance.properties.steps import (
    combinations,
    identity,
)
from contract import pointers
from contract.spec import request_body_schema

# -- errors and the envelope -------------------------------------------------------------------------


def _request_kinds(ctx: Context) -> dict[str, Any]:
    """Requests that produce each kind of answer the contract documents, for the envelope check."""
    combo = identity(ctx)
    kinds: dict[str, Any] = {
        "listed": lambda: ctx.client.list(combo.token),
        "unknown invoice (404)": lambda: ctx.client.get(combo.token, str(uuid.uuid4())),
        "no token (401)": lambda: ctx.client.list(None),
        "schema error (422)": lambda: ctx.client.create(combo.token, combo.body() | {"currency": "US"}),
        "bad query (422)": lambda: ctx.client.list(combo.token, per_page=0),
        "malformed JSON (400)": lambda: ctx.client.request(
            "POST", "/api/invoices", token=combo.token, content=b"{not json", content_type="application/json"
        ),
        "not JSON (415)": lambda: ctx.client.request(
            "POST", "/api/invoices", token=combo.token, content=b"owner=1", content_type="text/plain"
        ),
    }
    if not ctx.profile.combinations():
        return kinds
    kinds["created"] = lambda: ctx.client.create(combo.token, combo.body())
    kinds["read"] = lambda: ctx.client.get(
        combo.token, (expect.success(ctx.client.create(combo.token, combo.body()), "create"))["uid"]
    )
    kinds["duplicate number (409)"] = lambda: _duplicate(ctx, combo)
    parties = ctx.profile.unbillable_parties(combo.owner)
    if parties:
        kinds["party forbidden (403)"] = lambda: ctx.client.create(
            combo.token, combo.body() | {"target_party_uid": parties[0].uid}
        )
    return kinds


def _duplicate(ctx: Context, combo: Combination) -> Exchange:
    number = gen.unique_number(ctx.facts.supplied_number)
    expect.success(ctx.client.create(combo.token, combo.body() | {"invoice_number": number}), "create")
    return ctx.client.create(combo.token, combo.body() | {"invoice_number": number})


@prop("envelope_consistent", kind="errors", rows=("P11", "P25", "P26"))
def envelope_consistent(ctx: Context) -> None:
    """Every answer, success or error, is the JSON envelope whose status_code is the HTTP status.

    Rule: openapi.yaml info.description (every response is {status, status_code, message, data}, errors
    carry errors instead of data, status_code equals the HTTP status) and
    #/components/schemas/SuccessEnvelope, ErrorEnvelope; contract notes, choice 3
    """
    kinds = _request_kinds(ctx)

    @given(kind=st.sampled_from(sorted(kinds)))
    def test(kind: str) -> None:
        exchange = kinds[kind]()
        problems = expect.envelope_problems(exchange)
        if problems:
            raise Violation(f"{kind}: " + "; ".join(problems), exchange)

    for kind in sorted(kinds):
        test = example(kind=kind)(test)
    ctx.hypothesis("envelope_consistent", test, weight=0.5)


@prop("field_errors_named", kind="errors", rows=("P11", "P17"))
def field_errors_named(ctx: Context) -> None:
    """A request breaking one schema rule is refused with 422 whose errors name the offending field.

    Rule: openapi.yaml #/components/responses/UnprocessableInvoice and InvalidQuery (422, one errors entry
    per problem), #/components/schemas/FieldError (field: a JSON pointer into the request, or a parameter
    name) and info.description choices 3 and 7; contract notes, choice 3 (422)
    """
    combos = ctx.profile.combinations() or [identity(ctx)]  # schema errors come before the uids' rules
    body_defects = gen.body_defects(ctx.spec)
    query_defects = gen.query_defects(ctx.spec)
    cases = [("body", d) for d in body_defects] + [("query", d) for d in query_defects]

    @given(case=st.sampled_from(cases), plan=gen.create_plans(ctx.profile, ctx.spec, combos=combos))
    def test(case: tuple[str, Any], plan: gen.CreatePlan) -> None:
        where, defect = case
        if where == "body":
            body = gen.apply_defect(plan.body(), defect)
            exchange = ctx.client.create(plan.combo.token, body)
            expect.expect_field_error(exchange, 422, defect.pointer, f"a body with {defect.description}")
        else:
            name, value, why = defect
            exchange = ctx.client.list(plan.combo.token, **{name: value})
            expect.expect_field_error(exchange, 422, name, f"the query parameter {name} {why} ({value!r})")

    # Every defect the spec yields is tried once whatever the seed: a server that lets one kind
    # through (null for a defaulted field P40, an enum's case P42, a date alone P43, a uuid
    # without hyphens P44) fails deterministically; the random draws vary the rest of the body.
    for case in cases:
        test = example(case=case, plan=gen.CreatePlan(combos[0]))(test)
    ctx.hypothesis("field_errors_named", test, weight=1.5)


@prop("unknown_reference_refused", kind="errors", rows=("P03",))
def unknown_reference_refused(ctx: Context) -> None:
    """A document or blueprint unknown to the owner (another's, or none at all) is 422 naming the field.

    Rule: openapi.yaml create_invoice description (document_uid and invoice_blueprint_uid "must exist for
    the owner organization; otherwise 422") and InvoiceCreateRequest.document_uid / invoice_blueprint_uid;
    contract notes, choice 3 (422)
    """
    combos = combinations(ctx)

    def choices(combo: Combination) -> st.SearchStrategy[tuple[str, str, str]]:
        random_uid = st.uuids(version=4).map(str)
        options = [
            random_uid.map(lambda uid: ("/document_uid", uid, "an unknown document")),
            random_uid.map(lambda uid: ("/invoice_blueprint_uid", uid, "an unknown blueprint")),
        ]
        docs = ctx.profile.foreign_documents(combo.owner)
        if docs:
            options.append(
                st.sampled_from(docs).map(
                    lambda d: ("/document_uid", d.uid, "another organization's document")
                )
            )
        blueprints = ctx.profile.foreign_blueprints(combo.owner)
        if blueprints:
            options.append(
                st.sampled_from(blueprints).map(
                    lambda b: ("/invoice_blueprint_uid", b.uid, "another organization's blueprint")
                )
            )
        return st.one_of(options)

    @given(data=st.data(), combo=st.sampled_from(combos))
    def test(data: st.DataObject, combo: Combination) -> None:
        pointer, uid, what = data.draw(choices(combo), "reference")
        body = combo.body() | {pointer.lstrip("/"): uid}
        exchange = ctx.client.create(combo.token, body)
        expect.expect_field_error(exchange, 422, pointer, f"a create naming {what}")

    ctx.hypothesis("unknown_reference_refused", test, weight=0.5)


@prop("malformed_requests_refused", kind="errors", rows=("P03", "P06", "P34"))
def malformed_requests_refused(ctx: Context) -> None:
    """Malformed JSON and non-object bodies are 400, other content types 415, bodies over the limit 413.

    Rule: openapi.yaml create_invoice description (malformed JSON or a non-object body is 400, a content
    type other than application/json 415, a body over x-max-body-bytes 413), precision rows P03, P06 and
    P34, and
    #/components/responses/MalformedRequest, UnsupportedMediaType, PayloadTooLarge; contract notes, choice
    3
    """
    combo = identity(ctx)
    valid = combo.body()
    big_body, shell = sized_body(valid, ctx.facts.max_body_bytes + 1)
    cases: dict[str, tuple[bytes, str, int]] = {
        "malformed JSON": (b'{"owner_uid": ', "application/json", 400),
        "a JSON array": (b"[1, 2]", "application/json", 400),
        "a JSON string": (b'"invoice"', "application/json", 400),
        "text/plain": (json.dumps(valid).encode(), "text/plain", 415),
        "form data": (b"owner_uid=1", "application/x-www-form-urlencoded", 415),
        "no Content-Type header (P06)": (json.dumps(valid).encode(), "", 415),
        f"a body of {len(big_body)} bytes (over the limit)": (big_body, "application/json", 413),
    }

    @given(case=st.sampled_from(sorted(cases)))
    def test(case: str) -> None:
        content, content_type, status = cases[case]
        exchange = ctx.client.request(
            "POST",
            "/api/invoices",
            token=combo.token,
            content=content,
            content_type=content_type or None,
            body_shell=shell if len(content) > 4096 else None,
        )
        expect.error(exchange, status, f"a create with {case}")

    for case in sorted(cases):
        test = example(case=case)(test)
    ctx.hypothesis("malformed_requests_refused", test, weight=0.3)


@prop("unknown_fields_refused", kind="errors", rows=("P17",))
def unknown_fields_refused(ctx: Context) -> None:
    """A create naming a field the request schema does not have is 422 naming that field.

    Rule: openapi.yaml InvoiceCreateRequest (additionalProperties: false) and precision row P17 (unknown
    request body fields: 422, naming the field)
    """
    combos = ctx.profile.combinations() or [identity(ctx)]
    known = set(request_body_schema(ctx.spec, "create_invoice").get("properties", {}))
    names = st.one_of(
        st.sampled_from(["amount", "total_cents", "uid", "line_items", "Currency", "owner", "invoiceNumber"]),
        st.text(min_size=1, max_size=20),
    ).filter(lambda name: name not in known)

    @given(combo=st.sampled_from(combos), name=names, value=gen.json_values())
    @example(combo=combos[0], name="total_cents", value=100)
    @example(combo=combos[0], name="Currency", value="EUR")
    def test(combo: Combination, name: str, value: Any) -> None:
        body = combo.body() | {name: value}
        exchange = ctx.client.create(combo.token, body)
        expect.expect_field_error(
            exchange, 422, pointers.from_parts([name]), f"a create with the unknown field {name!r}"
        )

    ctx.hypothesis("unknown_fields_refused", test, weight=0.3)


@prop("large_body_accepted", kind="errors", rows=("P34",))
def large_body_accepted(ctx: Context) -> None:
    """A valid create body of several hundred KiB, within the documented limit, is accepted.

    Rule: openapi.yaml #/components/responses/PayloadTooLarge (x-max-body-bytes: larger bodies are 413)
    and precision row P34 (a body up to the limit, as sent, is accepted when otherwise valid)
    """
    combos = combinations(ctx)
    limit = ctx.facts.max_body_bytes
    sizes = sorted({min(limit, 256 * 1024), min(limit, 512 * 1024), limit - 1024, limit})

    @given(combo=st.sampled_from(combos), size=st.sampled_from(sizes))
    @example(combo=combos[0], size=sizes[-1])
    def test(combo: Combination, size: int) -> None:
        content, shell = sized_body(combo.body(), size)
        exchange = ctx.client.request(
            "POST",
            "/api/invoices",
            token=combo.token,
            content=content,
            content_type="application/json",
            body_shell=shell,
        )
        if exchange.status != 200:
            raise Violation(
                f"a valid create of {len(content)} bytes (the documented limit is {limit}) must be accepted; "
                f"got HTTP {exchange.status}",
                exchange,
            )
        expect.success(exchange, f"a create of {len(content)} bytes")

    ctx.hypothesis("large_body_accepted", test, weight=0.06)


def sized_body(valid: dict[str, Any], size: int) -> tuple[bytes, str]:
    """`valid` with one invoice field whose text value makes the body exactly `size` bytes, and a
    shell command that prints the same body (for the report's curl)."""
    empty = json.dumps(valid | {"invoice_fields": {"notes": {"type": "text", "value": ""}}}).encode()
    padding = size - len(empty)
    body = valid | {"invoice_fields": {"notes": {"type": "text", "value": "x" * max(0, padding)}}}
    notes = f'{{"notes": {{"type": "text", "value": "x" * {max(0, padding)}}}}}'
    code = f'import json, sys; json.dump({valid!r} | {{"invoice_fields": {notes}}}, sys.stdout)'
    return json.dumps(body).encode(), "python3 -c " + shlex.quote(code)
