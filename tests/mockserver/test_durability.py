"""`--state-file`: every change answered 2xx is on disk before the answer, and survives `kill -9`;
a change that cannot be written is a 503 and is not kept; the resources of a mock are bounded.

The `kill -9` test runs the real `python -m mockserver --state-file` in a subprocess and kills
it at seeded points of a concurrent create loop (a count of acknowledged creates, never a time).
The failure test makes SQLite itself refuse to grow the database (`max_page_count`: "database
or disk is full") through the writer's connection, then lifts the limit.
"""

from __future__ import annotations

import random
import resource
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mockserver.http.request_log import MAX_BODY_CHARS, RequestLog
from mockserver.store import persistence
from tests.mockserver.support import (
    NOW,
    ORG_A,
    USER_A,
    auth,
    body_for,
    bulk_delete,
    bulk_update,
    create_app,
    created,
    line_body,
    lines,
    product_of,
    read,
    update,
)
from tests.servers import ServerProcess, serve

CONTROL = "/__mock"
KILL_ROUNDS = 6
CLIENTS = 3
READY_SECONDS = 60  # bounded waits: a mock that does not answer by then fails the test


def uids_of_dump(base_url: str, session: str | None = None) -> list[str]:
    """Every invoice uid of a session, page by page through the paginated dump."""
    uids: list[str] = []
    url: str | None = f"{CONTROL}/invoices?per_page=200"
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while url is not None:
            response = http.get(url, headers={"X-Mock-Session": session} if session else {})
            assert response.status_code == 200, response.text
            envelope = response.json()
            uids += [invoice["uid"] for invoice in envelope["data"]]
            url = envelope["_links"]["next"]
    return uids


def _recording(failures: list[BaseException], run: Callable[..., None]) -> Callable[..., None]:
    """`run`, with what it raises kept in `failures`: an exception in a thread is only a warning."""

    def recorded(*args: Any) -> None:
        try:
            run(*args)
        except BaseException as failure:
            failures.append(failure)

    return recorded


