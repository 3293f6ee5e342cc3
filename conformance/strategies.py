"""What to send: Hypothesis strategies for requests the contract says must succeed, or must fail
for exactly one reason, built from the target profile and the spec.

Plain schema-driven generation names random uids, so every create is refused before any
business rule runs. These strategies name real (token, owner, party, document, blueprint)
combinations from the profile, so the happy path and the rules behind it are exercised; and
they keep every value inside what the contract allows, so a refusal is the server's fault.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from conformance.profile import Combination, Profile
from contract.facts import NumberFit, number_fit
from contract.spec import component_schema, inline_refs, operation, request_body_schema

OMIT: Any = type("Omit", (), {"__repr__": lambda self: "OMIT"})()

# Blank invoice numbers (contract notes choice 4: "blank" means empty or whitespace only). Only
# ASCII whitespace: whether U+00A0 counts as blank is not something the contract says.
BLANK_NUMBERS = ("", " ", "   ", "\t", " \t ")
# Supplied numbers are made unique per request (the server is not empty and keeps what we create);
# `{}` is replaced by a fresh uuid fragment. They are stored "exactly as sent", odd ones included.
NUMBER_TEMPLATES = ("CK-{}", "ck-{}", " CK-{} ", "Rechnung/{}/Ä", "{}", "INV-1999-{}")
STATUS_EXAMPLES = ("DRAFT", "OPEN", "PAID", "VOID", "draft")
CURRENCY_EXAMPLES = ("USD", "EUR", "GBP", "JPY", "CHF", "SEK", "BRL", "INR")
FIELD_TYPES = ("string", "number", "date", "boolean", "text")


NO_LIMIT = NumberFit()
_FRAGMENT, _MIN_FRAGMENT = 16, 10  # hex digits of uniqueness: 40 bits at least, never a chance 409


def unique_number(fit: NumberFit, template: str = "CK-{}") -> str:
    """A fresh number from `template` that the checked spec accepts (`ContractFacts.supplied_number`).

    The uuid fragment shrinks to fit `maxLength`; a template that cannot fit, or that the spec's
    pattern refuses, gives way to the bare fragment: the kit must not send what the contract
    refuses and then blame the server for refusing it.
    """
    fragment = uuid.uuid4().hex
    if fit.max_length is not None:
        room = min(_FRAGMENT, fit.max_length - len(template) + 2)
        number = template.format(fragment[:room]) if room >= _MIN_FRAGMENT else ""
        if number and fit.accepts(number):
            return number
        return fragment[: min(_FRAGMENT, fit.max_length)]
    number = template.format(fragment[:_FRAGMENT])
    return number if fit.accepts(number) else fragment[:_FRAGMENT]


def invoice_types(spec: dict[str, Any]) -> list[str]:
    return list(component_schema(spec, "InvoiceType")["enum"])


def optional_request_fields(spec: dict[str, Any]) -> list[str]:
    schema = request_body_schema(spec, "create_invoice")
    required = set(schema.get("required", []))
    return [name for name in schema.get("properties", {}) if name not in required]


def list_parameters(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The list operation's query parameters by name, inlined."""
    params = inline_refs(spec, operation(spec, "list_invoices").get("parameters", []))
    return {p["name"]: p for p in params}


def max_per_page(spec: dict[str, Any]) -> int:
    return int(list_parameters(spec)["per_page"]["schema"].get("maximum", 100))


# -- values ----------------------------------------------------------------------------------------


@st.composite
def date_times(draw: st.DrawFn, *, start: datetime | None = None, end: datetime | None = None) -> str:
    """RFC 3339 date-times with assorted offsets and precisions (compared as instants)."""
    low = start or datetime(2000, 1, 1)
    high = end or datetime(2099, 12, 31)
    naive = draw(st.datetimes(min_value=low.replace(tzinfo=None), max_value=high.replace(tzinfo=None)))
    offset_minutes = draw(st.sampled_from([0, 0, 60, 120, -300, 330, -570, 840, -720]))
    zone = timezone(timedelta(minutes=offset_minutes))
    instant = naive.replace(tzinfo=zone)
    precision = draw(st.sampled_from(["seconds", "milliseconds", "microseconds"]))
    if precision == "seconds":
        instant = instant.replace(microsecond=0)
    text = instant.isoformat(timespec=precision if precision != "seconds" else "seconds")
    if offset_minutes == 0 and draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    return text


