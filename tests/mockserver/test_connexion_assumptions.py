"""Each public API of Connexion (and Starlette, uvicorn) the mock relies on, one assumption per
test: a release that breaks one fails here, naming it, rather than somewhere deep in a request.

mockserver/http/wiring.py builds the app; mockserver/http/stages.py, security.py and validators.py plug
into it; mockserver/http/protocol.py subclasses uvicorn's protocol.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any, ClassVar

import httptools
import pytest
import yaml
from connexion import AsyncApp
from connexion.exceptions import InvalidSpecification, ProblemException
from connexion.middleware import MiddlewarePosition
from connexion.middleware.abstract import ROUTING_CONTEXT, RoutedAPI, RoutedMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.resolver import RelativeResolver
from connexion.security import BearerSecurityHandler
from connexion.validators import AbstractRequestBodyValidator, ParameterValidator
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.http import stages, wiring
from mockserver.http.specs import operation_key
from mockserver.http.validators import Compiled
from tests.mockserver.support import MINIMAL, USER_A, auth, create_app

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "probe", "version": "1"},
    "servers": [{"url": "/base"}],
    "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/things": {
            "post": {
                "operationId": "post_thing",
                "security": [{"key": []}],
                "requestBody": {
                    "content": {"application/json": {"schema": {"type": "object", "required": ["a"]}}}
                },
                "responses": {"200": {"description": "ok"}},
            },
        },
        "/things/{thing}": {
            "get": {
                "operationId": "get_thing",
                "parameters": [
                    {"name": "thing", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "n", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {"200": {"description": "ok"}},
            },
        },
    },
}


async def get_thing() -> None:
    """The function the probe spec's operations resolve to; the probe answers instead."""
    raise AssertionError("the probe layer answers instead")


post_thing = get_thing


class Probe:
    """A layer that records the scopes it sees and answers 204 (or passes on, `through=True`)."""

    seen: ClassVar[list[Scope]] = []

    def __init__(self, app: ASGIApp, through: bool = False) -> None:
        self.app, self.through = app, through

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        Probe.seen.append(scope)
        if self.through:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def probe_app(middlewares: list[Any], **add_api: Any) -> Any:
    app = AsyncApp(__name__, middlewares=middlewares)
    app.add_api(SPEC, resolver=RelativeResolver(__name__), **add_api)
    return app


@pytest.fixture(autouse=True)
def _fresh_probe():
    Probe.seen.clear()


def test_async_app_and_add_api_take_the_arguments_the_wiring_passes():
    app_parameters = inspect.signature(AsyncApp.__init__).parameters
    missing = {"import_name", "middlewares", "swagger_ui_options"} - app_parameters.keys()
    assert not missing, f"AsyncApp.__init__ no longer takes {missing}: mockserver/http/wiring.py must change"
    api_parameters = inspect.signature(AsyncApp.add_api).parameters
    wanted = {"specification", "resolver", "validator_map", "security_map", "validate_responses"}
    assert not wanted - api_parameters.keys(), f"AsyncApp.add_api lost {wanted - api_parameters.keys()}"


def test_middleware_positions_are_the_connexion_classes_the_wiring_lists():
    """`add_middleware(position=...)` finds its place by these classes: the mock's list has them."""
    assert MiddlewarePosition.BEFORE_ROUTING.value is RoutingMiddleware
    assert MiddlewarePosition.BEFORE_SECURITY.value is SecurityMiddleware
    assert MiddlewarePosition.BEFORE_VALIDATION.value is RequestValidationMiddleware
    listed = wiring.middlewares([], {}, runtime=None, validate_responses=False)  # type: ignore[arg-type]
    for position in ("BEFORE_ROUTING", "BEFORE_SECURITY", "BEFORE_VALIDATION"):
        assert MiddlewarePosition[position].value in listed, f"the wiring lost {position}'s class"


def test_the_router_names_the_operation_in_the_routing_extension_and_passes_path_params():
    response = probe_app([RoutingMiddleware, Probe]).test_client().get("/base/things/42")
    assert response.status_code == 204, "Connexion did not route the probe request to the next layer"
    scope = Probe.seen[-1]
    assert stages.routed(scope) == operation_key(__name__, "get_thing"), (
        "Connexion's router no longer puts operation_id '<module>.<operationId>' into "
        f"scope['extensions'][{ROUTING_CONTEXT!r}]: {scope.get('extensions')}"
    )
    assert scope["extensions"][ROUTING_CONTEXT]["api_base_path"] == "/base"
    assert scope.get("path_params") == {"thing": "42"}, "Connexion no longer passes path_params on"


