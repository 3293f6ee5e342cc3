"""Shared fixtures: the contract and the fixture world, each read from its one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contract.spec import default_spec_path, load_spec
from tests.servers import REPO_ROOT

__all__ = ["REPO_ROOT"]  # the checkout's root, for tests that run commands in it


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return default_spec_path()


@pytest.fixture(scope="session")
def spec(spec_path: Path) -> dict[str, Any]:
    return load_spec(spec_path)
