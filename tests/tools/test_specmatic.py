"""Specmatic loads openapi.yaml with its examples and tests a real mock with the paired ones.

Specmatic reads `nullable` without `type` as "null only" and so failed to load every example
carrying an invoice field. It pairs request and response examples by name: the create's request
examples `minimal` and `full` have 200 examples of the same names, so each pair becomes a test
case run against a real uvicorn mock. Specmatic's exit status does not say which cases passed, so
its output is parsed. (Its other, generated cases send random uids the mock rightly refuses with
403/404: they are not this test's business.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
    for name in REQUEST_EXAMPLES:
        verdict = re.search(rf"example '{name}'(?: where [^\n]*)? has (SUCCEEDED|FAILED)", output)
        assert verdict is not None, (name, output[-4000:])
        assert verdict.group(1) == "SUCCEEDED", (name, output[output.find(f"example '{name}'") :][:3000])