def test_an_unrouted_request_goes_on_unnamed_and_connexions_app_raises_404():
    app = probe_app([RoutingMiddleware, partial(Probe, through=True)])
    with pytest.raises(HTTPException) as raised:
        app.test_client(raise_server_exceptions=True).get("/elsewhere")
    assert stages.routed(Probe.seen[-1]) is None, "an unknown path now names an operation"
    assert raised.value.status_code == 404, "Connexion's own app no longer raises 404 for an unknown path"


def test_a_wrong_method_is_raised_by_the_router_as_starlettes_405():
    """The envelope layer turns it into 405 with Allow; a plain-text answer would bypass it."""
    client = probe_app([RoutingMiddleware, Probe]).test_client(raise_server_exceptions=True)
    with pytest.raises(HTTPException) as raised:
        client.post("/base/things/42")
    assert raised.value.status_code == 405, "Starlette's router no longer raises 405 for a wrong method"


def test_the_router_redirects_a_trailing_slash_so_exact_paths_must_come_first():
    """Why `ExactPaths` exists: without it a trailing slash is a 307 with an empty body."""
    client = probe_app([RoutingMiddleware, Probe]).test_client()
    assert client.get("/base/things/42/", follow_redirects=False).status_code == 307
    client = probe_app([stages.ExactPaths, RoutingMiddleware, Probe]).test_client()
    with pytest.raises(Exception, match="No such endpoint"):
        client.get("/base/things/42/", follow_redirects=False)


def test_the_security_map_handler_is_built_without_arguments_and_its_refusal_propagates():
    built: list[tuple[Any, ...]] = []

    class Handler(BearerSecurityHandler):
        def get_fn(self, security_scheme: dict[str, Any], required_scopes: list[str]) -> Any:
            built.append((security_scheme["scheme"], required_scopes))

            def verify(request: Any) -> dict[str, Any]:
                if request.headers.get("authorization") != "Bearer good":
                    raise LookupError("refused by the handler")
                return {"sub": "good", "extra": 1}

            return verify

    app = probe_app([RoutingMiddleware, SecurityMiddleware, Probe], security_map={"bearer": Handler})
    client = app.test_client(raise_server_exceptions=True)
    with pytest.raises(LookupError):  # raised as is: the mock's 401 keeps its own words
        client.post("/base/things", json={"a": 1})
    assert (
        client.post("/base/things", json={"a": 1}, headers={"Authorization": "Bearer good"}).status_code
        == 204
    )
    assert built and built[0] == ("bearer", []), built
    token_info = Probe.seen[-1]["extensions"]["connexion_context"]["token_info"]
    assert token_info == {"sub": "good", "extra": 1}, "Connexion no longer keeps the handler's token_info"


def test_the_validator_map_classes_are_built_per_request_with_the_same_spec_objects():
    """Why mockserver/http/validators.py compiles by identity: Connexion builds the validators on every
    request, handing them the very same parameter list and body schema each time."""
    handed: dict[str, list[Any]] = {"parameter": [], "body": []}

    class Parameters(ParameterValidator):
        def __init__(self, parameters: list[Any], **kwargs: Any) -> None:
            assert {"uri_parser", "strict_validation", "security_query_params"} <= kwargs.keys()
            handed["parameter"].append(parameters)

        def validate(self, scope: Scope) -> None:
            assert "query_string" in scope

    class Body(AbstractRequestBodyValidator):
        def __init__(self, *, schema: dict[str, Any], **kwargs: Any) -> None:
            super().__init__(schema=schema, **kwargs)
            handed["body"].append(schema)

        async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
            return receive, {**scope, "probe_body": True}

    validators = {"parameter": Parameters, "body": {"application/json": Body}}
    app = probe_app([RoutingMiddleware, RequestValidationMiddleware, Probe], validator_map=validators)
    client = app.test_client()
    for _ in range(2):
        assert client.get("/base/things/1?n=2").status_code == 204
        assert client.post("/base/things", json={"a": 1}).status_code == 204
    assert Probe.seen[-1].get("probe_body"), "the scope wrap_receive returns no longer goes on"
    get_1, post_1, get_2, post_2 = handed["parameter"]  # built anew for each request, each operation
    assert get_1 is get_2 and post_1 is post_2, "Connexion hands a new parameter list each request"
    first, second = handed["body"]
    assert first is second, "Connexion hands a new body schema each request"
    assert handed["body"][-1]["required"] == ["a"]


