"""`invoice-conformance spec check|diff` on the command line: exit codes, formats, `--base`."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.spec import default_spec_path, load_spec
from contract.tooling import cli
from tests.conftest import REPO_ROOT

CREATE_BODY = "#/paths/~1api~1invoices/post/requestBody/content/application~1json/schema"
DATA = "responses/200/content/application~1json/schema/allOf/1/properties/data"
GET_DATA = "#/paths/~1api~1invoices~1{invoice_uid}/get/responses/200/content/application~1json/schema/allOf/1"
# Where `breaking_edit`'s removed response field is reported: every response carrying an Invoice.
AGE_REMOVED = [
    f"#/paths/~1api~1invoices/post/{DATA}/properties/age",
    f"#/paths/~1api~1invoices/put/{DATA}/items/properties/age",
    f"#/paths/~1api~1invoices~1{{invoice_uid}}/get/{DATA}/properties/age",
    f"#/paths/~1api~1invoices~1{{invoice_uid}}/put/{DATA}/properties/age",
]


def run(argv: list[str]) -> int:
    """Parse `argv` as `invoice-conformance` would (its `spec` command only) and run the handler."""
    parser = argparse.ArgumentParser(prog="invoice-conformance")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def write_spec(path: Path, spec: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def breaking_edit(spec: dict[str, Any]) -> dict[str, Any]:
    """One breaking change (response field removed) and one that is not (optional request field)."""
    schemas = spec["components"]["schemas"]
    del schemas["Invoice"]["properties"]["age"]
    schemas["Invoice"]["required"].remove("age")
    schemas["InvoiceCreateRequest"]["properties"]["memo"] = {"type": "string"}
    return spec


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_spec(tmp_path / "old.yaml", load_spec(default_spec_path())), write_spec(
        tmp_path / "new.yaml", breaking_edit(load_spec(default_spec_path()))
    )


def test_register_adds_spec_check_and_diff():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    assert parser.parse_args(["spec", "check"]).handler is cli.run_check
    assert parser.parse_args(["spec", "diff", "a", "b"]).handler is cli.run_diff
    with pytest.raises(SystemExit):
        parser.parse_args(["spec"])


def test_check_of_a_sound_spec_exits_0(fake_handlers: str, capsys: pytest.CaptureFixture[str]):
    assert run(["spec", "check", str(REPO_ROOT / "openapi.yaml"), "--handlers", fake_handlers]) == 0
    assert "OK (" in capsys.readouterr().out


def test_check_of_a_broken_spec_exits_1_with_pointer_lines(
    tmp_path: Path, fake_handlers: str, capsys: pytest.CaptureFixture[str]
):
    spec = load_spec(default_spec_path())
    spec["components"]["schemas"]["Orphan"] = {"type": "string"}
    path = write_spec(tmp_path / "openapi.yaml", spec)
    assert run(["spec", "check", str(path), "--handlers", fake_handlers]) == 1
    first, summary = capsys.readouterr().out.splitlines()
    assert (
        first == "#/components/schemas/Orphan: unused: nothing reachable from paths or security refers to it"
    )
    assert "1 problem" in summary


def test_check_of_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert run(["spec", "check", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_diff_of_a_spec_with_itself_is_empty_and_exits_0(
    pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
):
    old, _new = pair
    assert run(["spec", "diff", str(old), str(old)]) == 0
    assert capsys.readouterr().out.strip().endswith(": no differences")


def test_diff_text_groups_by_verdict_and_side(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]):
    assert run(["spec", "diff", *map(str, pair)]) == 1
    out = capsys.readouterr().out
    assert f"Breaking changes, response side ({len(AGE_REMOVED)}):" in out
    for pointer in AGE_REMOVED:
        assert f"  {pointer}: response field 'age' removed" in out
    assert "Non-breaking changes, request side (1):" in out
    assert out.splitlines()[-1].endswith(f": {len(AGE_REMOVED)} breaking, 1 non-breaking")


def test_diff_json_parses(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]):
    assert run(["spec", "diff", *map(str, pair), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["breaking"], report["non_breaking"]) == (len(AGE_REMOVED), 1)
    breaking = sorted(change["pointer"] for change in report["changes"] if change["breaking"])
    assert breaking == sorted(AGE_REMOVED)
    memo = next(change for change in report["changes"] if change["pointer"].endswith("/memo"))
    assert memo == {
        "pointer": f"{CREATE_BODY}/properties/memo",
        "side": "request",
        "breaking": False,
        "rule": "property-added",
        "reason": "new optional request field 'memo'; old requests stay valid.",
    }


def test_diff_junit_is_xml_with_a_failure_per_breaking_change(
    pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    output = tmp_path / "spec-diff.xml"
    assert run(["spec", "diff", *map(str, pair), "--format", "junit", "-o", str(output)]) == 1
    root = ET.fromstring(output.read_text(encoding="utf-8"))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(AGE_REMOVED) + 1
    failures = len(root.findall("./testsuite/testcase/failure"))
    assert failures == len(AGE_REMOVED) == int(root.get("failures", "-1"))
    assert (
        f"{len(AGE_REMOVED)} breaking, 1 non-breaking" in capsys.readouterr().out
    )  # the log still says what happened


def test_diff_needs_two_specs_or_base(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]):
    assert run(["spec", "diff", str(pair[0])]) == 2
    assert "give two specs" in capsys.readouterr().err


def test_diff_of_a_spec_with_a_dangling_ref_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    spec = load_spec(default_spec_path())
    spec["components"]["schemas"]["Invoice"] = {"$ref": "#/components/schemas/Missing"}
    old, new = (
        write_spec(tmp_path / "old.yaml", load_spec(default_spec_path())),
        write_spec(tmp_path / "new.yaml", spec),
    )
    assert run(["spec", "diff", str(old), str(new)]) == 2
    assert "run `spec check`" in capsys.readouterr().err


def git(repo: Path, *arguments: str) -> None:
    identity = [
        "-c",
        "user.name=Spec Author",
        "-c",
        "user.email=author@example.com",
        "-c",
        "commit.gpgsign=false",
    ]
    subprocess.run(["git", *identity, *arguments], cwd=repo, check=True, capture_output=True)


def test_diff_base_compares_with_the_committed_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    repo = tmp_path / "repo"
    spec_path = write_spec(repo / "api" / "openapi.yaml", load_spec(default_spec_path()))
    git(repo, "init", "-q")
    git(repo, "add", "api/openapi.yaml")
    git(repo, "commit", "-q", "-m", "spec")
    write_spec(spec_path, breaking_edit(load_spec(default_spec_path())))
    monkeypatch.chdir(tmp_path)  # outside the repository: the path decides which repository
    assert run(["spec", "diff", "--base", "HEAD", str(spec_path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["old"] == "HEAD:api/openapi.yaml"
    assert f"{GET_DATA}/properties/data/properties/age" in [change["pointer"] for change in report["changes"]]
    git(repo, "add", "api/openapi.yaml")
    git(repo, "commit", "-q", "-m", "edit")
    assert run(["spec", "diff", "--base", "HEAD", str(spec_path)]) == 0
    assert run(["spec", "diff", "--base", "no-such-ref", str(spec_path)]) == 2
    assert "no-such-ref" in capsys.readouterr().err


@pytest.mark.parametrize("exists", [True, False], ids=["outside any repository", "no such file"])
def test_diff_base_on_a_file_outside_a_repository_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exists: bool
):
    """Issue 21: README's `spec diff --base` on a spec outside the clone (git's own words before)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # /tmp inside a repo must not count
    spec_path = tmp_path / "outside" / "openapi.yaml"
    if exists:
        write_spec(spec_path, load_spec(default_spec_path()))
    assert run(["spec", "diff", "--base", "HEAD", str(spec_path)]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    expected = "is not in a git repository; compare two files instead" if exists else "no such file"
    assert line.startswith("spec diff: ") and expected in line and str(spec_path) in line
    assert captured.out == ""


def test_python_m_conformance_spec_check_runs():
    """The real entry point (needs `conformance/cli.py`, which `conformance/__main__.py` imports)."""
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "spec", "check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("openapi.yaml: OK (")
