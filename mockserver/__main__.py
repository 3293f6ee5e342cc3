"""`python -m mockserver` / `invoice-mock`: serve the mock with uvicorn on 127.0.0.1."""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import urllib.parse
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from mockserver.domain.fixtures import DEFAULT_FIXTURES, FixtureError, World
from mockserver.domain.invoice_store import DEFAULT_MAX_INVOICES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="invoice-mock", description="Serve openapi.yaml as a stateful mock of the invoice API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=port_number, default=8080, help="port to listen on, 1-65535 (default: %(default)s)"
    )
    parser.add_argument(
        "--fixtures",
        "--world",
        dest="fixtures",
        default=None,
        metavar="FILE",
        help=f"the mock's world: a world file, recorded or written (default: {DEFAULT_FIXTURES})",
    )
    parser.add_argument("--spec", default=None, help="the contract (default: the bundled openapi.yaml)")
    parser.add_argument(
        "--validate-responses",
        action="store_true",
        help="check every response against the spec (slower; a mismatch is a 500)",
    )
    parser.add_argument(
        "--max-invoices",
        type=int,
        default=DEFAULT_MAX_INVOICES,
        help="invoices kept across all sessions before creates are refused with 507 (default: %(default)s)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="allow browser calls from ORIGIN (repeatable; default: any origin)",
    )
    parser.add_argument("--no-cors", action="store_true", help="answer no CORS headers at all")
    parser.add_argument(
        "--no-control", action="store_true", help="do not serve the control API under /__mock"
    )
    parser.add_argument("--no-swagger-ui", action="store_true", help="do not serve Swagger UI under /ui/")
    parser.add_argument(
        "--state-file",
        default=None,
        metavar="PATH",
        help="keep the state in PATH, an SQLite database: every change answered 2xx is fsync'd first",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    add_proxy_options(parser.add_argument_group("validating proxy (instead of the mock)"))
    return parser


def add_proxy_options(proxy: argparse._ArgumentGroup) -> None:
    """`--proxy URL` and its bounds: the validating proxy serves in the mock's place."""
    proxy.add_argument(
        "--proxy",
        default=None,
        metavar="URL",
        type=upstream_url,
        help="forward every request to URL (a real server) and check each exchange against the spec",
    )
    proxy.add_argument(
        "--proxy-timeout",
        type=bounded(float, 0.1, 300),
        default=10.0,
        metavar="SECONDS",
        help="the upstream must answer within this, else 504 (0.1-300, default: %(default)s)",
    )
    proxy.add_argument(
        "--proxy-max-body",
        type=bounded(int, 1024, 100 * 1024 * 1024),
        default=10 * 1024 * 1024,
        metavar="BYTES",
        help="largest request or answer forwarded, else 413/502 (default: %(default)s)",
    )
    proxy.add_argument(
        "--record",
        default=None,
        metavar="FILE",
        help="keep what the upstream answered as a world file for --world (continued if it exists)",
    )
    proxy.add_argument(
        "--max-violations",
        type=bounded(int, 1, 100_000),
        default=1000,
        metavar="N",
        help="exchanges kept for /__mock/violations, the oldest dropped and counted (default: %(default)s)",
    )


def upstream_url(text: str) -> str:
    """An upstream base URL: http(s)://host[:port][/prefix], nothing after the path."""
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname or parsed.query or parsed.fragment:
        raise argparse.ArgumentTypeError(f"not an http(s)://host[:port][/prefix] URL: {text!r}")
    return text.rstrip("/")


def bounded(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` within [low, high] (a limit is a limit, not infinity)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}-{high:g}")
        return value

    return parse


def port_number(text: str) -> int:
    """A TCP port to listen on: 1-65535 (0 would be a random port the banner cannot name)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is printed (a taken port raises `OSError`).

    uvicorn is handed this socket (`Server.run(sockets=…)`), so the banner's address is the one
    served, and a port that cannot be had is reported before the banner, not after it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds its own
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def banner(
    world: World,
    base_url: str,
    control_url: str | None = None,
    *,
    spec: str | None = None,
    state_file: str | None = None,
) -> str:
    """What a developer needs first: where it listens, which contract and state file it serves,
    which tokens work, a request to paste (one that creates a priced invoice, so the answer shows
    money), and where the control API is."""
    lines = [f"invoice mock listening on {base_url}  (fixtures: {world.source})"]
    if spec is not None:
        lines.append(f"spec: {spec}")
    if state_file is not None:
        lines.append(f"state file: {state_file}")
    lines.append("tokens:")
    for user in world.users.values():
        names = ", ".join(world.organizations[uid].name for uid in sorted(user.organizations))
        lines.append(f"  {user.token:<16} {user.fullname} — {names}")
    if control_url is not None:
        lines.append(
            f"control API: {control_url} (reset, clock, fixtures, request log; --no-control turns it off)"
        )
    sample = sample_create(world)
    if sample is None:
        lines.append(
            "(no user of these fixtures can create an invoice: no owner with a billable party and a document)"
        )
        return "\n".join(lines)
    token, body = sample
    lines += [
        "try:",
        f"  curl -s {base_url}/api/invoices -H 'Authorization: Bearer {token}' \\",
        f"       -H 'Content-Type: application/json' -d '{json.dumps(body)}'",
    ]
    return "\n".join(lines)


def sample_create(world: World) -> tuple[str, dict[str, str]] | None:
    """The first (token, body) of the fixtures that creates an invoice, a priced one if any can."""
    found = [
        (user.token, body)
        for user in world.users.values()
        for owner in sorted(user.organizations)
        if (body := world.sample_create(owner)) is not None
    ]
    return next((item for item in found if "invoice_blueprint_uid" in item[1]), found[0] if found else None)


def serve_proxy(args: argparse.Namespace) -> int:
    """`--proxy URL`: the validating proxy on the given spec, bound before its banner (as the mock)."""
    import uvicorn

    from contract.given import SpecRefused
    from contract.spec import default_spec_path
    from mockserver.proxy.app import VIOLATIONS_PATH, create_proxy_app
    from mockserver.proxy.recorder import RecordFileError

    if args.state_file is not None or args.fixtures is not None:
        print(
            "invoice-mock: --proxy serves the upstream's data: no --world, --fixtures or --state-file",
            file=sys.stderr,
        )
        return 2
    spec_path = args.spec if args.spec is not None else default_spec_path()
    try:
        app = create_proxy_app(
            args.proxy,
            spec_path,
            timeout=args.proxy_timeout,
            max_body_bytes=args.proxy_max_body,
            max_violations=args.max_violations,
            record=args.record,
        )
        sock = listen(args.host, args.port)
    except (SpecRefused, RecordFileError) as error:
        print(f"invoice-mock: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"invoice-mock: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{host}:{args.port}"
    print(f"invoice-mock proxy listening on {base_url} -> {args.proxy}", flush=True)
    print(f"spec: {spec_path}; violations: {base_url}{VIOLATIONS_PATH}", flush=True)
    if args.record is not None:
        print(
            f"recording to {args.record}; serve it later with: invoice-mock --world {args.record}", flush=True
        )
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Build the mock (a spec or fixtures it cannot serve: one line, exit 2), bind its port (taken:
    one line, exit 2), then print the banner and serve on that socket."""
    args = build_parser().parse_args(argv)
    # Connexion imports Starlette's test client at start, which warns about httpx on every launch.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    import uvicorn

    from contract.spec import default_spec_path
    from mockserver.http.app import CONTROL_PREFIX, create_app
    from mockserver.store.persistence import StateFileError

    if args.proxy is not None:
        return serve_proxy(args)
    if args.record is not None:
        print("invoice-mock: --record FILE records what a --proxy URL answers: add --proxy", file=sys.stderr)
        return 2
    try:
        app = create_app(
            args.fixtures,
            args.spec,
            validate_responses=args.validate_responses,
            max_invoices=args.max_invoices,
            cors_origins=None if args.no_cors else (args.cors_origins or ["*"]),
            control=not args.no_control,
            swagger_ui=not args.no_swagger_ui,
            state_file=args.state_file,
        )
    except (FixtureError, StateFileError, ValueError, OSError) as error:
        print(f"invoice-mock: {error}", file=sys.stderr)
        return 2
    try:
        sock = listen(args.host, args.port)
    except OSError as error:
        print(
            f"invoice-mock: cannot listen on {args.host}:{args.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{host}:{args.port}"
    control_url = None if args.no_control else base_url + CONTROL_PREFIX
    spec = args.spec if args.spec is not None else f"{default_spec_path()} (bundled)"
    world = app.runtime.sessions.world
    print(banner(world, base_url, control_url, spec=spec, state_file=args.state_file), flush=True)
    if not args.no_swagger_ui:
        print(f"Swagger UI: {base_url}/ui/", flush=True)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, **app.uvicorn_options())
    # Ctrl-C: uvicorn shuts down cleanly, then re-raises SIGINT by design; `uvicorn.run` swallows
    # it, so do we (every change was in the state file before its answer already).
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
