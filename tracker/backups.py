"""Backups and restoration (`python -m tracker sauvegarde`, `python -m tracker restauration`).

- SQLite: the online backup API (`sqlite3.Connection.backup`): a consistent copy taken while the application keeps
  writing (WAL), page by page, with no lock held for long.
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot: one transaction), restored by `pg_restore --clean
  --if-exists --single-transaction` (all or nothing). Both tools come with PostgreSQL's client package; run the
  restoration as the tables' owner (the application's role may not drop tables).

Restoring ends every session of the restored copy: a session opened before the backup and closed since (signed out,
or ended by an administrator) must not come back to life. Everyone signs in again."""
from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from tracker.core import audit, clock
from tracker.core.config import VAR_DIR, settings

SESSIONS = "DELETE FROM user_session"


class BackupFailed(Exception):
    """A French message for the command line."""


def default_path(postgres: bool) -> Path:
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    return VAR_DIR / "sauvegardes" / f"suivi-{stamp}.{'dump' if postgres else 'sqlite3'}"


def _private(path: Path) -> None:
    path.chmod(0o600)  # personal data: readable by the service's user only


def backup_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partiel")
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(partial)) as copy:
        live.backup(copy, pages=1024)  # 4 MiB at a time: writers go on between the steps
    partial.replace(target)  # never a half-written file under the final name
    _private(target)


def restore_sqlite(backup: Path, target: Path) -> None:
    """Into the database file `target` (created if need be), even while the application runs: the backup API
    replaces its content in one go, then every session is deleted."""
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupFailed(f"La sauvegarde {backup} est endommagée : rien n’a été restauré.")
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(target)) as live:
            check.backup(live)
            with live:
                live.execute(SESSIONS)
    finally:
        check.close()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupFailed(f"« {name} » est introuvable : installez le client PostgreSQL (paquet postgresql-client).")
    return found


def backup_postgres(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partiel")
    done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", url],
                          capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupFailed("pg_dump a échoué : " + done.stderr.strip()[-500:])
    partial.replace(target)
    _private(target)


def restore_postgres(backup: Path, url: str) -> None:
    done = subprocess.run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                           "--exit-on-error", f"--dbname={url}", str(backup)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupFailed("pg_restore a échoué (rien n’a été restauré) : " + done.stderr.strip()[-500:])
    done = subprocess.run([_tool("psql"), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", f"--dbname={url}",
                           "-c", SESSIONS], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupFailed("Les sessions n’ont pas pu être supprimées : " + done.stderr.strip()[-500:])


def backup(target: Path | None = None) -> Path:
    """A backup of the configured database into `target` (default var/sauvegardes/suivi-<date>.sqlite3|dump)."""
    postgres = settings.database_url is not None
    target = Path(target) if target else default_path(postgres)
    if postgres:
        backup_postgres(settings.database_url, target)
    else:
        backup_sqlite(settings.sqlite_path, target)
    audit.record("sauvegarde", fichier=str(target))
    return target


def restore(source: Path) -> None:
    """Restore a backup into the configured database, then end every session."""
    source = Path(source)
    if not source.is_file():
        raise BackupFailed(f"Aucune sauvegarde à {source}.")
    if settings.database_url:
        restore_postgres(source, settings.database_url)
    else:
        restore_sqlite(source, settings.sqlite_path)
    audit.record("restauration", fichier=str(source), sessions="toutes fermées",
                 fichier_du=datetime.fromtimestamp(os.path.getmtime(source), tz=timezone.utc).isoformat())
