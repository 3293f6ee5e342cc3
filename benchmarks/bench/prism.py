"""Prism's mock (`@stoplight/prism-cli`, pinned), installed from npm into a cache outside the repository.

Why Prism: it is the best-known mock server an OpenAPI user would pick instead of ours, so "the
mock is N times Prism on the same body" is the comparison a user cares about. It is installed once per
(version, node major) key under `~/.cache/invoice-contract-kit/npm/`, the way
`tests/frontend/conftest.py` caches the TypeScript client's packages: into a private folder
renamed into place when complete, under a file lock, so two runs never see half an install.
Without node or npm, or when the install fails, Prism is left out and the report says why.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError, log

PACKAGE = "@stoplight/prism-cli"
VERSION = "5.14.2"
CACHE_ROOT = Path.home() / ".cache" / "invoice-contract-kit" / "npm"
INSTALL_TIMEOUT_S = 300
NODE_ENV = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "npm_config_update_notifier": "false"}
# `-v error`: Prism logs every request at its default level `info`, which costs it about 40 % of its
# throughput (stack-notes: 1,800 vs 3,100 req/s). `--errors` is not a logging flag: it turns
# response violations into error answers, which a valid create never meets.
QUIET = ("--verboseLevel", "error")


@dataclass(frozen=True)
class Prism:
    """An installed Prism: how to start its mock on `spec` at 127.0.0.1:`port`."""

    node: str
    script: Path

    def argv(self, spec: Path, port: int) -> list[str]:
        return [
            self.node,
            str(self.script),
            "mock",
            str(spec),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *QUIET,
        ]


def _node_major(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip().lstrip("v").split(".")[0] or "unknown"


def install_prism() -> Prism:
    """The cached install, made on first use; BenchError (with the reason) when it cannot be had."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise BenchError("node or npm is not on PATH")
    key_source = json.dumps({"package": PACKAGE, "version": VERSION, "node": _node_major(node)})
    target = CACHE_ROOT / f"prism-cli-{VERSION}-{hashlib.sha256(key_source.encode()).hexdigest()[:12]}"
    script = target / "node_modules" / ".bin" / "prism"
    ready = target / ".ready"
    if not ready.exists():
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        with open(CACHE_ROOT / f"{target.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another run installing the same key: wait for it
            if not ready.exists():
                _npm_install(npm, target)
                ready.write_text(key_source, encoding="utf-8")
    return Prism(node=node, script=script.resolve())


def _npm_install(npm: str, target: Path) -> None:
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "package.json").write_text(
        json.dumps({"name": "invoice-kit-bench-prism", "private": True}), encoding="utf-8"
    )
    command = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", f"{PACKAGE}@{VERSION}"]
    log(f"installing {PACKAGE}@{VERSION} into {target} (once)")
    try:
        done = subprocess.run(
            command,
            cwd=partial,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            env=NODE_ENV,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise BenchError(f"{' '.join(command)} took over {INSTALL_TIMEOUT_S} s") from error
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BenchError(f"{' '.join(command)} failed ({done.returncode}): {tail}")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
