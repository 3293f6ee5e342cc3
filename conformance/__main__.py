"""`python -m conformance` / `invoice-conformance`: one entry point, one sub-command per job.

- `run`: check a server against the contract (conformance.cli).
- `diff`: send the same sequences to two servers and report where they differ (conformance.diff.cli).
- `spec check` / `spec diff`: check a change to `openapi.yaml` (contract.tooling.cli).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from conformance import cli
    from conformance.diff import cli as diff_cli
    from contract.tooling import cli as spec_cli

    parser = argparse.ArgumentParser(
        prog="invoice-conformance",
        description="Check invoice servers and changes to openapi.yaml against the contract.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli.register(commands)
    diff_cli.register(commands)
    spec_cli.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
