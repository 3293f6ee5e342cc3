"""README verbatim (issue 21, item 9): what a newcomer copies from README works as written.

- Every shell block preceded by `<!-- runnable -->` (other marker comments may stand between it
  and the fence) is run, in README's order, in one `bash -euo pipefail` (a reader's terminal: a
  variable one block sets, the next may use), from a copy of the checkout whose `.venv` is the
  venv running this test, against a mock this test starts with `python -m mockserver` on a free
  port. Two substitutions, no more: `http://127.0.0.1:8080` (the quick start's mock) becomes
  that mock's address, and the kit's run gets `--seed 11` (one of the seeds the kit is proven
  under, tests/conformance/kit.py: a test never draws a random seed). A line ending in `# 403`
  must have answered that status (`"status_code": 403` in the block's output), one ending in
  `# 200 200 200 429` must have printed those codes.
- Every other shell block is listed in `UNMARKED` with why it is not run (it installs things,
  needs the network or a remote, or is a template), so a new block is a decision, not a gap.
- The options tables are the parsers' options, the pins of `npx` are the tests' pins, the counts
  README states are the code's, and the files README has you create are ignored by git.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.kit import FIXED_SEEDS
from tests.conftest import REPO_ROOT
from tests.servers import ServerProcess, free_port
from tests.toolchains import require_on_path

README_PATH = REPO_ROOT / "README.md"
README = README_PATH.read_text(encoding="utf-8")
RUNNABLE = "<!-- runnable -->"
QUICK_START_MOCK = "http://127.0.0.1:8080"
RUN_TIMEOUT = 600  # seconds for every runnable block together (the kit's run is most of it)

# The first line of each shell block that is not run, and why.
UNMARKED = {
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/invoice-mock": (
        "installs the package and its dependencies from PyPI (network), then serves until stopped"
    ),
    "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest": (
        "installs from PyPI and is the whole suite itself (.ci/run runs it verbatim)"
    ),
    ".venv/bin/pip wheel --no-deps -w dist .": "builds a wheel and installs it into another venv",
    "npx --yes openapi-typescript@7.13.0 openapi.yaml -o schema.d.ts --default-non-nullable false": (
        "fetches from npm (network); tests/frontend/test_typescript_client.py runs this generator at "
        "this pin (test_npx_commands_are_pinned_and_non_interactive checks the pin)"
    ),
    ".venv/bin/python -m pytest -p conformance.plugin --pyargs conformance.suite \\": (
        "a template ([optional] parts, the reader's target.yaml); tests/conformance/test_plugin.py "
        "runs it against the mock"
    ),
    ".venv/bin/pip install pre-commit && .venv/bin/pre-commit install": "installs from PyPI",
    ".venv/bin/python -m uvicorn tests.second_server.app:create_app --factory --port 8081": (
        "two servers that serve until stopped, on fixed ports; tests/mockserver/test_proxy.py runs "
        "`python -m mockserver --proxy URL` in front of a mock on free ports"
    ),
    ".venv/bin/invoice-conformance spec diff --base origin/main openapi.yaml  "
    "# does my change break anyone?": (
        "needs the remote branch origin/main (a clone has it, a worktree or an export may not); "
        "tests/spec_tooling/test_cli.py runs --base in a repository it makes"
    ),
}


@dataclass(frozen=True)
class ShellBlock:
    line: int  # README's line of the first command
    text: str
    runnable: bool

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0].strip()


def shell_blocks(text: str = README) -> list[ShellBlock]:
    """Every ```sh block, dedented to its fence, and whether the comments above it mark it runnable."""
    lines = text.splitlines()
    blocks: list[ShellBlock] = []
    index = 0
    while index < len(lines):
        fence = re.fullmatch(r"(\s*)```sh\s*", lines[index])
        if fence is None:
            index += 1
            continue
        above, comments = index - 1, []
        while above >= 0 and re.fullmatch(r"\s*<!--.*-->\s*", lines[above]):
            comments.append(lines[above].strip())
            above -= 1
        end = next(at for at in range(index + 1, len(lines)) if lines[at].strip() == "```")
        indent = len(fence.group(1))
        body = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
        blocks.append(ShellBlock(index + 2, body, RUNNABLE in comments))
        index = end + 1
    return blocks


