"""`spec check` passes the real spec and points at the exact place of each deliberate mistake."""

# precision ids in this file are test data, not citations
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contract.spec import default_spec_path, load_spec
from contract.tooling import check_file, check_spec, example_problems
from contract.tooling.report import check_text

Spec = dict[str, Any]
CREATE = "#/paths/~1api~1invoices/post"
LIST = "#/paths/~1api~1invoices/get"
GET = "#/paths/~1api~1invoices~1{invoice_uid}/get"
LINES = "#/paths/~1api~1invoices~1{invoice_uid}~1line_items"
EVERY_OPERATION = [
    CREATE,
    LIST,
    "#/paths/~1api~1invoices/put",
    "#/paths/~1api~1invoices/delete",
    GET,
    "#/paths/~1api~1invoices~1{invoice_uid}/put",
    f"{LINES}/post",
    f"{LINES}/put",
    f"{LINES}/delete",
]
LINK = f"{CREATE}/responses/200/links/GetCreatedInvoice"


def post(spec: Spec) -> dict[str, Any]:
    return spec["paths"]["/api/invoices"]["post"]


def link(spec: Spec) -> dict[str, Any]:
    return post(spec)["responses"]["200"]["links"]["GetCreatedInvoice"]


def test_real_spec_passes_with_handlers_that_fit(fake_handlers: str):
    report = check_spec(load_spec(default_spec_path()), handler_module=fake_handlers)
    assert report.ok, "\n".join(map(str, report.problems))
    assert report.checks > 100


def test_real_spec_passes_against_the_mock_handlers():
    """Needs `mockserver.http.handlers` with a handler per operationId (the lifecycle ones since issue 13)."""
    report = check_spec(load_spec(default_spec_path()))
    assert report.ok, "\n".join(map(str, report.problems))


def test_example_problems_is_empty_for_the_real_spec():
    assert example_problems(load_spec(default_spec_path())) == []


def bad_request_example(spec: Spec) -> None:
    examples = post(spec)["requestBody"]["content"]["application/json"]["examples"]
    examples["minimal"]["value"]["owner_uid"] = "not-a-uuid"


def error_without_envelope(spec: Spec) -> None:
    schema = {"type": "object", "properties": {"detail": {"type": "string"}}}
    post(spec)["responses"]["422"] = {
        "description": "Invalid.",
        "content": {"application/json": {"schema": schema}},
    }
    del spec["components"]["responses"]["UnprocessableInvoice"]  # else reported as unused


def link_by_operation_ref_to_nowhere(spec: Spec) -> None:
    del link(spec)["operationId"]
    link(spec)["operationRef"] = "#/paths/~1api~1invoices~1{invoice_uid}/delete"


def no_security_anywhere(spec: Spec) -> None:
    del spec["security"]


