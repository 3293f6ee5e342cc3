"""`--state-file PATH`: invoices survive a restart; a `kill -9` at any moment leaves the previous or
the new state, never a corrupt file; a corrupt or incompatible file is refused at start (exit 2,
a message naming the problem) and left byte-for-byte untouched."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import persistence
from mockserver.state import Sessions, SpecDefaults
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
    return Sessions(WORLD, SpecDefaults.from_spec(SPEC))


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
    state = tmp_path / "state.json"
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
    # Stopped at once (no time for a batched write): the shutdown itself must save. Ctrl-C first.
    assert first.stop(sig=signal.SIGINT) in (0, -signal.SIGINT), first.stderr
    assert "Traceback" not in first.stderr, first.stderr
    assert json.loads(state.read_text())["format"] == persistence.FORMAT

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


def test_changes_are_written_shortly_while_running(mock_process, tmp_path):
    state = tmp_path / "state.json"
    mock = mock_process("--state-file", str(state))
    assert mock.answers(), mock.stderr
    with httpx.Client(base_url=mock.base_url, timeout=30) as http:
        invoice = created(http)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if state.exists() and invoice["uid"] in invoices_in(json.loads(state.read_text())):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the new invoice was not written to the state file within 10 s")


# Writes are batched (~0.2 s): a create acknowledged this long before a kill must be on disk.
SETTLE_SECONDS = 1.0


class Hammer:
    """Creates invoices in a loop from a thread until stopped; remembers when each was acknowledged."""

    def __init__(self, base_url: str, session: str) -> None:
        self.base_url, self.session = base_url, session
        self.acknowledged: list[tuple[float, str]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            while not self.stopping.is_set():
                try:
                    response = http.post(
                        "/api/invoices", json=body_for(), headers=headers(session=self.session)
                    )
                except httpx.TransportError:
                    return  # the mock was killed
                if response.status_code == 200:
                    self.acknowledged.append((time.monotonic(), response.json()["data"]["uid"]))

    def __enter__(self) -> Hammer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)


def test_kill_9_at_random_moments_never_leaves_a_corrupt_file(mock_process, tmp_path):
    state = tmp_path / "state.json"
    rng = random.Random(20260515)
    previous: dict[str, dict[str, Any]] = {}
    settled_total = 0
    for round_number in range(5):
        mock = mock_process("--state-file", str(state))
        assert mock.answers(), f"round {round_number}: the mock did not serve the file: {mock.stderr}"
        served = {inv["uid"] for name in ("default", "hammered") for inv in dump(mock.base_url, name)}
        assert served == set(previous), f"round {round_number}: the restarted mock serves the file"

        with Hammer(mock.base_url, "hammered" if round_number % 2 else "default") as hammer:
            time.sleep(rng.uniform(1.0, 2.0))
            mock.kill9()
            killed_at = time.monotonic()
        assert hammer.acknowledged, f"round {round_number}: no create was answered before the kill"

        raw = state.read_bytes()
        data = json.loads(raw)  # never half-written
        assert data["format"] == persistence.FORMAT
        saved = invoices_in(data)
        assert set(previous) <= set(saved), "an earlier state is never lost"
        restored = persistence.load(state, fresh_sessions())
        assert restored == len(saved)
        settled = {uid for at, uid in hammer.acknowledged if at < killed_at - SETTLE_SECONDS}
        lost = settled - set(saved)
        assert not lost, f"round {round_number}: {len(lost)} creates acknowledged before the kill were lost"
        settled_total += len(settled)
        previous = saved
    assert settled_total > 0, "the durability check above was never exercised"

    last = mock_process("--state-file", str(state))
    assert last.answers(), last.stderr
    served = {inv["uid"] for name in ("default", "hammered") for inv in dump(last.base_url, name)}
    assert served == set(previous)


# --- refused state files -------------------------------------------------------------------------


def valid_state(path: Path) -> dict[str, Any]:
    """Write a genuine state file (two invoices, one with a blueprint) with the mock itself."""
    app = create_app(state_file=path)
    client = app.test_client()
    created(client)
    created(client, body_for(ORG_A, invoice_blueprint_uid=blueprint_of(ORG_A).uid), session="other")
    assert app.persistence.save_if_changed()
    return json.loads(path.read_text())


def _truncated(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


def _rewrite(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _first_invoice(data: dict[str, Any]) -> dict[str, Any]:
    return next(session["invoices"][0] for session in data["sessions"].values() if session["invoices"])


CORRUPTIONS = {
    "garbage bytes": (lambda p: p.write_bytes(random.Random(7).randbytes(600)), ["corrupt"]),
    "empty file": (lambda p: p.write_bytes(b""), ["corrupt"]),
    "truncated JSON": (_truncated, ["corrupt"]),
    "not an object": (lambda p: p.write_text("[1, 2, 3]"), [persistence.FORMAT]),
    "wrong format marker": (
        lambda p: _rewrite(p, lambda d: d.update(format="someone-elses/state")),
        ["not a mock state file", persistence.FORMAT],
    ),
    "incompatible version": (lambda p: _rewrite(p, lambda d: d.update(version=99)), ["version", "99"]),
    "party not in the fixtures": (
        lambda p: _rewrite(p, lambda d: _first_invoice(d).update(target_party_uid=UNKNOWN_UID)),
        ["party", UNKNOWN_UID],
    ),
    "invoice missing a field": (
        lambda p: _rewrite(p, lambda d: _first_invoice(d).pop("owner_uid")),
        ["corrupt"],
    ),
    "blueprint lines changed": (
        lambda p: _rewrite(p, lambda d: _first_invoice_with_lines(d)["line_uids"].pop()),
        ["line items"],
    ),
}


def _first_invoice_with_lines(data: dict[str, Any]) -> dict[str, Any]:
    return next(inv for inv in invoices_in(data).values() if inv["line_uids"])


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_bad_state_file_is_refused_at_start_and_left_untouched(tmp_path, case):
    corrupt, named = CORRUPTIONS[case]
    state = tmp_path / "state.json"
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
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before, "no temporary files left behind"


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_create_app_refuses_a_bad_state_file(tmp_path, case):
    corrupt, named = CORRUPTIONS[case]
    state = tmp_path / "state.json"
    valid_state(state)
    corrupt(state)
    before = state.read_bytes()
    with pytest.raises(persistence.StateFileError) as refused:
        create_app(state_file=state)
    for word in named:
        assert word in str(refused.value)
    assert state.read_bytes() == before


def test_a_missing_state_file_starts_empty_and_is_created(tmp_path):
    state = tmp_path / "new-state.json"
    app = create_app(state_file=state)
    client = app.test_client()
    assert client.get("/api/invoices", headers=headers()).json()["data"]["_meta"]["total_items"] == 0
    created(client)
    assert app.persistence.save_if_changed()
    assert persistence.load(state, fresh_sessions()) == 1
