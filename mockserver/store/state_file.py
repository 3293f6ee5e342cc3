"""Opening `--state-file PATH` at start: restore what it holds, then journal every change into it."""

from __future__ import annotations

import logging
from pathlib import Path

from mockserver.domain.fixtures import FixtureError
from mockserver.domain.seeds import seed_invoices
from mockserver.store import migrations, persistence
from mockserver.store.journal import Journal
from mockserver.store.persistence import StateFileError
from mockserver.store.state import Sessions

logger = logging.getLogger("mockserver")


def open_state_file(path: Path, sessions: Sessions) -> Journal:
    """Restore `sessions` from `path` (made empty if missing) and journal their changes into it.

    Fixtures loaded by `PUT /__mock/fixtures` are kept in the file: the mock comes back in that
    world (the start's `--fixtures` are used again after the next `PUT`, or with a new file).
    A file of an older format is migrated first (`mockserver.store.migrations`, one line says so).
    A file that cannot be used raises `StateFileError` before anything is written to it.
    """
    for leftover in persistence.remove_stale_temporaries(path):
        logger.warning("removed %s, left by a mock that stopped while creating its state file", leftover)
    migrated = migrations.migrate(path, sessions.world, sessions.defaults.facts)
    if migrated is not None:
        logger.warning("%s", migrated)
    saved = persistence.read(path, sessions.defaults.facts)
    if saved is None:
        try:
            persistence.create_file(path)
        except (OSError, persistence.sqlite3.Error) as error:
            raise StateFileError(f"{path}: cannot create the state file ({error})") from None
    else:
        world = saved.world(path) or sessions.world
        for session in saved.sessions:
            for invoice in session.invoices:
                persistence.check_references(invoice, world, str(path))
        if saved.fixtures is not None:
            logger.warning("%s holds fixtures loaded by PUT /__mock/fixtures: serving those", path)
            try:
                seeds = seed_invoices(world, sessions.defaults.facts)
            except FixtureError as error:
                raise StateFileError(f"{path}: the fixtures it holds are refused: {error}") from None
            sessions.world, sessions.seeds = world, seeds
        for session in saved.sessions:
            state = sessions.new_state(session.name, session.clock, fresh=False)
            state.store.restore(session.invoices, session.next_sequences)
            sessions.put(state)
    journal = Journal(path)
    sessions.journal = journal
    return journal
