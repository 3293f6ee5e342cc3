"""Specmatic loads openapi.yaml with its examples and tests a real mock with the paired ones.

Specmatic reads `nullable` without `type` as "null only" and so failed to load every example
carrying an invoice field. It pairs request and response examples by name: the create's request
examples `minimal` and `full` have 200 examples of the same names, so each pair becomes a test
case run against a real uvicorn mock. Specmatic's exit status does not say which cases passed, so
its output is parsed. (Its other, generated cases send random uids the mock rightly refuses with
403/404: they are not this test's business.)

Only create can be paired: every other operation with a body acts on an invoice (or its lines)
that must exist first, and Specmatic would send a paired example to an invoice uid the mock does
not have. Their examples are therefore named unlike their response examples; Specmatic reads them
and says it ignores them for tests, which this test checks too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from contract.spec import inline_refs, iter_operations
from tests.servers import serve
from tests.tools.conftest import run
from tests.world import ORG_A, SPEC, SPEC_PATH, create_app, user_of

pytestmark = pytest.mark.e2e

CREATE_200 = SPEC["paths"]["/api/invoices"]["post"]["responses"]["200"]["content"]["application/json"]
REQUEST_EXAMPLES = SPEC["paths"]["/api/invoices"]["post"]["requestBody"]["content"]["application/json"][
    "examples"
]


def test_every_request_example_has_a_response_example_of_its_name():
    assert set(REQUEST_EXAMPLES) <= set(CREATE_200["examples"])


def example_names(operation: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(request example names, response example names of every status) of an operation."""
    operation = inline_refs(SPEC, operation)
    request = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    responses = [
        response.get("content", {}).get("application/json", {})
        for response in operation["responses"].values()
    ]
    return set(request.get("examples", {})), {
        name for media in responses for name in media.get("examples", {})
    }


UNPAIRED = sorted(
    {
        name
        for _path, _method, op in iter_operations(SPEC)
        if op["operationId"] != "create_invoice"
        for name in example_names(op)[0]
    }
)


def test_only_create_pairs_request_and_response_examples_by_name():
    for _path, _method, op in iter_operations(SPEC):
        request, response = example_names(op)
        expected = request if op["operationId"] == "create_invoice" else set()
        assert request & response == expected, op["operationId"]
        for parameter in inline_refs(SPEC, op.get("parameters", [])):
            assert "examples" not in parameter, (op["operationId"], parameter["name"])
    assert UNPAIRED, "the lifecycle operations have request examples"


def test_specmatic_loads_the_examples_and_the_paired_ones_pass_against_the_mock(specmatic_jar: Path):
    with serve(create_app()) as base_url:
        result = run(
            ["java", "-jar", str(specmatic_jar), "test", str(SPEC_PATH), "--testBaseURL", base_url],
            timeout=600,
            bearerAuth=user_of(ORG_A).token,  # Specmatic reads the token from the scheme's name
        )
    output = result.stdout + result.stderr
    assert "Error loading example" not in output, output[-4000:]
    assert re.search(r"Tests run: \d+", output), output[-4000:]
    for name in UNPAIRED:
        assert f"Ignoring request example named {name} " in output, (name, output[-4000:])
    for name in REQUEST_EXAMPLES:
        verdict = re.search(rf"example '{name}'(?: where [^\n]*)? has (SUCCEEDED|FAILED)", output)
        assert verdict is not None, (name, output[-4000:])
        assert verdict.group(1) == "SUCCEEDED", (name, output[output.find(f"example '{name}'") :][:3000])