BROKEN: list[tuple[str, Callable[[Spec], Any], list[str]]] = [
    (
        "example breaks its schema",
        bad_request_example,
        [f"{CREATE}/requestBody/content/application~1json/examples/minimal"],
    ),
    (
        "link to a missing operationId",
        lambda s: link(s).update(operationId="fetch_invoice"),
        [f"{LINK}/operationId"],
    ),
    (
        "link operationRef to no operation",
        link_by_operation_ref_to_nowhere,
        [f"{LINK}/operationRef"],
    ),
    (
        "link to a missing parameter",
        lambda s: link(s)["parameters"].update(expand="lines"),
        [f"{LINK}/parameters/expand"],
    ),
    (
        "link body pointer the response lacks",
        lambda s: link(s)["parameters"].update(invoice_uid="$response.body#/data/id"),
        [f"{LINK}/parameters/invoice_uid"],
    ),
    (
        "link value not a runtime expression",
        lambda s: link(s)["parameters"].update(invoice_uid="$response.bdy#/data/uid"),
        [f"{LINK}/parameters/invoice_uid"],
    ),
    ("operation made public", lambda s: post(s).update(security=[]), [f"{CREATE}/security"]),
    (
        "no security anywhere (and so an unused scheme)",
        no_security_anywhere,
        [*EVERY_OPERATION, "#/components/securitySchemes/bearerAuth"],
    ),
    (
        "undefined security scheme",
        lambda s: post(s).update(security=[{"apiKey": []}]),
        [f"{CREATE}/security/0/apiKey"],
    ),
    ("4xx without the error envelope", error_without_envelope, [f"{CREATE}/responses/422"]),
    (
        "missing handler",
        lambda s: s["paths"]["/api/invoices"]["get"].update(operationId="search_invoices"),
        [f"{LIST}/operationId"],
    ),
    (
        "unused component",
        lambda s: s["components"]["schemas"].update(Orphan={"type": "string"}),
        ["#/components/schemas/Orphan"],
    ),
    (
        "invalid OpenAPI",
        lambda s: post(s)["responses"]["200"].pop("description"),
        [f"{CREATE}/responses/200"],
    ),
    (
        "invalid schema type",
        lambda s: s["components"]["schemas"]["Cents"].update(type="int"),
        ["#/components/schemas/Cents/type"],
    ),
    (
        # OpenAPI 3.0.3: `nullable` only has meaning beside `type`; Prism, Redocly, Spectral and
        # Specmatic refuse it (the bug of issue 9, in InvoiceFieldInput.value and InvoiceFieldValue.value).
        "nullable without type",
        lambda s: s["components"]["schemas"]["InvoiceFieldInput"]["properties"]["value"].update(
            nullable=True
        ),
        ["#/components/schemas/InvoiceFieldInput/properties/value/nullable"],
    ),
    (
        "nullable without type in a parameter schema",
        lambda s: (
            s["paths"]["/api/invoices"]["get"]["parameters"][0]["schema"].pop("type")
            and s["paths"]["/api/invoices"]["get"]["parameters"][0]["schema"].update(nullable=True)
        ),
        [f"{LIST}/parameters/0/schema/nullable"],
    ),
    (
        "nullable enum without null",
        lambda s: s["components"]["schemas"]["Party"]["properties"]["role"].update(nullable=True),
        ["#/components/schemas/Party/properties/role/enum"],
    ),
    (
        "keywords beside $ref",
        lambda s: s["components"]["schemas"]["Invoice"]["properties"]["uid"].update(nullable=True),
        ["#/components/schemas/Invoice/properties/uid"],
    ),
    (
        "dangling $ref",
        lambda s: s["components"]["schemas"]["Invoice"]["properties"]["uid"].update(
            {"$ref": "#/components/schemas/Uuid"}
        ),
        ["#/components/schemas/Invoice/properties/uid/$ref"],
    ),
    (
        "$ref cycle",
        lambda s: s["components"]["schemas"]["Comment"]["properties"].update(
            replies={"type": "array", "items": {"$ref": "#/components/schemas/Comment"}}
        ),
        ["#/components/schemas/Comment"],
    ),
]


