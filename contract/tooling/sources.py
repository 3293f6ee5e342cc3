"""Where the specs to compare come from: a file, or a file as it was at a git ref.

`--base origin/main` exists so CI can ask "does this pull request break anyone" without
checking out two trees: `git show REF:PATH` reads the old spec straight from the object store.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml


class SpecSourceError(Exception):
    """A spec could not be read; the message says which and why, for the command line."""


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecSourceError(f"{label} is not YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise SpecSourceError(f"{label} is not an OpenAPI document (its top level is not a mapping)")
    return spec


def load_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecSourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return _parse(text, str(path))


def _git(arguments: list[str], cwd: Path) -> str:
    try:
        result = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise SpecSourceError(f"cannot run git: {exc}") from exc
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["failed"])[0]  # one line on the command line
        raise SpecSourceError(f"git {' '.join(arguments)}: {first}")
    return result.stdout


def _repository_root(path: Path) -> Path:
    """The root of the git work tree holding `path`, or a one-line reason why there is none."""
    if not path.is_file():
        raise SpecSourceError(f"no such file: {path}")
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=path.parent,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise SpecSourceError(f"cannot run git: {exc}") from exc
    if result.returncode != 0:
        raise SpecSourceError(
            f"--base compares a spec with its committed version, but {path} is not in a git repository; "
            "compare two files instead (spec diff OLD NEW)"
        )
    return Path(result.stdout.strip()).resolve()


def load_at_ref(ref: str, new_path: Path) -> tuple[dict[str, Any], str]:
    """(spec, label) of `new_path` as committed at `ref`, the path taken relative to its repo root."""
    resolved = new_path.resolve()
    root = _repository_root(resolved)
    relative = resolved.relative_to(root).as_posix()
    label = f"{ref}:{relative}"
    return _parse(_git(["show", label], root), label), label
