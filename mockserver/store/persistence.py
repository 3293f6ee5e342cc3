"""`--state-file PATH`: the mock's state in an SQLite database (standard library), and its checks.

The in-memory sessions stay the serving copy; the database is the durable copy behind them,
written by `mockserver.store.journal` (one transaction per group of changes, fsync'd before any of
them is acknowledged). This module knows the file: its schema, how a new one is made, how one
is checked and read back at start, and the SQL each kind of change becomes.

Settings, and why they are durable enough:

* `journal_mode=WAL`: a commit appends to the write-ahead log; readers and the checkpoint never
  block the writer, and a `kill -9` at any instant leaves the database at its last commit
  (SQLite replays the log at the next open).
* `synchronous=FULL`: in WAL mode the log is fsync'd at *every* commit, so a commit that
  returned is on the disk: it survives `kill -9`, an OS crash and a power cut. (`NORMAL` fsyncs
  only at checkpoints: it survives `kill -9` but may lose the last commits on power loss.)

A new file is built beside the target and renamed into place only once it is complete, so the
path never holds a half-made database. A file of format v2 is migrated to this one at start
(`mockserver.store.migrations`). A file that is not such a database (a JSON state file of the oldest
mocks, v1, included: the v2 mock refused them already), is corrupt, of another version, or
names organizations, parties, documents or blueprints the fixtures do not have, is refused at
start with the reason, and left as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from contract.facts import ContractFacts
from mockserver.domain.fixtures import FixtureError, World, parse_world
from mockserver.domain.rules import Invoice, Line, priced_lines

FORMAT = "invoice-contract-kit/mock-state"
VERSION = 3  # 3: invoices by uid, with their own line items (updates, deletes, line items)
JOURNAL_MODE = "wal"
SYNCHRONOUS = "FULL"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5_000

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE fixtures (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL);
CREATE TABLE sessions (name TEXT PRIMARY KEY, clock TEXT);
CREATE TABLE numbers (
    session TEXT NOT NULL, owner_uid TEXT NOT NULL, next_sequence INTEGER NOT NULL,
    PRIMARY KEY (session, owner_uid)
);
CREATE TABLE invoices (
    seq INTEGER PRIMARY KEY, session TEXT NOT NULL, uid TEXT NOT NULL, invoice TEXT NOT NULL
);
CREATE INDEX invoices_by_session ON invoices (session, seq);
CREATE UNIQUE INDEX invoices_by_uid ON invoices (session, uid);
"""

Statement = tuple[str, tuple[Any, ...]]