def test_the_kit_run_is_given_a_fixed_seed(tmp_path: Path):
    script = script_of(
        [ShellBlock(1, f".venv/bin/invoice-conformance run --base-url {QUICK_START_MOCK}\n", True)],
        "http://h:1",
        tmp_path,
    )
    assert f"run --base-url http://h:1 --seed {FIXED_SEEDS[0]}\n" in script


def test_shell_blocks_are_found_with_their_marks():
    sample = "text\n<!-- runnable -->\n<!-- name -->\n```sh\necho a\n```\n\n  ```sh\n  echo b\n  ```\n"
    assert shell_blocks(sample) == [ShellBlock(5, "echo a\n", True), ShellBlock(9, "echo b\n", False)]


def test_every_shell_block_is_run_or_says_why_not():
    blocks = shell_blocks()
    assert sum(block.runnable for block in blocks) >= 8, "README's runnable blocks went missing"
    undecided = [
        f"line {b.line}: {b.first_line}" for b in blocks if not b.runnable and b.first_line not in UNMARKED
    ]
    assert not undecided, f"mark these <!-- runnable --> or add them to UNMARKED with the reason: {undecided}"
    stale = set(UNMARKED) - {block.first_line for block in blocks if not block.runnable}
    assert not stale, f"UNMARKED names blocks README no longer has (or now marks runnable): {stale}"


def expected_statuses(block: str) -> list[str]:
    """The statuses the block's trailing comments promise (`# 403`, `# 200 200 200 429`)."""
    return [found.group(1) for found in re.finditer(r"#\s*(\d{3}(?: \d{3})*)\s*$", block, re.M)]


def checkout_copy(folder: Path) -> Path:
    """The checkout's top-level entries as symlinks, `.venv` the venv running this test."""
    folder.mkdir()
    for entry in REPO_ROOT.iterdir():
        if entry.name not in (".venv", ".git"):
            (folder / entry.name).symlink_to(entry)
    venv = Path(sys.prefix)
    assert (venv / "bin" / "invoice-conformance").exists(), (
        f"{venv} is not the project's venv (README's test command)"
    )
    (folder / ".venv").symlink_to(venv)
    return folder


def script_of(blocks: list[ShellBlock], base_url: str, outputs: Path) -> str:
    """One script: each block's output to its own file, a marker on stderr before each."""
    parts = []
    for number, block in enumerate(blocks):
        text = block.text.replace(QUICK_START_MOCK, base_url)
        text = re.sub(
            r"^(.*invoice-conformance run --base-url \S+)$", rf"\1 --seed {FIXED_SEEDS[0]}", text, flags=re.M
        )
        parts.append(f"echo '### README.md line {block.line}' >&2\n{{\n{text}}} > '{outputs}/{number}.out'\n")
    return "".join(parts)


@pytest.mark.e2e
def test_every_runnable_block_runs_as_written(tmp_path: Path):
    require_on_path("bash", "curl", "python3", purpose="README's shell blocks")
    blocks = [block for block in shell_blocks() if block.runnable]
    workdir, outputs = checkout_copy(tmp_path / "checkout"), tmp_path / "outputs"
    outputs.mkdir()
    with ServerProcess.mock(tmp_path / "logs", port=free_port()) as mock:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script_of(blocks, mock.base_url, outputs)],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    where = done.stderr.strip().splitlines()
    assert done.returncode == 0, "\n".join(where[-30:])
    for number, block in enumerate(blocks):
        printed = (outputs / f"{number}.out").read_text(encoding="utf-8")
        for statuses in expected_statuses(block.text):
            found = (
                statuses in printed
                if " " in statuses
                else re.search(rf'"status_code":\s*{statuses}\b', printed)
            )
            assert found, f"README.md line {block.line}: promised {statuses}, printed:\n{printed[-2000:]}"


