"""Every operation has a handler in the mock, found exactly the way the mock finds it.

The mock routes with Connexion's `RelativeResolver("mockserver.http.handlers")`, so an operation added
to the spec without a handler only fails when the mock starts. Asking the same resolver here turns
that into a `spec check` problem with the operation's pointer.
"""

from __future__ import annotations

import importlib
import warnings
from types import SimpleNamespace
from typing import Any

from contract.spec import iter_operations
from contract.tooling.model import Tally, join, operation_pointer

DEFAULT_HANDLER_MODULE = "mockserver.http.handlers"


def _resolver(module: str) -> tuple[Any, type[Exception]]:
    """Connexion's `RelativeResolver` for `module`, and the error it raises for a missing handler."""
    with warnings.catch_warnings():  # importing Connexion warns about Starlette's test client
        warnings.simplefilter("ignore")
        from connexion.exceptions import ResolverError
        from connexion.resolver import RelativeResolver
    return RelativeResolver(module), ResolverError


def check_handlers(spec: dict[str, Any], module: str = DEFAULT_HANDLER_MODULE) -> Tally:
    """A problem per operation whose operationId does not resolve to a callable in `module`.

    If `module` itself cannot be imported that is one problem, not one per operation (and not a
    crash): the module may simply not be written yet.
    """
    tally = Tally(checked=1)
    try:
        with warnings.catch_warnings():  # the module's own import-time warnings are not spec problems
            warnings.simplefilter("ignore")
            importlib.import_module(module)
    except Exception as exc:  # any import failure, a syntax error in the module included
        tally.add("#/paths", f"handler module {module} cannot be imported ({type(exc).__name__}: {exc})")
        return tally
    resolver, resolver_error = _resolver(module)
    for path, method, operation in iter_operations(spec):
        tally.checked += 1
        pointer = operation_pointer(path, method)
        operation_id = operation.get("operationId")
        if not operation_id:
            tally.add(pointer, "has no operationId, so the mock cannot route it to a handler")
            continue
        name = resolver.resolve_operation_id(
            SimpleNamespace(
                operation_id=operation_id, router_controller=operation.get("x-openapi-router-controller")
            )
        )
        try:
            function = resolver.resolve_function_from_operation_id(name)
        except resolver_error:
            tally.add(join(pointer, "operationId"), f"no handler: {name} does not exist")
            continue
        if not callable(function):
            tally.add(join(pointer, "operationId"), f"no handler: {name} is not callable")
    return tally
