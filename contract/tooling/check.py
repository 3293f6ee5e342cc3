"""`spec check`: is this spec sound, for everything in the kit that reads it.

The checks run in order of dependence. `$ref`s come first and OpenAPI validity second because the
later checks walk the document assuming both; if either fails, the later checks are skipped
(and the report says so) rather than crashing or reporting consequences of the same mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contract.precision import PrecisionTableError
from contract.tooling.citations import check_citations
from contract.tooling.examples import check_examples
from contract.tooling.extension_check import check_extension_enums
from contract.tooling.handlers import DEFAULT_HANDLER_MODULE, check_handlers
from contract.tooling.links import check_links
from contract.tooling.model import Problem, Tally
from contract.tooling.policy import check_error_responses, check_security
from contract.tooling.portability import check_portability
from contract.tooling.unused import check_unused
from contract.tooling.validity import reference_problems, validity_problems

Check = Callable[[dict[str, Any]], Tally]


@dataclass
class CheckReport:
    """Everything `spec check` found about one spec."""

    checks: int = 0
    problems: list[Problem] = field(default_factory=list)
    skipped: str | None = None  # why the later checks did not run, if they did not
    # What a spec author should know but that does not make the spec unsound (exit code unchanged):
    # precision rows no test cites, in a source checkout.
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def semantic_checks(handler_module: str = DEFAULT_HANDLER_MODULE) -> list[Check]:
    """The checks that need a valid document, each independent of the others."""
    return [
        check_portability,
        check_examples,
        check_links,
        check_security,
        check_error_responses,
        lambda spec: check_handlers(spec, handler_module),
        check_unused,
        check_extension_enums,
    ]


def check_spec(spec: Any, handler_module: str = DEFAULT_HANDLER_MODULE) -> CheckReport:
    report = CheckReport()
    if not isinstance(spec, dict):
        report.problems.append(Problem("#", "not an OpenAPI document: the top level is not a mapping"))
        report.skipped = "the file is not a mapping"
        return report
    gates = [
        (reference_problems, "a $ref is broken"),
        (validity_problems, "the document is not valid OpenAPI"),
    ]
    for gate, reason in gates:
        tally = gate(spec)
        report.checks += tally.checked
        report.problems.extend(tally.problems)
        if tally.problems:
            report.skipped = reason
            return report
    for check in semantic_checks(handler_module):
        tally = check(spec)
        report.checks += tally.checked
        report.problems.extend(tally.problems)
    _check_table(spec, report)
    return report


def _check_table(spec: dict[str, Any], report: CheckReport) -> None:
    """A malformed precision table is a problem; a row no test cites is a warning."""
    try:
        tally = check_citations(spec)
    except PrecisionTableError as exc:
        report.problems.append(Problem("#/info/description", str(exc)))
        return
    report.checks += tally.checked
    report.warnings.extend(tally.problems)


def check_file(path: str | Path, handler_module: str = DEFAULT_HANDLER_MODULE) -> CheckReport:
    """`check_spec` of a file; a file that is not YAML is a problem, not a crash."""
    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        report = CheckReport(problems=[Problem("#", f"not YAML: {exc}".replace("\n", " "))])
        report.skipped = "the file is not YAML"
        return report
    return check_spec(spec, handler_module)