class CreateLoop:
    """`CLIENTS` threads creating invoices until the mock goes away; what was acknowledged."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.acknowledged: dict[str, str] = {}  # uid -> invoice_number, only for 200s
        self.lock = threading.Lock()
        self.failures: list[BaseException] = []  # a thread's own failure, raised again by join()
        self.threads = [
            threading.Thread(target=_recording(self.failures, self._run), daemon=True) for _ in range(CLIENTS)
        ]

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while True:
                try:
                    response = http.post("/api/invoices", json=body_for(), headers=auth(USER_A))
                    data = response.json()["data"] if response.status_code == 200 else None
                except (httpx.TransportError, ValueError):
                    return  # killed (possibly mid-answer: then it was not acknowledged)
                assert data is not None, response.text
                with self.lock:
                    self.acknowledged[data["uid"]] = data["invoice_number"]

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=READY_SECONDS)
            assert not thread.is_alive(), "a client did not notice the kill"
        if self.failures:
            raise self.failures[0]


@pytest.mark.e2e
def test_kill_9_never_loses_an_acknowledged_create(tmp_path):
    state = tmp_path / "state.db"
    rng = random.Random(20261201)
    acknowledged: dict[str, str] = {}
    logs = tmp_path / "logs"
    lost_per_round = []
    for round_number in range(KILL_ROUNDS):
        mock = ServerProcess.mock(logs, "--state-file", str(state))
        try:
            assert mock.answers(READY_SECONDS), f"round {round_number}: {mock.stderr}"
            loop = CreateLoop(mock.base_url)
            target = rng.randint(40, 160)  # acknowledged creates before the kill: seeded, varying
            loop.start()
            deadline = time.monotonic() + READY_SECONDS
            while loop.count() < target:
                assert time.monotonic() < deadline, f"round {round_number}: only {loop.count()} creates"
                assert mock.process.poll() is None, mock.stderr
                time.sleep(0.005)
        finally:
            mock.kill9()
        loop.join()
        acknowledged.update(loop.acknowledged)

        again = ServerProcess.mock(logs, "--state-file", str(state))
        try:
            assert again.answers(READY_SECONDS), f"round {round_number}: restart refused: {again.stderr}"
            missing = []
            with httpx.Client(base_url=again.base_url, timeout=30) as http:
                for uid, number in acknowledged.items():  # one by one, every round's
                    response = http.get(f"/api/invoices/{uid}", headers=auth(USER_A))
                    if response.status_code != 200 or response.json()["data"]["invoice_number"] != number:
                        missing.append(uid)
            lost_per_round.append(len(missing))
            served = uids_of_dump(again.base_url)
            assert len(served) == len(set(served))
        finally:
            again.kill9()
        assert not missing, f"round {round_number}: {len(missing)} acknowledged creates lost"
    print(f"kill -9 rounds: {KILL_ROUNDS}, acknowledged: {len(acknowledged)}, lost: {sum(lost_per_round)}")
    assert len(acknowledged) >= 40 * KILL_ROUNDS


@pytest.mark.e2e
@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs Linux prlimit(2)")
def test_a_real_write_error_in_a_real_process_is_503_and_restart_keeps_exactly_the_acknowledged(
    tmp_path,
):
    """The mock's own file-size limit (RLIMIT_FSIZE, set from outside with prlimit) makes the
    kernel refuse to extend the log (EFBIG): a genuine I/O error under SQLite."""
    state = tmp_path / "state.db"
    mock = ServerProcess.mock(tmp_path / "logs", "--state-file", str(state))
    try:
        assert mock.answers(READY_SECONDS), mock.stderr
        with httpx.Client(base_url=mock.base_url, timeout=30) as http:
            acknowledged = [created(http, body_for())["uid"] for _ in range(5)]
            log_size = (tmp_path / "state.db-wal").stat().st_size
            resource.prlimit(mock.process.pid, resource.RLIMIT_FSIZE, (log_size, resource.RLIM_INFINITY))
            refused = _create(http)
            assert refused.status_code == 503, refused.text
            assert refused.json()["status"] == "error"
            health = _health(http)
            assert health["ok"] is False and "I/O" in health["state_file"]["last_error"], health
            assert health["invoices"]["stored"] == 5
            unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
            resource.prlimit(mock.process.pid, resource.RLIMIT_FSIZE, unlimited)
            acknowledged += [created(http, body_for())["uid"] for _ in range(3)]
            assert _health(http)["ok"] is True
        assert "cannot write the state file" in mock.stderr, "the reason is logged"
    finally:
        mock.kill9()
    again = ServerProcess.mock(tmp_path / "logs", "--state-file", str(state))
    try:
        assert again.answers(READY_SECONDS), again.stderr
        assert uids_of_dump(again.base_url) == acknowledged
    finally:
        again.kill9()


def _create(http: httpx.Client, session: str | None = None) -> httpx.Response:
    headers = {**auth(USER_A), **({"X-Mock-Session": session} if session else {})}
    return http.post("/api/invoices", json=body_for(), headers=headers)


def _health(http: httpx.Client) -> dict[str, Any]:
    response = http.get(f"{CONTROL}/health")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _limit_pages(journal: Any, limit: int | None) -> None:
    """Make SQLite refuse to grow the database past its current size (None: lift the limit)."""

    def apply(connection: sqlite3.Connection) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages if limit is not None else 1_073_741_823}")

    journal.on_connect = apply if limit is not None else None
    journal.in_writer(apply)


def test_a_failed_commit_is_503_undone_shown_and_the_mock_recovers(tmp_path):
    state = tmp_path / "state.db"
    app = create_app(state_file=state, clock=NOW)
    journal = app.persistence
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        acknowledged = [created(http, body_for())["uid"] for _ in range(3)]
        assert _health(http)["ok"] is True

        _limit_pages(journal, 1)
        refused = None
        for _ in range(500):  # each create needs room; a 4 KiB page holds a few invoices
            response = _create(http)
            if response.status_code == 503:
                refused = response
                break
            assert response.status_code == 200, response.text
            acknowledged.append(response.json()["data"]["uid"])
        assert refused is not None, "SQLite never refused to grow the database"
        envelope = refused.json()
        assert envelope["status"] == "error" and envelope["status_code"] == 503, envelope
        assert "state file" in envelope["message"] and "full" in envelope["message"], envelope
        assert refused.headers["retry-after"].isdigit()

        health = _health(http)
        assert health["ok"] is False
        assert health["state_file"]["writable"] is False
        assert "full" in health["state_file"]["last_error"], health
        assert health["state_file"]["failing_since"] is not None
        assert health["state_file"]["refused_changes"] >= 1
        assert health["invoices"]["stored"] == len(acknowledged), "the refused create was not kept"
        listed = http.get("/api/invoices", params={"per_page": 100}, headers=auth(USER_A)).json()["data"]
        assert {item["uid"] for item in listed["items"]} == set(acknowledged), "reads keep working"
        clock = http.put(f"{CONTROL}/clock", json={"now": "2031-01-01T00:00:00Z"})
        if clock.status_code == 503:  # a clock change that cannot be written is not made either
            assert http.get(f"{CONTROL}/clock").json()["data"]["now"].startswith(str(NOW.year))

        _limit_pages(journal, None)
        acknowledged += [created(http, body_for())["uid"] for _ in range(3)]
        health = _health(http)
        assert health["ok"] is True and health["state_file"]["writable"] is True, health
        assert health["state_file"]["failing_since"] is None
        assert "full" in health["state_file"]["last_error"], "the last reason stays visible"

    restarted = create_app(state_file=state, clock=NOW)
    try:
        with serve(restarted) as base_url:
            assert uids_of_dump(base_url) == acknowledged, "exactly the acknowledged invoices, in order"
    finally:
        restarted.journal.close()


def test_a_stopped_writer_refuses_changes_loudly_and_reads_go_on(tmp_path):
    app = create_app(state_file=tmp_path / "state.db", clock=NOW)
    client = app.test_client()
    uid = created(client, body_for())["uid"]
    app.journal.close()  # the writer thread ends
    refused = _create(client)
    assert refused.status_code == 503, refused.text
    assert "writer" in refused.json()["message"]
    assert client.get(f"/api/invoices/{uid}", headers=auth(USER_A)).status_code == 200
    health = client.get(f"{CONTROL}/health").json()["data"]
    assert health["ok"] is False and health["state_file"]["writer_alive"] is False
    assert health["invoices"]["stored"] == 1


def test_reset_clock_and_fixtures_are_durable_and_restart_restores_them(tmp_path):
    state = tmp_path / "state.db"
    app = create_app(state_file=state, clock=NOW)
    client = app.test_client()
    kept = [created(client, body_for())["uid"] for _ in range(3)]
    other = client.post("/api/invoices", json=body_for(), headers={**auth(USER_A), "X-Mock-Session": "gone"})
    assert other.status_code == 200
    assert client.post(f"{CONTROL}/reset", headers={"X-Mock-Session": "gone"}).status_code == 200
    assert client.put(f"{CONTROL}/clock", json={"now": "2031-06-01T00:00:00+02:00"}).status_code == 200
    app.journal.close()

    again = create_app(state_file=state, clock=NOW)
    client = again.test_client()
    assert uids_of_dump_client(client) == kept
    assert uids_of_dump_client(client, "gone") == []
    assert client.get(f"{CONTROL}/clock").json()["data"]["now"] == "2031-05-31T22:00:00Z"
    again.journal.close()


def uids_of_dump_client(client: Any, session: str | None = None) -> list[str]:
    response = client.get(
        f"{CONTROL}/invoices",
        params={"per_page": 200},
        headers={"X-Mock-Session": session} if session else {},
    )
    assert response.status_code == 200, response.text
    return [invoice["uid"] for invoice in response.json()["data"]]


def test_put_fixtures_with_a_state_file_stays_restartable(tmp_path):
    import yaml

    from mockserver.domain.fixtures import DEFAULT_FIXTURES

    state = tmp_path / "state.db"
    app = create_app(state_file=state, clock=NOW)
    client = app.test_client()
    created(client, body_for())
    world = yaml.safe_load(DEFAULT_FIXTURES.read_text(encoding="utf-8"))
    organization = world["organizations"][0]
    organization["name"] = "Renamed by PUT /__mock/fixtures"
    assert client.put(f"{CONTROL}/fixtures", json=world).status_code == 200
    made = created(client, body_for())
    app.journal.close()

    again = create_app(state_file=state, clock=NOW)
    try:
        client = again.test_client()
        assert uids_of_dump_client(client) == [made["uid"]], "the invoices made after the PUT, only"
        read = client.get(f"/api/invoices/{made['uid']}", headers=auth(USER_A)).json()["data"]
        assert read == made
        assert again.runtime.sessions.world.organizations[organization["uid"]].name == organization["name"]
    finally:
        again.journal.close()


def test_one_invoice_cap_across_all_sessions_and_reset_makes_room(tmp_path):
    state = tmp_path / "state.db"
    app = create_app(state_file=state, clock=NOW, max_invoices=3)
    client = app.test_client()
    for session in ("a", "a", "b"):
        assert _create(client, session).status_code == 200
    refused = _create(client, "c")
    assert refused.status_code == 507, refused.text
    message = refused.json()["message"]
    assert "3" in message and "all sessions" in message and "POST /__mock/reset" in message, message
    assert client.post(f"{CONTROL}/reset", headers={"X-Mock-Session": "a"}).status_code == 200
    assert _create(client, "c").status_code == 200
    app.journal.close()

    again = create_app(state_file=state, clock=NOW, max_invoices=3)
    try:
        client = again.test_client()
        assert again.runtime.sessions.invoice_count() == 2, "the reset was kept: room for one more"
        assert _create(client, "d").status_code == 200
        assert _create(client, "e").status_code == 507
    finally:
        again.journal.close()


def test_the_request_log_is_bounded_in_bytes(make_client):
    client = make_client()
    big = "x" * 200_000
    for _ in range(30):
        client.get("/api/invoices", headers={**auth(USER_A), "X-Padding": big, "X-Other": big})
        client.post(
            "/api/invoices",
            content=b"[" * 100_000,
            headers={**auth(USER_A), "Content-Type": "application/json"},
        )
    usage = client.get(f"{CONTROL}/health").json()["data"]["request_log"]
    assert usage["entries"] == 60
    assert usage["bytes"] <= 60 * (2 * MAX_BODY_CHARS + 20_000), usage  # headers not kept, bodies cut
    entries = client.get(f"{CONTROL}/requests", params={"limit": 2}).json()["data"]
    assert entries[0]["request"]["body"].endswith("(100000 bytes)"), "a cut body says its size"


def test_the_request_log_drops_the_oldest_past_its_byte_bound():
    from mockserver.http.request_log import Exchange

    log = RequestLog(capacity=500, max_bytes=100_000)
    for index in range(100):
        log.add(
            Exchange.keep(float(index), "POST", "/api/invoices", b"", [], b"y" * 50_000, 50_000, 200, b"", 0)
        )
        assert log.usage()["bytes"] <= 100_000
    newest = log.last(500)
    assert len(newest) == log.usage()["entries"] >= 1
    assert newest[0]["at"] == "1970-01-01T00:01:39Z", "the newest entries stay"


def test_the_dump_is_paginated(make_client):
    client = make_client(max_invoices=50)
    uids = [created(client, body_for())["uid"] for _ in range(7)]
    seen: list[str] = []
    url: str | None = f"{CONTROL}/invoices?per_page=3"
    pages = 0
    while url is not None:
        envelope = client.get(url).json()
        assert envelope["_meta"]["total_items"] == 7 and envelope["_meta"]["total_pages"] == 3
        seen += [invoice["uid"] for invoice in envelope["data"]]
        url, pages = envelope["_links"]["next"], pages + 1
    assert (seen, pages) == (uids, 3)
    past = client.get(f"{CONTROL}/invoices", params={"page": 9, "per_page": 3}).json()
    assert past["data"] == [] and past["_links"]["next"] is None
    for bad in ({"per_page": 0}, {"per_page": 201}, {"page": 0}):
        refused = client.get(f"{CONTROL}/invoices", params=bad)
        assert refused.status_code in (400, 422) and refused.json()["status"] == "error", refused.text


def test_an_old_json_state_file_is_refused_with_the_reason(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"format": "invoice-contract-kit/mock-state", "version": 1, "sessions": {}}')
    before = state.read_bytes()
    with pytest.raises(persistence.StateFileError) as refused:
        create_app(state_file=state)
    assert "JSON state file of an older mock" in str(refused.value)
    assert state.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_new_state_file_is_made_complete_or_not_at_all(tmp_path):
    state = tmp_path / "new.db"
    (tmp_path / ".new.db.abc123.new").write_bytes(b"half made")  # left by a mock killed while creating
    app = create_app(state_file=state)
    try:
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("new.db-")) == ["new.db"]
        with sqlite3.connect(state) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert dict(connection.execute("SELECT key, value FROM meta"))["format"] == persistence.FORMAT
    finally:
        app.journal.close()


def test_the_durable_settings_are_the_documented_ones(tmp_path):
    app = create_app(state_file=tmp_path / "s.db")
    try:
        mode, synchronous = app.journal.in_writer(
            lambda c: (
                c.execute("PRAGMA journal_mode").fetchone()[0],
                c.execute("PRAGMA synchronous").fetchone()[0],
            )
        )
        assert (mode, synchronous) == ("wal", 2)  # 2 is FULL: the log is fsync'd at every commit
    finally:
        app.journal.close()


# --- the lifecycle operations: updates, deletes and line items are durable too ------------------

PRODUCT = product_of(ORG_A, "PRODUCT")
DISCOUNT = product_of(ORG_A, "DISCOUNT")


def _stable(invoice: dict[str, Any]) -> dict[str, Any]:
    """An invoice without what follows the clock (the process's clock runs)."""
    return {k: v for k, v in invoice.items() if k not in ("age", "overdue_days")}


class LifecycleLoop:
    """`CLIENTS` threads, each changing its own invoices with every lifecycle operation in turn.

    After each acknowledged change the thread reads its invoices back (nobody else touches them)
    into `model`; the change under way when the mock is killed is `pending` (the uids it
    touches): after the restart those invoices are all as before it, or all changed (or gone).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.lock = threading.Lock()
        self.model: dict[str, dict[str, Any]] = {}
        self.acknowledged = 0
        self.pending: list[tuple[str, list[str]]] = []  # (operation, uids) of each thread's last send
        self.failures: list[BaseException] = []  # a thread's own failure, raised again by join()
        self.threads = [
            threading.Thread(target=_recording(self.failures, self._run), args=(n,), daemon=True)
            for n in range(CLIENTS)
        ]

    def _run(self, thread: int) -> None:
        mine: list[str] = []
        step = 0
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while True:
                step += 1
                try:
                    operation, send, touched = self._next(http, thread, step, mine)
                except httpx.TransportError:
                    return  # killed while it read what to change next
                with self.lock:
                    self.pending.append((operation, touched))
                try:
                    response = send()
                    if response.status_code != 200:
                        raise AssertionError(f"{operation}: {response.text}")
                    data = response.json()["data"]
                    if operation == "create":
                        touched = [data["uid"]]
                        mine.append(data["uid"])
                    states = {uid: read(http, uid) for uid in touched if operation != "bulk_delete"}
                except (httpx.TransportError, ValueError):
                    return  # killed (possibly mid-answer: then it was not acknowledged)
                with self.lock:
                    self.pending.remove((operation, touched if operation != "create" else []))
                    self.acknowledged += 1
                    self.model.update({uid: _stable(state) for uid, state in states.items()})
                    if operation == "bulk_delete":
                        for uid in touched:
                            self.model.pop(uid, None)
                            mine.remove(uid)

    def _next(
        self, http: httpx.Client, thread: int, step: int, mine: list[str]
    ) -> tuple[str, Any, list[str]]:
        """The thread's next change: create, update, lines (add, change, delete), bulk update, bulk delete."""
        kind = step % 7
        if kind == 1 or len(mine) < 2:
            return "create", lambda: http.post("/api/invoices", json=body_for(), headers=auth(USER_A)), []
        last, before = mine[-1], mine[-2]
        if kind == 2:
            body = {"status": f"T{thread}-{step}", "invoice_number": f"N{thread}-{step}", "currency": "EUR"}
            return "update", lambda: update(http, last, body), [last]
        if kind == 3:
            batch = [line_body(PRODUCT, 2), line_body(DISCOUNT, 1)]
            return "add_lines", lambda: lines(http, "POST", last, batch), [last]
        if kind == 4:
            line = read(http, last)["line_items"][0]["uid"]
            return "change_lines", lambda: lines(http, "PUT", last, [{"uid": line, "quantity": 3}]), [last]
        if kind == 5:
            discount = next(
                item["uid"] for item in read(http, last)["line_items"] if item["context_type"] == "DISCOUNT"
            )
            return "delete_lines", lambda: lines(http, "DELETE", last, [discount]), [last]
        if kind == 6:
            items = [
                {"uid": last, "status": f"B{thread}-{step}"},
                {"uid": before, "status": f"B{thread}-{step}"},
            ]
            return "bulk_update", lambda: bulk_update(http, items), [last, before]
        return "bulk_delete", lambda: bulk_delete(http, [before]), [before]

    def count(self) -> int:
        with self.lock:
            return self.acknowledged

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=READY_SECONDS)
            assert not thread.is_alive(), "a client did not notice the kill"
        if self.failures:
            raise self.failures[0]


