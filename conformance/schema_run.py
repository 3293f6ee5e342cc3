"""Schema conformance with Schemathesis: every operation, positive and negative generation, its
standard checks, with generation steered by the target profile.

Plain Schemathesis names random uids, so valid creates are refused (403/422) and the happy path
is never exercised. Here a test-scoped `flatmap_case` hook rewrites each *positive* case: a
create names a real (token, owner, party, document, blueprint) combination, a read names an
invoice the kit created (or a random uid, a legitimate 404), and every case carries a valid
token. *Negative* cases keep their broken parts and only get a valid token (unless the
`Authorization` header itself is what generation broke), so the server's refusal is for the
broken data, not for a missing login.

The checks run one by one, so a failure is attributed to the check that found it, and the run
goes on after a failure to find every distinct way the server breaks the contract. Each
distinct failure keeps its shortest reproduction. The expected statuses are the contract's:
positive data may only be answered 2xx, 404 (an unknown invoice) or 409 (a generated
invoice_number already used); negative data may be refused with any documented 4xx (413 too).

The lifecycle operations (update, bulk update, bulk delete, line items) are sent only when the
server serves them (the kit's probe, `conformance.properties.lifecycle.served`): a server of the
contract before them answers 405/404 for the route, which is no verdict. Their positive cases keep
random invoice uids, so they are answered 404 and nothing is changed or deleted (the lifecycle
properties exercise the happy paths on invoices of their own); a batch names each uid once.
"""

from __future__ import annotations

import json
import re
import shlex
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import schemathesis
from hypothesis import Verbosity, given, seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.hooks import HookDispatcher, HookScope

from conformance.client import Client
from conformance.core import Context, NotRun, Violation, hypothesis_settings, prop
from conformance.profile import Combination, Profile
from conformance.properties.lifecycle import PROBED as LIFECYCLE
from conformance.properties.lifecycle import is_served
from contract.facts import ContractFacts, read_facts

CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "ignored_auth",
)
POSITIVE_STATUSES = ["2xx", "404", "409"]
CACHE_KEY = "schema_run"


@dataclass
class SchemaFailure:
    check: str
    operation: str
    mode: str
    title: str
    message: str
    curl: str
    response: str


@dataclass
class SchemaRunResult:
    """Every distinct failure by check, and what was sent (so a quiet run can be told apart from none)."""

    failures: dict[str, dict[tuple[str, str], SchemaFailure]] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rate_limited: int = 0  # cases (or a check's own probes) answered 429: undecided (precision row P22)

    def record(self, failure: SchemaFailure) -> None:
        by_key = self.failures.setdefault(failure.check, {})
        key = (failure.operation, failure.title)
        if key not in by_key or len(failure.curl) < len(by_key[key].curl):
            by_key[key] = failure

    @property
    def cases(self) -> int:
        return sum(sum(counter.values()) for counter in self.statuses.values())

    def summary(self) -> str:
        parts = []
        for label, counter in self.statuses.items():
            codes = " ".join(f"{code}x{count}" for code, count in sorted(counter.items()))
            parts.append(f"{label}: {codes}")
        return "; ".join(parts)


def negative_statuses(facts: ContractFacts) -> list[str]:
    """Every 4xx some operation documents (read from the spec), and 5xx, which not_a_server_error
    judges (so negative_data_rejection does not report a crash twice)."""
    documented = {code for codes in facts.statuses.values() for code in codes if 400 <= code < 500}
    return [*(str(code) for code in sorted(documented)), "5xx"]


def load_schema(spec: dict[str, Any]) -> Any:
    """The spec as a Schemathesis schema, with the contract's expected statuses for its checks."""
    config = schemathesis.Config.from_dict(
        {
            # The kit sends the profile's tokens itself; generated Authorization values would spend
            # the negative examples on 401s that the auth properties already cover.
            "generation": {"with-security-parameters": False},
            "checks": {
                "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
                "negative_data_rejection": {"expected-statuses": negative_statuses(read_facts(spec))},
            },
        }
    )
    return schemathesis.openapi.from_dict(json.loads(json.dumps(spec, default=str)), config=config)


