"""Robustness: requests outside the schema that every server must survive.

Schema-driven fuzzing stays close to the schema; servers break on what lies outside it: query
strings of any length and bytes, header values with obs-text bytes, JSON whose escapes are not
valid Unicode, deep nesting, methods nobody routes. Whatever arrives, the answer is never a 5xx
(nor a dropped connection), and every 4xx is the API's error envelope. Requests go through the
raw sender (`conformance.rawhttp`), because httpx refuses to build many of them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import expect
from conformance.client import Exchange
from conformance.core import Context, Violation, prop
from conformance.properties.steps import identity
from conformance.rawhttp import RawTarget
from conformance.strategies import list_parameters

MAX_REQUEST_LINE = 8000  # RFC 9112 §3: servers should accept request lines of at least 8000 octets
MAX_HEADER_VALUE = 4096
PLACEHOLDER = "@@ROBUSTNESS@@"


def raw_target(ctx: Context) -> RawTarget:
    return RawTarget(ctx.client.base_url, timeout=ctx.client.timeout, counter=ctx.client)


def survive(ctx: Context, what: str, send: Any, *, bodyless: bool = False) -> Exchange:
    """Send with the raw sender and judge: no 5xx, no dropped answer, the envelope on every 4xx."""
    try:
        exchange: Exchange = send()
    except (TimeoutError, OSError) as error:
        raise Violation(f"{what}: the server gave no answer ({type(error).__name__}: {error})") from None
    if exchange.status == 0:
        raise Violation(f"{what}: the server closed the connection without an HTTP answer", exchange)
    if exchange.status >= 500:
        raise Violation(f"{what}: HTTP {exchange.status} (a server error)", exchange)
    if 400 <= exchange.status < 500 and not bodyless:  # a HEAD answer has no body to judge
        problems = expect.envelope_problems(exchange)
        if problems:
            raise Violation(
                f"{what}: HTTP {exchange.status} outside the error envelope: " + "; ".join(problems), exchange
            )
    return exchange


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"Authorization", b"Bearer " + token.encode("utf-8"))


# -- query strings ------------------------------------------------------------------------------------


def query_strings(names: list[str]) -> st.SearchStrategy[bytes]:
    """Query strings: known and unknown names, repeated, values of any text (percent-encoded or as
    raw bytes), empty values, lone `&` and `=`, up to a request line of 8000 octets."""
    name = st.one_of(st.sampled_from(names), st.text(max_size=40))
    value = st.one_of(
        st.text(max_size=200),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.sampled_from(["", "0", "-1", "1e3", "0x10", "١٢", "NaN", "null", "[]", "%", "%zz", "%00", "+"]),
        st.integers(min_value=200, max_value=MAX_REQUEST_LINE - 200).map(lambda n: "9" * n),
    )
    encode = st.sampled_from(["quoted", "raw"])

    def render(pairs: list[tuple[str, str, str]]) -> bytes:
        parts = []
        for key, val, how in pairs:
            if how == "quoted":
                parts.append(quote(key, safe="") + "=" + quote(val, safe=""))
            else:  # unencoded, as a careless client sends it, within the request-target grammar
                text = f"{key}={val}"  # (RFC 9112: visible ASCII; `#` would start a fragment)
                parts.append("".join(c for c in text if 0x21 <= ord(c) <= 0x7E and c != "#"))
        return "&".join(parts).encode("utf-8")[: MAX_REQUEST_LINE - 100]

    return st.lists(st.tuples(name, value, encode), min_size=1, max_size=8).map(render)


@prop("robust_query_strings", kind="robustness", rows=("P21", "P29"))
def robust_query_strings(ctx: Context) -> None:
    """Query strings of any length, names and bytes never make a 5xx; every 4xx is the envelope.

    Rule: openapi.yaml info.description (every rejection is a 4xx in the error envelope) and list_invoices
    parameters (out of bounds or not an integer: 422; unknown parameters ignored; a repeated one: first,
    last or 422)
    """
    combo = identity(ctx)
    target = raw_target(ctx)
    names = list(list_parameters(ctx.spec))
    paths = [b"/api/invoices", f"/api/invoices/{uuid.uuid4()}".encode()]

    @given(path=st.sampled_from(paths), query=query_strings(names))
    @example(path=paths[0], query=b"page=" + b"9" * 5000)
    @example(path=paths[0], query=b"per_page=%F0%9F%92%A5&page=%D9%A1")
    @example(path=paths[0], query=b"page=1&page=2&per_page=1&per_page=")
    def test(path: bytes, query: bytes) -> None:
        survive(
            ctx,
            "a list with an unusual query string",
            lambda: target.send(b"GET", path + b"?" + query, [bearer(combo.token)]),
        )

    ctx.hypothesis("robust_query_strings", test, weight=0.6)


# -- header values ------------------------------------------------------------------------------------


def header_values() -> st.SearchStrategy[bytes]:
    """Field values HTTP allows on the wire (visible ASCII, obs-text 0x80 to 0xFF, inner spaces/tabs),
    of any length up to 4 KiB: bytes that are not UTF-8, overlong encodings, lone surrogates."""
    byte = st.one_of(st.integers(0x21, 0x7E), st.integers(0x80, 0xFF), st.sampled_from([0x20, 0x09]))
    tricky = st.sampled_from(
        [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x80\xae", b"\xf0\x9f\x92\xa5", b"%00", b"\\u0000"]
    )
    chunk = st.one_of(
        st.binary(min_size=1, max_size=1).flatmap(lambda _: byte.map(lambda b: bytes([b]))), tricky
    )
    short = st.lists(chunk, min_size=1, max_size=60).map(b"".join)
    long = st.tuples(st.integers(0x21, 0x7E), st.integers(256, MAX_HEADER_VALUE)).map(
        lambda p: bytes([p[0]]) * p[1]
    )
    return st.one_of(short, long).map(lambda v: v.strip(b" \t") or b"x")


HEADERS = [
    b"Authorization",
    b"Content-Type",
    b"Accept",
    b"Accept-Encoding",
    b"Accept-Language",
    b"User-Agent",
    b"X-Request-Id",
    b"If-None-Match",
    b"Cookie",
    b"Origin",
    b"Prefer",
]


@prop("robust_header_values", kind="robustness", rows=("P07", "P37"))
def robust_header_values(ctx: Context) -> None:
    """Header values of unusual bytes and lengths never make a 5xx; every 4xx is the envelope.

    Rule: openapi.yaml info.description (every rejection is a 4xx in the error envelope) and
    #/components/securitySchemes/bearerAuth (a malformed Authorization is 401)
    """
    combo = identity(ctx)
    target = raw_target(ctx)
    body = json.dumps(combo.body()).encode()
    operations = {
        "list": (b"GET", b"/api/invoices", b""),
        "get": (b"GET", f"/api/invoices/{uuid.uuid4()}".encode(), b""),
        "create": (b"POST", b"/api/invoices", body),
    }

    @given(
        operation=st.sampled_from(sorted(operations)),
        name=st.sampled_from(HEADERS),
        value=header_values(),
        prefixed=st.booleans(),
    )
    @example(operation="list", name=b"Authorization", value=b"Bearer \xff\xfe\xed\xa0\x80", prefixed=False)
    @example(
        operation="create", name=b"Content-Type", value=b"application/json; charset=\xff", prefixed=False
    )
    @example(operation="create", name=b"Content-Type", value=b"application/\xc3\xa9json", prefixed=False)
    def test(operation: str, name: bytes, value: bytes, prefixed: bool) -> None:
        method, path, content = operations[operation]
        headers = [] if name == b"Authorization" else [bearer(combo.token)]
        if name == b"Authorization" and prefixed:
            value = b"Bearer " + value
        headers.append((name, value))
        if method == b"POST" and name != b"Content-Type":
            headers.append((b"Content-Type", b"application/json"))
        survive(
            ctx,
            f"{operation} with {name.decode()}: {value[:60]!r}",
            lambda: target.send(method, path, headers, content),
        )

    ctx.hypothesis("robust_header_values", test, weight=0.6)


# -- JSON bodies ----------------------------------------------------------------------------------------


def odd_json() -> st.SearchStrategy[tuple[str, str]]:
    """(what, JSON text) for a value outside what the schema or Unicode allow."""
    surrogate = st.integers(0xD800, 0xDFFF).map(lambda cp: f'"\\u{cp:04x}"')
    mixed = st.tuples(st.text(max_size=5), st.integers(0xD800, 0xDFFF)).map(
        lambda p: json.dumps(p[0])[:-1] + f'\\u{p[1]:04x}"'
    )
    pair_backwards = st.just('"\\udc00\\ud800"')
    depth = st.integers(50, 20000)
    nested_arrays = depth.map(lambda n: "[" * n + "]" * n)
    nested_objects = depth.map(lambda n: '{"a":' * n + "1" + "}" * n)
    numbers = st.sampled_from(
        ["1e400", "-1e400", "1" + "0" * 400, "-0", "0.1e-400", "123456789012345678901234567890"]
    )
    return st.one_of(
        surrogate.map(lambda v: ("a lone surrogate escape", v)),
        mixed.map(lambda v: ("text ending in a lone surrogate escape", v)),
        pair_backwards.map(lambda v: ("a surrogate pair in the wrong order", v)),
        nested_arrays.map(lambda v: (f"arrays nested {v.count('[')} deep", v)),
        nested_objects.map(lambda v: (f"objects nested {v.count('{')} deep", v)),
        numbers.map(lambda v: (f"the number {v[:20]}", v)),
    )


BODY_PLACES = (
    "status",
    "currency",
    "invoice_number",
    "owner_uid",
    "field value",
    "field key",
    "field type",
    "issue_date",
)


def body_with(valid: dict[str, Any], place: str, value: str) -> bytes:
    body = dict(valid)
    if place == "field value":
        body["invoice_fields"] = {"k": {"type": "string", "value": PLACEHOLDER}}
    elif place == "field type":
        body["invoice_fields"] = {"k": {"type": PLACEHOLDER, "value": "v"}}
    elif place == "field key":
        text = json.dumps(body | {"invoice_fields": {"KEY": {"type": "string", "value": "v"}}})
        key = value if value.startswith('"') else '"k"'
        return text.replace('"KEY"', key).encode()
    else:
        body[place] = PLACEHOLDER
    return json.dumps(body).replace(f'"{PLACEHOLDER}"', value).encode()


@prop("robust_json_bodies", kind="robustness", rows=("P32",))
def robust_json_bodies(ctx: Context) -> None:
    """JSON with escapes that are not valid Unicode, deep nesting or huge numbers never makes a 5xx.

    Rule: openapi.yaml create_invoice description (malformed JSON is 400, a schema break 422) and
    info.description (every rejection is a 4xx in the error envelope)
    """
    combo = identity(ctx)
    target = raw_target(ctx)
    valid = combo.body()
    headers = [bearer(combo.token), (b"Content-Type", b"application/json")]

    @given(place=st.sampled_from(BODY_PLACES), odd=odd_json())
    @example(place="status", odd=("a lone surrogate escape", '"\\ud800"'))
    @example(place="field value", odd=("a lone surrogate escape", '"\\udfff"'))
    @example(place="field key", odd=("a lone surrogate escape", '"\\ud800"'))
    @example(place="field value", odd=("arrays nested 5000 deep", "[" * 5000 + "]" * 5000))
    @example(place="invoice_number", odd=("the number 1e400", "1e400"))
    def test(place: str, odd: tuple[str, str]) -> None:
        what, value = odd
        content = body_with(valid, place, value)
        survive(
            ctx,
            f"a create whose {place} is {what}",
            lambda: target.send(b"POST", b"/api/invoices", headers, content),
        )

    ctx.hypothesis("robust_json_bodies", test, weight=0.6)


# -- methods ------------------------------------------------------------------------------------------------

CANDIDATE_METHODS = (
    *(b"PATCH", b"PUT", b"DELETE", b"POST", b"TRACE", b"PROPFIND", b"FOO", b"get", b"Post", b"M-SEARCH"),
)
OPEN_METHODS = (b"HEAD", b"OPTIONS")  # precision row P35: any 2xx/3xx/4xx


def unknown_methods(spec: dict[str, Any], template: str) -> list[bytes]:
    """The candidate methods the spec does not route on `template` (methods are case-sensitive)."""
    routed = {method.upper() for method in spec["paths"].get(template, {})}
    return [method for method in CANDIDATE_METHODS if method.decode() not in routed]


@prop("robust_unknown_methods", kind="robustness", rows=("P28", "P35"))
def robust_unknown_methods(ctx: Context) -> None:
    """A method the API does not route on a known path is 405 with Allow, in the error envelope.

    Rule: openapi.yaml info.description precision rows P28 (an unknown method on a known path: 405 with
    Allow, in the error envelope) and P35 (HEAD, OPTIONS: any 2xx/3xx/4xx, never 5xx)
    """
    combo = identity(ctx)
    target = raw_target(ctx)
    templates = {
        "/api/invoices": b"/api/invoices",
        "/api/invoices/{invoice_uid}": f"/api/invoices/{uuid.uuid4()}".encode(),
    }
    unknown = {path: unknown_methods(ctx.spec, template) for template, path in templates.items()}
    paths = list(unknown)
    requests = st.sampled_from(paths).flatmap(
        lambda path: st.tuples(st.sampled_from(unknown[path] + list(OPEN_METHODS)), st.just(path))
    )

    @given(request=requests, authorized=st.booleans())
    def test(request: tuple[bytes, bytes], authorized: bool) -> None:
        method, path = request
        headers = [bearer(combo.token)] if authorized else []
        what = f"{method.decode()} {path.decode()}"
        exchange = survive(ctx, what, lambda: target.send(method, path, headers), bodyless=method == b"HEAD")
        if method in OPEN_METHODS:
            return
        if exchange.status == 401 and not authorized:
            return  # authentication first (P01) is as correct as routing first
        if exchange.status != 405 or not exchange.header("allow"):
            raise Violation(
                f"{what}: an unknown method on a known path must be 405 with Allow; "
                f"got HTTP {exchange.status}, Allow {exchange.header('allow')!r}",
                exchange,
            )

    for method in unknown[paths[1]][:3]:
        test = example(request=(method, paths[1]), authorized=True)(test)
    ctx.hypothesis("robust_unknown_methods", test, weight=0.4)
