"""`--state-file`: the mock's sessions survive a restart, and a crash never corrupts the file.

Changes are written within `interval` seconds (batched) and on shutdown, always to a temporary
file in the same folder that is flushed, synced and renamed over the old one: a `kill -9` at any
moment leaves either the previous state or the new one. A file that is corrupt, of another
format, or names organizations, parties, documents or blueprints the fixtures do not have, is
refused at start with a message, and left untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mockserver.clock import Clock
from mockserver.rules import Invoice
from mockserver.state import MockState, Sessions
from mockserver.store import InvoiceStore
from mockserver.views import format_instant, parse_instant

FORMAT = "invoice-contract-kit/mock-state"
VERSION = 1
logger = logging.getLogger("mockserver")


class StateFileError(Exception):
    """The state file cannot be used; nothing was written to it."""


def snapshot(sessions: Sessions) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "sessions": {}}
    for name, state in sessions.items():
        invoices, numbers = state.store.export()
        fixed = state.clock.now() if state.clock.is_fixed else None
        data["sessions"][name] = {
            "clock": format_instant(fixed) if fixed else None,
            "numbers": numbers,
            "invoices": [asdict(invoice) for invoice in invoices],
        }
    return data


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Temporary file + fsync + rename (+ fsync of the folder): old or new, never half."""
    folder = path.parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(handle, 0o644)  # mkstemp's 0600 would make the state unreadable to other users
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Temporary files a killed mock left beside `path` (never the state file itself)."""
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    for leftover in stale:
        with contextlib.suppress(OSError):
            leftover.unlink()
    return stale


def _invoice(raw: dict[str, Any]) -> Invoice:
    raw = dict(raw)
    raw["invoice_fields"] = tuple(tuple(entry) for entry in raw["invoice_fields"])
    raw["line_uids"] = tuple(raw["line_uids"])
    return Invoice(**raw)


def _check_references(invoice: Invoice, sessions: Sessions, where: str) -> None:
    world = sessions.world
    references = [
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
    blueprint = world.blueprints.get(invoice.invoice_blueprint_uid or "")
    if blueprint is not None and len(blueprint.line_items) != len(invoice.line_uids):
        raise StateFileError(
            f"{where}: invoice {invoice.uid} has {len(invoice.line_uids)} line items but its "
            f"blueprint now has {len(blueprint.line_items)}"
        )


def load(path: Path, sessions: Sessions) -> int:
    """Restore the sessions from `path` (if it exists); the number of invoices restored."""
    if not path.exists():
        return 0
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StateFileError(f"{path}: not a mock state file (no format {FORMAT!r})")
        if data.get("version") != VERSION:
            raise StateFileError(
                f"{path}: state format version {data.get('version')!r}; this mock reads {VERSION}"
            )
        restored = []
        for name, raw in data["sessions"].items():
            invoices = [_invoice(entry) for entry in raw["invoices"]]
            for invoice in invoices:
                _check_references(invoice, sessions, str(path))
            fixed = parse_instant(raw["clock"]) if raw.get("clock") else None
            store = InvoiceStore(sessions.max_invoices, on_change=sessions.touch)
            store.restore(invoices, raw["numbers"])
            restored.append(
                MockState(
                    name, sessions.world, store, Clock(fixed, on_change=sessions.touch), sessions.defaults
                )
            )
    except StateFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise StateFileError(
            f"{path}: the state file is corrupt ({type(error).__name__}: {error}); "
            "move it away to start empty"
        ) from None
    for state in restored:
        sessions.put(state)
    return sum(len(state.store) for state in restored)


class StateFile:
    """Keeps `path` in step with the sessions: batched writes while running, one at shutdown."""

    def __init__(self, path: Path, sessions: Sessions, interval: float = 0.2) -> None:
        self.path, self.sessions, self.interval = path, sessions, interval
        self.saved_version = sessions.version
        for leftover in remove_stale_temporaries(path):
            logger.warning("removed %s, left by a mock that stopped while writing", leftover)

    def save_if_changed(self) -> bool:
        version = self.sessions.version
        if version == self.saved_version:
            return False
        write_atomically(self.path, snapshot(self.sessions))
        self.saved_version = version
        return True

    async def run(self) -> None:
        """Snapshot on the event loop (consistent), write in a thread (the loop keeps serving)."""
        while True:
            await asyncio.sleep(self.interval)
            version = self.sessions.version
            if version == self.saved_version:
                continue
            try:
                await asyncio.to_thread(write_atomically, self.path, snapshot(self.sessions))
                self.saved_version = version
            except OSError as error:
                logger.error("cannot write the state file %s: %s", self.path, error)

    @contextlib.asynccontextmanager
    async def running(self) -> Any:
        task = asyncio.create_task(self.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.save_if_changed()
