"""Every example in the spec obeys its own schema, formats included.

One function for `spec check` and for tests/contract/test_spec_document.py, so "is this example
valid" has a single answer: `openapi-schema-validator`'s OAS 3.0 validator with its format checker,
which knows `nullable` (a plain JSON Schema validator would refuse every `null` example).
"""

from __future__ import annotations

from typing import Any

from openapi_schema_validator import OAS30Validator, oas30_format_checker

from contract.spec import iter_examples
from contract.tooling.model import Problem, Tally


def example_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """`"where: why"` for each way `value` breaks the inlined OpenAPI 3.0 `schema` (empty: valid)."""
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    errors = sorted(validator.iter_errors(value), key=lambda error: list(map(str, error.absolute_path)))
    return [f"/{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors]


def example_problems(spec: dict[str, Any]) -> list[Problem]:
    """A problem for each error of each example `contract.spec.iter_examples` finds."""
    return check_examples(spec).problems


def check_examples(spec: dict[str, Any]) -> Tally:
    """`example_problems`, counting the examples looked at for the summary line."""
    tally = Tally()
    for pointer, schema, value in iter_examples(spec):
        tally.checked += 1
        for error in example_errors(schema, value):
            tally.add(pointer, f"example does not match its schema at {error}")
    return tally