def _seed_invoices(ctx: Context) -> list[tuple[str, str]]:
    """(token, uid) of invoices created for the steering of positive reads: one per owner."""
    seen, pairs = set(), []
    for combo in ctx.profile.combinations():
        if combo.owner in seen:
            continue
        seen.add(combo.owner)
        exchange = ctx.client.create(combo.token, combo.body())
        if exchange.status == 200 and isinstance(exchange.json, dict):
            uid = (exchange.json.get("data") or {}).get("uid")
            if isinstance(uid, str):
                pairs += [(token, uid) for token in ctx.profile.member_tokens(combo.owner)]
    return pairs


# Batches that name each uid at most once (P63: a uid twice is 422). Generation draws the items
# independently, and Hypothesis likes duplicates: a positive batch gets a fresh uid for each repeat,
# so the server's answer is about the data the schema allows and P63 does not (a random uid: 404).
# Cases per lifecycle operation, relative to create and read: their positive cases name random
# invoices (404) and their bodies' rules are the lifecycle properties' to check, so a fifth of the
# cases covers their schemas (validation, 4xx envelopes) without tripling the run.
LIFECYCLE_WEIGHT = 0.2
UNIQUE_UIDS = ("bulk_update_invoices", "update_line_items")


def _distinct_uids(items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    result = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("uid"), str):
            if item["uid"].lower() in seen:
                item = {**item, "uid": str(uuid.uuid4())}
            seen.add(item["uid"].lower())
        result.append(item)
    return result


def _authorize(case: Any, token: str) -> Any:
    """The case with `token` as its bearer: without a token every operation is a 401."""
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    return case


def _steered_create(case: Any, profile: Profile, combos: list[Combination]) -> st.SearchStrategy[Any]:
    """A positive create sent by a combination that may create, with none or one of its owner's
    blueprints: random uids would meet only the refusals of unknown parties and documents."""

    def steer(choice: tuple[Any, Any]) -> Any:
        combo, blueprint = choice
        body = {**case.body, **combo.body()}
        if "invoice_blueprint_uid" in body:
            body["invoice_blueprint_uid"] = blueprint
        case.body = body
        return _authorize(case, combo.token)

    return (
        st.sampled_from(combos)
        .flatmap(
            lambda combo: st.sampled_from(
                [None, *[bp.uid for bp in profile.blueprints_for(combo.owner)]]
            ).map(lambda blueprint: (combo, blueprint))
        )
        .map(steer)
    )


def _steered_read(case: Any, tokens: list[str], readable: list[tuple[str, str]]) -> st.SearchStrategy[Any]:
    """A positive get of an invoice that exists, by a token that may read it, or (None) of the case's
    own random uid with the first token: so the run meets 200s, not only 404s."""

    def read(choice: tuple[str, str] | None) -> Any:
        if choice is None:
            return _authorize(case, tokens[0])
        token, uid = choice
        case.path_parameters = {**(case.path_parameters or {}), "invoice_uid": uid}
        return _authorize(case, token)

    return st.sampled_from([None, *readable]).map(read)


