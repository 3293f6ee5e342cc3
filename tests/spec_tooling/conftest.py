"""Fixtures for the spec tooling tests: a handler module that fits the spec, independent of the mock's."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from contract.spec import default_spec_path, iter_operations, load_spec

FAKE_HANDLERS = "spec_tooling_fake_handlers"


@pytest.fixture
def fake_handlers() -> Iterator[str]:
    """The name of an importable module with a function per operationId of the real spec.

    Built from the spec rather than written out, so `spec check` tests do not depend on
    `mockserver.http.handlers` (written by someone else) nor break when an operation is added.
    """
    module = types.ModuleType(FAKE_HANDLERS)
    for _path, _method, operation in iter_operations(load_spec(default_spec_path())):
        setattr(module, operation["operationId"], lambda *args, **kwargs: None)
    sys.modules[FAKE_HANDLERS] = module
    yield FAKE_HANDLERS
    del sys.modules[FAKE_HANDLERS]
