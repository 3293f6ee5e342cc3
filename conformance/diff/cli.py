"""`invoice-conformance diff`: the same stateful sequences sent to two servers, answers compared.

The run goes in rounds. Each round runs the lockstep machine with the divergences found so far
left out (`Lockstep.ignored`), so a round goes past the first difference to the next one; the run
ends when a round finds nothing new (or after `MAX_ROUNDS`). Each divergence is reported once, as
a failed result named by its key, with both answers and a curl for each side.

Exit status: 0 when the two servers agree, 1 on any divergence, 2 when the run cannot start (a
server does not answer, the profiles do not describe the same world, the spec is refused).
"""

from __future__ import annotations

import argparse
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.client import Client, RateLimited
from conformance.core import Context, NotRun, RunSettings
from conformance.diff.compare import TOLERATED
from conformance.diff.lockstep import Divergent, Lockstep, run_round
from conformance.diff.pairing import Pairing, PairingError
from conformance.profile import ProfileError, load_profile
from conformance.runner import FAILED, PASSED, PropertyResult, Reproduction, RunResult, Spec, preflight
from contract.given import SpecRefused, load_given
from contract.spec import default_spec_path

MAX_ROUNDS = 8
DEFAULT_EXAMPLES, DEFAULT_STEPS = 30, 20
RULE = (
    "the reference's answers, field by field; server-generated values matched by role; the open rows "
    "of openapi.yaml's precision table tolerated: " + " ".join(TOLERATED)
)


def register(commands: Any) -> None:
    """Add the `diff` sub-command to the dispatcher's sub-parsers (see conformance/__main__.py)."""
    parser = commands.add_parser(
        "diff",
        help="send the same stateful sequences to two servers and report where their answers differ",
        description="Differential run: the kit's generated sequences (create, read, list, update, bulk, "
        "delete, line items) sent in lockstep to --reference and --candidate; answers compared field by "
        "field, generated values matched by role, the precision table's open rows ignored.",
    )
    parser.add_argument("--reference", required=True, metavar="URL", help="the server taken as right")
    parser.add_argument("--candidate", required=True, metavar="URL", help="the server compared with it")
    parser.add_argument("--profile", default=None, help="the reference's test data (default: the mock's)")
    parser.add_argument(
        "--candidate-profile",
        default=None,
        help="the candidate's test data, the same world in the same order (default: --profile)",
    )
    parser.add_argument("--spec", default=None, help="the contract (default: the bundled openapi.yaml)")
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run (default: random, printed)")
    parser.add_argument(
        "--max-examples", type=int, default=DEFAULT_EXAMPLES, help=f"sequences per round ({DEFAULT_EXAMPLES})"
    )
    parser.add_argument(
        "--steps", type=int, default=DEFAULT_STEPS, help=f"steps per sequence ({DEFAULT_STEPS})"
    )
    parser.add_argument(
        "--no-shrink",
        dest="shrink",
        action="store_false",
        help="report each divergence as first seen, without minimising its sequence (faster)",
    )
    parser.add_argument("--junit-xml", default=None, metavar="FILE", help="also write a JUnit XML report")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request (default: 15)")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="SIDE:NAME=VALUE",
        help="a header for one side's every request, e.g. reference:X-Mock-Session=diff-1; repeatable",
    )
    parser.set_defaults(handler=handle)


@dataclass
class DiffConfig:
    reference: str
    candidate: str
    spec_path: str
    profiles: tuple[str | None, str | None] = (None, None)
    seed: int | None = None
    max_examples: int = DEFAULT_EXAMPLES
    steps: int = DEFAULT_STEPS
    timeout: float = 15.0
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # side -> name -> value
    shrink: bool = True  # minimise each divergence's sequence (Hypothesis shrinking)
    max_rounds: int = MAX_ROUNDS


def handle(args: argparse.Namespace) -> int:
    from conformance.report import ConsoleHandler, JUnitHandler

    if args.max_examples < 1 or args.steps < 1:
        print("invoice-conformance diff: --max-examples and --steps must be at least 1")
        return 2
    try:
        headers = parse_headers(args.header)
    except ValueError as error:
        print(f"invoice-conformance diff: {error}")
        return 2
    handlers: list[Any] = [ConsoleHandler()]
    if args.junit_xml:
        handlers.append(JUnitHandler(args.junit_xml))
    config = DiffConfig(
        reference=args.reference,
        candidate=args.candidate,
        spec_path=args.spec if args.spec is not None else str(default_spec_path()),
        profiles=(args.profile, args.candidate_profile or args.profile),
        seed=args.seed,
        max_examples=args.max_examples,
        steps=args.steps,
        timeout=args.timeout,
        headers=headers,
        shrink=args.shrink,
    )
    try:
        return diff(config, handlers).exit_code
    except (ProfileError, PairingError, SpecRefused, ValueError) as error:
        print(f"invoice-conformance diff: {error}")
        return 2


