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
ENV_PREFIX = "INVOICE_CONFORMANCE_"
SETTINGS = ("base-url", "profile", "spec", "max-examples", "seed", "skip")


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


def setting(config: Any, name: str) -> str | None:
    """`--invoice-<name>` when the plugin is loaded, else INVOICE_CONFORMANCE_<NAME>."""
    value = config.getoption(f"--invoice-{name}", default=None)
    if value is None or value is False:
        value = os.environ.get(env_name(name)) or None
    return None if value is None else str(value)


def missing_server(environ: dict[str, str]) -> str:
    """The one line a run without a server ends with, naming a misspelt variable if there is one."""
    known = {env_name(name) for name in SETTINGS}
    unknown = sorted(key for key in environ if key.startswith(ENV_PREFIX) and key not in known)
    hint = f" ({', '.join(unknown)} is not a setting: misspelt?)" if unknown else ""
    return (
        f"invoice-conformance: no server to check{hint}: pass --invoice-base-url URL "
        f"(with -p conformance.plugin) or set {env_name('base-url')}; "
        f"--invoice-skip or {env_name('skip')}=1 skips the suite on purpose"
    )


def _skipped_on_purpose(config: Any) -> bool:
    return setting(config, "skip") not in (None, "", "0", "False", "false", "no")


@pytest.fixture(scope="session")
def invoice_context(request: pytest.FixtureRequest) -> Iterator[Context]:
    """The run's target; without one the whole run stops as a usage error, never green.

    A suite that skipped all its tests for want of a URL exited 0 in CI having checked nothing
    (issue 21): a misspelt variable looked like a passing server. Skipping is a choice the user
    states (`--invoice-skip`, INVOICE_CONFORMANCE_SKIP=1).
    """
    if _skipped_on_purpose(request.config):
        pytest.skip(f"skipped on purpose (--invoice-skip or {env_name('skip')})")
    base_url = setting(request.config, "base-url")
    if not base_url:
        pytest.exit(missing_server(dict(os.environ)), returncode=pytest.ExitCode.USAGE_ERROR)
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
    if problem:  # not 70 errors of the same line: the run stops, exit 2 as the CLI's
        ctx.client.close()
        pytest.exit(f"invoice-conformance: cannot check the server: {problem}", returncode=2)
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