# -- the facts README states -------------------------------------------------------------------


def table_options(marker: str) -> set[str]:
    """The options a README table between `<!-- marker -->` comments names in its first column."""
    found = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", README, re.S)
    assert found, f"README has no <!-- {marker} --> table"
    first_cells = [row.split(" | ")[0] for row in found.group(1).splitlines() if row.startswith("| `")]
    return {option for cell in first_cells for option in re.findall(r"`(--[a-z-]+)", cell)}


def parser_options(parser: Any) -> set[str]:
    return {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }


def test_the_mock_options_table_is_every_option():
    from mockserver.__main__ import build_parser

    assert table_options("mock-options") == parser_options(build_parser())


def test_the_kit_options_table_is_every_option():
    import argparse

    from conformance import cli

    commands = argparse.ArgumentParser().add_subparsers()
    cli.register(commands)
    (run_parser,) = commands.choices.values()
    assert table_options("kit-options") == parser_options(run_parser)


def test_the_pytest_plugin_options_are_all_documented():
    from conformance.plugin import OPTIONS

    for name in [*OPTIONS, "skip"]:
        assert f"--invoice-{name}" in README, name


def test_npx_commands_are_pinned_and_non_interactive():
    """`npx` without `--yes` asks before installing (a CI job hangs); without a version it takes
    whatever is newest, not what the tests ran."""
    from tests.frontend.conftest import TS_PACKAGES
    from tests.tools.conftest import PEER_NPM_PACKAGES

    pins = {**TS_PACKAGES, **PEER_NPM_PACKAGES}
    commands = re.findall(r"npx\s+(\S+)\s+(\S+)", README)
    assert len(commands) >= 3
    for flag, package in commands:
        assert flag == "--yes", f"npx {flag} {package}: pass --yes"
        name, _, version = package.rpartition("@")
        assert pins.get(name) == version, f"{package}: the tests pin {name}@{pins.get(name)}"
    for name, version in re.findall(r"npm install (\S+?)@(\S+)", README):
        assert pins.get(name) == version, f"npm install {name}@{version}: the tests pin {pins.get(name)}"


def number(text: str) -> int:
    return int(text.replace(",", ""))