class StateFileError(Exception):
    """The state file cannot be used; nothing was written to it."""


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """A connection with the durable settings; autocommit (transactions are explicit)."""
    mode = "rwc" if create else "rw"
    connection = sqlite3.connect(
        f"file:{path}?mode={mode}", uri=True, isolation_level=None, check_same_thread=False
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute(f"PRAGMA journal_mode = {JOURNAL_MODE}")
    connection.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    return connection


def fsync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError):
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def create_file(path: Path) -> None:
    """A new, empty state database at `path`, made beside it and renamed into place."""
    handle, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would make the state unreadable to other users
        connection = connect(temporary)
        try:
            connection.executescript(SCHEMA + CHANGES_SCHEMA)
            connection.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("format", FORMAT), ("version", str(VERSION))],
            )
        finally:
            connection.close()  # the last close checkpoints the log into the file and syncs it
        os.replace(temporary, path)
    except BaseException:
        for leftover in (temporary, *_sidecars(temporary)):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise
    fsync_directory(path.parent)


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Half-made databases a killed mock left beside `path` (never the state file itself)."""
    stale = sorted(path.parent.glob(f".{path.name}.*.new*"))
    for leftover in stale:
        with contextlib.suppress(OSError):
            leftover.unlink()
    return stale


# --- reading a state file back ------------------------------------------------------------------


@dataclass
class SavedSession:
    name: str
    clock: datetime | None
    invoices: list[Invoice] = field(default_factory=list)
    next_sequences: dict[str, int] = field(default_factory=dict)


@dataclass
class SavedState:
    fixtures: dict[str, Any] | None  # loaded by PUT /__mock/fixtures; None: the start's fixtures
    sessions: list[SavedSession]

    def world(self, path: Path) -> World | None:
        if self.fixtures is None:
            return None
        try:
            return parse_world(self.fixtures, source=f"{path} (fixtures loaded by PUT /__mock/fixtures)")
        except FixtureError as error:
            raise StateFileError(f"{path}: the fixtures it holds are refused: {error}") from None


def refuse_other_files(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if head == SQLITE_HEADER:
        return
    if head.lstrip()[:1] == b"{":
        raise StateFileError(
            f"{path}: a JSON state file of an older mock ({FORMAT} version 1); this mock keeps its "
            "state in SQLite and does not migrate it (the mocks since version 2 refused it, so it holds "
            "nothing they acknowledged): move it away to start empty"
        )
    raise StateFileError(
        f"{path}: the state file is corrupt (not an SQLite database); move it away to start empty"
    )


def _line(data: dict[str, Any]) -> Line:
    data.pop("total_cents", None)  # derived (Line.__post_init__), never trusted from the file
    data["quantity"], data["unit_price_cents"] = Decimal(data["quantity"]), Decimal(data["unit_price_cents"])
    for key in ("quantity", "unit_price_cents"):
        if not data[key].is_finite() or data[key] < 0:
            raise ValueError(f"line item {data.get('uid')!r}: {key} {data[key]} is no amount")
    return Line(**data)


def _invoice(raw: str, facts: ContractFacts) -> Invoice:
    data = json.loads(raw)
    data["invoice_fields"] = tuple(tuple(entry) for entry in data["invoice_fields"])
    data["lines"], data["money"] = priced_lines([_line(line) for line in data["lines"]], facts)
    data["invoice_notes"] = tuple(data["invoice_notes"])
    return Invoice(**data)


def _read(connection: sqlite3.Connection, path: Path, facts: ContractFacts) -> SavedState:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    meta = dict(connection.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
    if meta.get("format") != FORMAT:
        raise StateFileError(f"{path}: not a mock state file (no format {FORMAT!r})")
    if meta.get("version") != str(VERSION):
        raise StateFileError(
            f"{path}: state format version {meta.get('version')!r}; this mock reads {VERSION}"
        )
    problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise StateFileError(f"{path}: the state file is corrupt ({'; '.join(problems[:3])}); move it away")
    fixtures_row = connection.execute("SELECT document FROM fixtures WHERE id = 1").fetchone()
    sessions: dict[str, SavedSession] = {}
    for name, clock in connection.execute("SELECT name, clock FROM sessions ORDER BY name"):
        sessions[name] = SavedSession(name, datetime.fromisoformat(clock) if clock else None)

    def session(name: str) -> SavedSession:
        if name not in sessions:
            raise StateFileError(f"{path}: the state file is corrupt (rows of an unknown session {name!r})")
        return sessions[name]

    for name, owner, sequence in connection.execute("SELECT session, owner_uid, next_sequence FROM numbers"):
        session(name).next_sequences[owner] = int(sequence)
    for name, raw in connection.execute("SELECT session, invoice FROM invoices ORDER BY seq"):
        session(name).invoices.append(_invoice(raw, facts))
    return SavedState(json.loads(fixtures_row[0]) if fixtures_row else None, list(sessions.values()))


def read(path: Path, facts: ContractFacts) -> SavedState | None:
    """The state saved in `path` (None if there is no file yet), or `StateFileError` saying why not."""
    if not path.exists():
        return None
    try:
        refuse_other_files(path)
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)
        try:
            return _read(connection, path, facts)
        finally:
            connection.close()
    except StateFileError:
        raise
    except (OSError, sqlite3.Error, ValueError, KeyError, TypeError) as error:
        raise StateFileError(
            f"{path}: the state file is corrupt ({type(error).__name__}: {error}); "
            "move it away to start empty"
        ) from None


def check_references(invoice: Invoice, world: World, where: str) -> None:
    references: list[tuple[str, str, Mapping[str, object]]] = [
        ("organization", invoice.owner_uid, world.organizations),
        ("party", invoice.target_party_uid, world.parties),
        ("document", invoice.document_uid, world.documents),
    ]
    if invoice.invoice_blueprint_uid:
        references.append(("invoice blueprint", invoice.invoice_blueprint_uid, world.blueprints))
    for kind, uid, known in references:
        if uid not in known:
            raise StateFileError(
                f"{where}: invoice {invoice.uid} names {kind} {uid}, which the fixtures do not "
                "have (the state was written with other fixtures)"
            )


# --- the row of each change ---------------------------------------------------------------------
#
# A change is one row inserted into the view `changes`; its triggers apply it to the tables. A
# group of changes is then *one* multi-row INSERT, committed by itself (autocommit): one
# statement, one transaction, one fsync, and one release of the GIL by the writer thread, which
# under load must wait for the event loop's thread each time it takes the GIL back.

CHANGES_SCHEMA = """
CREATE VIEW changes (kind, session, body, owner_uid, next_sequence, clock, uid) AS
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER apply_create INSTEAD OF INSERT ON changes WHEN NEW.kind = 'create' BEGIN
    INSERT OR IGNORE INTO sessions (name, clock) VALUES (NEW.session, NEW.clock);
    INSERT INTO invoices (session, uid, invoice) VALUES (NEW.session, NEW.uid, NEW.body);
    INSERT OR REPLACE INTO numbers (session, owner_uid, next_sequence)
        VALUES (NEW.session, NEW.owner_uid, NEW.next_sequence);
