"""How a run goes: load the profile and the contract, check the server answers, run each property,
and tell the report handlers what happened as it happens.

The CLI and the pytest plugin both go through `run_property` (and the CLI through `run`), so a
property means the same thing, and fails the same way, whichever form runs it.
"""

from __future__ import annotations

import re
import secrets
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from conformance.client import Client, Exchange, RateLimited
from conformance.core import PROPERTIES, Context, NotRun, Property, RunSettings, Violation
from conformance.profile import Profile, load_profile
from contract.given import load_given

PASSED, FAILED, NOT_RUN, ERROR = "passed", "FAILED", "not run", "ERROR"


def catalog() -> list[Property]:
    """Every property, in run order: Schemathesis's checks, the create rules, errors, auth, stateful."""
    from conformance import properties, schema_run  # noqa: F401 - importing registers them

    order = (
        *("schema", "create", "errors", "auth"),
        *("update", "bulk", "delete", "line_items", "scopes"),
        *("stateful", "concurrency", "robustness"),
    )
    return sorted(PROPERTIES, key=lambda item: order.index(item.kind) if item.kind in order else len(order))


@dataclass
class RunConfig:
    base_url: str
    spec_path: str | Path  # the contract checked: every fact the kit uses is read from it
    profile_path: str | Path | None = None
    max_examples: int | None = None
    seed: int | None = None
    select: Sequence[str] = ()
    timeout: float = 15.0


@dataclass
class Reproduction:
    """One request of a failure: what it is, the curl that repeats it, the answer it got."""

    what: str
    curl: str
    response: str


@dataclass
class PropertyResult:
    name: str
    rule: str
    summary: str
    kind: str
    status: str
    elapsed: float
    message: str = ""
    details: list[str] = field(default_factory=list)
    reproductions: list[Reproduction] = field(default_factory=list)


@dataclass
class RunResult:
    base_url: str
    seed: int
    max_examples: int
    profile: str
    spec: str = "openapi.yaml"  # the contract file checked against (the header names it)
    results: list[PropertyResult] = field(default_factory=list)
    elapsed: float = 0.0
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    fatal: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for result in self.results if result.status == status)

    @property
    def exit_code(self) -> int:
        if self.fatal is not None:
            return 2
        return 1 if any(r.status in (FAILED, ERROR) for r in self.results) else 0


class Handler(Protocol):
    """A report format: told when the run starts, as each property finishes, and at the end."""

    def started(self, result: RunResult, properties: list[Property]) -> None: ...

    def finished_property(self, result: PropertyResult) -> None: ...

    def finished(self, result: RunResult) -> None: ...


class Spec(dict):
    """The parsed contract, with a short repr (Hypothesis prints strategies that hold it)."""

    def __repr__(self) -> str:
        return "<openapi.yaml>"


def build_context(config: RunConfig, profile: Profile | None = None) -> Context:
    seed = config.seed if config.seed is not None else secrets.randbits(32)
    settings = RunSettings(seed=seed)
    if config.max_examples is not None:
        settings.max_examples = config.max_examples
    # The spec is checked as the mock checks it at start (contract.given): one the kit cannot
    # read raises `SpecRefused`, one line, which the entry points print with exit code 2.
    spec, facts = load_given(config.spec_path)
    return Context(
        client=Client(config.base_url, timeout=config.timeout),
        profile=profile if profile is not None else load_profile(config.profile_path, facts),
        spec=Spec(spec),
        settings=settings,
    )


# A uid no server has issued (version 4, all zeros): its read is a documented 404.
UNKNOWN_UID = "00000000-0000-4000-8000-000000000000"
Probe = Callable[[Client, "str | None"], Exchange]
# The preflight's requests after the first, each documented with a status below 500 (list: 200,
# an unknown invoice: 404, an empty create: 422). Sent only when the first (list without a
# token: 401) answered 5xx, so a server that answers never receives them.
FAILING_PROBES: tuple[tuple[str, Probe], ...] = (
    ("GET /api/invoices", lambda client, token: client.list(token)),
    (f"GET /api/invoices/{UNKNOWN_UID}", lambda client, token: client.get(token, UNKNOWN_UID)),
    ("POST /api/invoices {}", lambda client, token: client.create(token, {})),
)


def preflight(ctx: Context) -> str | None:
    """Why the server cannot be checked at all, or None.

    It cannot when it does not answer, when the base URL is not the API's (404), or when it fails
    rather than violates: every preflight request answered 5xx (the first, `GET /api/invoices`
    without a token, and each of `FAILING_PROBES` with the profile's first token), though each is
    documented below 500. That is a server down behind its port, not 70 broken rules; a server
    with one real 500 bug answers some of them and is checked (and fails, exit 1).
    """
    try:
        exchange = ctx.client.list(None)
    except httpx.HTTPError as error:
        return f"{ctx.client.base_url} does not answer: {error}"
    if exchange.status == 404:
        return f"{exchange.url} is 404: is {ctx.client.base_url} the base URL of the invoice API?"
    if exchange.status >= 500:
        return _all_failing(ctx, exchange)
    return None


