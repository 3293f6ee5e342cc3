"""`--state-file PATH`: invoices survive a restart, every change is in the file before its answer;
a corrupt or incompatible file is refused at start (exit 2, a message naming the problem) and left
byte-for-byte untouched. (`kill -9` rounds: tests/mockserver/test_durability.py.)"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.facts import read_facts
from mockserver.store import persistence
from mockserver.store.state import Sessions, SpecDefaults
from tests.frontend.conftest import (
    CONTROL,
    ORG_A,
    REPO_ROOT,
    SESSION_HEADER,
    SPEC,
    UNKNOWN_UID,
    WORLD,
    blueprint_of,
    body_for,
    create_app,
    created,
    free_port,
    headers,
)

pytestmark = pytest.mark.e2e


def fresh_sessions() -> Sessions:
    return Sessions(WORLD, SpecDefaults.from_spec(SPEC, read_facts(SPEC)))


def invoices_in(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every invoice of a state file's data, by uid."""
    return {inv["uid"]: inv for session in data["sessions"].values() for inv in session["invoices"]}


def dump(base_url: str, session: str | None = None) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{base_url}{CONTROL}/invoices", headers={SESSION_HEADER: session} if session else {}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_graceful_restart_keeps_invoices_numbers_and_clock(mock_process, tmp_path):
    state = tmp_path / "state.db"
    first = mock_process("--state-file", str(state))
    assert first.answers(), first.stderr
    with httpx.Client(base_url=first.base_url, timeout=30) as http:
        default = [created(http) for _ in range(3)]
        named = [created(http, session="persisted") for _ in range(2)]
        with_blueprint = created(http, body_for(ORG_A, invoice_blueprint_uid=blueprint_of(ORG_A).uid))
        clock = http.put(
            f"{CONTROL}/clock", json={"now": "2031-06-01T00:00:00Z"}, headers={SESSION_HEADER: "clocked"}
        )
        assert clock.status_code == 200, clock.text
    # Ctrl-C: a clean shutdown (every change was on disk before its answer already).
    assert first.stop(sig=signal.SIGINT) in (0, -signal.SIGINT), first.stderr
    assert "Traceback" not in first.stderr, first.stderr
    with sqlite3.connect(state) as connection:
        assert dict(connection.execute("SELECT key, value FROM meta"))["format"] == persistence.FORMAT

    second = mock_process("--state-file", str(state))
    assert second.answers(), second.stderr
    with httpx.Client(base_url=second.base_url, timeout=30) as http:
        for invoice in [*default, with_blueprint]:
            again = http.get(f"/api/invoices/{invoice['uid']}", headers=headers())
            assert again.status_code == 200, again.text
            assert again.json()["data"]["invoice_number"] == invoice["invoice_number"]
            assert again.json()["data"]["line_items"] == invoice["line_items"]
        for invoice in named:
            again = http.get(f"/api/invoices/{invoice['uid']}", headers=headers(session="persisted"))
            assert again.json()["data"] == invoice
        assert http.get(f"/api/invoices/{named[0]['uid']}", headers=headers()).status_code == 404

        numbers = [inv["invoice_number"] for inv in [*default, with_blueprint]]
        prefix = numbers[0].rsplit("-", 1)[0]
        assert numbers == [f"{prefix}-{n:04d}" for n in range(1, 5)], numbers
        assert created(http)["invoice_number"] == f"{prefix}-0005", "the sequence continues"
        assert created(http, session="persisted")["invoice_number"] == f"{prefix}-0003"

        clock = http.get(f"{CONTROL}/clock", headers={SESSION_HEADER: "clocked"}).json()["data"]
        assert (clock["now"], clock["fixed"]) == ("2031-06-01T00:00:00Z", True)
    assert second.stop(sig=signal.SIGTERM) in (0, -signal.SIGTERM), second.stderr
    assert "Traceback" not in second.stderr, second.stderr
    third = mock_process("--state-file", str(state))
    assert third.answers(), third.stderr
    assert len(dump(third.base_url)) == 5, "the invoices created before the SIGTERM were saved too"


