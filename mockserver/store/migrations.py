"""Older state files are migrated at start, not refused: what an older mock acknowledged, this one keeps.

Format v2 (SQLite, the mock before the lifecycle wave: creates only) differs from v3 in the
invoice rows only. A v2 row keeps the invoice's fields and the uids of its line items; the
lines themselves, the notes and the collection method were derived from the blueprint (and
the spec) each time the invoice was shown. A v3 row keeps them on the invoice. So a v2 row
becomes the v3 row of the invoice the v2 mock showed: its lines are made from the blueprint of
the world the v2 file was served with (the fixtures it holds, else the start's), with their
old uids, exactly as `views` shows a v3 invoice. Sessions, clocks, generated-number sequences
and fixtures are kept as they are (their tables did not change).

Why in place, in one SQLite transaction (rather than a new file renamed over the old one): the
file is already a WAL database with `synchronous=FULL`, so SQLite makes the whole migration
(new rows, the table swap, the new triggers, the version in `meta`) one commit, fsync'd, or
nothing. A `kill -9`, a full disk or a row that cannot be migrated leaves the v2 file as it
was, usable by the next start; there is no second file to clean up and no rename to sync.

Format v1 (the JSON file of an even older mock) is not migrated: the v2 mock refused it too
(453573e), so no file of it can hold anything a current user made; it is refused with the
reason (`persistence`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.facts import ContractFacts
from mockserver.domain import rules
from mockserver.domain.fixtures import FixtureError, World, parse_world
from mockserver.store import persistence
from mockserver.store.persistence import StateFileError

FROM_VERSION = 2
CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")  # the file itself is damaged: retrying cannot help

# Test seam: called with the name of each step done inside the migration's transaction (a test
# makes it fail, or kill the process, between two steps).
after_step: Callable[[str], None] = lambda step: None  # noqa: E731

_V3_INVOICES = """
CREATE TABLE invoices_v3 (
    seq INTEGER PRIMARY KEY, session TEXT NOT NULL, uid TEXT NOT NULL, invoice TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Migrated:
    path: Path
    from_version: int
    invoices: int
    sessions: int

    def __str__(self) -> str:
        return (
            f"{self.path}: migrated the state file from format v{self.from_version} to "
            f"v{persistence.VERSION} ({self.invoices} invoices in {self.sessions} sessions)"
        )


def migrate(path: Path, start_world: World, facts: ContractFacts) -> Migrated | None:
    """Migrate `path` to the current format if it is a v2 file; None if there was nothing to do.

    `start_world` is the world the mock starts with, the one a v2 file without fixtures of its
    own was served with. A v2 file that cannot be migrated raises `StateFileError` saying why,
    and is left as it was.
    """
    if not path.exists():
        return None
    persistence.refuse_other_files(path)
    try:
        # A look first, as `persistence.read` looks (no settings changed): a file of the current
        # format is not touched here, whatever it is (read-only, another version, corrupt).
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True)) as looking:
            if _version(looking) != str(FROM_VERSION):
                return None  # the current format, or one `persistence.read` refuses with its reason
        with contextlib.closing(persistence.connect(path)) as connection:
            return _migrate(connection, path, start_world, facts)
    except StateFileError:
        raise
    except sqlite3.Error as error:
        if getattr(error, "sqlite_errorname", None) in CORRUPT:
            raise StateFileError(
                f"{path}: the state file is corrupt ({error}); move it away to start empty"
            ) from None
        raise _not_migrated(path, error) from None
    except OSError as error:
        raise _not_migrated(path, error) from None


def _not_migrated(path: Path, error: Exception) -> StateFileError:
    """A migration that failed for a reason outside the file (disk full, read-only, …): retry later."""
    return StateFileError(
        f"{path}: cannot migrate the state file from format v{FROM_VERSION} "
        f"({type(error).__name__}: {error}); it is left as it was"
    )


def _version(connection: sqlite3.Connection) -> str | None:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "meta" not in tables:
        return None
    meta = dict(connection.execute("SELECT key, value FROM meta"))
    return meta.get("version") if meta.get("format") == persistence.FORMAT else None


