"""Make `state-v2.db` and `state-v2-answers.json` by running the mock that wrote format v2.

The v2 mock is commit 881ee45 (the last one before the lifecycle wave, b34971b, made the
format v3). CI clones `main` and may clone it shallow, so the test does not run old code from
git: it reads the file and the answers this script saved. To make them again (the same
invoices, other uids):

    .venv/bin/python tests/mockserver/data/make_state_v2.py

It extracts the old tree (`git archive 881ee45`) into a temporary folder, runs
`python -m mockserver --state-file F` from it over HTTP (its own code, not this tree's: the
folder is first on `sys.path`), loads changed fixtures with `PUT /__mock/fixtures`, sets the
clocks of two sessions, creates invoices in both (priced from a blueprint, and plain), saves
what the old mock answered to GET and list, and stops it (SIGTERM: the log is checkpointed
into the file).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
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

V2_COMMIT = "881ee45"
SESSIONS = {"": "2026-05-15T12:00:00Z", "second": "2027-01-31T08:30:00Z"}  # "": the default session
RENAMED = "Renamed by PUT /__mock/fixtures"


def _session(name: str) -> dict[str, str]:
    return {"X-Mock-Session": name} if name else {}


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, (response.request.method, response.request.url, response.text)
    answer: dict[str, Any] = response.json()
    return answer


def _exercise(base_url: str, old_tree: Path) -> dict[str, Any]:
    answers: dict[str, Any] = {"commit": V2_COMMIT, "sessions": {}}
    with httpx.Client(base_url=base_url, timeout=30) as http:
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
                user.token: _ok(http.get("/api/invoices", headers={**auth(user), **_session(name)}))
                for user in (USER_A, USER_B)
            }
            clock = _ok(http.get("/__mock/clock", headers=_session(name)))
            answers["sessions"][name] = {"get": gets, "list": lists, "clock": clock}
    return answers


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mock-v2-") as folder:
        old_tree = Path(folder) / "tree"
        old_tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", V2_COMMIT], cwd=REPO_ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        state = Path(folder) / "state-v2.db"
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(old_tree), "PYTHONWARNINGS": "ignore"}
        command = [sys.executable, "-m", "mockserver", "--port", str(port), "--state-file", str(state)]
        server = subprocess.Popen(command, cwd=old_tree, env=env, stdin=subprocess.DEVNULL)
        try:
            import time

            base_url = f"http://127.0.0.1:{port}"
            assert wait_until_answers(base_url, time.monotonic() + 60, alive=lambda: server.poll() is None)
            answers = _exercise(base_url, old_tree)
        finally:
            server.terminate()
            server.wait(timeout=60)
        with sqlite3.connect(state) as connection:
            meta = dict(connection.execute("SELECT key, value FROM meta"))
        assert meta["version"] == "2", meta
        assert not Path(f"{state}-wal").exists() or Path(f"{state}-wal").stat().st_size == 0
        shutil.copyfile(state, HERE / "state-v2.db")
        (HERE / "state-v2-answers.json").write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    print(f"wrote {HERE / 'state-v2.db'} (format v{meta['version']}) and state-v2-answers.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
