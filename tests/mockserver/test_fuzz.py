"""Junk of every kind, over raw sockets, to every route of a real mock: never a 5xx, always the envelope.

Methods, request targets, query strings, header names and values (bytes and lengths), bodies
(bytes, encodings, nesting, numbers of any size, escapes including lone surrogates) go to the
contract's paths, the control API (`mockserver/http/control.yaml`), Swagger UI and paths nobody
serves. Requests are written byte by byte on a socket (httpx refuses most of this), one
connection each, so a server that gives up on one request cannot hide the next one's answer.

Seeded and bounded: the same few thousand requests on every run. Every answer with a status
of 400 or more must be the API's error envelope with `status_code` equal to the HTTP status;
no answer may be a 5xx (507, the mock's documented "store full", cannot happen here: the store
cap is far away and only ten session names are used).
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.mockserver.support import FULL, MINIMAL, USER_A, USER_BOTH, create_app
from tests.servers import serve
from tests.world import FACTS

SEED = 20261201
ROUNDS = 3000
CONTROL_SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "mockserver" / "http" / "control.yaml").read_text(encoding="utf-8")
)
CONTROL_PREFIX = CONTROL_SPEC["servers"][0]["url"]
CONTROL_PATHS = [CONTROL_PREFIX + path for path in CONTROL_SPEC["paths"]]
UID = "0e0e0e0e-0e0e-4e0e-8e0e-0e0e0e0e0e0e"
API_PATHS = [
    "/api/invoices",
    f"/api/invoices/{UID}",
    "/api/invoices/{invoice_uid}",
    f"/api/invoices/{UID}/line_items",
]
OTHER_PATHS = ["/", "/ui/", "/ui", "/__mock/ui/", "/openapi.json", "/api/", "/api", "/__mock", "/nope"]
ROUTES = [*API_PATHS, *CONTROL_PATHS, *OTHER_PATHS]
SESSIONS = [f"fuzz-{n}" for n in range(10)]
MAX_BODY = FACTS.max_body_bytes


@dataclass(frozen=True)
class Junk:
    """One request as bytes, and the kind of junk it carries (how failures are counted)."""

    kind: str
    method: bytes
    target: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send(port: int, junk: Junk) -> Answer | None:
    """Write `junk` on a fresh connection and read the answer until the server closes it."""
    head = junk.method + b" " + junk.target + b" HTTP/1.1\r\n"
    head += b"host: 127.0.0.1\r\nconnection: close\r\n"
    head += b"".join(name + b": " + value + b"\r\n" for name, value in junk.headers)
    if junk.body or junk.method in (b"POST", b"PUT"):
        head += b"content-length: " + str(len(junk.body)).encode() + b"\r\n"
    raw = head + b"\r\n" + junk.body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # The server may answer (and close) before it has read everything.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return parse(b"".join(chunks))


def parse(raw: bytes) -> Answer | None:
    if not raw:
        return None
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = dechunk(body)
    return Answer(status, headers, body)


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out


def envelope_problem(answer: Answer) -> str | None:
    """Why an answer of 400 or more is not the error envelope (None when it is)."""
    if answer.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return f"content-type {answer.headers.get('content-type')!r}"
    try:
        envelope = json.loads(answer.body)
    except ValueError:
        return f"body is not JSON: {answer.body[:80]!r}"
    if not isinstance(envelope, dict) or envelope.get("status") != "error":
        return f"not an error envelope: {answer.body[:80]!r}"
    if envelope.get("status_code") != answer.status:
        return f"status_code {envelope.get('status_code')} != {answer.status}"
    if not isinstance(envelope.get("message"), str) or not envelope["message"].strip():
        return "no message"
    errors = envelope.get("errors")
    if not isinstance(errors, list) or not all(
        isinstance(e, dict) and {"field", "message", "code"} <= e.keys() for e in errors
    ):
        return f"errors malformed: {errors!r}"[:120]
    return None


# --- the junk -------------------------------------------------------------------------------


def huge_integer(rng: random.Random) -> str:
    digits = rng.choice([1, 2, 5, 10, 19, 20, 40, 400, 4300, 4301, 5000, 20000])
    text = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(digits - 1))
    return rng.choice(["", "-", "+", "0"]) + text


def odd_number(rng: random.Random) -> str:
    return rng.choice(
        [
            huge_integer(rng),
            "1e400",
            "-1e400",
            "1e-400",
            "1" + "0" * 400 + ".5",
            "0." + "0" * 5000 + "1",
            "123456789012345678901234567890e99999999999999999999",
            "NaN",
            "Infinity",
            "-0",
            "1.0",
            "1E2",
            "0x10",
            "\uff11\uff12",  # full-width digits
            "٣",
            "1_000",
            " 1",
            "",
        ]
    )


def junk_text(rng: random.Random, limit: int = 40) -> str:
    alphabet = "aZ09-_.~ %/?#&=;,\"'\\\t\x00\x7f\u00e9\u2003\U0001f600\ud800"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, limit)))


def junk_bytes(rng: random.Random, limit: int = 60) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, limit)))


def header_safe(value: bytes) -> bytes:
    """Bytes a header value can carry at all (CR and LF would end it)."""
    return value.replace(b"\r", b"").replace(b"\n", b"")


def lone_surrogate_json(rng: random.Random) -> str:
    return rng.choice(['"\\ud800"', '"\\udfff"', '"a\\ud83d"', '"\\ud83d\\u0041"', '"\\udc00\\ud800"'])


def surrogate_body(rng: random.Random) -> bytes:
    """A create body whose one field (or one key) is a string with a lone surrogate escape."""
    base = dict(rng.choice([MINIMAL, FULL]))
    text = json.dumps(base)
    field = rng.choice([*base.keys(), "invoice_fields.key", "invoice_fields.value", "new_key"])
    marker = '"__SURROGATE__"'
    if field == "invoice_fields.key":
        base["invoice_fields"] = {"__KEY__": {"type": "string", "value": "x"}}
        text = json.dumps(base).replace('"__KEY__"', lone_surrogate_json(rng))
        return text.encode()
    if field == "invoice_fields.value":
        base["invoice_fields"] = {"k": {"type": "string", "value": "__SURROGATE__"}}
    elif field == "new_key":
        text = text[:-1] + ", " + lone_surrogate_json(rng) + ": 1}"
        return text.encode()
    else:
        base[field] = "__SURROGATE__"
    text = json.dumps(base)
    return text.replace(marker, lone_surrogate_json(rng)).encode()


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def number_body(rng: random.Random) -> bytes:
    base = dict(rng.choice([MINIMAL, FULL]))
    field = rng.choice([*base.keys(), "invoice_fields"])
    number = odd_number(rng)
    if field == "invoice_fields":
        return (
            json.dumps({**base, "invoice_fields": {"k": {"type": "number", "value": "__N__"}}})
            .replace('"__N__"', number or "0")
            .encode()
        )
    return json.dumps({**base, field: "__N__"}).replace('"__N__"', number or "0").encode()


def junk_body(rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(
        ["bytes", "encoding", "nesting", "numbers", "surrogates", "escapes", "shapes", "deep-valid", "size"]
    )
    if kind == "bytes":
        return kind, junk_bytes(rng, 400)
    if kind == "encoding":
        text = json.dumps(MINIMAL)
        codec = rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1", "utf-8-sig", "cp1252"])
        return kind, (text + '"\u00e9"').encode(codec, errors="replace")
    if kind == "nesting":
        depth = rng.choice([63, 64, 65, 100, 1000, 10_000, 100_000])
        return kind, nested(depth, rng.choice(["array", "object"])).encode()
    if kind == "numbers":
        return kind, number_body(rng)
    if kind == "surrogates":
        return kind, surrogate_body(rng)
    if kind == "escapes":
        escape = rng.choice(["\\u0000", "\\x41", "\\u12", "\\uZZZZ", "\\/", "\\\\", "\\\n", "\\U0001F600"])
        return kind, json.dumps({**MINIMAL, "status": "__E__"}).replace("__E__", escape).encode()
    if kind == "shapes":
        shape = rng.choice(
            [
                "null",
                "[]",
                '"x"',
                "1",
                "{}",
                '{"now": null}',
                '{"now": 1}',
                '{"now": "' + junk_text(rng) + '"}',
                '{"a": 1, "a": 2}',
                json.dumps({**MINIMAL, "invoice_fields": [1, 2]}),
                json.dumps({**MINIMAL, "invoice_fields": {"k": {"type": "x"}}}),
                json.dumps({"organizations": junk_text(rng)}),
                json.dumps({"users": [{"token": 1}]}),
            ]
        )
        return kind, shape.encode("utf-8", "surrogatepass")
    if kind == "deep-valid":
        depth = rng.choice([60, 63, 200, 2000])
        value = nested(depth, rng.choice(["array", "object"]))
        return kind, json.dumps(
            {**MINIMAL, "invoice_fields": {"k": {"type": "json", "value": "__V__"}}}
        ).replace('"__V__"', value).encode()
    return kind, b'{"a": "' + b"x" * rng.choice([MAX_BODY - 8, MAX_BODY - 7, MAX_BODY]) + b'"}'


def clock_body(rng: random.Random) -> bytes:
    """`PUT /__mock/clock` bodies that parse but may not be representable."""
    year = rng.choice(["0001", "0000", "9999", "2026", "10000", "-001"])
    offset = rng.choice(["Z", "+00:00", "-23:59", "+23:59", "+24:00", "-00:01", "", "+99:99"])
    time = rng.choice(
        ["T00:00:00", "T23:59:59", "T23:59:60", "T00:00:00.1234567891", "t00:00:00", " 00:00:00"]
    )
    day = rng.choice(["-01-01", "-12-31", "-02-29", "-13-01"])
    return json.dumps({"now": f"{year}{day}{time}{offset}"}).encode()


def query_for(rng: random.Random, path: str) -> str:
    names = ["page", "per_page", "invoice_type", "limit", "all", rng.choice(["x", "", "page[]", "%70age"])]
    parts = []
    for _ in range(rng.randint(1, 4)):
        name = rng.choice(names)
        value = rng.choice(
            [
                odd_number(rng),
                junk_text(rng),
                "true",
                "TRUE",
                "yes",
                "ACCOUNTS_PAYABLE",
                "%ff",
                "%zz",
                "%00",
                "%",
                "%c3%a9",
            ]
        )
        parts.append(f"{name}={value}" if rng.random() < 0.9 else name)
    return "&".join(parts)


def prefer_value(rng: random.Random) -> bytes:
    choice = rng.randrange(6)
    if choice == 0:
        return header_safe(junk_bytes(rng, 80))
    if choice == 1:
        return f"code={huge_integer(rng)}".encode()
    if choice == 2:
        return f"delay={rng.choice([huge_integer(rng), '-1', '1.5', '٣', '30001', '0', '1'])}".encode()
    if choice == 3:
        return f'example="{junk_text(rng)}"'.encode("utf-8", "surrogatepass")
    if choice == 4:
        return rng.choice([b"code=", b"=", b",,,", b'code="', b"code=4\xff2", b"code=\xd9\xa3"])
    return f"code={rng.choice(['200', '401', '404', '409', '422', '500', '503', '99999'])}".encode()


def base_headers(rng: random.Random) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/json")]
    if rng.random() < 0.7:
        headers.append((b"authorization", f"Bearer {rng.choice([USER_A, USER_BOTH]).token}".encode()))
    if rng.random() < 0.5:
        headers.append((b"x-mock-session", rng.choice(SESSIONS).encode()))
    return headers


def junk_headers(rng: random.Random) -> list[tuple[bytes, bytes]]:
    kind = rng.randrange(8)
    if kind == 0:
        return [(b"prefer", prefer_value(rng)) for _ in range(rng.randint(1, 3))]
    if kind == 1:
        return [(b"x-mock-session", header_safe(junk_text(rng, 100).encode("utf-8", "surrogatepass")))]
    if kind == 2:
        return [(b"authorization", header_safe(junk_bytes(rng, 100)))]
    if kind == 3:
        return [
            (
                b"content-type",
                rng.choice(
                    [
                        b"",
                        b"text/plain",
                        b"application/json; charset=latin-1",
                        b"APPLICATION/JSON",
                        b"application/json\xff",
                        b";;;",
                        b"application/json; charset=utf-16",
                    ]
                ),
            )
        ]
    if kind == 4:  # long values
        size = rng.choice([1_000, 8_000, 16_000, 65_000, 200_000, 1_100_000])
        return [(rng.choice([b"x-junk", b"prefer", b"authorization", b"x-mock-session"]), b"a" * size)]
    if kind == 5:  # many headers
        return [(f"x-h{n}".encode(), b"v") for n in range(rng.choice([50, 99, 100, 101, 300, 2000]))]
    if kind == 6:  # odd names
        name = rng.choice([b"x\xffy", b"x y", b"", b"x:y", b"\x00", "é".encode(), b"x" * 5000, b"(x)"])
        return [(name, b"v")]
    return [(b"origin", header_safe(junk_bytes(rng, 30))), (b"access-control-request-method", b"POST")]


def junk_method(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"GET",
            b"POST",
            b"PUT",
            b"DELETE",
            b"PATCH",
            b"HEAD",
            b"OPTIONS",
            b"TRACE",
            b"CONNECT",
            b"FOO",
            b"get",
            b"PROPFIND",
            b"M-SEARCH",
            b"X" * 100,
            b"G\xffT",
            b"",
            b"POST\x00",
        ]
    )


def junk_target(rng: random.Random) -> bytes:
    route = rng.choice(ROUTES)
    kind = rng.randrange(7)
    if kind == 0:
        return (route + "/" + junk_text(rng).replace(" ", "%20")).encode("utf-8", "surrogatepass")
    if kind == 1:
        return route.encode() + rng.choice([b"%00", b"%ff", b"%zz", b"%", b"/..", b"//", b"%2f", b"\xff"])
    if kind == 2:
        return b"/" + b"a" * rng.choice([100, 8_000, 20_000, 70_000, 200_000])
    if kind == 3:
        return route.encode() + b"?" + b"q=" + b"1" * rng.choice([10_000, 100_000])
    if kind == 4:
        return rng.choice([b"*", b"http://127.0.0.1/api/invoices", b"api/invoices", b"", b"/api/invoices#x"])
    if kind == 5:
        return f"/api/invoices/{junk_text(rng)}".replace(" ", "%20").encode("utf-8", "surrogatepass")
    return route.encode() + b"?" + query_for(rng, route).encode("utf-8", "surrogatepass")


def one(rng: random.Random) -> Junk:
    """A request with exactly one kind of junk on an otherwise plausible request."""
    method = rng.choice([b"GET", b"POST", b"PUT", b"DELETE"])
    route = rng.choice(ROUTES)
    target, headers, body = route.encode(), base_headers(rng), b""
    kind = rng.choice(["method", "target", "query", "header", "body", "body", "clock", "request-log"])
    if kind == "method":
        method = junk_method(rng)
    elif kind == "target":
        target = junk_target(rng)
    elif kind == "query":
        target = route.encode() + b"?" + query_for(rng, route).encode("utf-8", "surrogatepass")
    elif kind == "header":
        headers += junk_headers(rng)
        if rng.random() < 0.5:
            method, target, body = b"POST", b"/api/invoices", json.dumps(MINIMAL).encode()
    elif kind == "body":
        kind, body = junk_body(rng)
        kind = f"body:{kind}"
        method = b"POST" if rng.random() < 0.6 else b"PUT"
        target = (
            b"/api/invoices"
            if method == b"POST"
            else rng.choice([f"{CONTROL_PREFIX}/fixtures", f"{CONTROL_PREFIX}/clock"]).encode()
        )
    elif kind == "clock":
        method, target, body = b"PUT", f"{CONTROL_PREFIX}/clock".encode(), clock_body(rng)
    else:  # something odd into the request log, then read the log
        method, target = b"GET", f"{CONTROL_PREFIX}/requests?limit={rng.choice([1, 20, 500])}".encode()
    return Junk(kind, method, target, tuple(headers), body)


def junk_requests(seed: int, rounds: int) -> Iterator[Junk]:
    rng = random.Random(seed)
    for _ in range(rounds):
        yield one(rng)
    # Whatever the junk did to state, reading it back must still work.
    for path in CONTROL_PATHS:
        yield Junk("read-back", b"GET", path.encode(), (), b"")


def run(port: int, requests: Iterator[Junk], problems: Callable[[str, Junk, str], None]) -> Counter[str]:
    sent: Counter[str] = Counter()
    for junk in requests:
        sent[junk.kind] += 1
        answer = send(port, junk)
        if answer is None:
            problems(junk.kind, junk, "no answer")
        elif answer.status >= 500:
            problems(junk.kind, junk, f"{answer.status}: {answer.body[:100]!r}")
        elif answer.status >= 400 and junk.method != b"HEAD":
            problem = envelope_problem(answer)
            if problem:
                problems(junk.kind, junk, f"{answer.status} not the envelope: {problem}")
    return sent


def describe(junk: Junk) -> str:
    headers = ", ".join(f"{n[:20]!r}: {v[:40]!r}({len(v)})" for n, v in junk.headers[-3:])
    return f"{junk.method[:20]!r} {junk.target[:80]!r} [{headers}] body={junk.body[:80]!r}({len(junk.body)})"


@pytest.fixture(scope="module")
def fuzz_port() -> Iterator[int]:
    with serve(create_app(max_sessions=len(SESSIONS))) as base_url:
        yield int(base_url.rsplit(":", 1)[1])


def test_junk_never_gets_a_5xx_and_every_refusal_is_the_envelope(fuzz_port: int) -> None:
    found: dict[str, list[str]] = {}

    def problem(kind: str, junk: Junk, what: str) -> None:
        found.setdefault(kind, []).append(f"{what} <- {describe(junk)}")

    sent = run(fuzz_port, junk_requests(SEED, ROUNDS), problem)
    print(f"\nfuzz: {sum(sent.values())} requests sent, by kind: {dict(sorted(sent.items()))}")
    print("problems by kind:", {kind: len(items) for kind, items in sorted(found.items())})
    print("5xx:", sum(item.startswith("5") for items in found.values() for item in items))
    for kind, items in sorted(found.items()):
        print(" ", kind, dict(Counter(item.split(" <- ")[0][:70] for item in items).most_common(12)))
    report = "\n".join(f"{kind}: {len(items)}\n  " + "\n  ".join(items[:3]) for kind, items in found.items())
    assert not found, report


def test_the_junk_is_the_same_on_every_run() -> None:
    first = [describe(junk) for junk in junk_requests(SEED, 50)]
    assert first == [describe(junk) for junk in junk_requests(SEED, 50)]
    assert len(set(first)) > 40


def test_parse_and_envelope_check_catch_what_they_should() -> None:
    """The checker itself: a plain-text 400 and a mismatched status_code are problems."""
    plain = parse(
        b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nInvalid HTTP request received."
    )
    assert plain is not None and envelope_problem(plain)
    wrong = Answer(
        422,
        {"content-type": "application/json"},
        b'{"status":"error","status_code":400,"message":"x","errors":[]}',
    )
    assert envelope_problem(wrong) == "status_code 400 != 422"
    right = Answer(
        422,
        {"content-type": "application/json"},
        b'{"status":"error","status_code":422,"message":"x","errors":[]}',
    )
    assert envelope_problem(right) is None
    assert dechunk(b"3\r\nabc\r\n0\r\n\r\n") == b"abc"