def test_the_body_validator_is_looked_up_by_the_exact_media_type():
    """Why `JsonBodies` hands Connexion the canonical `application/json`: other spellings skip it."""
    seen: list[str] = []

    class Body(AbstractRequestBodyValidator):
        async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
            seen.append("validated")
            return receive, scope

    app = probe_app(
        [RoutingMiddleware, RequestValidationMiddleware, Probe],
        validator_map={"body": {"application/json": Body}},
    )
    client = app.test_client()
    client.post("/base/things", content=b"{}", headers={"Content-Type": "Application/JSON"})
    assert seen == [], "Connexion now matches media types case-insensitively: JsonBodies may not need to"
    client.post("/base/things", content=b"{}", headers={"Content-Type": "application/json"})
    assert seen == ["validated"]


def test_the_mocks_validators_are_compiled_once_per_spec_object():
    compiled = Compiled(max_body_bytes=100)
    schema = SPEC["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    parameters = SPEC["paths"]["/things/{thing}"]["get"]["parameters"]
    assert compiled.body(schema) is compiled.body(schema)
    assert compiled.query(parameters) is compiled.query(parameters)
    assert compiled.body(dict(schema)) is not compiled.body(schema), "an equal object is another operation's"


def test_a_routed_middleware_gets_each_operation_with_its_resolved_function():
    functions: list[Any] = []

    class API(RoutedAPI[Any]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.add_paths()

        def make_operation(self, operation: Any) -> Any:
            functions.append((operation.operation_id, operation.function))
            return Probe(self.next_app)

    class Routed(RoutedMiddleware[API]):
        api_cls = API

    assert probe_app([RoutingMiddleware, Routed]).test_client().get("/base/things/1").status_code == 204
    assert (operation_key(__name__, "get_thing"), get_thing) in functions


def test_swagger_ui_middleware_keeps_its_next_app_as_app():
    swagger = SwaggerUIMiddleware(Probe)
    assert swagger.app is Probe, "SwaggerUIMiddleware.app is gone (SwaggerUIOutsideApi calls it)"


def test_add_api_validates_the_spec():
    """No spec is added unchecked: Connexion validates each one in `add_api`."""
    broken = {**SPEC, "info": {"title": "probe"}}  # no version: not valid OpenAPI
    with pytest.raises(InvalidSpecification):
        AsyncApp(__name__).add_api(broken)


def test_a_problem_carries_status_detail_and_title():
    problem = ProblemException(status=500, title="Response body does not conform", detail="x is wrong")
    assert (problem.status, problem.detail, problem.title) == (
        500,
        "x is wrong",
        "Response body does not conform",
    )


def test_a_fresh_mock_answering_one_valid_create_ran_connexions_routing():
    """Issue 18: Connexion's routing is in the path of every operation, the first one included.

    The probe is added at a public extension point, right after Connexion's router: it sees the
    operation Connexion's `RoutingMiddleware` named.
    """
    mock = create_app()
    mock.connexion.add_middleware(partial(Probe, through=True), position=MiddlewarePosition.BEFORE_SECURITY)
    response = mock.test_client().post("/api/invoices", json=MINIMAL, headers=auth(USER_A))
    assert response.status_code == 200, response.text
    assert [stages.routed(scope) for scope in Probe.seen] == ["mockserver.http.handlers.create_invoice"]


def test_uvicorns_httptools_protocol_has_what_protocol_py_overrides_and_calls():
    needed = [
        "data_received",
        "on_message_begin",
        "on_url",
        "on_header",
        "on_headers_complete",
        "_unset_keepalive_if_required",
        "_should_upgrade",
        "handle_websocket_upgrade",
        "_unsupported_upgrade_warning",
    ]
    missing = [name for name in needed if not hasattr(HttpToolsProtocol, name)]
    assert not missing, f"uvicorn's HttpToolsProtocol lost {missing}: mockserver/http/protocol.py must change"


def test_httptools_wraps_a_callback_exception_as_a_parser_error_with_the_cause():
    class Boom(Exception):
        pass

    class Callbacks:
        def on_header(self, name: bytes, value: bytes) -> None:
            raise Boom

    parser = httptools.HttpRequestParser(Callbacks())
    with pytest.raises(httptools.HttpParserError) as raised:
        parser.feed_data(b"GET / HTTP/1.1\r\nA: b\r\n\r\n")
    cause = raised.value.__cause__ or raised.value.__context__
    assert isinstance(cause, Boom), (
        "httptools no longer keeps a callback's exception as the cause (431 relies on it)"
    )


def test_the_bundled_control_spec_is_valid_openapi():
    """Connexion validates it at every start too; this names the spec when it breaks."""
    from openapi_spec_validator import validate

    from mockserver.http.app import CONTROL_SPEC

    validate(yaml.safe_load(CONTROL_SPEC.read_text(encoding="utf-8")))