def _all_failing(ctx: Context, first: Exchange) -> str | None:
    """The diagnosis if every preflight request answers 5xx too, else None (the run goes on)."""
    token = ctx.profile.tokens[0] if ctx.profile.tokens else None
    answers = [f"GET /api/invoices without a token: {first.status}"]
    for label, probe in FAILING_PROBES:
        try:
            status = probe(ctx.client, token).status
        except httpx.HTTPError as error:
            return f"{ctx.client.base_url} stopped answering during the preflight: {error}"
        if status < 500:
            return None
        answers.append(f"{label}: {status}")
    return (
        f"{ctx.client.base_url} answers 5xx to every preflight request ({'; '.join(answers)}): "
        "the server is failing, not checkable; see its log"
    )


def run_property(ctx: Context, item: Property) -> PropertyResult:
    """Run one property and classify its outcome; never raises for the server's faults."""
    started = time.perf_counter()
    rule = item.rule + (f" (precision rows {', '.join(item.rows)})" if item.rows else "")
    result = PropertyResult(item.name, rule, item.summary, item.kind, PASSED, 0.0)
    try:
        item.check(ctx)
    except (NotRun, RateLimited) as reason:
        result.status, result.message = NOT_RUN, str(reason)
    except Violation as violation:
        result.status, result.message = FAILED, violation.message
        result.details = [*violation.details, *_hypothesis_notes(violation)]
        for exchange in violation.exchanges:
            result.reproductions.append(
                Reproduction(exchange.label(), exchange.curl(), exchange.response_excerpt())
            )
        for what, curl, response in violation.reproductions:
            result.reproductions.append(Reproduction(what, curl, response))
    except httpx.HTTPError as error:
        if ctx.client.gone is not None:  # not a verdict on this rule: the run stops here (exit 2)
            result.status = NOT_RUN
            result.message = f"the server stopped answering: {type(error).__name__}: {error}"
        else:
            result.status, result.message = (
                FAILED,
                f"the server did not answer: {type(error).__name__}: {error}",
            )
    except Exception as error:
        result.status = ERROR
        result.message = (
            f"the kit could not judge an answer ({type(error).__name__}: {error}): the response has a shape "
            "the kit did not expect, or the kit has a bug"
        )
        result.details = traceback.format_exception(error)[-6:]
    result.elapsed = time.perf_counter() - started
    return result


def _hypothesis_notes(violation: Violation) -> list[str]:
    """Hypothesis's account of the failing example (explicit examples sometimes print no values:
    those notes say nothing the request does not, and are left out)."""
    notes = getattr(violation, "__notes__", [])
    return [note for note in notes if note.strip() and not re.search(r"^\s*\w+=,$", note, re.MULTILINE)]


def select(properties: list[Property], names: Iterable[str]) -> list[Property]:
    wanted = list(names)
    if not wanted:
        return properties
    unknown = [
        name for name in wanted if not any(p.name == name or p.name.startswith(name) for p in properties)
    ]
    if unknown:
        raise ValueError(
            f"no property named {', '.join(unknown)}; known: {', '.join(p.name for p in properties)}"
        )
    return [p for p in properties if any(p.name == name or p.name.startswith(name) for name in wanted)]


def run(config: RunConfig, handlers: Sequence[Handler] = ()) -> RunResult:
    """Check the server at `config.base_url`; handlers report as the run goes."""
    started = time.perf_counter()
    properties = select(catalog(), config.select)
    ctx = build_context(config)
    result = RunResult(
        base_url=ctx.client.base_url,
        seed=ctx.settings.seed,
        max_examples=ctx.settings.max_examples,
        profile=ctx.profile.source,
        spec=str(config.spec_path),
    )
    for handler in handlers:
        handler.started(result, properties)
    try:
        result.fatal = preflight(ctx)
        if result.fatal is None:
            lost_during: str | None = None
            for item in properties:
                if ctx.client.gone is not None:
                    lost_during = lost_during or (result.results[-1].name if result.results else item.name)
                    outcome = PropertyResult(item.name, item.rule, item.summary, item.kind, NOT_RUN, 0.0)
                    outcome.message = f"the server stopped answering during {lost_during}"
                else:
                    outcome = run_property(ctx, item)
                result.results.append(outcome)
                for handler in handlers:
                    handler.finished_property(outcome)
            if ctx.client.gone is not None:
                # The server went away: what follows was not checked, and the run cannot conclude.
                lost_during = lost_during or result.results[-1].name
                result.fatal = (
                    f"{ctx.client.base_url} stopped answering during {lost_during} "
                    f"({type(ctx.client.gone).__name__}: {ctx.client.gone})"
                )
        from conformance.schema_run import summary

        schema_summary = summary(ctx)
        if schema_summary:
            result.notes.append(schema_summary)
    finally:
        result.requests = ctx.client.requests_sent
        ctx.client.close()
        result.elapsed = time.perf_counter() - started
    for handler in handlers:
        handler.finished(result)
    return result


def describe(result: RunResult) -> dict[str, Any]:
    """The run as plain data (for tests and machine-readable reports)."""
    return {
        "exit_code": result.exit_code,
        "failed": [r.name for r in result.results if r.status == FAILED],
        "errors": [r.name for r in result.results if r.status == ERROR],
        "not_run": [r.name for r in result.results if r.status == NOT_RUN],
        "passed": [r.name for r in result.results if r.status == PASSED],
    }
