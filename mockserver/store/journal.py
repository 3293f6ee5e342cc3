"""Group commit: every state change is in the state file, fsync'd, before its request is answered.

Handlers change the in-memory sessions (the serving copy) at once and `record` the change (its
row for the state file, `mockserver.store.persistence`) here with a way to undo it. All the changes
recorded during one turn of the event loop form a *group*; one writer thread commits each group
as one SQLite transaction (`synchronous=FULL`: fsync'd), at most one group at a time, while the
next group gathers. `DurableAcks` holds back the answer of a request that recorded changes
until their group is committed; a request that changed nothing (every read) never waits.

When a commit fails (disk full, a read-only file, …) its group, and the group that gathered on
top of it, are undone in memory, newest change first, and their requests get 503 in the
envelope: nothing that is not on disk was acknowledged, or is kept. (Reads do not wait, so a
read may see a change while its commit is under way; if the commit fails, the change goes.)
The reason is logged and shown by `GET /__mock/health`; the next group tries again, so the mock
recovers by itself when the cause goes away. The writer catches every failure of a commit, so
it cannot die silently; should its thread be gone, every change is refused with that reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mockserver.store import persistence
from mockserver.store.persistence import Row

logger = logging.getLogger("mockserver")
SWITCH_INTERVAL_SECONDS = 0.0005


class WriteFailed(Exception):
    """A group of changes could not be committed; they were undone."""


@dataclass
class Change:
    row: Row  # what the change is, for the state file (mockserver.store.persistence)
    undo: Callable[[], None]


@dataclass
class Group:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    changes: list[Change] = field(default_factory=list)


# The groups the current request's changes went into (set per request by `DurableAcks`).
_request_groups: contextvars.ContextVar[list[Group] | None] = contextvars.ContextVar(
    "mockserver_request_groups", default=None
)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Health:
    """What `GET /__mock/health` shows of the state file."""

    writable: bool = True
    last_error: str | None = None
    last_error_at: str | None = None
    failing_since: str | None = None
    committed_groups: int = 0
    committed_changes: int = 0
    largest_group: int = 0
    refused_changes: int = 0
    commit_seconds: float = 0.0  # time the writer spent in commits (SQLite + fsync)
    longest_commit_ms: float = 0.0


class Journal:
    """Commits recorded changes to the state file in groups, on a writer thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.health = Health()
        self._lock = threading.Lock()
        self._open: Group | None = None  # gathering changes
        self._in_flight: Group | None = None  # being committed
        self._jobs: queue.SimpleQueue[Group | Callable[[], None] | None] = queue.SimpleQueue()
        self._connection: sqlite3.Connection | None = None
        # Test seam: called with every connection the writer opens (e.g. to set a size limit).
        self.on_connect: Callable[[sqlite3.Connection], None] | None = None
        self._closed = False
        # The writer takes the GIL back after each commit and each wake-up; while the event loop
        # is busy that waits for the loop's thread to yield, every 5 ms by default. A shorter
        # interval lets a commit's answers go out sooner; the loop yields only when asked to.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))
        self._thread = threading.Thread(target=self._write_forever, name="state-file-writer", daemon=True)
        self._thread.start()

    @property
    def writer_alive(self) -> bool:
        return self._thread.is_alive()

    # --- the event loop's side ---------------------------------------------------------------

    def record(self, row: Row, undo: Callable[[], None]) -> None:
        """Add a change (already made in memory) to the group gathering on this loop turn."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._commit_now(Change(row, undo))  # no event loop (a script, a test): commit at once
            return
        with self._lock:
            group = self._open
            if group is None:
                group = self._open = Group(loop, loop.create_future())
                group.future.add_done_callback(_quiet)
                if self._in_flight is None:
                    loop.call_soon(self._submit)  # after everything else ready in this turn
            group.changes.append(Change(row, undo))
        waiting = _request_groups.get()
        if waiting is not None and group not in waiting:
            waiting.append(group)

    def _submit(self) -> None:
        with self._lock:
            if self._in_flight is not None or self._open is None:
                return
            group, self._open = self._open, None
            self._in_flight = group
        if not self._thread.is_alive():
            self._finished(group, "the state file's writer thread has stopped; restart the mock")
            return
        self._jobs.put(group)

    def _finished(self, group: Group, error: str | None) -> None:
        """On the loop: settle a committed (or failed) group, then send the next one."""
        with self._lock:
            self._in_flight = None
            failed = [group]
            if error is not None and self._open is not None:
                failed.append(self._open)  # it was made on top of the failed changes
                self._open = None
        if error is None:
            self.health.writable, self.health.failing_since = True, None
            self.health.committed_groups += 1
            self.health.committed_changes += len(group.changes)
            self.health.largest_group = max(self.health.largest_group, len(group.changes))
            group.future.set_result(None)
            self._submit()
            return
        for undone in reversed(failed):
            for change in reversed(undone.changes):
                try:
                    change.undo()
                except Exception:  # an undo that fails must not leave the requests waiting
                    logger.exception("could not undo a change the state file refused")
        count = sum(len(g.changes) for g in failed)
        logger.error(
            "cannot write the state file %s: %s (%d changes refused and undone)", self.path, error, count
        )
        self.health.writable = False
        self.health.last_error, self.health.last_error_at = error, _now()
        self.health.failing_since = self.health.failing_since or self.health.last_error_at
        self.health.refused_changes += count
        for undone in failed:
            undone.future.set_exception(WriteFailed(error))

    async def wait(self, groups: list[Group]) -> None:
        """Until every group is committed; `WriteFailed` if one was not."""
        for group in groups:
            await asyncio.shield(group.future)

    async def aclose(self) -> None:
        """At shutdown: let the groups under way finish, then stop the writer and close the file."""
        while True:
            with self._lock:
                pending = [g for g in (self._in_flight, self._open) if g is not None]
            if not pending:
                break
            await asyncio.wait([asyncio.shield(g.future) for g in pending])
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._jobs.put(None)
            self._thread.join(timeout=60)

    def in_writer(self, job: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run `job(connection)` on the writer thread and return its result (maintenance, tests)."""
        done: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

        def run() -> None:
            try:
                done.put((True, job(self._connection_or_open())))
            except Exception as error:
                done.put((False, error))

        self._jobs.put(run)
        ok, result = done.get(timeout=60)
        if not ok:
            raise result
        return result

    # --- the writer thread -------------------------------------------------------------------

    def _commit_now(self, change: Change) -> None:
        if not self._thread.is_alive():
            change.undo()
            raise WriteFailed("the state file's writer thread has stopped; restart the mock")
        done: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._jobs.put(lambda: done.put(self._commit([change])))
        error = done.get(timeout=60)
        if error is not None:
            change.undo()
            self.health.writable, self.health.last_error, self.health.last_error_at = False, error, _now()
            raise WriteFailed(error)

    def _connection_or_open(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = persistence.connect(self.path)
            if self.on_connect is not None:
                self.on_connect(connection)
            self._connection = connection
        return self._connection

    def _commit(self, changes: list[Change]) -> str | None:
        """One transaction for `changes`; None, or why it failed (the connection is then reopened)."""
        try:
            connection = self._connection_or_open()
            statements = persistence.insert_statements([change.row for change in changes])
            if len(statements) == 1:  # one statement is its own transaction (autocommit)
                connection.execute(*statements[0])
            else:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    for sql, parameters in statements:
                        connection.execute(sql, parameters)
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
        except Exception as error:
            self._drop_connection()
            return f"{type(error).__name__}: {error}"
        return None

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None

    def _write_forever(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._drop_connection()  # the last close checkpoints the log into the file
                return
            try:
                if isinstance(job, Group):
                    started = time.monotonic()
                    error = self._commit(job.changes)
                    took = time.monotonic() - started
                    self.health.commit_seconds += took
                    self.health.longest_commit_ms = max(self.health.longest_commit_ms, took * 1000)
                    if took > 1:
                        logger.warning("a commit of the state file took %.1f s", took)
                    self._settle(job, error)
                else:
                    job()
            except BaseException as error:  # never die silently: say so, and keep serving
                logger.exception("the state file's writer met an unexpected error")
                if isinstance(job, Group):
                    self._settle(job, f"{type(error).__name__}: {error}")

    def _settle(self, group: Group, error: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            group.loop.call_soon_threadsafe(self._finished, group, error)


def _quiet(future: asyncio.Future[None]) -> None:
    """Retrieve the exception, so a group nobody awaited logs no 'never retrieved' warning."""
    if not future.cancelled():
        future.exception()


def wait_for_changes_of_this_request() -> contextvars.Token[list[Group] | None]:
    """Start collecting the groups the current request's changes go into."""
    return _request_groups.set([])


def groups_of_this_request() -> list[Group]:
    return _request_groups.get() or []


def stop_collecting(token: contextvars.Token[list[Group] | None]) -> None:
    _request_groups.reset(token)
