"""The house rules, enforced in the suite: ruff (lint and format), one-way imports, mypy.

Each test runs the tool exactly as CI and the pre-commit hooks do, on the whole checkout with the
configuration in `pyproject.toml`, and fails with the tool's own report. They need the `dev`
extra (`pip install -e '.[dev]'`), which README's test command installs.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from tests.servers import REPO_ROOT

# The tools a `pip install` of the dev extra puts beside this interpreter (the venv's bin/).
SCRIPTS = Path(sysconfig.get_path("scripts"))


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=600)


def report(result: subprocess.CompletedProcess[str]) -> str:
    return f"{' '.join(result.args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"


def test_ruff_check_is_clean():
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, report(result)


def test_code_is_ruff_formatted():
    result = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, report(result)


def test_imports_run_one_way():
    """import-linter's contracts (pyproject.toml): `contract` imports neither the mock nor the kit,
    the kit never imports the mock, the mock never imports the kit."""
    result = run(str(SCRIPTS / "lint-imports"))
    assert result.returncode == 0, report(result)
    assert "0 broken" in result.stdout, report(result)


@pytest.mark.slow
def test_mypy_is_clean():
    """Every package and the tests, with the `[tool.mypy]` settings (about a minute on 2 cores)."""
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, report(result)


def test_pre_commit_runs_the_same_checks_from_the_venv():
    """The pre-commit hooks are local (`language: system`: nothing is fetched) and run these tools."""
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {hook["language"] for hook in hooks.values()} == {"system"}
    expected = {
        "ruff-check": ["/bin/ruff", " check"],
        "ruff-format": ["/bin/ruff", " format --check"],
        "lint-imports": ["/bin/lint-imports"],
        "mypy": ["/bin/mypy"],
    }
    assert hooks.keys() == expected.keys()
    for hook_id, words in expected.items():
        assert all(word in hooks[hook_id]["entry"] for word in words), hooks[hook_id]


PACKAGES = ("contract", "mockserver", "conformance")
NAMED = re.compile(r"`([\w./]+?)(/?)`")


def test_architecture_note_names_every_module_and_no_module_that_is_gone():
    """ARCHITECTURE.md matches the code: each module is named (or its sub-package folder is), and
    every `something.py` or `folder/` it names exists."""
    text = (REPO_ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = {match.group(1) + match.group(2) for match in NAMED.finditer(text)}
    modules = [path for package in PACKAGES for path in (REPO_ROOT / package).rglob("*.py")]
    left_out = [
        str(path.relative_to(REPO_ROOT))
        for path in modules
        if path.name != "__init__.py"
        and path.name not in named
        and not (path.parent.name not in PACKAGES and f"{path.parent.name}/" in named)  # a sub-package
    ]
    assert not left_out, f"ARCHITECTURE.md does not name {left_out}"
    names = {path.name for path in modules} | {f"{path.parent.name}/" for path in modules}
    gone = [
        name
        for name in named
        if (name.endswith(".py") or name.endswith("/"))
        and name not in names
        and not (REPO_ROOT / name).exists()
        and not any((REPO_ROOT / package / name).exists() for package in PACKAGES)
    ]
    assert not gone, f"ARCHITECTURE.md names what does not exist: {gone}"


def test_readme_layout_names_every_module_and_no_file_that_is_gone():
    """README's layout map is the code's: each module (or its sub-package folder), nothing stale."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Layout\n.*?```\n(.*?)```", readme, re.S)
    assert block, "README has no layout map"
    words = set(block.group(1).split())
    for package in PACKAGES:
        assert f"{package}/" in words, package
        for path in (REPO_ROOT / package).rglob("*"):
            nested = path.parent.name not in PACKAGES
            if (
                path.name == "__init__.py"
                or path.suffix not in (".py", ".yaml")
                or "__pycache__" in path.parts
            ):
                continue
            assert path.name in words or (nested and f"{path.parent.name}/" in words), path
    places = [REPO_ROOT, *(REPO_ROOT / p for p in (*PACKAGES, "tests", "benchmarks", "contract/fixtures"))]
    places += [init.parent for package in PACKAGES for init in (REPO_ROOT / package).glob("*/__init__.py")]
    for word in words:
        if word.endswith((".py", ".yaml")) or (word.endswith("/") and word[:-1].isidentifier()):
            assert any((place / word).exists() for place in places), f"README's layout names {word}"


def connexion_patches(source: str) -> list[str]:
    """Each place in `source` that writes (or deletes) an attribute of something imported from
    Connexion: `Specification._validate_spec = ...`, `setattr(connexion.x, ...)`, `del ...`."""
    tree = ast.parse(source)
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {
                (a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] == "connexion"
            }
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "connexion":
            imported |= {a.asname or a.name for a in node.names}

    def root(node: ast.expr) -> str | None:
        while isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
        ):
            targets = [ast.Attribute(value=node.args[0], attr="?")] if node.args else []
        for target in targets:
            if isinstance(target, ast.Attribute) and root(target) in imported:
                found.append(f"line {getattr(node, 'lineno', 0)}: {ast.unparse(node).splitlines()[0]}")
    return found


def test_connexion_patches_are_found():
    """The check below can fail: the patch the mock used to make is caught, a subclass's own attribute not."""
    patch = (
        "def f():\n    from connexion.spec import Specification\n    Specification._validate_spec = None\n"
    )
    assert connexion_patches(patch) == ["line 3: Specification._validate_spec = None"]
    assert connexion_patches("import connexion.middleware as m\nsetattr(m.routing, 'x', 1)\n")
    assert not connexion_patches(
        "from connexion import AsyncApp\nclass A(AsyncApp):\n    def f(self):\n        self.x = 1\n"
    )


def test_the_mock_patches_nothing_of_connexion():
    """Issue 18: the mock uses Connexion's public API only; it writes no attribute of Connexion's."""
    patches = {
        str(path.relative_to(REPO_ROOT)): found
        for path in (REPO_ROOT / "mockserver").rglob("*.py")
        if (found := connexion_patches(path.read_text(encoding="utf-8")))
    }
    assert not patches, patches


LONGEST = 60  # the house rule: no function longer than this in mockserver/ or conformance/


def long_functions(source: str, limit: int = LONGEST) -> list[tuple[int, str, int]]:
    """(line, name, length) of each function in `source` longer than `limit` lines, from its `def`
    to its last line (decorators not counted); a nested function counts on its own, and in its parent."""
    return [
        (node.lineno, node.name, length)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (length := (node.end_lineno or node.lineno) - node.lineno + 1) > limit
    ]


def test_long_functions_are_found():
    """The check below can fail: a long function is found, nested ones in it too; decorators are not
    lines of the function."""
    body = "".join(f"    x{n} = {n}\n" for n in range(3))
    source = f"@decorator\n@another\ndef outer():\n    def inner():\n{body.replace('    ', '        ')}{body}"
    assert long_functions(source, limit=8) == []
    assert long_functions(source, limit=7) == [(3, "outer", 8)]
    assert long_functions(source, limit=3) == [(3, "outer", 8), (4, "inner", 4)]
    assert long_functions("async def f():\n    pass\n", limit=1) == [(1, "f", 2)]


def test_no_function_is_longer_than_60_lines():
    """The house rule, for the two packages it covers: a long function is split into named helpers."""
    found = [
        f"{path.relative_to(REPO_ROOT)}:{line} {name} {length}"
        for package in ("mockserver", "conformance")
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for line, name, length in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert not found, "functions longer than 60 lines:\n" + "\n".join(found)
