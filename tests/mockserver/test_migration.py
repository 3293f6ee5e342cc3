"""A state file of the v2 mock (SQLite, before the lifecycle wave) is migrated at start, not refused.

The v2 file is a real one, written by the v2 mock itself over HTTP (`data/make_state_v2.py`
says how; CI may clone shallow, so it is committed rather than made from git history here),
with what that mock answered. The current mock must answer the same JSON on it, over HTTP; a
migration that fails at any step (an error, `kill -9`) must leave the v2 file as it was, and
the next start must migrate it.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.store import migrations, persistence
from tests.mockserver.support import (
    ORG_A,
    UNKNOWN_UID,
    USER_A,
    USER_B,
    USER_BOTH,
    auth,
    blueprint_of,
    body_for,
    create_app,
    lines,
)
from tests.servers import REPO_ROOT, ServerProcess, refused_at_start

DATA = Path(__file__).resolve().parent / "data"
V2_FILE = DATA / "state-v2.db"
V2_ANSWERS: dict[str, Any] = json.loads((DATA / "state-v2-answers.json").read_text(encoding="utf-8"))
USERS = {user.token: user for user in (USER_A, USER_B)}
STEPS = ("rows converted", "rows written", "schema replaced", "version set")


def _copy_of_v2(folder: Path) -> Path:
    state = folder / "state.db"
    shutil.copyfile(V2_FILE, state)
    return state


def _contents(path: Path) -> list[str]:
    """Every schema entry and row of the database, as SQL: equal lists, equal databases."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def _version(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(dict(connection.execute("SELECT key, value FROM meta"))["version"])


def _session(name: str) -> dict[str, str]:
    return {"X-Mock-Session": name} if name else {}


def _differences_from_the_v2_answers(http: httpx.Client) -> list[str]:
    """What the mock answers now that the v2 mock answered otherwise (GET, list, clock per session)."""
    differences = []
    for name, answered in V2_ANSWERS["sessions"].items():
        for uid, before in answered["get"].items():
            now = http.get(f"/api/invoices/{uid}", headers={**auth(USER_BOTH), **_session(name)})
            if now.json() != before:
                differences.append(f"GET {uid} in session {name!r}: {now.text}")
        for token, before in answered["list"].items():
            now = http.get("/api/invoices", headers={**auth(USERS[token]), **_session(name)})
            if now.json() != before:
                differences.append(f"list of {token} in session {name!r}: {now.text}")
        now = http.get("/__mock/clock", headers=_session(name))
        if now.json() != answered["clock"]:
            differences.append(f"clock of session {name!r}: {now.text}")
    return differences


def test_the_committed_file_is_one_the_v2_mock_wrote():
    assert _version(V2_FILE) == "2"
    counts = [len(session["get"]) for session in V2_ANSWERS["sessions"].values()]
    assert len(counts) == 2 and all(counts), "invoices in two sessions"
    assert any(
        answer["data"]["line_items"] for s in V2_ANSWERS["sessions"].values() for answer in s["get"].values()
    ), "priced invoices among them (their lines are what v2 did not keep)"


