"""What mockserver/connexion_fence.py and mockserver/protocol.py assume of Connexion, Starlette and
uvicorn, one assumption per test: a release that breaks one fails here, naming it."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import httptools
import pytest
import yaml
from connexion import AsyncApp
from connexion.exceptions import ProblemException
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver import connexion_fence

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "probe", "version": "1"},
    "servers": [{"url": "/base"}],
    "paths": {
        "/things": {
            "post": {"operationId": "get_thing", "responses": {"200": {"description": "ok"}}},
        },
        "/things/{thing}": {
            "get": {"operationId": "get_thing", "responses": {"200": {"description": "ok"}}},
        },
    },
}


async def get_thing() -> None:  # the operation the probe spec resolves to (never called)
    raise AssertionError("the probe layer answers instead")


class Probe:
    """The innermost layer of the probe app: records the scope Connexion's routing hands it."""

    seen: ClassVar[list[Scope]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        Probe.seen.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def probe_app(**options: Any) -> Any:
    return connexion_fence.build_app(
        [connexion_fence.Api(SPEC, __name__)], outer=[], operations=Probe, **options
    )


def test_async_app_takes_our_middleware_list_lifespan_and_swagger_options():
    parameters = inspect.signature(AsyncApp.__init__).parameters
    missing = {"import_name", "lifespan", "middlewares", "swagger_ui_options"} - parameters.keys()
    assert not missing, f"AsyncApp.__init__ no longer takes {missing}: connexion_fence.build_app must change"
    assert "resolver" in inspect.signature(AsyncApp.add_api).parameters, "AsyncApp.add_api lost `resolver`"


def test_the_router_names_the_operation_in_the_routing_extension_and_passes_path_params():
    Probe.seen.clear()
    response = probe_app().test_client().get("/base/things/42")
    assert response.status_code == 204, "Connexion did not route the probe request to the innermost layer"
    scope = Probe.seen[-1]
    assert connexion_fence.routed_operation(scope) == connexion_fence.operation_key(__name__, "get_thing"), (
        "Connexion's router no longer puts operation_id '<module>.<operationId>' into "
        f"scope['extensions'][{connexion_fence.ROUTING_EXTENSION!r}]: {scope.get('extensions')}"
    )
    assert scope.get("path_params") == {"thing": "42"}, "Connexion no longer passes path_params on"


def test_the_static_fast_path_names_an_operation_exactly_as_connexions_router():
    """ExactPathRouting's dict lookup must write the very extension Connexion's router writes."""
    extensions = []
    for fast in (False, True):
        Probe.seen.clear()
        response = probe_app(fast_static_routes=fast).test_client().post("/base/things")
        assert response.status_code == 204
        extensions.append(Probe.seen[-1]["extensions"][connexion_fence.ROUTING_EXTENSION])
    assert extensions[0] == extensions[1], f"router {extensions[0]} != fast path {extensions[1]}"


def test_an_unrouted_request_reaches_the_inner_layer_without_an_operation():
    Probe.seen.clear()
    probe_app().test_client().get("/elsewhere")
    assert connexion_fence.routed_operation(Probe.seen[-1]) is None, "an unknown path now names an operation"


def test_a_wrong_method_is_raised_as_starlettes_http_exception():
    """The envelope layer turns it into 405 with Allow; a plain-text answer would bypass it."""
    from starlette.exceptions import HTTPException

    client = probe_app().test_client(raise_server_exceptions=True)
    with pytest.raises(HTTPException) as raised:
        client.post("/base/things/42")
    assert raised.value.status_code == 405, "Starlette's router no longer raises 405 for a wrong method"


def test_no_slash_redirects_reaches_every_router():
    app = probe_app()
    response = app.test_client().get("/base/things/42/", follow_redirects=False)
    assert response.status_code != 307, (
        "a trailing slash is redirected again: no_slash_redirects missed a router"
    )
    assert hasattr(Router(), "redirect_slashes") and hasattr(Router(), "routes"), "Starlette's Router changed"


def test_the_two_subclassed_middlewares_keep_their_attributes():
    routing = RoutingMiddleware(Probe)
    assert isinstance(routing.router, Router), "RoutingMiddleware.router is gone (ExactPathRouting needs it)"
    swagger = SwaggerUIMiddleware(Probe)
    assert swagger.app is Probe, "SwaggerUIMiddleware.app is gone (SwaggerUIOutsideApi calls it)"


def test_a_problem_carries_status_detail_and_title():
    problem = ProblemException(status=500, title="Response body does not conform", detail="x is wrong")
    assert connexion_fence.problem(problem) == (500, "x is wrong"), "ProblemException lost status/detail"
    assert connexion_fence.problem(ValueError("no")) is None


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
    assert not missing, f"uvicorn's HttpToolsProtocol lost {missing}: mockserver/protocol.py must change"


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


def test_spec_validation_is_where_the_fence_skips_it_and_only_there():
    """Assumption 5: Connexion validates in `Specification._validate_spec`; `validated` skips it."""
    from connexion.exceptions import InvalidSpecification
    from connexion.spec import Specification

    assert "_validate_spec" in Specification.__dict__, "Specification._validate_spec is gone"
    broken = {**SPEC, "info": {"title": "probe"}}  # no version: not valid OpenAPI
    with pytest.raises(InvalidSpecification):
        connexion_fence.build_app([connexion_fence.Api(broken, __name__)], outer=[], operations=Probe)
    trusted = connexion_fence.build_app(
        [connexion_fence.Api(broken, __name__, validated=True)], outer=[], operations=Probe
    )
    assert trusted is not None
    assert Specification.__dict__["_validate_spec"] is not None
    with pytest.raises(InvalidSpecification):  # restored after the trusted spec was added
        connexion_fence.build_app([connexion_fence.Api(broken, __name__)], outer=[], operations=Probe)


def test_the_bundled_control_spec_is_valid_openapi():
    """The control API's spec is added unvalidated (assumption 5), so it is validated here.

    openapi.yaml is validated by tests/contract/test_spec_document.py.
    """
    from openapi_spec_validator import validate

    from mockserver.app import CONTROL_SPEC

    validate(yaml.safe_load(CONTROL_SPEC.read_text(encoding="utf-8")))