def json_values() -> st.SearchStrategy[Any]:
    """Values of an invoice field: any JSON, kept small (integers exact, no floats that round)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**53), max_value=2**53),
        st.text(max_size=20),
        st.sampled_from([0.5, 1.25, -3.75, 1e3]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    )


def field_keys(extra: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    keys = st.one_of(
        st.sampled_from(("payment_terms", "purchase_order", "cost_center", "notes")),
        st.text(min_size=1, max_size=12),
    )
    return st.one_of(st.sampled_from(extra), keys) if extra else keys


def invoice_fields(
    extra_keys: tuple[str, ...] = (), *, min_size: int = 0
) -> st.SearchStrategy[dict[str, Any]]:
    """The request's `invoice_fields` map: `{key: {type, value}}`."""
    entry = st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(FIELD_TYPES), st.text(max_size=10)), "value": json_values()}
    )
    return st.dictionaries(field_keys(extra_keys), entry, min_size=min_size, max_size=4)


def statuses() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(STATUS_EXAMPLES), st.text(min_size=1, max_size=12))


def currencies() -> st.SearchStrategy[str]:
    """Upper-case ISO 4217 codes only: those are stored as sent (precision row P30, fixed); what a
    server does with other 3-character strings is open (stored, normalised or 422)."""
    return st.sampled_from(CURRENCY_EXAMPLES)


def unknown_tokens(profile: Profile) -> st.SearchStrategy[str]:
    alphabet = st.characters(categories=("Ll", "Lu", "Nd"), include_characters="-_.", max_codepoint=127)
    return (
        st.text(alphabet, min_size=1, max_size=40)
        .map(lambda t: f"ck-unknown-{t}")
        .filter(lambda t: t not in profile.all_tokens)
    )


