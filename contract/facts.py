"""Facts the contract states that code needs as values, read from the spec a process was given.

The schema language cannot say "a generated number looks like INV-2026-0001" or "DISCOUNT lines
make up discount_cents", so the spec says it in `x-` extensions next to the schema they concern
(other tools ignore them) and this module reads them. Nothing here restates a value: change the
spec and the mock, the kit and the tests follow.

There is no default: each process reads the facts of the spec it was started with (`--spec`, or
the bundled file chosen by its entry point) and passes them on. `read_facts` is also the one
place that says what the mock and the kit need from a spec beyond valid OpenAPI: an edit they
cannot serve raises `ContractError` naming the JSON pointer and the rule, so it is refused at
start instead of answering 500 at request time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from contract.pointers import join
from contract.spec import iter_operations

MONEY_BUCKETS = ("discount_cents", "tax_cents")  # what a line may add to besides subtotal_cents
CLIENT_ROLES = ("target_party", "owner")
# Create-body fields the mock's rules read (rules.create_invoice): sent (required) or defaulted.
CREATE_NEEDS_SENT = ("owner_uid", "target_party_uid", "document_uid")
CREATE_NEEDS_VALUE = ("invoice_type", "status", "currency")
LIST_NEEDS_DEFAULT = ("page", "per_page", "invoice_type")
_NUMBER = "#/components/schemas/InvoiceCreateRequest/properties/invoice_number"


@dataclass(frozen=True)
class NumberFit:
    """What a supplied `invoice_number` may be under a spec: the smallest `maxLength` and every
    `pattern` of the request schemas that carry one (create, update, bulk update item)."""

    max_length: int | None = None
    patterns: tuple[str, ...] = ()

    def accepts(self, number: str) -> bool:
        fits = self.max_length is None or len(number) <= self.max_length
        return fits and all(re.search(pattern, number) for pattern in self.patterns)


NUMBER_REQUESTS = ("InvoiceCreateRequest", "InvoiceUpdateRequest", "InvoiceBulkUpdateItem")


def number_fit(spec: dict[str, Any]) -> NumberFit:
    """The `NumberFit` of a spec (a request schema it lacks, or one without the field: no limit)."""
    lengths: list[int] = []
    patterns: list[str] = []
    for name in NUMBER_REQUESTS:
        schema = spec.get("components", {}).get("schemas", {}).get(name, {})
        number = schema.get("properties", {}).get("invoice_number") if isinstance(schema, dict) else None
        if isinstance(number, dict):
            if isinstance(number.get("maxLength"), int):
                lengths.append(number["maxLength"])
            if isinstance(number.get("pattern"), str):
                patterns.append(number["pattern"])
    return NumberFit(min(lengths) if lengths else None, tuple(dict.fromkeys(patterns)))


class ContractError(ValueError):
    """A spec the mock or the kit cannot serve: where (a JSON pointer) and what is needed there.

    The caller names the file: `f"{path}: {error}"` is the one line a refused start prints.
    """

    def __init__(self, pointer: str, rule: str) -> None:
        super().__init__(f"{pointer}: {rule}")
        self.pointer, self.rule = pointer, rule


@dataclass(frozen=True)
class ContractFacts:
    max_body_bytes: int  # components/responses/PayloadTooLarge x-max-body-bytes
    generated_number_format: str  # InvoiceCreateRequest.invoice_number x-generated.format
    generated_number_pattern: re.Pattern[str]  # … x-generated.pattern (group 1: the year)
    collection_method_on_create: str  # Invoice.collection_method x-on-create
    money_context_types: dict[str, str]  # LineItem x-money-context-types: {"discount_cents": "DISCOUNT", …}
    client_by_invoice_type: dict[str, str]  # InvoiceParties x-client-by-invoice-type
    default_invoice_type: str  # InvoiceType default
    statuses: dict[str, frozenset[int]]  # operationId -> the documented HTTP statuses
    scopes: dict[str, frozenset[str]]  # operationId -> x-scopes: a key needs one of them (P74)
    supplied_number: NumberFit  # what a supplied invoice_number may be (maxLength, pattern)
    # Required create fields besides owner, party and document, with the value a client sends
    # (the field's default, else its example, else its first enum value): a spec may add one.
    create_required: dict[str, Any] = field(default_factory=dict)
    # context type -> money field, for the types `x-money-context-types` names (the rest: subtotal);
    # one dict lookup per line, as every change of line items sums its lines.
    buckets: dict[str, str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        buckets = {kind: bucket for bucket, kind in self.money_context_types.items()}
        object.__setattr__(self, "buckets", buckets)

    def generated_number(self, year: int, sequence: int) -> str:
        return self.generated_number_format.format(year=year, sequence=sequence)

    def client_is_target(self, invoice_type: str) -> bool:
        """Whether the target party is the invoice's client (else the owner organization is)."""
        return self.client_by_invoice_type[invoice_type] == "target_party"

    def context_type_bucket(self, context_type: str) -> str:
        """Which money field a line of this `context_type` adds to (`subtotal_cents` by default)."""
        return self.buckets.get(context_type, "subtotal_cents")

    @property
    def every_scope(self) -> frozenset[str]:
        """Every scope some operation needs (`x-scopes`, precision row P74)."""
        return frozenset(scope for scopes in self.scopes.values() for scope in scopes)

    def number_shape(self) -> str:
        """How a generated number looks, for messages: an example and the pattern."""
        return f"{self.generated_number(2026, 1)} ({self.generated_number_pattern.pattern})"


