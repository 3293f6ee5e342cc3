"""The spec a process is started with, checked before anything starts (mock and kit alike).

`load_given` refuses what cannot be served or checked with one `SpecRefused` line naming the
file, the JSON pointer and the rule: a missing file, YAML that does not parse, an OpenAPI
version other than 3.0.x (Connexion 3 and the kit's schema reading are 3.0), a document
openapi-spec-validator refuses, a spec lacking a fact or field the mock's rules read
(`contract.facts.read_facts`), and, for the mock, an operationId without a handler. Entry points
print it and exit 2 (a usage error), before a banner or a bound port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from contract.facts import ContractError, ContractFacts, read_facts
from contract.spec import load_spec

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecRefused(ValueError):
    """The given spec cannot be used: `str()` is the one line to print."""

    def __init__(self, path: Path, pointer: str, rule: str) -> None:
        super().__init__(f"{path}: {pointer}: {rule}")
        self.path, self.pointer, self.rule = path, pointer, rule


def _parse(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecRefused(path, "#", "no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecRefused(path, "#", f"cannot be read ({error})") from None
    try:
        spec = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as error:
        raise SpecRefused(path, "#", "not YAML: " + " ".join(str(error).split())) from None
    if not isinstance(spec, dict):
        raise SpecRefused(path, "#", "not an OpenAPI document: the top level is not a mapping")
    return spec


def check_document(path: Path, spec: dict[str, Any]) -> None:
    """OpenAPI 3.0.x, every `$ref` resolving, and valid by openapi-spec-validator."""
    from contract.tooling.validity import reference_problems, validity_problems

    version = str(spec.get("openapi", ""))
    if not version.startswith("3.0."):
        rule = f"OpenAPI {version or '(none)'} is not served: the mock (Connexion 3) and the kit read 3.0.x"
        raise SpecRefused(path, "#/openapi", rule)
    for gate in (reference_problems, validity_problems):
        problems = gate(spec).problems
        if problems:
            raise SpecRefused(path, problems[0].pointer, " ".join(problems[0].message.split()))


def check_handlers(path: Path, spec: dict[str, Any], handler_module: str) -> None:
    """Every operationId resolves to a handler of `handler_module` (how the mock routes)."""
    from contract.tooling.handlers import check_handlers as handler_problems

    problems = handler_problems(spec, handler_module).problems
    if problems:
        raise SpecRefused(path, problems[0].pointer, problems[0].message)


def load_given(
    path: str | Path, *, handler_module: str | None = None, trusted: bool = False
) -> tuple[dict[str, Any], ContractFacts]:
    """The spec at `path` and its facts, or `SpecRefused`.

    `trusted` skips the OpenAPI validation (the bundled spec, validated by the suite, on the
    mock's start path); the facts are read, hence checked, always.
    """
    path = Path(path)
    spec = load_spec(path) if trusted else _parse(path)
    if not trusted:
        check_document(path, spec)
    try:
        facts = read_facts(spec)
    except ContractError as error:
        raise SpecRefused(path, error.pointer, error.rule) from None
    if handler_module is not None and not trusted:
        check_handlers(path, spec, handler_module)
    return spec, facts
