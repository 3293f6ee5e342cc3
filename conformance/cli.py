"""`invoice-conformance run`: check a server (the mock or a real implementation) against the contract.

Exit status: 0 when every property that ran holds, 1 on any violation (or a failure of the kit
itself), 2 when the server cannot be checked at all (bad profile, server not answering).
"""

from __future__ import annotations

import argparse
from typing import Any

from conformance.core import DEFAULT_MAX_EXAMPLES
from conformance.profile import ProfileError
from contract.spec import default_spec_path


def register(commands: Any) -> None:
    """Add the `run` sub-command to the dispatcher's sub-parsers (see conformance/__main__.py)."""
    parser = commands.add_parser(
        "run",
        help="check a server against openapi.yaml and the contract's rules",
        description="Check the invoice server at --base-url against openapi.yaml: Schemathesis's schema "
        "checks, the contract's business rules and create-then-read consistency, with requests built "
        "from the target profile.",
    )
    parser.add_argument("--base-url", required=True, help="the server to check, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--profile",
        default=None,
        help="the target's test data (tokens, organizations, parties, documents, blueprints) in the format "
        "of contract/fixtures/default.yaml (default: the mock's own fixtures)",
    )
    parser.add_argument("--spec", default=None, help="the contract (default: the bundled openapi.yaml)")
    parser.add_argument(
        "--max-examples",
        type=int,
        default=None,
        help=f"examples per property, scaled per property (default: {DEFAULT_MAX_EXAMPLES}); raise it for "
        "nightly runs",
    )
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run (default: random, printed)")
    parser.add_argument("--junit-xml", default=None, metavar="FILE", help="also write a JUnit XML report")
    parser.add_argument(
        "--property",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this property (or name prefix, e.g. schema:); repeatable",
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request (default: 15)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from conformance.report import ConsoleHandler, JUnitHandler
    from conformance.runner import RunConfig, run

    if args.max_examples is not None and args.max_examples < 1:
        print("invoice-conformance run: --max-examples must be at least 1")
        return 2
    handlers: list[Any] = [ConsoleHandler()]
    if args.junit_xml:
        handlers.append(JUnitHandler(args.junit_xml))
    config = RunConfig(
        base_url=args.base_url,
        profile_path=args.profile,
        spec_path=args.spec if args.spec is not None else default_spec_path(),
        max_examples=args.max_examples,
        seed=args.seed,
        select=args.property,
        timeout=args.timeout,
    )
    try:
        return run(config, handlers).exit_code
    except (ProfileError, ValueError) as error:
        print(f"invoice-conformance run: {error}")
        return 2
