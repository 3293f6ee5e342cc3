"""What the frontend-facing tests share.

- The contract and the fixture world, each read from its one file: every uid, token and
  expected body is derived from `openapi.yaml` and `contract/fixtures/default.yaml`.
- Mocks to test against: in-process (Connexion's test client), uvicorn in a thread on
  127.0.0.1 and a free port, or `python -m mockserver` in a subprocess (both from `tests.servers`).
- The toolchains a frontend team uses: headless Chromium driven by Playwright, and a Node
  project with openapi-typescript / openapi-fetch. Each is installed on demand (Debian's
  `chromium`, PyPI's `playwright`, the npm registry) or the tests that need it are SKIPPED with
  the reason: they never pass without having run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import mockserver.http.app
from contract.spec import inline_refs, iter_operations, load_spec, operation
from mockserver.domain.fixtures import User
from tests.servers import ServerProcess, free_port, serve, wait_until_answers  # noqa: F401  (free_port: re-exported)
from tests.toolchains import npm_packages, require_on_path
from tests.world import (  # noqa: F401  (re-exported: the frontend tests import them from here)
    MINIMAL,
    NOW,
    ORG_A,
    ORG_B,
    SPEC,
    SPEC_PATH,
    WORLD,
    blueprint_of,
    body_for,
    create_app,
    document_of,
    party_billable_by,
    user_of,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTROL_SPEC = load_spec(mockserver.http.app.CONTROL_SPEC)
CONTROL = mockserver.http.app.CONTROL_PREFIX


USER_A, USER_B = user_of(ORG_A), user_of(ORG_B)
PARTY_A, PARTY_B = party_billable_by(ORG_A), party_billable_by(ORG_B)
UNKNOWN_UID = "99999999-9999-4999-8999-999999999999"
assert UNKNOWN_UID not in {*WORLD.organizations, *WORLD.parties, *WORLD.documents, *WORLD.blueprints}
SESSION_HEADER = "X-Mock-Session"


def headers(user: User | None = USER_A, session: str | None = None, **extra: str) -> dict[str, str]:
    """Bearer auth for `user` (none if None), the session header if given, and `extra` headers."""
    found = {"Authorization": f"Bearer {user.token}"} if user is not None else {}
    if session is not None:
        found[SESSION_HEADER] = session
    found.update({name.replace("_", "-"): value for name, value in extra.items()})
    return found


def created(client: Any, body: dict[str, Any] | None = None, **header_options: Any) -> dict[str, Any]:
    """Create an invoice that must be accepted; its `data`."""
    response = client.post("/api/invoices", json=body or body_for(), headers=headers(**header_options))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def assert_envelope_error(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The contract's error envelope with `status`, whose message names every one of `words`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0].strip() == "application/json", response.headers
    envelope = response.json()
    assert envelope["status"] == "error", envelope
    assert envelope["status_code"] == status, envelope
    assert isinstance(envelope["errors"], list), envelope
    for word in words:
        assert word in envelope["message"], (word, envelope)
    return envelope


def documented_responses(operation_id: str) -> dict[int, dict[str, Any]]:
    """The operation's documented responses by status, `$ref`s inlined (read from openapi.yaml)."""
    op = operation(SPEC, operation_id)
    return {int(s): inline_refs(SPEC, r) for s, r in op["responses"].items() if s.isdigit()}


def operations() -> list[tuple[str, str, str]]:
    """(operationId, method, path) of every operation of the contract."""
    return [(op["operationId"], method.upper(), path) for path, method, op in iter_operations(SPEC)]


# ---------------------------------------------------------------------------------------------
# Mocks: in-process, uvicorn in a thread, `python -m mockserver` in a subprocess (tests.servers).
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def mock_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start `python -m mockserver` processes; every one is ended at teardown."""
    started: list[ServerProcess] = []

    def start(*args: str, port: int | None = None) -> ServerProcess:
        mock = ServerProcess.mock(tmp_path / "logs", *args, port=port)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.kill9()


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """A fresh in-process mock (its own sessions) behind Connexion's test client."""

    def make(**options: Any) -> Any:
        options.setdefault("clock", NOW)
        return create_app(**options).test_client()

    return make


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@pytest.fixture(scope="session")
def live_url() -> Iterator[str]:
    """One real uvicorn mock for the whole run: tests share it, so each uses its own session."""
    with serve(create_app(clock=NOW)) as base_url:
        yield base_url