@pytest.mark.parametrize(("name", "edit", "pointers"), BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_spec_is_reported_at_its_pointer(
    name: str, edit: Callable[[Spec], Any], pointers: list[str], fake_handlers: str
):
    spec = load_spec(default_spec_path())
    edit(spec)
    report = check_spec(spec, handler_module=fake_handlers)
    assert sorted(problem.pointer for problem in report.problems) == sorted(pointers), name
    assert not report.ok


def test_unimportable_handler_module_is_one_problem_not_a_crash():
    report = check_spec(load_spec(default_spec_path()), handler_module="mockserver.no_such_handlers")
    assert [problem.pointer for problem in report.problems] == ["#/paths"]
    assert "mockserver.no_such_handlers cannot be imported" in report.problems[0].message


def test_invalid_openapi_skips_the_later_checks(fake_handlers: str):
    spec = load_spec(default_spec_path())
    post(spec)["responses"]["200"].pop("description")
    spec["components"]["schemas"]["Orphan"] = {"type": "string"}  # would be reported if checks ran on
    report = check_spec(spec, handler_module=fake_handlers)
    assert report.skipped == "the document is not valid OpenAPI"
    assert "'description' is a required property" in report.problems[0].message


def test_file_that_is_not_yaml_is_a_problem(tmp_path: Path):
    path = tmp_path / "openapi.yaml"
    path.write_text("openapi: [3.0.3\n", encoding="utf-8")
    report = check_file(path)
    assert [problem.pointer for problem in report.problems] == ["#"]


def test_text_report_is_pointer_colon_message_then_a_summary(fake_handlers: str):
    spec = load_spec(default_spec_path())
    error_without_envelope(spec)
    text = check_text(check_spec(spec, handler_module=fake_handlers), "openapi.yaml")
    problem, summary = text.splitlines()
    expected = f"{CREATE}/responses/422: error response does not use #/components/schemas/ErrorEnvelope"
    assert problem == expected
    assert summary.startswith("openapi.yaml: 1 problem (") and summary.endswith(" checks)")


def test_ok_report_counts_its_checks(fake_handlers: str):
    report = check_file(default_spec_path(), fake_handlers)
    assert check_text(report, "openapi.yaml") == f"openapi.yaml: OK ({report.checks} checks)\n"


def with_new_row(spec: Spec) -> str:
    """Append a row after the table's last, an id no test can cite yet; answer its id."""
    from contract.precision import precision_rows

    new = f"P{len(precision_rows(spec)) + 1:02d}"
    spec["info"]["description"] += f"\n| {new} | A behaviour nobody tests | fixed | Whatever it is. |\n"
    return new


def test_a_row_no_test_cites_is_a_warning_not_a_problem(fake_handlers: str):
    spec = load_spec(default_spec_path())
    new = with_new_row(spec)
    report = check_spec(spec, handler_module=fake_handlers)
    assert report.ok, "\n".join(map(str, report.problems))
    assert [str(w) for w in report.warnings] == [f"#/info/description: precision rows no test cites: {new}"]
    text = check_text(report, "openapi.yaml").splitlines()
    assert text[0] == f"warning: #/info/description: precision rows no test cites: {new}"
    assert text[-1] == f"openapi.yaml: OK ({report.checks} checks, 1 warning)"


def test_the_real_spec_has_no_uncited_row(fake_handlers: str):
    assert check_spec(load_spec(default_spec_path()), handler_module=fake_handlers).warnings == []


def test_without_tests_next_to_the_packages_citations_are_not_checked(tmp_path: Path):
    """Installed from a wheel there is no tests/: say nothing rather than "no row is cited"."""
    from contract.tooling.citations import check_citations

    spec = load_spec(default_spec_path())
    with_new_row(spec)
    assert check_citations(spec, root=tmp_path).problems == []
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_one.py").write_text('"""Holds P01 and P02-P03."""\n', encoding="utf-8")
    (tmp_path / "conformance" / "properties").mkdir(parents=True)
    (tmp_path / "conformance" / "properties" / "a.py").write_text(
        '@prop("a", rows=("P04", "P05"))\n"""Mentions P06 outside rows=: no citation."""\n', encoding="utf-8"
    )
    [warning] = check_citations(spec, root=tmp_path).problems
    uncited = warning.message.split(": ")[1].split()
    assert uncited[:2] == ["P06", "P07"] and not {"P01", "P02", "P03", "P04", "P05"} & set(uncited)


def test_a_file_marked_as_test_data_cites_nothing(tmp_path: Path):
    """A test of the table's parser names ids as data: with the marker line they are no citations."""
    from contract.tooling.citations import NOT_CITATIONS, uncited_rows

    spec = load_spec(default_spec_path())
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_cites.py").write_text('"""Holds P01."""\n', encoding="utf-8")
    (tmp_path / "tests" / "test_parser.py").write_text(f'{NOT_CITATIONS}\n"""P02 P03."""\n', encoding="utf-8")
    uncited = uncited_rows(spec, root=tmp_path)
    assert uncited is not None and "P01" not in uncited and {"P02", "P03"} <= set(uncited)


def test_a_malformed_table_is_a_problem(fake_handlers: str):
    spec = load_spec(default_spec_path())
    spec["info"]["description"] += "\n| P01 | Twice | fixed | Again. |\n"
    report = check_spec(spec, handler_module=fake_handlers)
    assert [p.pointer for p in report.problems] == ["#/info/description"]
    assert "P01 appears twice" in report.problems[0].message