END;
CREATE TRIGGER apply_update INSTEAD OF INSERT ON changes WHEN NEW.kind = 'update' BEGIN
    UPDATE invoices SET invoice = NEW.body WHERE session = NEW.session AND uid = NEW.uid;
END;
CREATE TRIGGER apply_delete INSTEAD OF INSERT ON changes WHEN NEW.kind = 'delete' BEGIN
    DELETE FROM invoices WHERE session = NEW.session AND uid = NEW.uid;
END;
CREATE TRIGGER apply_clock INSTEAD OF INSERT ON changes WHEN NEW.kind = 'clock' BEGIN
    INSERT OR REPLACE INTO sessions (name, clock) VALUES (NEW.session, NEW.clock);
END;
CREATE TRIGGER apply_reset_session INSTEAD OF INSERT ON changes WHEN NEW.kind = 'reset_session' BEGIN
    DELETE FROM invoices WHERE session = NEW.session;
    DELETE FROM numbers WHERE session = NEW.session;
    DELETE FROM sessions WHERE name = NEW.session;
END;
CREATE TRIGGER apply_reset_all INSTEAD OF INSERT ON changes
    WHEN NEW.kind IN ('reset_all', 'fixtures') BEGIN
    DELETE FROM invoices;
    DELETE FROM numbers;
    DELETE FROM sessions;
END;
CREATE TRIGGER apply_fixtures INSTEAD OF INSERT ON changes WHEN NEW.kind = 'fixtures' BEGIN
    INSERT OR REPLACE INTO fixtures (id, document) VALUES (1, NEW.body);
END;
"""

Row = tuple[str | None, str | None, str | None, str | None, int | None, str | None, str | None]
_FILLER: Row = (None, None, None, None, None, None, None)  # a row no trigger applies
# Statements of these sizes only (padded with filler rows): SQLite's statement cache keeps them
# prepared. 7 x 4096 bound variables stays under SQLite's bound of 32,766 per statement.
ROW_BUCKETS = (1, 8, 64, 512, 4096)


def insert_statements(rows: list[Row]) -> list[Statement]:
    """The multi-row INSERTs that apply `rows` in order (one, unless a group is very large)."""
    statements: list[Statement] = []
    for start in range(0, len(rows), ROW_BUCKETS[-1]):
        chunk = rows[start : start + ROW_BUCKETS[-1]]
        size = next(bucket for bucket in ROW_BUCKETS if bucket >= len(chunk))
        padded = chunk + [_FILLER] * (size - len(chunk))
        sql = "INSERT INTO changes VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * size)
        statements.append((sql, tuple(value for row in padded for value in row)))
    return statements


def _clock_text(clock: datetime | None) -> str | None:
    return clock.isoformat() if clock is not None else None  # isoformat() reads back for any datetime


def encode_invoice(invoice: Invoice) -> str:
    """The invoice as its row keeps it (format v3): its fields in order, `money` left out (it is
    derived from the lines, `_invoice` recomputes it) and the lines as a list of their fields."""
    data: dict[str, Any] = {}
    for name in _ROW_FIELDS:
        value = getattr(invoice, name)
        data[name] = [asdict(line) for line in value] if name == "lines" else value
    # ensure_ascii: plain ASCII text, whatever the body held (lone surrogates included); amounts
    # (Decimal) as their exact text.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True, default=str)


_ROW_FIELDS = tuple(f.name for f in fields(Invoice) if f.name != "money")


def created(session: str, clock: datetime | None, invoice: Invoice, next_sequence: int) -> Row:
    return (
        "create",
        session,
        encode_invoice(invoice),
        invoice.owner_uid,
        next_sequence,
        _clock_text(clock),
        invoice.uid,
    )


def updated(session: str, invoice: Invoice) -> Row:
    """An invoice changed (update, bulk update, line items): its whole new state replaces the old.

    So with a state file a line-item change still costs the invoice's size (its row is encoded
    and written again, every line in it); the in-memory change does not (line_list.py).
    """
    return ("update", session, encode_invoice(invoice), None, None, None, invoice.uid)


def deleted(session: str, uid: str) -> Row:
    return ("delete", session, None, None, None, None, uid)


def clock_set(session: str, clock: datetime | None) -> Row:
    return ("clock", session, None, None, None, _clock_text(clock), None)


def session_reset(session: str) -> Row:
    return ("reset_session", session, None, None, None, None, None)


def all_reset() -> Row:
    return ("reset_all", None, None, None, None, None, None)


def fixtures_replaced(document: dict[str, Any]) -> Row:
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
    return ("fixtures", None, text, None, None, None, None)