def counts() -> list[tuple[str, int]]:
    """(pattern of a count README states, the code's value), each pattern's numbers all that value."""
    from conformance.runner import catalog
    from mockserver.domain.invoice_store import DEFAULT_MAX_INVOICES
    from mockserver.http import protocol, request_log
    from mockserver.http.scenarios import MAX_DELAY_MS
    from mockserver.store.state import DEFAULT_MAX_SESSIONS
    from tests.conformance.faults import FAULTS
    from tests.conformance.test_fault_variants import NOT_FLIPPED_YET
    from tests.mockserver.test_fuzz import ROUNDS

    return [
        (r"the (\d+) properties", len(catalog())),
        (r"a green run of (\d+) skips", len(catalog())),
        (r"each of (\d+) fault-injecting", len(FAULTS)),
        (r"`NOT_FLIPPED_YET` \((\d+) rows today\)", len(NOT_FLIPPED_YET)),
        (r"At most (\d+) sessions", DEFAULT_MAX_SESSIONS),
        (r"\(default ([\d,]+)\) invoices", DEFAULT_MAX_INVOICES),
        (r"`507` \(default ([\d,]+)\)", DEFAULT_MAX_INVOICES),
        (r"its ([\d,]+)-invoice cap", DEFAULT_MAX_INVOICES),
        (r"at most (\d+)\s+exchanges", request_log.DEFAULT_CAPACITY),
        (r"exchanges and (\d+) MiB", request_log.DEFAULT_MAX_BYTES // 2**20),
        (r"the first\s+(\d+) KiB of each body", request_log.MAX_BODY_CHARS // 1024),
        (r"(\d+) KiB of the path and query", request_log.MAX_TEXT_CHARS // 1024),
        (r"limited to (\d+) KiB \(request line and headers\)", protocol.MAX_HEAD_BYTES // 1024),
        (r"and (\d+)\s+header fields", protocol.MAX_HEADERS),
        (r"at most ([\d,]+) ms\)", MAX_DELAY_MS),
        (r"sends ([\d,]+) seeded junk requests", ROUNDS),
    ]


@pytest.mark.parametrize(("pattern", "value"), counts(), ids=[pattern for pattern, _ in counts()])
def test_a_count_readme_states_is_the_codes(pattern: str, value: int):
    stated = [number(found) for found in re.findall(pattern, README)]
    assert stated, f"README no longer says {pattern!r}: update this table"
    assert set(stated) == {value}, f"README says {stated} for {pattern!r}; the code has {value}"


def test_the_wrapper_comparison_table_adds_up():
    """The `caught` row of the kit-vs-Schemathesis table is the count of its rows, not a copy."""
    rows = re.findall(r"^\| `([a-z0-9-]+)` \(.*?\) \| (.*?) \| (.*?) \|$", README, re.M)
    from tests.conformance.faults import FAULTS

    assert rows and all(name in FAULTS for name, _kit, _plain in rows)
    total = re.search(r"the first (\d+)\s+wrappers", README)
    summary = re.search(
        r"\| \*\*caught\*\* \| \*\*(\d+) / (\d+)\*\* of (\d+) \| \*\*(\d+) / (\d+)\*\* of (\d+) \|", README
    )
    assert total and summary
    kit = [(kit.startswith("caught / "), kit.split(" (")[0].endswith("/ caught")) for _n, kit, _p in rows]
    plain = [(p.startswith("caught / "), p.endswith("/ caught")) for _n, _k, p in rows]
    assert number(total.group(1)) == len(rows) == number(summary.group(3)) == number(summary.group(6))
    assert [number(summary.group(i)) for i in (1, 2)] == [sum(m for m, _ in kit), sum(s for _, s in kit)]
    assert [number(summary.group(i)) for i in (4, 5)] == [sum(m for m, _ in plain), sum(s for _, s in plain)]


def collected_tests() -> int:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = re.search(r"^(\d+) tests? collected", done.stdout, re.M)
    assert found, done.stdout[-2000:] + done.stderr[-2000:]
    return int(found.group(1))


def test_the_suites_size_readme_states_is_about_right():
    """README says "about N tests": within 5% of what pytest collects (update README when not)."""
    stated = re.search(r"The suite \(about ([\d,]+) tests\)", README)
    assert stated, "README no longer states the suite's size"
    collected = collected_tests()
    assert abs(number(stated.group(1)) - collected) <= collected * 0.05, (
        f"README says about {stated.group(1)} tests, pytest collects {collected}"
    )


def test_the_files_readme_has_you_create_are_ignored_by_git(tmp_path: Path):
    """`--state-file .mock-state.db` in the clone must not show up in `git status` (nor its WAL,
    its SHM, or a file being built beside it)."""
    require_on_path("git", purpose="git check-ignore")
    (state_file,) = set(re.findall(r"--state-file (\.[\w.-]+)", README))
    names = [state_file, f"{state_file}-wal", f"{state_file}-shm", f"{state_file}-journal"]
    names.append(f".{state_file}.a1b2c3.new")  # mockserver.store.persistence.create_file's temporary
    repo = tmp_path / "clone"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text((REPO_ROOT / ".gitignore").read_text(encoding="utf-8"), encoding="utf-8")
    for name in names:
        (repo / name).write_bytes(b"")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout.split() == ["??", ".gitignore"], status.stdout
