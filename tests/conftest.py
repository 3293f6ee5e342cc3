"""Shared fixtures: the contract and the fixture world, each read from its one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from contract.spec import default_spec_path, load_spec
from tests.servers import REPO_ROOT

__all__ = ["REPO_ROOT"]  # the checkout's root, for tests that run commands in it

# Every Hypothesis test of the suite (Schemathesis's pytest tests among them) draws the same examples
# on every run, and no example database carries one run's finds into the next: a test that can fail
# by chance is a defect. The kit's own runs set their seed explicitly (`--seed`), so this is only
# the default for tests that name none.
settings.register_profile("suite", derandomize=True, database=None)
settings.load_profile("suite")


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return default_spec_path()


@pytest.fixture(scope="session")
def spec(spec_path: Path) -> dict[str, Any]:
    return load_spec(spec_path)
