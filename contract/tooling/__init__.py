"""Spec tooling: check a change to `openapi.yaml` before it lands.

- `check_spec` / `spec check`: is this spec sound (valid OpenAPI, examples, links, security,
  error envelopes, a mock handler per operation, no unused components).
- `diff_specs` / `spec diff`: which differences between two specs break clients, and on which side.
"""

from contract.tooling.check import CheckReport, check_file, check_spec
from contract.tooling.diff import diff_specs
from contract.tooling.examples import example_errors, example_problems
from contract.tooling.model import Change, Problem

__all__ = [
    "Change",
    "CheckReport",
    "Problem",
    "check_file",
    "check_spec",
    "diff_specs",
    "example_errors",
    "example_problems",
]