def test_a_change_is_in_the_file_before_its_answer(mock_process, tmp_path):
    state = tmp_path / "state.db"
    mock = mock_process("--state-file", str(state))
    assert mock.answers(), mock.stderr
    with httpx.Client(base_url=mock.base_url, timeout=30) as http:
        for _ in range(5):
            invoice = created(http)
            # Read by another connection the moment the answer is in: committed already.
            assert invoice["uid"] in stored_uids(state)
        clock = http.put(f"{CONTROL}/clock", json={"now": "2031-06-01T00:00:00Z"})
        assert clock.status_code == 200, clock.text
        with sqlite3.connect(state) as connection:
            saved = dict(connection.execute("SELECT name, clock FROM sessions"))
        assert saved["default"].startswith("2031-06-01T00:00:00"), saved


def stored_uids(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {json.loads(raw)["uid"] for (raw,) in connection.execute("SELECT invoice FROM invoices")}


# --- refused state files -------------------------------------------------------------------------


def valid_state(path: Path) -> None:
    """Write a genuine state file (two invoices, one with a blueprint) with the mock itself."""
    app = create_app(state_file=path)
    client = app.test_client()
    created(client)
    created(client, body_for(ORG_A, invoice_blueprint_uid=blueprint_of(ORG_A).uid), session="other")
    app.journal.close()


def _sql(path: Path, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as connection:
        for statement in statements:
            connection.execute(statement)


def _truncated(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def _other_sqlite(path: Path) -> None:
    path.unlink()
    _sql(path, "CREATE TABLE notes (text TEXT)")


def _with_lines(column: str = "invoice") -> str:
    return f"(SELECT seq FROM invoices WHERE json_array_length({column}, '$.lines') > 0)"


CORRUPTIONS = {
    "garbage bytes": (lambda p: p.write_bytes(random.Random(7).randbytes(600)), ["corrupt"]),
    "empty file": (lambda p: p.write_bytes(b""), ["corrupt"]),
    "truncated database": (_truncated, ["corrupt"]),
    "an older mock's JSON": (
        lambda p: p.write_text(json.dumps({"format": persistence.FORMAT, "version": 1, "sessions": {}})),
        ["JSON state file of an older mock", "move it away"],
    ),
    "another SQLite database": (_other_sqlite, ["not a mock state file", persistence.FORMAT]),
    "wrong format marker": (
        lambda p: _sql(p, "UPDATE meta SET value = 'someone-elses/state' WHERE key = 'format'"),
        ["not a mock state file", persistence.FORMAT],
    ),
    "incompatible version": (
        lambda p: _sql(p, "UPDATE meta SET value = '99' WHERE key = 'version'"),
        ["version", "99"],
    ),
    "party not in the fixtures": (
        lambda p: _sql(
            p, f"UPDATE invoices SET invoice = json_set(invoice, '$.target_party_uid', '{UNKNOWN_UID}')"
        ),
        ["party", UNKNOWN_UID],
    ),
    "invoice missing a field": (
        lambda p: _sql(p, "UPDATE invoices SET invoice = json_remove(invoice, '$.owner_uid')"),
        ["corrupt"],
    ),
    "a line item's amount below 0": (
        lambda p: _sql(
            p,
            "UPDATE invoices SET invoice = json_set(invoice, '$.lines[0].quantity', '-1') "
            f"WHERE seq IN {_with_lines()}",
        ),
        ["corrupt", "quantity"],
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_bad_state_file_is_refused_at_start_and_left_untouched(tmp_path, case):
    corrupt, named = CORRUPTIONS[case]
    state = tmp_path / "state.db"
    valid_state(state)
    corrupt(state)
    before = state.read_bytes()
    files_before = sorted(p.name for p in tmp_path.iterdir())

    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", str(free_port()), "--state-file", str(state)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert str(state) in result.stderr, result.stderr
    for word in named:
        assert word in result.stderr, (word, result.stderr)
    assert state.read_bytes() == before, "a refused state file is never overwritten"
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before, "no files left behind"


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_create_app_refuses_a_bad_state_file(tmp_path, case):
    corrupt, named = CORRUPTIONS[case]
    state = tmp_path / "state.db"
    valid_state(state)
    corrupt(state)
    before = state.read_bytes()
    with pytest.raises(persistence.StateFileError) as refused:
        create_app(state_file=state)
    for word in named:
        assert word in str(refused.value)
    assert state.read_bytes() == before


def test_a_missing_state_file_starts_empty_and_is_created(tmp_path):
    state = tmp_path / "new-state.db"
    app = create_app(state_file=state)
    client = app.test_client()
    assert client.get("/api/invoices", headers=headers()).json()["data"]["_meta"]["total_items"] == 0
    invoice = created(client)
    app.journal.close()
    assert stored_uids(state) == {invoice["uid"]}