def _migrate(
    connection: sqlite3.Connection, path: Path, start_world: World, facts: ContractFacts
) -> Migrated:
    problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise StateFileError(
            f"{path}: the v{FROM_VERSION} state file is corrupt ({'; '.join(problems[:3])}); "
            "it was not migrated: move it away"
        )
    connection.execute("BEGIN IMMEDIATE")
    try:
        world = _world_of(connection, path, start_world)
        rows = [
            (seq, session, *_v3_row(raw, world, f"{path}: invoice row {seq}", facts))
            for seq, session, raw in connection.execute(
                "SELECT seq, session, invoice FROM invoices ORDER BY seq"
            )
        ]
        after_step("rows converted")
        connection.execute(_V3_INVOICES)
        connection.executemany(
            "INSERT INTO invoices_v3 (seq, session, uid, invoice) VALUES (?, ?, ?, ?)", rows
        )
        after_step("rows written")
        connection.execute("DROP VIEW changes")  # its triggers go with it
        connection.execute("DROP TABLE invoices")  # its indexes go with it
        connection.execute("ALTER TABLE invoices_v3 RENAME TO invoices")
        for statement in _statements(persistence.SCHEMA):
            if statement.startswith("CREATE INDEX") or statement.startswith("CREATE UNIQUE INDEX"):
                connection.execute(statement)
        for statement in _statements(persistence.CHANGES_SCHEMA):
            connection.execute(statement)
        after_step("schema replaced")
        connection.execute("UPDATE meta SET value = ? WHERE key = 'version'", (str(persistence.VERSION),))
        after_step("version set")
        sessions = connection.execute("SELECT count(*) FROM sessions").fetchone()[0]
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return Migrated(path, FROM_VERSION, len(rows), int(sessions))


def _world_of(connection: sqlite3.Connection, path: Path, start_world: World) -> World:
    """The world the v2 mock showed the invoices in: the fixtures the file holds, else the start's."""
    row = connection.execute("SELECT document FROM fixtures WHERE id = 1").fetchone()
    if row is None:
        return start_world
    try:
        return parse_world(json.loads(row[0]), source=f"{path} (fixtures loaded by PUT /__mock/fixtures)")
    except (FixtureError, ValueError) as error:
        raise StateFileError(
            f"{path}: the fixtures it holds are refused: {error}; it was not migrated"
        ) from None


def _v3_row(raw: str, world: World, where: str, facts: ContractFacts) -> tuple[str, str]:
    """(uid, v3 row) of one v2 invoice row: the invoice the v2 mock showed, lines and notes on it."""
    try:
        data: dict[str, Any] = json.loads(raw)
        line_uids = data.pop("line_uids")
        blueprint_uid = data["invoice_blueprint_uid"]
        blueprint = world.blueprints.get(blueprint_uid) if blueprint_uid else None
        if blueprint_uid and blueprint is None:
            raise StateFileError(
                f"{where}: invoice {data['uid']} names invoice blueprint {blueprint_uid}, which the "
                "fixtures do not have (the state was written with other fixtures); it was not migrated"
            )
        items = blueprint.line_items if blueprint else ()
        if len(items) != len(line_uids):
            raise StateFileError(
                f"{where}: invoice {data['uid']} has {len(line_uids)} line items but its blueprint "
                f"has {len(items)}; it was not migrated"
            )
        lines, money = rules.priced_lines(
            (rules.blueprint_line(line, str(uid)) for uid, line in zip(line_uids, items, strict=True)),
            facts,
        )
        notes = (
            (blueprint.invoice_notes["invoice_memo"], blueprint.invoice_notes["invoice_footer"])
            if blueprint
            else rules.NO_NOTES
        )
        data["invoice_fields"] = tuple(tuple(entry) for entry in data["invoice_fields"])
        invoice = rules.Invoice(
            **data,
            lines=lines,
            paid_date=None,  # v2 had no payments: the v2 mock showed null
            collection_method=facts.collection_method_on_create,  # v2 showed the spec's, as v3 does at create
            invoice_notes=notes,
            money=money,
        )
    except StateFileError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise StateFileError(
            f"{where} is corrupt ({type(error).__name__}: {error}); the state file was not migrated"
        ) from None
    # Refused now, not after the migration: the v2 file must stay as it was (`state_file` checks
    # the same again once the file is read).
    persistence.check_references(invoice, world, where)
    return invoice.uid, persistence.encode_invoice(invoice)


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one by one (`executescript` would commit the transaction)."""
    pending = ""
    for line in script.strip().splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()
