"""pytest plugin: run the conformance suite in another project's CI.

    pip install /path/to/invoice_contract_kit-*.whl   # built from a clone (README, Install)
    pytest -p conformance.plugin --pyargs conformance.suite \
        --invoice-base-url http://127.0.0.1:8080 --invoice-profile target.yaml

Each property of the kit is one test (`test_contract[defaults_applied]`, …): a violation fails it
with the same report (and curl) as the CLI, a property the profile cannot feed is skipped with
the reason. The options are prefixed `--invoice-` so that they cannot clash with other plugins
(pytest-base-url owns `--base-url`), and they do nothing unless the suite is collected: loading
the plugin never changes another test run. Without the plugin, the suite reads the same settings
from INVOICE_CONFORMANCE_BASE_URL, _PROFILE, _SPEC, _MAX_EXAMPLES, _SEED and _SKIP.

The suite collected without a server to check is a usage error (exit 4, one line naming what is
missing), never a green run of skips; `--invoice-skip` (INVOICE_CONFORMANCE_SKIP=1) skips it on
purpose, for a CI job that has no server on some branches.
"""

from __future__ import annotations

from typing import Any

OPTIONS = {
    "base-url": "the server to check, e.g. http://127.0.0.1:8080",
    "profile": "the target's test data, in the format of contract/fixtures/default.yaml "
    "(default: the mock's)",
    "spec": "the contract (default: the bundled openapi.yaml)",
    "max-examples": "examples per property (default: the kit's default)",
    "seed": "reproduce a run (default: random, shown in the header)",
}


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("invoice-conformance", "invoice API conformance kit (conformance.suite)")
    for name, help_text in OPTIONS.items():
        kind = int if name in ("max-examples", "seed") else str
        group.addoption(f"--invoice-{name}", default=None, type=kind, help=help_text)
    group.addoption(
        "--invoice-skip",
        action="store_true",
        default=None,
        help="skip the suite on purpose (without it, no --invoice-base-url is a usage error)",
    )


def pytest_report_header(config: Any) -> str | None:
    base_url = config.getoption("--invoice-base-url", default=None)
    return f"invoice-conformance: checking {base_url}" if base_url else None
