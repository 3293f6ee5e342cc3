"""How `spec check` and `spec diff` results are written: one function per format.

Adding a format is adding a function and a `DIFF_FORMATS` entry; the CLI knows nothing else.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from contract.tooling.check import CheckReport
from contract.tooling.extension_diff import UNCLASSIFIED
from contract.tooling.model import Change

DiffFormatter = Callable[[list[Change], str, str], str]


def check_text(report: CheckReport, label: str) -> str:
    """One `POINTER: message` line per problem, one `warning: POINTER: message` per warning, a summary."""
    lines = [str(problem) for problem in report.problems]
    lines.extend(f"warning: {warning}" for warning in report.warnings)
    count = len(report.problems)
    warned = len(report.warnings)
    warnings = f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    if report.ok:
        lines.append(f"{label}: OK ({report.checks} checks{warnings})")
    else:
        skipped = f"; later checks skipped: {report.skipped}" if report.skipped else ""
        lines.append(f"{label}: {count} problem{'s' if count != 1 else ''} ({report.checks} checks{skipped})")
    return "\n".join(lines) + "\n"


def diff_summary(changes: list[Change], old_label: str, new_label: str) -> str:
    if not changes:
        return f"{old_label} -> {new_label}: no differences"
    breaking = sum(change.breaking for change in changes)
    review = sum(change.rule == UNCLASSIFIED for change in changes)
    unclassified = f" ({review} not classified: review)" if review else ""
    counts = f"{breaking} breaking, {len(changes) - breaking} non-breaking{unclassified}"
    return f"{old_label} -> {new_label}: {counts}"


def diff_text(changes: list[Change], old_label: str, new_label: str) -> str:
    """Changes grouped breaking first, request side before response side; a summary line last."""
    lines: list[str] = []
    for breaking in (True, False):
        for side in ("request", "response"):
            group = [change for change in changes if change.breaking == breaking and change.side == side]
            if group:
                kind = "Breaking" if breaking else "Non-breaking"
                lines.append(f"{kind} changes, {side} side ({len(group)}):")
                lines.extend(f"  {change.pointer}: {change.reason}" for change in group)
    lines.append(diff_summary(changes, old_label, new_label))
    return "\n".join(lines) + "\n"


def diff_json(changes: list[Change], old_label: str, new_label: str) -> str:
    breaking = sum(change.breaking for change in changes)
    document = {
        "old": old_label,
        "new": new_label,
        "breaking": breaking,
        "non_breaking": len(changes) - breaking,
        "changes": [
            {
                "pointer": change.pointer,
                "side": change.side,
                "breaking": change.breaking,
                "rule": change.rule,
                "reason": change.reason,
            }
            for change in changes
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def diff_junit(changes: list[Change], old_label: str, new_label: str) -> str:
    """JUnit XML: a testcase per change, breaking ones failed, so CI lists them like failing tests."""
    breaking = str(sum(change.breaking for change in changes))
    suites = ET.Element("testsuites", name="spec diff", tests=str(len(changes)), failures=breaking)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"spec diff {old_label} -> {new_label}",
        tests=str(len(changes)),
        failures=breaking,
        errors="0",
        skipped="0",
    )
    for change in changes:
        case = ET.SubElement(
            suite, "testcase", classname=f"spec diff.{change.side}", name=f"{change.pointer} ({change.rule})"
        )
        if change.breaking:
            failure = ET.SubElement(case, "failure", type="breaking", message=change.reason)
            failure.text = f"{change.side} side, {change.rule}: {change.reason}"
        else:
            ET.SubElement(case, "system-out").text = f"non-breaking, {change.side} side: {change.reason}"
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


DIFF_FORMATS: dict[str, DiffFormatter] = {"text": diff_text, "json": diff_json, "junit": diff_junit}
