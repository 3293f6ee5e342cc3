"""Which mock is measured: a frozen copy of the working tree (or a committed ref), and its fingerprint.

Others edit the tree while benchmarks run, and every load runs on a fresh process: without a
copy taken once at the start, an edit saved mid-benchmark would make the runs measure different
code (or a half-written file). The copy holds what the mock imports and serves: `mockserver/`,
`contract/` (the spec loader and fixtures it imports since the contract package exists) and
`openapi.yaml`; a directory missing at an old ref is simply not copied.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from bench.errors import BenchError

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BENCH_DIR.parent
MEASURED = ("mockserver", "contract", "openapi.yaml")


def git(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return done.stdout.rstrip()


def export_ref(ref: str, directory: Path) -> Path:
    """The mock and its contract as committed at `ref`, in a scratch directory (`git archive`).

    A committed version is a fixed, coherent target (and two refs can be compared). Read-only for
    the repository: no checkout, no worktree.
    """
    present = [p for p in MEASURED if git("ls-tree", "--name-only", ref, "--", p)]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "--", *present],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0 or not present:
        raise BenchError(f"git archive {ref}: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(directory, filter="data")
    return directory


def snapshot_tree(directory: Path) -> Path:
    """A copy of the working tree's mock and contract, taken once at the start."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in MEASURED:
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, directory / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif origin.exists():
            shutil.copy2(origin, directory / name)
    return directory


def source_state(root: Path, ref: str | None) -> dict[str, Any]:
    """The commit, uncommitted changes and a hash of the served sources: a figure without it is not
    attributable to any code."""
    digest = hashlib.sha256()
    sources: list[Path] = []
    for name in MEASURED:
        path = root / name
        sources += sorted(path.rglob("*.py")) + sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    for path in sources:
        if path.exists():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    if ref is not None:
        commit = git("rev-parse", "--short", ref)
        return {"commit": commit, "ref": ref, "dirty": [], "sources_sha256": digest.hexdigest()[:12]}
    dirty = git("status", "--porcelain", "--", *MEASURED).splitlines()
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": dirty,
        "sources_sha256": digest.hexdigest()[:12],
    }


def describe_source(src: dict[str, Any]) -> str:
    """`commit abc1234, uncommitted: a.py b.py; sources sha256 …` for report headers."""
    dirty = f", uncommitted: {' '.join(line.split()[-1] for line in src['dirty'])}" if src["dirty"] else ""
    ref = f" ({src['ref']})" if src.get("ref") else ""
    return f"commit {src['commit']}{ref}{dirty}; sources sha256 {src['sources_sha256']}"