@pytest.mark.e2e
def test_kill_9_keeps_every_acknowledged_update_delete_and_line_change_and_none_half_applied(tmp_path):
    state = tmp_path / "state.db"
    rng = random.Random(20261202)
    logs = tmp_path / "logs"
    checked: list[tuple[int, int, int]] = []
    for round_number in range(KILL_ROUNDS // 2):
        mock = ServerProcess.mock(logs, "--state-file", str(state))
        try:
            assert mock.answers(READY_SECONDS), f"round {round_number}: {mock.stderr}"
            http = httpx.Client(base_url=mock.base_url, timeout=30)
            assert http.post(f"{CONTROL}/reset").status_code == 200
            loop = LifecycleLoop(mock.base_url)
            target = rng.randint(40, 120)  # acknowledged changes before the kill: seeded, varying
            loop.start()
            deadline = time.monotonic() + READY_SECONDS
            while loop.count() < target:
                assert time.monotonic() < deadline, f"round {round_number}: only {loop.count()} changes"
                assert mock.process.poll() is None, mock.stderr
                time.sleep(0.005)
        finally:
            mock.kill9()
        loop.join()

        again = ServerProcess.mock(logs, "--state-file", str(state))
        try:
            assert again.answers(READY_SECONDS), f"round {round_number}: restart refused: {again.stderr}"
            with httpx.Client(base_url=again.base_url, timeout=30) as http:
                served = {uid: _stable(read(http, uid)) for uid in uids_of_dump(again.base_url)}
        finally:
            again.kill9()
        in_flight = {uid for _operation, uids in loop.pending for uid in uids}
        for uid, expected in loop.model.items():
            if uid not in in_flight:
                assert served.get(uid) == expected, f"round {round_number}: acknowledged change of {uid} lost"
        for operation, uids in loop.pending:  # the change under way: all of it, or nothing
            kept = [served.get(uid) == loop.model.get(uid) for uid in uids]
            assert all(kept) or not any(kept), f"round {round_number}: {operation} half applied"
        creates_in_flight = sum(operation == "create" for operation, _ in loop.pending)
        unknown = set(served) - set(loop.model) - in_flight
        assert len(unknown) <= creates_in_flight, f"round {round_number}: invoices nobody created"
        checked.append((loop.acknowledged, len(loop.model), len(loop.pending)))
    print(f"kill -9 lifecycle rounds (acknowledged changes, invoices checked, in flight): {checked}")


def test_a_refused_write_of_a_change_is_503_and_undone(tmp_path):
    """An update and a line change whose commit fails (the database may not grow) are undone."""
    state = tmp_path / "state.db"
    app = create_app(state_file=state, clock=NOW)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        uids = [created(http, body_for())["uid"] for _ in range(2)]
        before = [_stable(read(http, uid)) for uid in uids]
        _limit_pages(app.journal, 1)
        refused = [
            update(http, uids[0], {"status": "x" * 20_000}),
            lines(http, "POST", uids[1], [line_body(PRODUCT, 1, unit_price=1)] * 100),
        ]
        _limit_pages(app.journal, None)
        for response in refused:
            assert response.status_code == 503, response.text
        assert [_stable(read(http, uid)) for uid in uids] == before
        changed = updated_status(http, uids[0])
    restarted = create_app(state_file=state, clock=NOW)
    try:
        with serve(restarted) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            assert [_stable(read(http, uid)) for uid in uids] == [changed, before[1]]
    finally:
        restarted.journal.close()


def updated_status(http: httpx.Client, uid: str) -> dict[str, Any]:
    response = update(http, uid, {"status": "SENT"})
    assert response.status_code == 200, response.text
    return _stable(response.json()["data"])


def test_a_refused_delete_is_503_and_the_invoices_come_back_in_their_places(tmp_path):
    app = create_app(state_file=tmp_path / "state.db", clock=NOW)
    client = app.test_client()
    uids = [created(client, body_for())["uid"] for _ in range(4)]
    listed = client.get("/api/invoices", headers=auth(USER_A)).json()["data"]["items"]
    app.journal.close()  # the writer thread ends: every change is refused, and undone
    refused = bulk_delete(client, uids[1:3])
    assert refused.status_code == 503, refused.text
    assert client.get("/api/invoices", headers=auth(USER_A)).json()["data"]["items"] == listed
    assert client.get(f"{CONTROL}/health").json()["data"]["invoices"]["stored"] == len(uids)
    assert uids_of_dump_in_process(client) == uids


def uids_of_dump_in_process(client: Any) -> list[str]:
    return [invoice["uid"] for invoice in client.get(f"{CONTROL}/invoices").json()["data"]]