def _steering(ctx: Context, mode: GenerationMode, readable: list[tuple[str, str]]) -> HookDispatcher:
    """A test-scoped hook dispatcher that makes cases of `mode` meaningful for this profile."""
    dispatcher = HookDispatcher(scope=HookScope.TEST)
    profile = ctx.profile
    combos = profile.combinations()
    tokens = list(profile.tokens)
    # One negative case in len(tokens) + 1 carries a token no one has, so the run meets 401s: the
    # only answers that document a header (WWW-Authenticate, #/components/responses/Unauthorized).
    # Without them `response_headers_conformance` judged no header at all and could not fail (a 401
    # without WWW-Authenticate passed it); a 401 is a documented refusal of negative data.
    unknown = next(
        f"ck-unknown-{n}" for n in range(len(tokens) + 1) if f"ck-unknown-{n}" not in profile.all_tokens
    )

    def positive(case: Any) -> st.SearchStrategy[Any]:
        operation_id = case.operation.definition.raw.get("operationId")
        if operation_id == "create_invoice" and combos and isinstance(case.body, dict):
            return _steered_create(case, profile, combos)
        if operation_id == "get_invoice" and readable:
            return _steered_read(case, tokens, readable)
        if operation_id in UNIQUE_UIDS and isinstance(case.body, list):
            case.body = _distinct_uids(case.body)
        return st.sampled_from(tokens).map(lambda token: _authorize(case, token))

    def negative(case: Any) -> st.SearchStrategy[Any]:
        if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
            return st.just(case)
        return st.sampled_from([*tokens, unknown]).map(lambda token: _authorize(case, token))

    steer = positive if mode == GenerationMode.POSITIVE else negative

    def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
        return steer(case)

    dispatcher.register_hook_with_name(flatmap_case, "flatmap_case")
    return dispatcher


