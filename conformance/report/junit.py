"""The JUnit XML report: one test case per property (failure with its `curl`s, skipped when not
run), so CI systems show the contract's rules as tests."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from conformance.core import Property
from conformance.runner import ERROR, FAILED, NOT_RUN, PropertyResult, RunResult


class JUnitHandler:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def started(self, result: RunResult, properties: list[Property]) -> None:
        pass

    def finished_property(self, result: PropertyResult) -> None:
        pass

    def finished(self, result: RunResult) -> None:
        suite = ET.Element(
            "testsuite",
            name="invoice-conformance",
            tests=str(len(result.results)),
            failures=str(result.count(FAILED)),
            errors=str(result.count(ERROR) + (1 if result.fatal else 0)),
            skipped=str(result.count(NOT_RUN)),
            time=f"{result.elapsed:.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("base_url", result.base_url),
            ("seed", str(result.seed)),
            ("profile", result.profile),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        if result.fatal:
            case = ET.SubElement(suite, "testcase", classname="conformance", name="server reachable")
            ET.SubElement(case, "error", message=result.fatal)
        for item in result.results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"conformance.{item.kind}",
                name=item.name,
                time=f"{item.elapsed:.3f}",
            )
            if item.status == NOT_RUN:
                ET.SubElement(case, "skipped", message=item.message)
            elif item.status in (FAILED, ERROR):
                tag = "failure" if item.status == FAILED else "error"
                element = ET.SubElement(
                    case, tag, message=item.message.splitlines()[0] if item.message else ""
                )
                element.text = _body(item)
        root = ET.Element("testsuites")
        root.append(suite)
        tree = ET.ElementTree(root)
        ET.indent(tree)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tree.write(self.path, encoding="utf-8", xml_declaration=True)


def _body(item: PropertyResult) -> str:
    lines = [f"rule: {item.rule}", item.message, *item.details]
    for reproduction in item.reproductions:
        lines += [f"request: {reproduction.what}", reproduction.curl, reproduction.response]
    return "\n".join(lines)