def malformed_authorizations(profile: Profile) -> st.SearchStrategy[str]:
    """`Authorization` values that are not `Bearer <token>` (a valid token among them, unwrapped)."""
    # (Values with trailing whitespace, such as "Bearer ", cannot be sent: HTTP clients refuse them.)
    fixed = ["Bearer", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Token abc", "", "Bearer:", "Bearer\tabc"]
    raw_tokens = [t for t in profile.tokens if " " not in t]
    options = st.sampled_from(fixed)
    if raw_tokens:
        options = st.one_of(
            options,
            st.sampled_from(raw_tokens),  # a valid token without its scheme
            st.sampled_from(raw_tokens).map(lambda t: f"Basic {t}"),
        )
    return options


# -- create requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberPlan:
    """How the request treats `invoice_number`: omitted, null, blank, or a fresh unique one."""

    mode: str  # "omit" | "null" | "blank" | "supplied"
    text: str = ""  # the blank text, or the template of a supplied number

    @property
    def generated(self) -> bool:
        return self.mode != "supplied"


@dataclass
class CreatePlan:
    """A create request the contract says must succeed, before its number is made unique.

    `body()` renders it, filling a supplied number's template with a fresh uuid fragment every
    time, so replays by Hypothesis never collide with an earlier run's invoice (409).
    """

    combo: Combination
    blueprint: Any = OMIT  # a uid, None (sent as null) or OMIT
    fields: dict[str, Any] = field(default_factory=dict)  # other optional fields as sent
    number: NumberPlan = NumberPlan("omit")
    fit: NumberFit = NO_LIMIT  # the checked spec's (`create_plans` sets it; a supplied number obeys it)

    def body(self) -> dict[str, Any]:
        body = self.combo.body()
        if self.blueprint is not OMIT:
            body["invoice_blueprint_uid"] = self.blueprint
        body.update(self.fields)
        if self.number.mode == "null":
            body["invoice_number"] = None
        elif self.number.mode == "blank":
            body["invoice_number"] = self.number.text
        elif self.number.mode == "supplied":
            body["invoice_number"] = unique_number(self.fit, self.number.text)
        return body

    def invoice_type(self, spec_default: str) -> str:
        return self.fields.get("invoice_type", spec_default)


def number_plans(
    modes: tuple[str, ...] = ("omit", "null", "blank", "supplied"),
) -> st.SearchStrategy[NumberPlan]:
    options = []
    if "omit" in modes:
        options.append(st.just(NumberPlan("omit")))
    if "null" in modes:
        options.append(st.just(NumberPlan("null")))
    if "blank" in modes:
        options.append(st.sampled_from(BLANK_NUMBERS).map(lambda text: NumberPlan("blank", text)))
    if "supplied" in modes:
        options.append(st.sampled_from(NUMBER_TEMPLATES).map(lambda text: NumberPlan("supplied", text)))
    return st.one_of(options)


def field_value_strategies(
    spec: dict[str, Any], profile: Profile, owner: str
) -> dict[str, st.SearchStrategy]:
    """A valid-value strategy for each optional field the kit knows how to fill."""
    blueprint_keys: tuple[str, ...] = tuple(
        key for bp in profile.blueprints_for(owner) for key in (bp.invoice_fields or {})
    )
    return {
        "issue_date": st.one_of(st.none(), date_times()),
        "due_date": st.one_of(st.none(), date_times()),
        "status": statuses(),
        "currency": currencies(),
        "invoice_type": st.sampled_from(invoice_types(spec)),
        "invoice_fields": invoice_fields(blueprint_keys),
    }


@st.composite
def create_plans(
    draw: st.DrawFn,
    profile: Profile,
    spec: dict[str, Any],
    *,
    combos: list[Combination] | None = None,
    numbers: st.SearchStrategy[NumberPlan] | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    blueprint: bool | None = None,
) -> CreatePlan:
    """A random valid create request for a combination of the profile.

    `include` fields are always sent, `exclude` fields never; the rest are sent or not at random.
    `blueprint` True / False forces a blueprint of the owner / none; None draws either.
    """
    combo = draw(st.sampled_from(combos if combos is not None else profile.combinations()))
    values = field_value_strategies(spec, profile, combo.owner)
    fields: dict[str, Any] = {}
    for name in optional_request_fields(spec):
        if name not in values or name in exclude:
            continue
        if name in include or draw(st.booleans()):
            fields[name] = draw(values[name])
    owned = profile.blueprints_for(combo.owner)
    chosen: Any = OMIT
    if blueprint is True and owned:
        chosen = draw(st.sampled_from(owned)).uid
    elif blueprint is None and "invoice_blueprint_uid" not in exclude:
        options: list[Any] = [OMIT, None]
        if owned:
            options += [bp.uid for bp in owned]
        chosen = draw(st.sampled_from(options))
    number = draw(numbers if numbers is not None else number_plans())
    return CreatePlan(combo=combo, blueprint=chosen, fields=fields, number=number, fit=number_fit(spec))


# -- requests that break exactly one schema rule ------------------------------------------------------


@dataclass(frozen=True)
class Defect:
    """One schema rule broken on purpose: the body's change and the field it must be blamed on."""

    pointer: str  # JSON pointer of the offending field, e.g. /currency or /invoice_fields/k/value
    description: str
    value: Any = OMIT  # the new value at `pointer` (OMIT: the field is removed)


def _bad_values(name: str, schema: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """Values that break `schema` (an inlined OpenAPI 3.0 schema), each with the rule it breaks."""
    kind = schema.get("type")
    # A schema without `type` accepts any JSON value, null included (OpenAPI 3.0.3: `nullable` only
    # means something beside `type`); only a typed, non-nullable schema refuses null.
    if kind is not None and not schema.get("nullable"):
        yield None, "null where the field is not nullable"
    if kind == "string":
        yield 42, "a number where a string is required"
        yield ["x"], "an array where a string is required"
        fmt = schema.get("format")
        if fmt == "uuid":
            yield "not-a-uuid", "not a uuid"
            yield "10000000-0000-4000-8000-00000000000", "a uuid one digit short"
            yield "10000000000040008000000000000000", "a uuid without hyphens"
        if fmt == "date-time":
            yield "2026-13-45T00:00:00Z", "an impossible date"
            yield "yesterday", "not a date-time"
            yield "2026-03-30", "a date without a time"
        if "enum" in schema:
            yield "BOGUS_" + str(schema["enum"][0]), "a value outside the enum"
            yield str(schema["enum"][0]).lower(), "an enum value in the wrong case"
        if "minLength" in schema:
            yield "x" * (int(schema["minLength"]) - 1), f"shorter than {schema['minLength']}"
        if "maxLength" in schema:
            yield "x" * (int(schema["maxLength"]) + 1), f"longer than {schema['maxLength']}"
    elif kind == "object":
        yield [], "an array where an object is required"
        yield "text", "a string where an object is required"
    elif kind == "integer":
        yield "1", "a string where an integer is required"


def body_defects(spec: dict[str, Any]) -> list[Defect]:
    """Every single-rule defect the request schema lets the kit derive, from the spec itself."""
    schema = request_body_schema(spec, "create_invoice")
    defects: list[Defect] = []
    for name, sub in schema.get("properties", {}).items():
        for value, why in _bad_values(name, sub):
            defects.append(Defect(f"/{name}", f"{name}: {why}", value))
        if name in schema.get("required", []):
            defects.append(Defect(f"/{name}", f"{name}: required but missing"))
        entry = sub.get("additionalProperties")
        if sub.get("type") == "object" and isinstance(entry, dict):
            for inner, inner_schema in entry.get("properties", {}).items():
                for value, why in _bad_values(inner, inner_schema):
                    defects.append(Defect(f"/{name}/k/{inner}", f"{name}.k.{inner}: {why}", value))
                if inner in entry.get("required", []):
                    defects.append(Defect(f"/{name}/k/{inner}", f"{name}.k.{inner}: required but missing"))
            defects.append(Defect(f"/{name}/k", f"{name}.k: a string where an object is required", "text"))
            if entry.get("additionalProperties") is False:
                defects.append(Defect(f"/{name}/k/surprise", f"{name}.k.surprise: an unknown member", 1))
    if schema.get("additionalProperties") is False:
        defects.append(Defect("/surprise_field", "surprise_field: not a field of the request", "x"))
    return defects


def apply_defect(body: dict[str, Any], defect: Defect) -> dict[str, Any]:
    """A copy of `body` with the defect applied (nested objects are created where needed)."""
    parts = defect.pointer.lstrip("/").split("/")
    result = dict(body)
    if len(parts) == 1:
        if defect.value is OMIT:
            result.pop(parts[0], None)
        else:
            result[parts[0]] = defect.value
        return result
    outer, key = parts[0], parts[1]
    if len(parts) == 2:
        result[outer] = {key: defect.value}
        return result
    entry: dict[str, Any] = {"type": "string", "value": "v"}
    if defect.value is OMIT:
        entry.pop(parts[2], None)
    else:
        entry[parts[2]] = defect.value
    result[outer] = {key: entry}
    return result


def query_defects(spec: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(parameter, bad value, why) for each query parameter of the list, from its schema."""
    found: list[tuple[str, Any, str]] = []
    for name, parameter in list_parameters(spec).items():
        schema = parameter.get("schema", {})
        if schema.get("type") == "integer":
            found.append((name, "abc", "not an integer"))
            if "minimum" in schema:
                found.append((name, int(schema["minimum"]) - 1, f"below the minimum {schema['minimum']}"))
            if "maximum" in schema:
                found.append((name, int(schema["maximum"]) + 1, f"above the maximum {schema['maximum']}"))
        if "enum" in schema:
            found.append((name, "BOGUS", "outside the enum"))
    return found


def now_utc() -> datetime:
    return datetime.now(UTC)