def _curl(case: Any, base_url: str, *, drop_auth: bool) -> str:
    """The case as the kit's usual curl (only the headers that matter)."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    headers = {
        name: value
        for name, value in (kwargs.get("headers") or {}).items()
        if name.lower() in {"authorization", "content-type"}
        and not (drop_auth and name.lower() == "authorization")
    }
    url = kwargs["url"]
    params = kwargs.get("params") or {}
    if params:
        url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
    parts = ["curl", "-sS", "-i", "-X", kwargs["method"], shlex.quote(url)]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if "json" in kwargs:
        parts += ["--data-raw", shlex.quote(json.dumps(kwargs["json"], ensure_ascii=False))]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        parts += [
            "--data-raw",
            shlex.quote(data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)),
        ]
    return " ".join(parts)


def run_schema(ctx: Context) -> SchemaRunResult:
    """Run every operation in both generation modes against the server (once per run, cached)."""
    cached = ctx.cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    if not ctx.profile.tokens:
        raise NotRun("the profile names no token: every request would be a 401")
    load_all_checks()
    checks = [(name, CHECKS.get_one(name)) for name in CHECK_NAMES]
    schema = load_schema(ctx.spec)
    readable = _seed_invoices(ctx)
    result = SchemaRunResult()
    for outcome in schema.get_all_operations():
        operation = outcome.ok()
        operation_id = operation.definition.raw.get("operationId")
        if operation_id in LIFECYCLE and not is_served(ctx, operation_id):
            # A server of the contract before the lifecycle: its 405/404 for the route is no verdict.
            result.errors.append(f"{operation.label}: not sent, the server does not serve {operation_id}")
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{mode.value} {operation.label}"
            creates = operation.definition.raw.get("operationId") == "create_invoice"
            if mode == GenerationMode.POSITIVE and creates and not ctx.profile.combinations():
                # Random uids would be refused (403/422) and read as rejected valid data: no false alarms.
                result.errors.append(f"{label}: not sent, the profile has no combination that may create")
                continue
            counter = result.statuses.setdefault(label, Counter())
            strategy = operation.as_strategy(generation_mode=mode, hooks=_steering(ctx, mode, readable))

            test = _case_test(strategy, checks, result, counter, label, ctx.client)
            weight = LIFECYCLE_WEIGHT if operation_id in LIFECYCLE else 1.0
            configured = hypothesis_settings(
                ctx.settings.examples(weight), shrink=False, verbosity=Verbosity.quiet
            )(test)
            try:
                seed(ctx.settings.seed_for(f"schema:{label}"))(configured)()
            except HypothesisException as error:
                result.errors.append(f"{label}: generation stopped: {error}")
    ctx.cache[CACHE_KEY] = result
    return result


def _case_test(
    strategy: Any,
    checks: list[tuple[str, Any]],
    result: SchemaRunResult,
    counter: Counter[int],
    label: str,
    client: Client,
) -> Any:
    """The Hypothesis test for one operation and mode: send each case, run each check on its own."""
    base_url = client.base_url

    @given(case=strategy)
    def test(case: Any) -> None:
        if client.gone is not None:
            raise httpx.ConnectError(f"the server stopped answering earlier: {client.gone}")
        headers = {"Authorization": case.headers["Authorization"]} if "Authorization" in case.headers else {}
        try:
            response = case.call(base_url=base_url, headers=headers or None, timeout=client.timeout)
        except OSError as error:  # requests' errors are OSErrors: a hang or a refusal ends the run
            client.gone = error
            raise httpx.ConnectError(
                f"the server did not answer {case.method} {case.formatted_path}: {error}"
            ) from None
        counter[response.status_code] += 1
        if response.status_code == 429:  # P22: any operation may rate-limit; the case decides nothing
            result.rate_limited += 1
            return
        for name, check in checks:
            try:
                case.validate_response(
                    response,
                    checks=[check],
                    headers=headers or None,
                    transport_kwargs={"base_url": base_url, "headers": headers},
                )
            except FailureGroup as group:
                for failure in group.exceptions:
                    _record(result, name, failure, case, response, label, base_url)
            except Failure as failure:
                _record(result, name, failure, case, response, label, base_url)

    return test


# A check that sends probes of its own (`ignored_auth` resends the case without and with wrong
# credentials) names their status in its message; a probe answered 429 was rate limited, which any
# operation may be (precision row P22), so it proves nothing about the check's rule.
_PROBE_RATE_LIMITED = re.compile(r"got `429\b")


def _record(
    result: SchemaRunResult, name: str, failure: Failure, case: Any, response: Any, label: str, base_url: str
) -> None:
    if _PROBE_RATE_LIMITED.search(failure.message or ""):
        result.rate_limited += 1
        return
    text = response.text if isinstance(response.text, str) else ""
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) and content_type else content_type
    result.record(
        SchemaFailure(
            check=name,
            operation=case.operation.label,
            mode=label.split(" ", 1)[0],
            title=failure.title,
            message=failure.message,
            curl=_curl(case, base_url, drop_auth=name == "ignored_auth"),
            response=f"HTTP {response.status_code} {content_type}\n{text[:400]}".rstrip(),
        )
    )


def _register(check: str) -> None:
    def schema_check(ctx: Context) -> None:
        result = run_schema(ctx)
        if result.cases == 0:
            raise NotRun("Schemathesis sent no request: " + "; ".join(result.errors or ["nothing generated"]))
        found = list(result.failures.get(check, {}).values())
        if not found:
            return
        lines = [
            f"{f.mode} {f.operation}: {f.title}" + (f" ({f.message.strip()})" if f.message else "")
            for f in found
        ]
        violation = Violation(f"{len(found)} distinct failure(s):\n" + "\n".join(lines))
        violation.reproductions = [(f"{f.mode} {f.operation}: {f.title}", f.curl, f.response) for f in found]
        raise violation

    schema_check.__doc__ = (
        f"Schemathesis's `{check}` check holds for every operation.\n\n"
        f"Rule: openapi.yaml, every operation, positive and negative generation (Schemathesis `{check}`)"
    )
    prop(f"schema:{check}", kind="schema")(schema_check)


for _check in CHECK_NAMES:
    _register(_check)


def summary(ctx: Context) -> str | None:
    result = ctx.cache.get(CACHE_KEY)
    if result is None:
        return None
    notes = "".join(f"\n  {error}" for error in result.errors)
    if result.rate_limited:
        notes += f"\n  {result.rate_limited} answers were 429 (rate limited): not judged (precision row P22)"
    return f"{result.cases} Schemathesis cases ({result.summary()}){notes}"
