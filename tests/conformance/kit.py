"""How the kit's own tests run it: through the runner the CLI uses, with fixed seeds only (plus
random ones when a developer asks for them with `INVOICE_KIT_EXPLORE`). `names` picks the
robustness family apart: the fault wrappers run over an upstream served without the mock's own
uvicorn protocol, so they are judged on every other property."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterable
from typing import Any

from conformance.report import ConsoleHandler
from conformance.runner import RunConfig, catalog, describe, run
from tests.world import SPEC_PATH

FIXED_SEEDS = (11, 4030616404)


def explore_seeds() -> list[int]:
    """`INVOICE_KIT_EXPLORE=N`: N random seeds more, each in its test's id (`[seed]`), for a search
    of what the fixed seeds miss. Unset (as in CI) it is none: a test that can fail by chance is a
    defect, so a seed that finds a bug is kept as a fixed regression seed beside the fix."""
    count = int(os.environ.get("INVOICE_KIT_EXPLORE") or 0)
    return [secrets.randbits(32) for _ in range(count)]


def names(*, robustness: bool | None = None) -> list[str]:
    """Property names: all (None), only the robustness family (True), or all but it (False)."""
    return [p.name for p in catalog() if robustness is None or (p.kind == "robustness") == robustness]


# The properties of the lifecycle (issue 13): not run against a server with only create and read.
LIFECYCLE_KINDS = ("update", "bulk", "delete", "line_items", "scopes")


def lifecycle_names() -> list[str]:
    return [
        p.name
        for p in catalog()
        if p.kind in LIFECYCLE_KINDS or "P75" in p.rows or p.name == "rate_limit_answers_429"
    ]


def run_kit(base_url: str, select: Iterable[str] = (), **options: Any) -> tuple[dict[str, Any], str, float]:
    output = io.StringIO()
    options.setdefault("spec_path", SPEC_PATH)
    result = run(RunConfig(base_url=base_url, select=list(select), **options), [ConsoleHandler(output)])
    return describe(result), output.getvalue(), result.elapsed
