"""`invoice-conformance spec check|diff`: the spec tooling's command line.

`register` hangs the `spec` command on the main parser (`conformance/__main__.py`); each leaf
sets `handler`, a callable taking the parsed arguments and returning the exit code:
0 fine, 1 problems / breaking changes found, 2 the command could not run (unreadable input).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from contract.spec import default_spec_path
from contract.tooling.check import check_file
from contract.tooling.diff import diff_specs
from contract.tooling.handlers import DEFAULT_HANDLER_MODULE
from contract.tooling.report import DIFF_FORMATS, check_text, diff_text
from contract.tooling.sources import SpecSourceError, load_at_ref, load_file


def register(commands: Any) -> None:
    """Add `spec` (with `check` and `diff`) to an argparse sub-parsers object."""
    spec = commands.add_parser(
        "spec",
        help="check a change to openapi.yaml",
        description="Check that a spec is sound, or whether a change to it breaks clients.",
    )
    spec_commands = spec.add_subparsers(dest="spec_command", required=True, metavar="SPEC_COMMAND")

    check = spec_commands.add_parser(
        "check",
        help="is this spec sound",
        description="Validate the spec: OpenAPI validity, examples, links, security, error envelopes, "
        "mock handlers, unused components. Exit 1 if anything is wrong.",
    )
    check.add_argument("spec", nargs="?", type=Path, help="the spec (default: the project's openapi.yaml)")
    check.add_argument(
        "--handlers",
        default=DEFAULT_HANDLER_MODULE,
        metavar="MODULE",
        help=f"module the mock resolves operationIds in (default: {DEFAULT_HANDLER_MODULE})",
    )
    check.set_defaults(handler=run_check)

    diff = spec_commands.add_parser(
        "diff",
        help="does this change break anyone",
        description="Compare two specs (OLD NEW), or the working copy with a git ref (--base REF [NEW]). "
        "Exit 1 if any change is breaking.",
    )
    diff.add_argument("specs", nargs="*", type=Path, metavar="SPEC", help="OLD NEW, or with --base: [NEW]")
    diff.add_argument("--base", metavar="GIT_REF", help="compare NEW with the same file at this git ref")
    diff.add_argument("--format", choices=sorted(DIFF_FORMATS), default="text", help="report format")
    diff.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report here (stdout still gets the text)"
    )
    diff.set_defaults(handler=run_diff)


def _label(path: Path) -> str:
    """The path as a reader would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_check(args: argparse.Namespace) -> int:
    path: Path = args.spec or default_spec_path()
    if not path.is_file():
        print(f"spec check: no such file: {path}", file=sys.stderr)
        return 2
    report = check_file(path, args.handlers)
    sys.stdout.write(check_text(report, _label(path)))
    return 0 if report.ok else 1


def _load_pair(args: argparse.Namespace) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    if args.base is not None:
        if len(args.specs) > 1:
            raise SpecSourceError("with --base, give at most one spec (NEW)")
        new_path = args.specs[0] if args.specs else default_spec_path()
        old, old_label = load_at_ref(args.base, new_path)
        return old, old_label, load_file(new_path), _label(new_path)
    if len(args.specs) != 2:
        raise SpecSourceError("give two specs (OLD NEW), or --base GIT_REF [NEW]")
    old_path, new_path = args.specs
    return load_file(old_path), _label(old_path), load_file(new_path), _label(new_path)


# What `inline_refs` raises on a dangling or cyclic `$ref`; `spec check` says where it is.
_UNINLINABLE = (KeyError, IndexError, TypeError, RecursionError)


def run_diff(args: argparse.Namespace) -> int:
    """Report the differences; with `-o` the chosen format goes to the file, text to stdout (the CI log)."""
    try:
        old, old_label, new, new_label = _load_pair(args)
        changes = diff_specs(old, new)
    except SpecSourceError as exc:
        print(f"spec diff: {exc}", file=sys.stderr)
        return 2
    except _UNINLINABLE as exc:
        print(
            f"spec diff: cannot inline the specs' $refs ({exc!r}); run `spec check` on each", file=sys.stderr
        )
        return 2
    report = DIFF_FORMATS[args.format](changes, old_label, new_label)
    if args.output is not None:
        args.output.write_text(report, encoding="utf-8")
        report = diff_text(changes, old_label, new_label)
    sys.stdout.write(report)
    return 1 if any(change.breaking for change in changes) else 0
