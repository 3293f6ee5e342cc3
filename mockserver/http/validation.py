"""Request validation, compiled once per operation from the spec, with readable errors.

Connexion's stock validators build a fresh `jsonschema` validator on every request, skip the
`uuid` format (draft 4 does not define it) and answer problem+json with a free-text message.
These validate with a jsonschema-rs validator compiled once per operation from `openapi.yaml`
and raise a `Refusal` with one `FieldError` per broken rule, so the client learns the field,
the rule and the value. They know no framework: Connexion's validation stage
(mockserver/http/validators.py) hands them headers, the query string and the body's `receive`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.types import Receive

from contract import pointers
from contract.spec import compile_validator, to_json_schema
from mockserver.domain.errors import FieldError, Refusal

JSON = "application/json"
MAX_DEPTH = 64  # deeper JSON (only invoice field values can nest) could not be echoed back safely

_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    type(None): "null",
    int: "an integer",
    float: "a number",
}
_PYTHON_TYPES: dict[str, type] = {"object": dict, "array": list}
_FORMAT_HINTS = {
    "uuid": "a uuid (8-4-4-4-12 hex digits)",
    "date-time": "an RFC 3339 date-time with a time zone, e.g. 2026-03-30T00:00:00Z",
    "email": "an email address",
}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _type_names(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    readable = [
        _JSON_TYPES.get(
            {
                "object": dict,
                "array": list,
                "string": str,
                "boolean": bool,
                "null": type(None),
                "integer": int,
                "number": float,
            }.get(name, str),
            name,
        )
        for name in names
    ]
    return " or ".join(readable)


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def field_errors(validator: Any, schema: dict[str, Any], instance: Any, prefix: str = "") -> list[FieldError]:
    """Translate jsonschema-rs errors into FieldErrors that name the field and the rule."""
    found: dict[tuple[str, str], FieldError] = {}
    for error in validator.iter_errors(instance):
        subschema: Any = schema
        for step in list(error.schema_path)[:-1]:
            subschema = subschema[step]
        keyword = error.schema_path[-1] if error.schema_path else ""
        for item in _translate(keyword, subschema, error.instance, list(error.instance_path)):
            item = FieldError(prefix + item.field if prefix else item.field, item.message, item.code)
            found.setdefault((item.field, item.code), item)
    return sorted(found.values(), key=lambda e: e.field)


def _translate(keyword: str, schema: Any, value: Any, path: list[Any]) -> list[FieldError]:
    here = pointers.from_parts(path)
    if keyword == "required":
        missing = [name for name in schema["required"] if name not in value]
        return [FieldError(pointers.from_parts([*path, name]), "is required", "required") for name in missing]
    if keyword == "additionalProperties":
        known = schema.get("properties", {}) if isinstance(schema, dict) else {}
        extra = [name for name in value if name not in known] if isinstance(value, dict) else []
        return [
            FieldError(pointers.from_parts([*path, name]), "is not a field of this request", "unknown_field")
            for name in extra
        ]
    if keyword == "type":
        return [FieldError(here, f"must be {_type_names(schema['type'])}, got {json_type(value)}", "type")]
    if keyword in ("minLength", "maxLength"):
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None and low == high:
            rule = f"must be exactly {low} characters"
        elif keyword == "minLength":
            rule = f"must be at least {low} characters"
        else:
            rule = f"must be at most {high} characters"
        return [FieldError(here, f"{rule}, got {len(value)}", keyword.replace("L", "_l"))]
    if keyword == "format":
        hint = _FORMAT_HINTS.get(schema["format"], schema["format"])
        return [FieldError(here, f"must be {hint}, got {_describe(value)}", "format")]
    if keyword == "enum":
        allowed = ", ".join(str(v) for v in schema["enum"] if v is not None)
        return [FieldError(here, f"must be one of {allowed}; got {_describe(value)}", "enum")]
    if keyword in ("minItems", "maxItems"):
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        rule = f"must hold {low} to {high} items" if high is not None else f"must hold at least {low} items"
        return [FieldError(here, f"{rule}, got {len(value)}", keyword.replace("I", "_i"))]
    if keyword == "uniqueItems":
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                return [
                    FieldError(
                        pointers.from_parts([*path, index]),
                        f"repeats item {seen.index(item)}: each at most once",
                        "duplicate",
                    )
                ]
            seen.append(item)
        return [FieldError(here, "must not repeat an item", "duplicate")]
    if keyword in ("minimum", "maximum"):
        bound = "at least" if keyword == "minimum" else "at most"
        return [FieldError(here, f"must be {bound} {schema[keyword]}, got {_describe(value)}", keyword)]
    return [FieldError(here, f"breaks the rule '{keyword}'", keyword or "invalid")]


class Compiled:
    """A schema compiled once: the validator, and the JSON Schema its error paths point into."""

    def __init__(self, oas_schema: dict[str, Any]) -> None:
        self.schema = to_json_schema(oas_schema)
        self.validator = compile_validator(oas_schema)

    def errors(self, instance: Any, prefix: str = "") -> list[FieldError]:
        if self.validator.is_valid(instance):
            return []
        return field_errors(self.validator, self.schema, instance, prefix)


def check_media_type(content_type: str) -> None:
    """415 unless the body is `application/json` (any case, with or without parameters)."""
    if content_type.split(";", 1)[0].strip().lower() != JSON:
        raise Refusal(
            "unsupported_media_type",
            f"Content-Type: must be application/json, got {content_type[:80]!r}.",
        )


class BodyValidator:
    """Reads, parses and validates a JSON body: 415, 413 over the limit, 400 malformed, 422 schema.

    Built once per operation, so the schema is compiled once (at start, not per request).
    """

    def __init__(self, schema: dict[str, Any], max_bytes: int) -> None:
        # A body is one JSON type (an object; an array for the bulk operations) or, for the line
        # items' "one object or an array", one of several: each branch of such a `oneOf` is
        # compiled by itself and chosen by the body's type, so its errors name the field and the
        # rule (the `oneOf` as a whole could only say "matches no branch").
        branches = schema.get("oneOf") or [schema]
        self._by_type: dict[type, Compiled] = {}
        for branch in branches:
            kind = _PYTHON_TYPES[branch.get("type", "object")]
            self._by_type.setdefault(kind, Compiled(branch))
        self._expected = " or ".join(_JSON_TYPES[kind] for kind in self._by_type)
        self.max_bytes = max_bytes

    async def read(self, headers: Headers, receive: Receive) -> Any:
        """The body, parsed and validated; its media type was checked before (`check_media_type`)."""
        declared = headers.get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and len(declared) < 20
            and int(declared) > self.max_bytes
        ):
            raise self._too_large()
        chunks: list[bytes] = []
        received = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        raw = b"".join(chunks)
        body = _parse_bytes(raw)
        # Only a backslash-u escape can put a lone surrogate into a decoded string (raw UTF-8 cannot).
        self._validate_body(body, may_hold_surrogates=b"\\u" in raw)
        return body

    def _too_large(self) -> Refusal:
        return Refusal("too_large", f"Request body is larger than {self.max_bytes} bytes.")

    def _validate_body(self, body: Any, *, may_hold_surrogates: bool) -> None:
        compiled = self._by_type.get(type(body))
        if compiled is None:
            raise Refusal(
                "malformed", f"Request body must be {self._expected} in JSON, got {json_type(body)}."
            )
        if nesting_exceeds(body, MAX_DEPTH):
            raise Refusal(
                "malformed", f"Request body nests arrays or objects deeper than {MAX_DEPTH} levels."
            )
        if may_hold_surrogates:
            where = lone_surrogate(body)
            if where is not None:
                raise Refusal.for_field(
                    "malformed",
                    where,
                    "holds a \\u escape of a lone surrogate, which is no Unicode character",
                    "unicode",
                )
        errors = compiled.errors(body)
        if errors:
            raise Refusal.for_fields("invalid", errors)


def _parse_bytes(raw: bytes) -> Any:
    if not raw.strip():
        raise Refusal("malformed", "Request body is empty; a JSON object is required.")
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refusal("malformed", "Malformed JSON: the body is not valid utf-8.") from None
    except json.JSONDecodeError as error:
        raise Refusal(
            "malformed", f"Malformed JSON: {error.msg} at line {error.lineno} column {error.colno}."
        ) from None
    except (ValueError, RecursionError) as error:
        raise Refusal("malformed", f"Malformed JSON: {error}.") from None


_SURROGATE = re.compile("[\\ud800-\\udfff]")


def lone_surrogate(value: Any) -> str | None:
    """The pointer of the first string (or key) holding a lone surrogate, if any.

    JSON allows `"\\ud800"`, but such a string is no Unicode text: it cannot be encoded as UTF-8,
    so neither a validator nor an answer could carry it.
    """
    pending: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while pending:
        node, path = pending.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return pointers.from_parts(path)
        elif isinstance(node, dict):
            for key, child in node.items():
                if _SURROGATE.search(key):
                    return pointers.from_parts((*path, key.encode("utf-8", "backslashreplace").decode()))
                pending.append((child, (*path, key)))
        elif isinstance(node, list):
            pending.extend((child, (*path, index)) for index, child in enumerate(node))
    return None


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest deeper than `limit` (iterative: deep input cannot recurse us)."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            pending.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            pending.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    """JSON has no infinity: a number too large for a double would be answered as `Infinity`."""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


# Built once: `json.loads` with hooks would build a decoder on every request.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


class QueryValidator:
    """Query parameters validated one by one; every error names its parameter (422).

    Path parameters are left to the handlers: the only one, `invoice_uid`, answers 404 for any
    value that names no visible invoice, a malformed uuid included (openapi.yaml, Get invoice).
    """

    def __init__(self, parameters: list[dict[str, Any]]) -> None:
        self._query = [
            (p["name"], p.get("schema", {}).get("type"), Compiled(p.get("schema", {})))
            for p in parameters
            if p.get("in") == "query"
        ]

    def __bool__(self) -> bool:
        return bool(self._query)

    def validate(self, query_string: bytes) -> None:
        params = QueryParams(query_string)
        errors: list[FieldError] = []
        for name, kind, compiled in self._query:
            raw = params.get(name)
            if raw is not None:
                value = _coerce(raw, kind)
                found = compiled.errors(value, prefix=name)
                if value is not raw and isinstance(value, int) and abs(value) == 10**_MAX_DIGITS:
                    said = f"{raw[:12]}… ({len(raw)} characters)"
                    found = [FieldError(e.field, e.message.replace(str(value), said), e.code) for e in found]
                errors.extend(found)
        if errors:
            raise Refusal.for_fields("invalid", errors)


_INTEGER = re.compile(r"[+-]?[0-9]+")


_MAX_DIGITS = 18  # beyond any bound a schema here states; Python refuses int() past 4300 digits


def _coerce(raw: str, kind: str | None) -> Any:
    """A query string's text as the type its schema declares, when it reads as one.

    An integer of more digits than any bound is read as the nearest 19-digit value of its
    sign: it breaks the same bound, and nothing converts thousands of digits.
    """
    if kind == "integer":
        # Python's int() also reads "1_0" and non-ASCII digits; a query integer is ASCII digits.
        if not _INTEGER.fullmatch(raw):
            return raw
        if len(raw.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
            return -(10**_MAX_DIGITS) if raw.startswith("-") else 10**_MAX_DIGITS
        return int(raw)
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw
