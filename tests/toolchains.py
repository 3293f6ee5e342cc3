"""Outside toolchains the tests run (npm packages, a PyPI tool in its own venv), installed on demand.

One installer for every test that needs a peer tool: the TypeScript client test, and the tools in
tests/tools (Spectral, Redocly, Prism, Specmatic, openapi-python-client). Each set of pinned
packages is installed once into a cache folder keyed by the versions (and node's or Python's major
version), under a file lock so that parallel runs wait for one install instead of racing; an
install that fails or cannot run SKIPS the test with the reason: such tests never pass without
having run. `INVOICE_KIT_TOOL_CACHE` moves the cache (default: `<tmp>/invoice-kit-tool-cache`).

Each ready folder records how long its install took (`.ready`, JSON), so a run can report
first-install times.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

INSTALL_TIMEOUT = 900
CACHE_ROOT = Path(
    os.environ.get("INVOICE_KIT_TOOL_CACHE", Path(tempfile.gettempdir()) / "invoice-kit-tool-cache")
)
NODE_ENV = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false"}


class ToolchainUnavailable(pytest.skip.Exception):  # type: ignore[name-defined]
    """The toolchain cannot be had here (not on PATH, install failed): a skip with the reason.

    A skip inside a test; outside pytest (the benchmark installs Prism through this module too)
    an ordinary exception whose `msg` says why.
    """


def tail(text: str | bytes | None, lines: int = 15) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return "\n".join((text or "").strip().splitlines()[-lines:])


def require_on_path(*tools: str, purpose: str) -> None:
    """SKIP (with the reason) unless every tool is on PATH."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise ToolchainUnavailable(f"not on PATH: {', '.join(missing)} (needed for {purpose})")


def _major_version(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    return (result.stdout or result.stderr).strip().lstrip("v").split(".")[0]


def _cached_install(
    kind: str, packages: dict[str, str], runtime: str, install: Callable[[Path], str | None]
) -> Path:
    """The ready cache folder for `packages`, running `install(folder)` once if needed.

    `install` returns None on success or the reason it failed (the test is then skipped).
    """
    key_source = json.dumps({"kind": kind, "packages": packages, "runtime": runtime}, sort_keys=True)
    target = CACHE_ROOT / f"{kind}-{hashlib.sha256(key_source.encode()).hexdigest()[:16]}"
    ready = target / ".ready"
    if ready.exists():
        return target
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run installing the same key: wait for it
        if ready.exists():
            return target
        # Installed in place (a venv's scripts name their folder): without `.ready` the folder is
        # a broken earlier attempt, started again from nothing.
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        started = time.monotonic()
        failure = install(target)
        if failure:
            shutil.rmtree(target, ignore_errors=True)
            raise ToolchainUnavailable(failure)
        seconds = round(time.monotonic() - started, 1)
        ready.write_text(json.dumps({"packages": packages, "install_seconds": seconds}), encoding="utf-8")
        print(f"\ninstalled {', '.join(packages)} in {seconds} s into {target}")
    return target


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str | None:
    """Run an install command; None on success, else why it failed (for a skip message)."""
    try:
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return f"{' '.join(command)} took over {INSTALL_TIMEOUT} s"
    except OSError as error:
        return f"{' '.join(command)} could not run: {error}"
    if result.returncode != 0:
        return (
            f"{' '.join(command)} failed ({result.returncode}): {tail(result.stderr) or tail(result.stdout)}"
        )
    return None


def npm_packages(packages: dict[str, str], purpose: str) -> Path:
    """A folder whose `node_modules` holds the pinned npm packages; SKIP if node or npm is missing."""
    require_on_path("node", "npm", purpose=purpose)

    def install(folder: Path) -> str | None:
        (folder / "package.json").write_text(
            json.dumps({"name": "invoice-kit-tool-cache", "private": True, "type": "module"}),
            encoding="utf-8",
        )
        specs = [f"{name}@{version}" for name, version in packages.items()]
        return _run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *specs], folder, env=NODE_ENV
        )

    return _cached_install("npm", packages, f"node{_major_version(['node', '--version'])}", install)


def npm_bin(folder: Path, name: str) -> str:
    """The path of an installed npm package's command."""
    return str(folder / "node_modules" / ".bin" / name)


def pip_tool(packages: dict[str, str], purpose: str) -> Path:
    """The `bin` folder of a venv (in the cache) holding the pinned PyPI packages and their commands.

    A venv of its own, so the tool's dependencies never meet the project's.
    """
    runtime = f"py{sys.version_info.major}.{sys.version_info.minor}"

    def install(folder: Path) -> str | None:
        venv = folder / "venv"
        failure = _run([sys.executable, "-m", "venv", str(venv)], folder)
        if failure:
            return f"{purpose}: {failure}"
        specs = [f"{name}=={version}" for name, version in packages.items()]
        failure = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *specs], folder)
        return f"{purpose}: {failure}" if failure else None

    return _cached_install("pip", packages, runtime, install) / "venv" / "bin"
