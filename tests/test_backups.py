"""Backups (issue 9, item 8): `python -m tracker sauvegarde` taken while status changes are being written gives a
consistent copy, and `python -m tracker restauration` brings back the same history rows and no session.
On the database of the run: SQLite's online backup API, or pg_dump / pg_restore."""
import asyncio
import os
import sqlite3
from contextlib import closing
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import pytest

from tests.conftest import ROOT
from tests.factories import EMAILS
from tracker.accounts.tables import UserSession
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio

ROUTES_COVERED: set = set()
HISTORY = "SELECT id, subject_type, subject_id, from_value, to_value, actor, comment FROM history_entry ORDER BY id"


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=ROOT, env=env, capture_output=True, text=True)


async def _read(database: str, where, query: str) -> list[tuple]:
    if database == "sqlite":
        with closing(sqlite3.connect(where)) as connection:
            return [tuple(row) for row in connection.execute(query)]
    import asyncpg

    connection = await asyncpg.connect(where)
    try:
        return [tuple(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


async def test_a_backup_taken_during_writes_restores_with_the_same_history_and_no_session(
        make_client, world, database, tmp_path):
    from tracker.core.config import settings

    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    assert await UserSession.count() == 1
    env = dict(os.environ)
    backup = tmp_path / ("suivi.dump" if database == "postgres" else "suivi.sqlite3")
    started, stop = asyncio.Event(), asyncio.Event()
    written = 0

    async def write() -> None:  # status changes through the pages, one after the other, until told to stop
        nonlocal written
        version, status = 1, "en_cours"
        while not stop.is_set() or written < 10:
            response = await editor.post(f"/actions/{world.upcoming}/statut", {"status": status, "version": str(version)})
            assert response.status_code == 303
            version, status, written = version + 1, "a_venir" if status == "en_cours" else "en_cours", written + 1
            if written == 5:
                started.set()

    writer = asyncio.ensure_future(write())
    await started.wait()
    saved = await anyio.to_thread.run_sync(_run, ["sauvegarde", str(backup)], env)
    at_backup_end = written
    stop.set()
    await writer
    assert saved.returncode == 0, saved.stderr
    assert backup.is_file() and oct(backup.stat().st_mode & 0o777) == "0o600"

    # Restored into a new database, as after losing the server.
    if database == "sqlite":
        target = tmp_path / "restauree.sqlite3"
        restore_env = {**env, "SQLITE_PATH": str(target)}
        where = str(target)
    else:
        owner = urlsplit(os.environ["SUIVI_TEST_OWNER_URL"])
        name = f"suivi_restauree_{uuid.uuid4().hex[:10]}"
        admin = await __import__("asyncpg").connect(os.environ["SUIVI_TEST_OWNER_URL"])
        await admin.execute(f"CREATE DATABASE {name}")
        await admin.close()
        where = urlunsplit(owner._replace(path="/" + name))
        restore_env = {**env, "DATABASE_URL": where}  # as the owner: restoring drops and creates tables
    try:
        restored = _run(["restauration", str(backup)], restore_env)
        assert restored.returncode == 0, restored.stderr
        assert "toutes les sessions sont fermées" in restored.stdout
        history = await _read(database, where, HISTORY)
        sessions = await _read(database, where, "SELECT count(*) FROM user_session")
        version = await _read(database, where, f"SELECT version FROM action WHERE id = {world.upcoming}")
    finally:
        if database == "postgres":
            admin = await __import__("asyncpg").connect(os.environ["SUIVI_TEST_OWNER_URL"])
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.close()

    live = await _read(database, settings.sqlite_path if database == "sqlite" else os.environ["DATABASE_URL"], HISTORY)
    # Taken during the writes: some of them, not all; a consistent snapshot: the action's version and its history
    # were copied at the same instant (each change wrote both in one transaction).
    assert 5 <= len(history) <= at_backup_end + 1 and len(history) < written == len(live)
    assert history == live[: len(history)]  # the same rows, as they were
    assert version == [(len(history) + 1,)]
    assert sessions == [(0,)]  # no session comes back to life
    assert await HistoryEntry.count() == written  # the live database is untouched
    assert (await Action.select(Action.version).where(Action.id == world.upcoming).first())["version"] == written + 1


async def test_restoring_a_damaged_or_missing_backup_changes_nothing(world, database, tmp_path):
    if database != "sqlite":
        pytest.skip("contrôle d’intégrité propre au fichier SQLite ; pg_restore refuse seul un fichier endommagé")
    from tracker import backups
    from tracker.core.config import settings

    damaged = tmp_path / "abimee.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    before = Path(settings.sqlite_path).read_bytes()
    with pytest.raises((backups.BackupFailed, sqlite3.DatabaseError)):
        backups.restore_sqlite(damaged, Path(settings.sqlite_path))
    with pytest.raises(backups.BackupFailed, match="Aucune sauvegarde"):
        backups.restore(tmp_path / "absente.sqlite3")
    assert Path(settings.sqlite_path).read_bytes() == before