@pytest.fixture
def session_name() -> str:
    """A session name no other test uses."""
    return f"t-{uuid.uuid4().hex[:16]}"


# ---------------------------------------------------------------------------------------------
# A real browser: Debian's chromium driven by Playwright (installed on demand, or SKIPPED).
# ---------------------------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_TIMEOUT = 900


def _tail(text: str | bytes | None, lines: int = 15) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return "\n".join((text or "").strip().splitlines()[-lines:])


def _run_install(command: list[str], what: str) -> str | None:
    """Run an install command; None on success, else why it failed (for a skip message)."""
    try:
        result = subprocess.run(command, capture_output=True, timeout=INSTALL_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{what}: {' '.join(command)} could not run: {error}"
    if result.returncode != 0:
        output = _tail(result.stderr) or _tail(result.stdout)
        return f"{what}: {' '.join(command)} exited {result.returncode}: {output}"
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium: found on PATH, or installed with apt-get; SKIP with the reason otherwise."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and there is no apt-get to install it with")
    env_command = ["env", "DEBIAN_FRONTEND=noninteractive"]
    failure = _run_install([*env_command, "apt-get", "update"], "installing chromium") or _run_install(
        [*env_command, "apt-get", "install", "-y", "chromium"], "installing chromium"
    )
    found = shutil.which("chromium")
    if found is None:
        pytest.skip(failure or "apt-get install -y chromium succeeded but put no `chromium` on PATH")
    return found


@pytest.fixture(scope="session")
def sync_playwright() -> Any:
    """`playwright.sync_api.sync_playwright`, pip-installed if missing; SKIP with the reason otherwise."""
    try:
        module = importlib.import_module("playwright.sync_api")
    except ImportError:
        failure = _run_install(
            [sys.executable, "-m", "pip", "install", "playwright"], "installing playwright"
        )
        if failure:
            pytest.skip(failure)
        importlib.invalidate_caches()
        try:
            module = importlib.import_module("playwright.sync_api")
        except ImportError as error:
            pytest.skip(f"playwright was pip-installed but does not import: {error}")
    return module.sync_playwright


@pytest.fixture(scope="module")
def browser(chromium_path: str, sync_playwright: Any) -> Iterator[Any]:
    """Headless Chromium (the system one: Playwright's own browser download is never used).

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread while it
    is open, which would break every later test that calls `asyncio.run`.
    """
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        except Exception as error:  # Playwright raises its own Error type
            pytest.skip(f"{chromium_path} does not launch under Playwright: {_tail(str(error), 8)}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser page; on failure a screenshot and the HTML are saved to tmp_path."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    console: list[str] = []
    opened.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    try:
        yield opened
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            with contextlib.suppress(Exception):
                opened.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                (tmp_path / "failure.html").write_text(opened.content(), encoding="utf-8")
                (tmp_path / "console.txt").write_text("\n".join(console), encoding="utf-8")
                print(f"browser screenshot, HTML and console saved in {tmp_path}")
        context.close()


# ---------------------------------------------------------------------------------------------
# A TypeScript client: openapi-typescript + openapi-fetch, the npm install cached across runs.
# ---------------------------------------------------------------------------------------------

TS_PACKAGES = {
    "openapi-typescript": "7.13.0",
    "openapi-fetch": "0.17.0",
    "typescript": "5.9.3",
    "tsx": "4.23.15",
}


@pytest.fixture(scope="session")
def ts_packages() -> Path:
    """A folder whose node_modules holds the pinned packages; SKIP if node or npm is missing."""
    require_on_path("npx", purpose="the TypeScript client test")
    return npm_packages(TS_PACKAGES, "the TypeScript client test")


@pytest.fixture
def ts_project(ts_packages: Path, tmp_path: Path) -> Path:
    """An npm project in tmp_path using the cached node_modules (never inside the repository)."""
    project = tmp_path / "ts-client"
    project.mkdir()
    (project / "package.json").write_text(
        json.dumps({"name": "invoice-kit-ts-client", "private": True, "type": "module"}), encoding="utf-8"
    )
    (project / "node_modules").symlink_to(ts_packages / "node_modules", target_is_directory=True)
    return project
