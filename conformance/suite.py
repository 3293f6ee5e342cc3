"""The conformance suite as pytest tests: one test per property, the same checks the CLI runs.

Collected explicitly (`pytest -p conformance.plugin --pyargs conformance.suite …`, see
`conformance.plugin`); it is never picked up by this repository's own test run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.core import Context
from conformance.report import format_failure
from conformance.runner import (
    ERROR,
    FAILED,
    NOT_RUN,
    RunConfig,
    build_context,
    catalog,
    preflight,
    run_property,
)
from contract.given import SpecRefused
from contract.spec import default_spec_path

PROPERTIES = {item.name: item for item in catalog()}


def setting(config: Any, name: str) -> str | None:
    """`--invoice-<name>` when the plugin is loaded, else INVOICE_CONFORMANCE_<NAME>."""
    value = config.getoption(f"--invoice-{name}", default=None)
    if value is None:
        value = os.environ.get("INVOICE_CONFORMANCE_" + name.upper().replace("-", "_")) or None
    return None if value is None else str(value)


@pytest.fixture(scope="session")
def invoice_context(request: pytest.FixtureRequest) -> Iterator[Context]:
    base_url = setting(request.config, "base-url")
    if not base_url:
        pytest.skip("no server to check: pass --invoice-base-url (with -p conformance.plugin)")
    max_examples, seed = setting(request.config, "max-examples"), setting(request.config, "seed")
    config = RunConfig(
        base_url=base_url,
        profile_path=setting(request.config, "profile"),
        spec_path=setting(request.config, "spec") or default_spec_path(),
        max_examples=int(max_examples) if max_examples else None,
        seed=int(seed) if seed else None,
    )
    try:
        ctx = build_context(config)
    except SpecRefused as refused:  # the spec the kit was given cannot be checked against: one line
        pytest.fail(str(refused), pytrace=False)
    problem = preflight(ctx)
    if problem:
        pytest.fail(problem, pytrace=False)
    yield ctx
    ctx.client.close()


@pytest.mark.parametrize("name", list(PROPERTIES))
def test_contract(name: str, invoice_context: Context) -> None:
    result = run_property(invoice_context, PROPERTIES[name])
    if result.status == NOT_RUN:
        pytest.skip(f"not run: {result.message}")
    if result.status in (FAILED, ERROR):
        pytest.fail(
            format_failure(result)
            + f"\n  (seed {invoice_context.settings.seed}: pass --invoice-seed to reproduce)",
            pytrace=False,
        )