def _at(spec: dict[str, Any], pointer: str, rule: str) -> Any:
    """The node at a `#/a/b` pointer of the spec, or `ContractError(pointer, rule)` if absent."""
    node: Any = spec
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise ContractError(pointer, rule)
        node = node[part]
    return node


def _resolved(spec: dict[str, Any], pointer: str, rule: str) -> tuple[str, dict[str, Any]]:
    """(pointer, object) at `pointer`, following one local `$ref` (property schemas often are one)."""
    node = _at(spec, pointer, rule)
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        pointer = node["$ref"]
        node = _at(spec, pointer, rule)
    if not isinstance(node, dict):
        raise ContractError(pointer, rule)
    return pointer, node


def _schema(spec: dict[str, Any], pointer: str, rule: str) -> dict[str, Any]:
    return _resolved(spec, pointer, rule)[1]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, method, op in iter_operations(spec):
        if isinstance(op, dict) and "operationId" in op:
            yield join("#/paths", path, method), op


def _operation_pointer(spec: dict[str, Any], operation_id: str) -> str:
    for pointer, op in _operations(spec):
        if op["operationId"] == operation_id:
            return pointer
    raise ContractError("#/paths", f"no operation {operation_id!r}: the mock and the kit need it")


def _generated(spec: dict[str, Any]) -> tuple[str, re.Pattern[str]]:
    """`x-generated`: a format with `year` and `sequence`, whose numbers its pattern and schema accept."""
    where = f"{_NUMBER}/x-generated"
    generated = _at(spec, where, "needs x-generated with format and pattern (how numbers are generated)")
    form, pattern = generated.get("format"), generated.get("pattern")
    if not isinstance(form, str) or not isinstance(pattern, str):
        raise ContractError(where, "needs string format and pattern")
    try:
        compiled = re.compile(pattern)
        samples = [form.format(year=2026, sequence=sequence) for sequence in (1, 9999)]
    except (re.error, KeyError, IndexError, ValueError) as error:
        raise ContractError(
            where, f"format/pattern unusable ({error}): fields are year and sequence"
        ) from None
    schema = _schema(spec, _NUMBER, "needs the invoice_number property")
    for sample in samples:
        match = compiled.match(sample)
        if match is None or not match.groups() or match.group(1) != "2026":
            raise ContractError(f"{where}/pattern", f"must match {sample!r} with the year as group 1")
        if len(sample) > schema.get("maxLength", len(sample)) or not re.search(
            schema.get("pattern", ""), sample
        ):
            raise ContractError(_NUMBER, f"the generated {sample!r} must fit the schema's maxLength/pattern")
    return form, compiled


def _on_create(spec: dict[str, Any]) -> str:
    where = "#/components/schemas/Invoice/properties/collection_method"
    schema = _schema(spec, where, "needs collection_method with x-on-create")
    value = schema.get("x-on-create")
    if not isinstance(value, str) or value not in schema.get("enum", [value]):
        raise ContractError(f"{where}/x-on-create", "needs a string (one of the enum if there is one)")
    return value


def _money_types(spec: dict[str, Any]) -> dict[str, str]:
    where = "#/components/schemas/LineItem/x-money-context-types"
    types = _at(spec, where, "needs the money bucket of each line context type")
    if not isinstance(types, dict) or not all(isinstance(kind, str) for kind in types.values()):
        raise ContractError(where, "needs a mapping of money field to context type")
    for bucket in types:
        if bucket not in MONEY_BUCKETS:
            raise ContractError(
                join(where, bucket), f"the mock keeps only subtotal_cents and {MONEY_BUCKETS}"
            )
    return dict(types)