def test_a_v2_file_is_migrated_and_answers_as_the_v2_mock_did_over_http(tmp_path):
    state = _copy_of_v2(tmp_path)
    invoices = sum(len(session["get"]) for session in V2_ANSWERS["sessions"].values())
    with (
        ServerProcess.mock(tmp_path, "--state-file", str(state)) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        assert _differences_from_the_v2_answers(http) == []
    migrated = [line for line in server.stderr.splitlines() if "migrated the state file" in line]
    assert migrated == [
        f"{state}: migrated the state file from format v2 to v3 ({invoices} invoices in 2 sessions)"
    ]
    assert _version(state) == str(persistence.VERSION)

    with (
        ServerProcess.mock(tmp_path, "--state-file", str(state)) as again,  # v3 now: read, not migrated
        httpx.Client(base_url=again.base_url, timeout=30) as http,
    ):
        assert _differences_from_the_v2_answers(http) == []
        # It goes on where the v2 mock stopped: a new invoice takes a new number, not a used one.
        used = {
            answer["data"]["invoice_number"]
            for session in V2_ANSWERS["sessions"].values()
            for answer in session["get"].values()
        }
        made = http.post("/api/invoices", json=body_for(), headers=auth(USER_A))
        assert made.status_code == 200, made.text
        assert made.json()["data"]["invoice_number"] not in used
    assert "migrated the state file" not in again.stderr


V2_CRASHED = """
import os, signal, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA wal_autocheckpoint = 0")  # the change stays in the log, as after a crash
connection.execute(
    "INSERT INTO changes VALUES ('clock', 'second', NULL, NULL, NULL, '2030-01-01T00:00:00+00:00')"
)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_v2_file_whose_last_commit_is_only_in_its_log_is_migrated_with_it(tmp_path):
    """A v2 mock killed with -9 leaves its last commits in the `-wal` file: they are kept too."""
    state = _copy_of_v2(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", V2_CRASHED, str(state)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert Path(f"{state}-wal").stat().st_size > 0, "the commit is in the log only"
    app = create_app(state_file=state)
    try:
        clock = app.test_client().get("/__mock/clock", headers=_session("second")).json()["data"]["now"]
        assert clock == "2030-01-01T00:00:00Z"
    finally:
        app.journal.close()


def test_a_migrated_invoice_takes_lifecycle_changes(tmp_path):
    """Its lines are real v3 lines now: deleting one moves the invoice's money like any other's."""
    app = create_app(state_file=_copy_of_v2(tmp_path))
    try:
        client = app.test_client()
        uid, before = next(
            (uid, answer["data"])
            for uid, answer in V2_ANSWERS["sessions"][""]["get"].items()
            if answer["data"]["invoice_blueprint_uid"] == blueprint_of(ORG_A).uid
        )
        discount = next(item for item in before["line_items"] if item["context_type"] == "DISCOUNT")
        deleted = lines(client, "DELETE", uid, [discount["uid"]])
        assert deleted.status_code == 200, deleted.text
        after = client.get(f"/api/invoices/{uid}", headers=auth(USER_A)).json()["data"]
        assert [item for item in before["line_items"] if item != discount] == after["line_items"]
        assert (after["discount_cents"], after["total_cents"]) == (
            0,
            before["total_cents"] + before["discount_cents"],
        )
    finally:
        app.journal.close()


@pytest.mark.parametrize("step", STEPS)
def test_a_failure_during_the_migration_leaves_the_v2_file_as_it_was(tmp_path, monkeypatch, step):
    state = _copy_of_v2(tmp_path)
    before = _contents(state)

    def fail(done: str) -> None:
        if done == step:
            raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(migrations, "after_step", fail)
    with pytest.raises(persistence.StateFileError) as refused:
        create_app(state_file=state)
    assert "cannot migrate the state file from format v2" in str(refused.value)
    assert "No space left on device" in str(refused.value)
    assert _contents(state) == before and _version(state) == "2"

    monkeypatch.setattr(migrations, "after_step", lambda done: None)
    app = create_app(state_file=state)  # the next start migrates it
    try:
        assert _differences_from_the_v2_answers(app.test_client()) == []
    finally:
        app.journal.close()


def test_a_full_disk_during_the_migration_leaves_the_v2_file_as_it_was(tmp_path, monkeypatch):
    """A real SQLITE_FULL: the migration's connection may not grow the file by a single page."""
    state = _copy_of_v2(tmp_path)
    before = _contents(state)
    connect = persistence.connect

    def full(path: Path, *, create: bool = False) -> sqlite3.Connection:
        connection = connect(path, create=create)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    monkeypatch.setattr(persistence, "connect", full)
    with pytest.raises(persistence.StateFileError) as refused:
        create_app(state_file=state)
    assert "database or disk is full" in str(refused.value) and "left as it was" in str(refused.value)
    assert _contents(state) == before and _version(state) == "2"


KILLED_DURING = """
import os, signal, sys, warnings
warnings.simplefilter("ignore")
from mockserver.store import migrations
from mockserver.http.app import create_app

def kill_at(done):
    if done == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)

migrations.after_step = kill_at
create_app(state_file=sys.argv[1])
raise SystemExit("the migration finished: it was not killed")
"""


@pytest.mark.parametrize("step", ["rows written", "version set"])
def test_kill_9_during_the_migration_leaves_the_v2_file_usable(tmp_path, step):
    state = _copy_of_v2(tmp_path)
    before = _contents(state)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_DURING, str(state), step],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _contents(state) == before and _version(state) == "2"
    with (
        ServerProcess.mock(tmp_path, "--state-file", str(state)) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        assert _differences_from_the_v2_answers(http) == []
    assert "migrated the state file from format v2 to v3" in server.stderr


def _spoil_a_row(state: Path, invoice: str) -> int:
    with sqlite3.connect(state) as connection:
        seq = connection.execute("SELECT max(seq) FROM invoices").fetchone()[0]
        connection.execute("UPDATE invoices SET invoice = ? WHERE seq = ?", (invoice, seq))
    return int(seq)


def test_a_corrupt_v2_row_is_refused_naming_it_and_the_file_is_left_as_it_was(tmp_path):
    state = _copy_of_v2(tmp_path)
    seq = _spoil_a_row(state, '{"uid": "half a row')
    before = _contents(state)
    refused = refused_at_start("--state-file", str(state))
    assert refused.returncode == 2, refused.stderr
    assert f"invoice row {seq} is corrupt" in refused.stderr and "not migrated" in refused.stderr
    assert _contents(state) == before and _version(state) == "2"


def test_a_v2_invoice_of_an_unknown_blueprint_is_refused_naming_it(tmp_path):
    state = _copy_of_v2(tmp_path)
    with sqlite3.connect(state) as connection:
        seq, raw = connection.execute(
            "SELECT seq, invoice FROM invoices WHERE invoice LIKE '%line_uids\":[\"%'"
        ).fetchone()
    row = json.loads(raw)
    row["invoice_blueprint_uid"] = "99999999-9999-4999-8999-999999999999"
    _spoil_a_row(state, json.dumps(row))
    before = _contents(state)
    with pytest.raises(persistence.StateFileError) as refused:
        create_app(state_file=state)
    assert "names invoice blueprint 99999999-9999-4999-8999-999999999999" in str(refused.value), seq
    assert _contents(state) == before


def test_a_v2_invoice_of_a_party_the_fixtures_lack_is_refused_before_anything_is_migrated(tmp_path):
    state = _copy_of_v2(tmp_path)
    with sqlite3.connect(state) as connection:
        connection.execute(
            "UPDATE invoices SET invoice = json_set(invoice, '$.target_party_uid', ?) WHERE seq = 1",
            (UNKNOWN_UID,),
        )
    before = _contents(state)
    refused = refused_at_start("--state-file", str(state))
    assert refused.returncode == 2, refused.stderr
    assert f"names party {UNKNOWN_UID}, which the fixtures do not have" in refused.stderr, refused.stderr
    assert _contents(state) == before and _version(state) == "2"


def test_a_v2_file_that_is_not_a_database_any_more_is_refused(tmp_path):
    state = _copy_of_v2(tmp_path)
    data = bytearray(state.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree: the schema is unreadable
    state.write_bytes(bytes(data))
    refused = refused_at_start("--state-file", str(state))
    assert refused.returncode == 2 and "corrupt" in refused.stderr, refused.stderr
    assert state.read_bytes() == bytes(data)
