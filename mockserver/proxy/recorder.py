"""`--record FILE`: the proxy's successful exchanges kept as a world file the mock starts from.

Each exchange the contract accepts is handed to the `Recording` (recording.py) by operation; the
file is then rewritten at most once a second (less often once a write takes over a quarter of a
second: the writer then takes at most a fifth of the time), and once more when the proxy stops,
so a proxy that is killed loses only what came after its last write. Writes are made one at a
time and never replace a newer one. Every write is checked as the mock will read it
(`contract.world.parse_world`: the world file's schema and cross-checks), made beside the target
and renamed into place: the path always holds a whole world file. A file that exists already
is continued, not replaced: a morning recorded over two proxy runs is one world.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from contract.facts import ContractFacts
from contract.world import parse_world
from contract.worldfile import WorldError, read_world_file
from mockserver.proxy.recording import Entry, Recording

logger = logging.getLogger("mockserver.proxy")
WRITE_EVERY_SECONDS = 1.0
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
HEADER = (
    "# Recorded by invoice-mock --proxy --record: what the upstream answered, as a world file\n"
    "# (contract/fixtures/world.schema.yaml). Tokens are placeholders; serve it with\n"
    "# `invoice-mock --world THIS_FILE`.\n"
)


class RecordFileError(Exception):
    """The record file cannot be read or written; the message names it and why."""


def dump(node: Any) -> str:
    return str(yaml.dump(node, Dumper=_Dumper, sort_keys=False, allow_unicode=True))


class YamlTexts:
    """Each entry's YAML, made once: a kept entry never changes (recording.py), so a rewrite of a
    large recording dumps only the entries new since the last one, and joins the rest. The text
    is the one `yaml.dump` makes of the whole document (tests/mockserver/test_record.py)."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[Entry, str]] = {}  # id(entry) -> (entry, its text)

    def document(self, document: Entry) -> str:
        texts: dict[int, tuple[Entry, str]] = {}
        parts = []
        for kind, entries in document.items():
            parts.append(f"{kind}:\n" if entries else f"{kind}: []\n")
            for entry in entries:
                known = self._texts.get(id(entry))
                texts[id(entry)] = known if known is not None else (entry, dump([entry]))
                parts.append(texts[id(entry)][1])
        self._texts = texts  # the entries of this document only (each held, so its id stays its own)
        return "".join(parts)


def write_world(path: Path, document: Entry, text: str | None = None) -> None:
    """Check `document` as the mock would read it, then put it (or `text`, its YAML) at `path`
    whole (atomic rename)."""
    try:
        parse_world(document, source=str(path))
    except WorldError as error:
        raise RecordFileError(f"{path}: the recording would not be a valid world ({error})") from None
    text = HEADER + (dump(document) if text is None else text)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    except OSError as error:
        raise RecordFileError(f"{path}: cannot write the recording ({error.strerror or error})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise RecordFileError(f"{path}: cannot write the recording ({error.strerror or error})") from None


def _token(headers: dict[str, str]) -> str | None:
    scheme, _, key = headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" and key.strip() else None


class Recorder:
    """Feeds a `Recording` from the proxy's exchanges and keeps `path` up to date with it."""

    def __init__(self, path: Path, facts: ContractFacts) -> None:
        self.path = path
        start = None
        if path.exists():
            try:
                start = read_world_file(path, "strict", "record file")
            except WorldError as error:
                raise RecordFileError(f"{error} (a file that exists is continued: move it away)") from None
        self.recording = Recording(facts, start)
        self.written = -1  # the `changes` count of the file on disk
        self._writer: asyncio.Task[None] | None = None
        self._write_lock = threading.Lock()  # the writer's thread, and the last write at shutdown
        self._texts = YamlTexts()  # used under the lock only
        self.write_seconds = 0.0  # how long the last write took

    def start(self) -> None:
        """Write the file once before serving: a path that cannot be written is refused at start."""
        self.flush()

    def observe(
        self,
        operation: str,
        invoice_uid: str,
        headers: dict[str, str],
        request: Any,
        status: int,
        answer: Any,
    ) -> None:
        """One exchange the contract accepts; `request` and `answer` are parsed JSON (None if not),
        `invoice_uid` the path's (empty for an operation without one)."""
        if not 200 <= status < 300 or not isinstance(answer, dict):
            return
        try:
            changed = self.recording.apply(
                operation, invoice_uid, _token(headers), request, answer.get("data")
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            # Nothing of it is kept (recording.py: a change is kept whole or not at all).
            logger.warning("%s: not recorded (%s: %s)", operation, type(error).__name__, str(error)[:200])
            return
        if changed:
            self._schedule()

    def _schedule(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self) -> None:
        # Once a second, or after four times the last write: its thread takes at most a fifth
        # of the proxy's time, however large the recording grows.
        await asyncio.sleep(max(WRITE_EVERY_SECONDS, 4 * self.write_seconds))
        changes, document = self.recording.changes, self.recording.document()
        started = time.monotonic()
        try:
            await asyncio.to_thread(self._write, changes, document)
        except RecordFileError as error:
            logger.error("%s", error)
            return
        finally:
            self.write_seconds = time.monotonic() - started
        if self.recording.changes != changes:
            self._writer = None
            self._schedule()

    def stop(self) -> None:
        """The proxy stops: the next write is not waited for, it is made now."""
        if self._writer is not None:
            self._writer.cancel()
        try:
            self.flush()
        except RecordFileError as error:
            logger.error("%s", error)

    def flush(self) -> None:
        """Write now if anything is not written yet (at start, and when the proxy stops)."""
        self._write(self.recording.changes, self.recording.document())

    def _write(self, changes: int, document: Entry) -> None:
        """Write the recording as of `changes`, unless the file holds that or a newer one already
        (a write still running on the writer's thread when the proxy stops ends first)."""
        with self._write_lock:
            if changes > self.written:
                write_world(self.path, document, self._texts.document(document))
                self.written = changes