def _invoice_types(spec: dict[str, Any]) -> tuple[dict[str, str], str]:
    """`x-client-by-invoice-type` names a role for every InvoiceType, and the type has a default."""
    enum_at = "#/components/schemas/InvoiceType"
    invoice_type = _schema(spec, enum_at, "needs the InvoiceType schema")
    default = invoice_type.get("default")
    if default not in invoice_type.get("enum", []):
        raise ContractError(f"{enum_at}/default", "needs a default among InvoiceType's enum")
    where = "#/components/schemas/InvoiceParties/x-client-by-invoice-type"
    roles = _at(spec, where, "needs the client role of each InvoiceType")
    if not isinstance(roles, dict):
        raise ContractError(where, "needs a mapping of InvoiceType to target_party or owner")
    for kind in invoice_type["enum"]:
        if roles.get(kind) not in CLIENT_ROLES:
            raise ContractError(join(where, kind), f"InvoiceType {kind} needs a client role {CLIENT_ROLES}")
    return dict(roles), str(default)


def _check_create(spec: dict[str, Any]) -> None:
    """The create body carries what the mock's rules read: sent, or defaulted by the spec."""
    pointer = join(_operation_pointer(spec, "create_invoice"), "requestBody")
    pointer, _body = _resolved(spec, pointer, "create_invoice needs a JSON request body")
    pointer = join(pointer, "content", "application/json", "schema")
    pointer, schema = _resolved(spec, pointer, "create_invoice needs an application/json schema")
    properties, required = schema.get("properties", {}), schema.get("required", [])
    for name in CREATE_NEEDS_SENT:
        if name not in properties or name not in required:
            raise ContractError(join(pointer, "properties", name), f"{name} must be a required property")
    for name in CREATE_NEEDS_VALUE:
        sub = _schema(spec, join(pointer, "properties", name), f"{name} must be a property")
        if name not in required and "default" not in sub:
            raise ContractError(
                join(pointer, "properties", name), f"{name} must be required or have a default"
            )


def _create_required(spec: dict[str, Any]) -> dict[str, Any]:
    """`ContractFacts.create_required` (a field without default, example or enum is left out)."""
    pointer = join(_operation_pointer(spec, "create_invoice"), "requestBody")
    pointer = join(_resolved(spec, pointer, "")[0], "content", "application/json", "schema")
    pointer, schema = _resolved(spec, pointer, "")
    values: dict[str, Any] = {}
    for name in schema.get("required", []):
        if name in CREATE_NEEDS_SENT or name not in schema.get("properties", {}):
            continue
        sub = _schema(spec, join(pointer, "properties", name), "")
        for key in ("default", "example"):
            if key in sub:
                values[name] = sub[key]
                break
        else:
            if sub.get("enum"):
                values[name] = sub["enum"][0]
    return values


def _check_list(spec: dict[str, Any]) -> None:
    pointer = _operation_pointer(spec, "list_invoices")
    parameters = _at(spec, pointer, "")
    names = set()
    for parameter in parameters.get("parameters", []):
        if "$ref" in parameter:
            parameter = _at(spec, parameter["$ref"], "a parameter $ref must resolve")
        schema = parameter.get("schema", {})
        if isinstance(schema, dict) and "$ref" in schema:
            schema = _at(spec, schema["$ref"], "a parameter schema $ref must resolve")
        if isinstance(schema, dict) and "default" in schema:
            names.add(parameter.get("name"))
    for name in LIST_NEEDS_DEFAULT:
        if name not in names:
            raise ContractError(join(pointer, "parameters"), f"the query parameter {name} needs a default")


def read_facts(spec: dict[str, Any]) -> ContractFacts:
    """The facts of a spec; `ContractError` if it lacks one, or something the mock's rules read."""
    where = "#/components/responses/PayloadTooLarge/x-max-body-bytes"
    max_body = _at(spec, where, "needs the largest request body in bytes")
    if not isinstance(max_body, int) or max_body < 1:
        raise ContractError(where, "needs a positive integer")
    form, pattern = _generated(spec)
    roles, default_type = _invoice_types(spec)
    _check_create(spec)
    _check_list(spec)
    operations = list(_operations(spec))
    return ContractFacts(
        max_body_bytes=max_body,
        generated_number_format=form,
        generated_number_pattern=pattern,
        collection_method_on_create=_on_create(spec),
        money_context_types=_money_types(spec),
        client_by_invoice_type=roles,
        default_invoice_type=default_type,
        statuses={
            op["operationId"]: frozenset(int(code) for code in op.get("responses", {}) if str(code).isdigit())
            for _pointer, op in operations
        },
        scopes={op["operationId"]: frozenset(op.get("x-scopes", ())) for _pointer, op in operations},
        supplied_number=number_fit(spec),
        create_required=_create_required(spec),
    )
