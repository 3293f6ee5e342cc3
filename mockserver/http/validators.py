"""The mock's request validators, plugged into Connexion's `validator_map`.

Connexion's `RequestValidationMiddleware` runs for every routed request: the `parameter`
validator, then the media type, then the `body` validator of that media type. It builds both
validators anew on every request, handing them the operation's parameter list or body schema.
These subclasses therefore only look their operation's compiled validator up
(mockserver/http/validation.py: jsonschema-rs, errors that name the field and the rule), by the
identity of the object Connexion hands them, in a table the app owns: a schema is compiled on
its operation's first request and never again.

The body validator reads the body itself (413 before reading past the limit, 400 malformed, 422
schema) and hands it on parsed, in the scope under `BODY`; the receive channel is then spent
(no stage below reads it).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from mockserver.http.validation import JSON, BodyValidator, QueryValidator

BODY = "mockserver.body"  # scope key: the request body, parsed and validated

_NOT_SCHEMA = frozenset({"components"})  # what Connexion adds to a body schema it hands out


class Compiled:
    """The app's compiled validators, by the identity of the spec object each was built from.

    The spec object is kept with its validator, so its identity cannot be reused while the entry
    lives.
    """

    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self._query: dict[int, tuple[Any, QueryValidator]] = {}
        self._body: dict[int, tuple[Any, BodyValidator]] = {}

    def query(self, parameters: list[dict[str, Any]]) -> QueryValidator:
        found = self._query.get(id(parameters))
        if found is None or found[0] is not parameters:
            found = (parameters, QueryValidator(parameters))
            self._query[id(parameters)] = found
        return found[1]

    def body(self, schema: dict[str, Any]) -> BodyValidator:
        found = self._body.get(id(schema))
        if found is None or found[0] is not schema:
            plain = {key: value for key, value in schema.items() if key not in _NOT_SCHEMA}
            found = (schema, BodyValidator(plain, self.max_body_bytes))
            self._body[id(schema)] = found
        return found[1]


class QueryParameters(ParameterValidator):
    """The operation's query parameters, each error naming its parameter (422).

    Path parameters are the handlers' (a malformed `invoice_uid` is a 404, openapi.yaml); header
    parameters (`X-Mock-Session`) are read where they are used.
    """

    def __init__(self, parameters: list[dict[str, Any]], *, compiled: Compiled, **_connexion: Any) -> None:
        # Nothing of Connexion's own parameter validator is used, so it is not initialised.
        self.compiled = compiled.query(parameters)

    def validate(self, scope: Scope) -> None:
        if self.compiled:  # an operation without query parameters has nothing to check
            self.compiled.validate(scope.get("query_string", b""))


class JsonBody(AbstractRequestBodyValidator):
    """A JSON body read, parsed and validated with the operation's compiled schema."""

    def __init__(self, *, schema: dict[str, Any], compiled: Compiled, **connexion: Any) -> None:
        super().__init__(
            schema=schema,
            required=connexion.get("required", False),
            nullable=connexion.get("nullable", False),
            encoding=connexion.get("encoding", "utf-8"),
            strict_validation=connexion.get("strict_validation", False),
        )
        self.compiled = compiled.body(schema)

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        scope[BODY] = await self.compiled.read(Headers(scope=scope), receive)
        return receive, scope


def validator_map(compiled: Compiled) -> dict[str, Any]:
    """Connexion's `validator_map`: query parameters, and JSON bodies (no other media type passes
    the mock's 415, mockserver/http/stages.py)."""
    return {
        "parameter": partial(QueryParameters, compiled=compiled),
        "body": {JSON: partial(JsonBody, compiled=compiled)},
    }
