"""What the contract says about one exchange (a request and its answer), as a list of problems.

The validating proxy (mockserver/proxy/) checks every exchange it forwards with this, and the
conformance kit's envelope check is the same function (`envelope_problems`), so "breaks the
envelope" means one thing in both. Only what a single exchange can show is checked here:

- the request against its operation's schema and content type: the client's problems;
- the answer's status against the statuses its operation documents, its media type, the
  envelope, its schema, and the rules one answer shows: P08 (a 401 carries a `Bearer`
  challenge), P03 (a request the schema refuses is never answered 2xx), P12 (uids in answers are
  lower case), the security scheme (an operation that needs a bearer key never answers 2xx to a
  request without one): the server's problems.

Each problem says on which `side` it was seen, since only the server's are the real service's to
fix. Rules that need state (create-then-read, numbering) are the kit's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from contract import pointers
from contract.spec import compile_validator, inline_refs, iter_operations

JSON = "application/json"
UUID_KEY = re.compile(r"(^|_)uid$")


@dataclass(frozen=True)
class Problem:
    """One way an exchange breaks the contract: where (a JSON pointer into the request or answer
    body, or `header:<name>`), the rule broken (a keyword or a precision row) and what was seen."""

    side: str  # "request" or "response"
    pointer: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"side": self.side, "pointer": self.pointer, "rule": self.rule, "message": self.message}


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def envelope_problems(status: int, content_type: str | None, body: Any) -> list[str]:
    """Every way an answer breaks the envelope rule (empty when it holds).

    openapi.yaml info.description: every response is `{status, status_code, message, data}`
    (errors carry `errors` instead of `data`) and `status_code` equals the HTTP status.
    """
    problems = []
    kind = media_type(content_type)
    if kind != JSON:
        problems.append(f"Content-Type is {kind or 'missing'!r}, not application/json")
    if not isinstance(body, dict):
        return [*problems, "the body is not a JSON object"]
    if body.get("status_code") != status:
        problems.append(f"status_code is {body.get('status_code')!r} but the HTTP status is {status}")
    expected_status = "success" if 200 <= status < 300 else "error"
    if body.get("status") != expected_status:
        problems.append(f"status is {body.get('status')!r} for HTTP {status}, not {expected_status!r}")
    if not isinstance(body.get("message"), str):
        problems.append("message is missing or not a string")
    if expected_status == "success" and "data" not in body:
        problems.append("a success envelope has no data")
    if expected_status == "error":
        errors = body.get("errors")
        if not isinstance(errors, list):
            problems.append("an error envelope has no errors list")
        elif not all(isinstance(e, dict) and {"field", "message", "code"} <= e.keys() for e in errors):
            problems.append("an entry of errors lacks field, message or code")
    return problems


def parse_json(raw: bytes) -> tuple[bool, Any]:
    """(True, value) for a JSON text, (False, None) for anything else."""
    try:
        return True, json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False, None


def error_pointer(error: Any) -> str:
    """The pointer of what an error is about: the missing or unexpected member itself, where the
    error names one (a client wants `/owner_uid is required`, not `/ is invalid`)."""
    parts = list(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        parts.append(kind.property)
    elif (
        isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties) and len(kind.unexpected) == 1
    ):
        parts.append(kind.unexpected[0])
    return pointers.from_parts(parts)


def schema_problems(side: str, validator: Any, instance: Any) -> list[Problem]:
    """The schema's errors, each at its JSON pointer and named by the failing keyword."""
    return [
        Problem(side, error_pointer(error), f"schema:{error.schema_path[-1]}", error.message)
        for error in validator.iter_errors(instance)
    ]


def upper_case_uids(node: Any, path: tuple[Any, ...] = ()) -> Iterator[str]:
    """Pointers of `…uid` string values holding upper-case letters (P12: answers are lower case)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and UUID_KEY.search(key) and value != value.lower():
                yield pointers.from_parts((*path, key))
            else:
                yield from upper_case_uids(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from upper_case_uids(item, (*path, index))


@dataclass
class Operation:
    """One operation of the contract, its schemas compiled once (a proxy checks it many times)."""

    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    secured: bool
    request_validator: Any | None
    responses: dict[str, Any | None]  # status ("200", "default") -> compiled JSON schema or None


def _compiled_json(spec: dict[str, Any], node: Mapping[str, Any]) -> Any | None:
    schema = node.get("content", {}).get(JSON, {}).get("schema")
    return compile_validator(inline_refs(spec, schema)) if schema is not None else None


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


class ContractExchanges:
    """The operations of one spec, each checkable against an exchange.

    It names operations by method and path template itself, without a router: the proxy forwards
    every request (documented or not), so nothing here may answer 404 or 405 in the upstream's place.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        default_security = spec.get("security", [])
        self.operations: list[Operation] = []
        for path, method, raw in iter_operations(spec):
            op = inline_refs(spec, raw)
            body = op.get("requestBody")
            self.operations.append(
                Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    template=path,
                    pattern=_path_pattern(path),
                    secured=bool(op.get("security", default_security)),
                    request_validator=_compiled_json(spec, body) if body else None,
                    responses={
                        status: _compiled_json(spec, answer) for status, answer in op["responses"].items()
                    },
                )
            )

    def match(self, method: str, path: str) -> Operation | None:
        return next(
            (op for op in self.operations if op.method == method.upper() and op.pattern.fullmatch(path)),
            None,
        )

    def request_problems(self, op: Operation, content_type: str | None, raw: bytes) -> list[Problem]:
        """A request the contract refuses (the upstream should refuse it too: the kit checks that)."""
        if op.request_validator is None or not raw:
            return []
        if media_type(content_type) != JSON:
            return [
                Problem("request", "header:content-type", "content-type", f"{content_type!r} is not JSON")
            ]
        ok, body = parse_json(raw)
        if not ok:
            return [Problem("request", "", "json", "the body is not JSON")]
        return schema_problems("request", op.request_validator, body)

    def response_problems(
        self,
        op: Operation | None,
        status: int,
        headers: Mapping[str, str],
        raw: bytes,
        *,
        authorized: bool,
        refused_request: bool = False,
    ) -> list[Problem]:
        """Every rule of the contract the answer breaks (`op` None: a path the contract lacks).

        `authorized`: the request carried a bearer key; `refused_request`: it broke the request
        schema, so a 2xx is a violation of the server's (the client's own are `request_problems`).
        """
        ok, body = parse_json(raw)
        found = [
            Problem("response", "", "envelope", text)
            for text in envelope_problems(status, headers.get("content-type"), body if ok else None)
        ]
        if status == 401 and not headers.get("www-authenticate", "").lower().startswith("bearer"):
            found.append(
                Problem("response", "header:www-authenticate", "P08", "a 401 without a Bearer challenge")
            )
        found += [
            Problem("response", at, "P12", "a uid in an answer is not lower case")
            for at in upper_case_uids(body)
        ]
        if op is None:
            return found
        if refused_request and 200 <= status < 300:
            found.append(Problem("response", "", "P03", f"{status} to a request the contract refuses (422)"))
        if op.secured and not authorized and 200 <= status < 300:
            found.append(Problem("response", "", "security", f"{status} to a request without a bearer key"))
        documented = str(status) if str(status) in op.responses else "default"
        if documented not in op.responses:
            statuses = ", ".join(op.responses)
            found.append(
                Problem(
                    "response", "", "status", f"{status} is not documented for {op.operation_id} ({statuses})"
                )
            )
        elif ok and (validator := op.responses[documented]) is not None:
            found += schema_problems("response", validator, body)
        return found
