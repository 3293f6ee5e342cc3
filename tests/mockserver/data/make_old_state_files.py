"""Make the old state files the migration tests read, by running the old mocks that wrote them.

- `state-v2.db` (+ `state-v2-answers.json`): format v2 (SQLite), written by commit 881ee45,
  the last one before the lifecycle wave (b34971b) made the format v3.
- `state-v1.json` (+ `state-v1-answers.json`): format v1 (JSON), written by commit c9340f7,
  the last one before 453573e made the state file SQLite.

CI clones `main` and may clone it shallow, so the tests do not run old code from git: they
read the files and the answers this script saved. To make them again (the same invoices, other
uids):

    .venv/bin/python tests/mockserver/data/make_old_state_files.py

For each version it extracts the old tree (`git archive COMMIT`) into a temporary folder, runs
`python -m mockserver --state-file F` from it over HTTP (its own code, not this tree's: the
folder is first on `sys.path`), loads changed fixtures with `PUT /__mock/fixtures` (v2 only:
v1 did not keep them), sets the clocks of two sessions, creates invoices in both (priced from
a blueprint, and plain), saves what the old mock answered to GET and list, and stops it
(SIGTERM: v2 checkpoints its log into the file, v1 writes its last snapshot).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tests.mockserver.support import (  # noqa: E402  (after the path: run as a script)
    ORG_A,
    ORG_B,
    USER_A,
    USER_B,
    auth,
    blueprint_of,
    body_for,
)
from tests.servers import free_port, wait_until_answers  # noqa: E402

OLD_MOCKS = {2: ("881ee45", "state-v2.db"), 1: ("c9340f7", "state-v1.json")}
SESSIONS = {"": "2026-05-15T12:00:00Z", "second": "2027-01-31T08:30:00Z"}  # "": the default session
RENAMED = "Renamed by PUT /__mock/fixtures"
# The page size is asked for: its default changed since v1 (a change of the contract, not of the data).
LIST = {"page": 1, "per_page": 20}


def _session(name: str) -> dict[str, str]:
    return {"X-Mock-Session": name} if name else {}


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, (response.request.method, response.request.url, response.text)
    answer: dict[str, Any] = response.json()
    return answer


def _exercise(base_url: str, old_tree: Path, version: int) -> dict[str, Any]:
    answers: dict[str, Any] = {"commit": OLD_MOCKS[version][0], "sessions": {}}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        if version >= 2:  # v1 did not keep fixtures loaded by PUT
            world = yaml.safe_load((old_tree / "contract/fixtures/default.yaml").read_text(encoding="utf-8"))
            world["organizations"][0]["name"] = RENAMED
            _ok(http.put("/__mock/fixtures", json=world))
            answers["renamed_organization"] = world["organizations"][0]["uid"]
        for name, now in SESSIONS.items():
            _ok(http.put("/__mock/clock", json={"now": now}, headers=_session(name)))
            bodies = [
                (USER_A, body_for(ORG_A, invoice_blueprint_uid=blueprint_of(ORG_A).uid)),
                (
                    USER_A,
                    body_for(
                        ORG_A, due_date="2026-06-30T00:00:00Z", invoice_number=f"OLD-{name or 'default'}-1"
                    ),
                ),
                (USER_B, body_for(ORG_B, invoice_blueprint_uid=blueprint_of(ORG_B).uid)),
                (USER_A, body_for(ORG_A, invoice_blueprint_uid=blueprint_of(ORG_A).uid)),
            ]
            made = [
                _ok(http.post("/api/invoices", json=body, headers={**auth(user), **_session(name)}))["data"]
                for user, body in bodies
            ]
            gets = {
                invoice["uid"]: _ok(
                    http.get(f"/api/invoices/{invoice['uid']}", headers={**auth(user), **_session(name)})
                )
                for (user, _), invoice in zip(bodies, made, strict=True)
            }
            lists = {
                user.token: _ok(
                    http.get("/api/invoices", params=LIST, headers={**auth(user), **_session(name)})
                )
                for user in (USER_A, USER_B)
            }
            clock = _ok(http.get("/__mock/clock", headers=_session(name)))
            answers["sessions"][name] = {"get": gets, "list": lists, "clock": clock}
    return answers


def make(version: int) -> None:
    commit, name = OLD_MOCKS[version]
    with tempfile.TemporaryDirectory(prefix=f"mock-v{version}-") as folder:
        old_tree = Path(folder) / "tree"
        old_tree.mkdir()
        archive = subprocess.run(["git", "archive", commit], cwd=REPO_ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive.stdout, check=True)
        state = Path(folder) / name
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(old_tree), "PYTHONWARNINGS": "ignore"}
        command = [sys.executable, "-m", "mockserver", "--port", str(port), "--state-file", str(state)]
        server = subprocess.Popen(command, cwd=old_tree, env=env, stdin=subprocess.DEVNULL)
        try:
            base_url = f"http://127.0.0.1:{port}"
            assert wait_until_answers(base_url, time.monotonic() + 60, alive=lambda: server.poll() is None)
            answers = _exercise(base_url, old_tree, version)
        finally:
            server.terminate()
            server.wait(timeout=60)
        if version == 1:
            written = json.loads(state.read_text(encoding="utf-8"))["version"]
        else:
            assert not Path(f"{state}-wal").exists() or Path(f"{state}-wal").stat().st_size == 0
            with sqlite3.connect(state) as connection:
                written = dict(connection.execute("SELECT key, value FROM meta"))["version"]
        assert str(written) == str(version), written
        shutil.copyfile(state, HERE / name)
        answers_path = HERE / f"state-v{version}-answers.json"
        answers_path.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    print(f"wrote {HERE / name} (format v{written}) and {answers_path.name}")


def main() -> int:
    for version in sorted(OLD_MOCKS):
        make(version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