def parse_headers(values: list[str]) -> dict[str, dict[str, str]]:
    """`reference:X-Mock-Session=a` -> {"reference": {"X-Mock-Session": "a"}}."""
    headers: dict[str, dict[str, str]] = {"reference": {}, "candidate": {}}
    for value in values:
        side, _, header = value.partition(":")
        name, equals, text = header.partition("=")
        if side not in headers or not name.strip() or not equals:
            raise ValueError(f"--header {value!r}: expected reference:NAME=VALUE or candidate:NAME=VALUE")
        headers[side][name.strip()] = text
    return headers


def diff(config: DiffConfig, handlers: list[Any]) -> RunResult:
    """Run the rounds and tell the handlers; the result's exit code is the command's."""
    started = time.perf_counter()
    spec, facts = load_given(config.spec_path)
    profiles = tuple(load_profile(path, facts) for path in config.profiles)
    pairing = Pairing.of_profiles(*profiles)
    seed = config.seed if config.seed is not None else secrets.randbits(32)
    reference = Client(config.reference, timeout=config.timeout, headers=config.headers.get("reference"))
    candidate = Client(config.candidate, timeout=config.timeout, headers=config.headers.get("candidate"))
    ctx = Context(client=reference, profile=profiles[0], spec=Spec(spec), settings=RunSettings(seed=seed))
    result = RunResult(
        base_url=f"{config.reference} (reference) and {config.candidate} (candidate)",
        seed=seed,
        max_examples=config.max_examples,
        profile=" / ".join(str(path or "the mock's fixtures") for path in config.profiles),
        spec=config.spec_path,
    )
    for handler in handlers:
        handler.started(result, [])
    try:
        candidate_ctx = Context(client=candidate, profile=profiles[1], spec=ctx.spec, settings=ctx.settings)
        result.fatal = preflight(ctx) or preflight(candidate_ctx)
        if result.fatal is None:
            _rounds(Lockstep(ctx, candidate, pairing), config, result, handlers)
    finally:
        result.requests = reference.requests_sent + candidate.requests_sent
        reference.close()
        candidate.close()
        result.elapsed = time.perf_counter() - started
    for handler in handlers:
        handler.finished(result)
    return result


def _rounds(lock: Lockstep, config: DiffConfig, result: RunResult, handlers: list[Any]) -> None:
    found: set[str] = set()
    for round_number in range(1, config.max_rounds + 1):
        lock.ignored = frozenset(found)
        began = time.perf_counter()
        try:
            run_round(
                lock,
                seed_value=result.seed,
                max_examples=config.max_examples,
                steps=config.steps,
                shrink=config.shrink,
            )
        except Divergent as divergent:
            found.update(divergent.keys)
            outcome = _reported(divergent, time.perf_counter() - began)
        except (httpx.HTTPError, NotRun, RateLimited) as error:
            result.fatal = f"round {round_number} could not go on: {type(error).__name__}: {error}"
            return
        else:
            if not found:
                outcome = PropertyResult(
                    "diff:lockstep", RULE, "the two servers answered every step alike", "diff", PASSED, 0.0
                )
                outcome.elapsed = time.perf_counter() - began
            else:
                return
        result.results.append(outcome)
        for handler in handlers:
            handler.finished_property(outcome)
        if outcome.status == PASSED:
            return
        if round_number == config.max_rounds:
            result.notes.append(f"Stopped after {round_number} rounds: there may be more divergences.")


def _reported(divergent: Divergent, elapsed: float) -> PropertyResult:
    """One divergence (a step's new keys) as a failed result with a curl for each side."""
    outcome = PropertyResult(
        f"diff:{divergent.keys[0]}",
        RULE,
        "the candidate answers this step as the reference does",
        "diff",
        FAILED,
        elapsed,
        message=str(divergent),
        details=[*divergent.details, *(f"also: {key}" for key in divergent.keys[1:])],
    )
    for side, exchange in zip(("reference", "candidate"), divergent.exchanges, strict=False):
        outcome.reproductions.append(
            Reproduction(f"{side}: {exchange.label()}", exchange.curl(), exchange.response_excerpt())
        )
    return outcome
