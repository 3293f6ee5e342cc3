"""Request validation inside Connexion's design, with compiled validators and readable errors.

Connexion's stock validators build a fresh `jsonschema` validator on every request, skip the
`uuid` format (draft 4 does not define it) and answer problem+json with a free-text message.
These replacements plug into Connexion's `validator_map`; they validate with a jsonschema-rs
validator compiled once per operation from `openapi.yaml`, and raise `ApiError` with one
`FieldError` per broken rule, so the client learns the field, the rule and the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from contract import pointers
from contract.spec import compile_validator, to_json_schema
from mockserver.errors import ApiError, FieldError

JSON = "application/json"
MAX_BODY_BYTES = 1024 * 1024  # the contract's 413 limit (openapi.yaml, info.description choice 8)
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
_FORMAT_HINTS = {
    "uuid": "a uuid (8-4-4-4-12 hex digits)",
    "date-time": "an RFC 3339 date-time with a time zone, e.g. 2026-03-30T00:00:00Z",
    "email": "an email address",
}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


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
    here = _pointer(path)
    if keyword == "required":
        missing = [name for name in schema["required"] if name not in value]
        return [FieldError(_pointer([*path, name]), "is required", "required") for name in missing]
    if keyword == "additionalProperties":
        known = schema.get("properties", {}) if isinstance(schema, dict) else {}
        extra = [name for name in value if name not in known] if isinstance(value, dict) else []
        return [
            FieldError(_pointer([*path, name]), "is not a field of this request", "unknown_field")
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


class JsonBodyValidator(AbstractRequestBodyValidator):
    """Parses and validates a JSON body: 413 over the limit, 400 malformed, 422 schema errors.

    Built once per operation (see `PrecompiledRequestValidation`), so the schema is compiled once.
    """

    def __init__(self, *, schema: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(schema=schema, **kwargs)
        self._compiled = Compiled(schema)

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise _too_large()
        messages: list[dict[str, Any]] = []
        received = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise _too_large()
            messages.append(message)
            more_body = message.get("more_body", False)
        raw = b"".join(message.get("body", b"") for message in messages)
        body = self._parse_bytes(raw)
        # Only a backslash-u escape can put a lone surrogate into a decoded string (raw UTF-8 cannot).
        self._validate_body(body, may_hold_surrogates=b"\\u" in raw)
        scope.setdefault("extensions", {})["mockserver_body"] = body
        return self._insert_messages(receive, messages=messages), scope

    def _parse_bytes(self, raw: bytes) -> Any:
        if not raw.strip():
            raise ApiError(400, "Request body is empty; a JSON object is required.")
        try:
            return _DECODER.decode(raw.decode(self._encoding))
        except UnicodeDecodeError:
            raise ApiError(400, f"Malformed JSON: the body is not valid {self._encoding}.") from None
        except json.JSONDecodeError as error:
            raise ApiError(
                400, f"Malformed JSON: {error.msg} at line {error.lineno} column {error.colno}."
            ) from None
        except (ValueError, RecursionError) as error:
            raise ApiError(400, f"Malformed JSON: {error}.") from None

    def _validate_body(self, body: Any, *, may_hold_surrogates: bool) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, f"Request body must be a JSON object, got {json_type(body)}.")
        if nesting_exceeds(body, MAX_DEPTH):
            raise ApiError(400, f"Request body nests arrays or objects deeper than {MAX_DEPTH} levels.")
        if may_hold_surrogates:
            where = lone_surrogate(body)
            if where is not None:
                raise ApiError.for_field(
                    400,
                    where,
                    "holds a \\u escape of a lone surrogate, which is no Unicode character",
                    "unicode",
                )
        errors = self._compiled.errors(body)
        if errors:
            raise ApiError.for_fields(422, errors)

    # The abstract hooks are unused: wrap_receive above replaces the whole flow.
    async def _parse(self, stream: AsyncIterator[bytes], scope: Scope) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _validate(self, body: Any) -> dict | None:  # pragma: no cover
        raise NotImplementedError


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


def _too_large() -> ApiError:
    return ApiError(413, f"Request body is larger than {MAX_BODY_BYTES} bytes.")


class QueryParameterValidator(ParameterValidator):
    """Query parameters validated one by one; every error names its parameter (422).

    Path parameters are left to the handlers: the only one, `invoice_uid`, answers 404 for any
    value that names no visible invoice, a malformed uuid included (openapi.yaml, Get invoice).
    """

    def __init__(self, parameters: list[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(parameters, *args, **kwargs)
        self._query = [
            (p["name"], p.get("schema", {}).get("type"), Compiled(p.get("schema", {})))
            for p in self.parameters.get("query", [])
        ]

    def validate(self, scope: Scope) -> None:
        if not self._query:
            return
        params = QueryParams(scope.get("query_string", b""))
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
            raise ApiError.for_fields(422, errors)


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


class PrecompiledRequestValidation(RequestValidationOperation):
    """Connexion's request validation for one operation, with its validators built once.

    The stock operation builds a URI parser, a parameter validator and a body validator (and
    recomputes the body schema several times) on every request; everything here depends only on
    the operation, so it is built at start-up. It also refuses a body without a JSON content
    type (415), where the stock one guesses the first type the operation consumes.
    """

    def __init__(self, next_app: ASGIApp, *, operation: AbstractOperation, **kwargs: Any) -> None:
        super().__init__(next_app, operation=operation, **kwargs)
        self._parameters = QueryParameterValidator(operation.parameters, uri_parser=None)
        self._body: JsonBodyValidator | None = None
        if operation.request_body:
            self._body = JsonBodyValidator(
                schema=operation.body_schema(JSON),
                required=operation.request_body.get("required", False),
                nullable=False,
                encoding="utf-8",
                strict_validation=False,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameters.validate(scope)
        if self._body is not None:
            content_type = Headers(scope=scope).get("content-type", "")
            if content_type.split(";", 1)[0].strip().lower() != JSON:
                raise ApiError(415, f"Content-Type: must be application/json, got {content_type!r}.")
            receive, scope = await self._body.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class _PrecompiledValidationAPI(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        return PrecompiledRequestValidation(self.next_app, operation=operation)


class PrecompiledRequestValidationMiddleware(RequestValidationMiddleware):
    """Drop-in for Connexion's RequestValidationMiddleware in the middleware stack."""

    api_cls = _PrecompiledValidationAPI
