"""The history is append-only against every path, not only the application's (issue 9, F10): on SQLite an
`INSERT OR REPLACE` on an existing id no longer replaces the row (a BEFORE INSERT trigger); on PostgreSQL the
application runs as a role without UPDATE, DELETE or TRUNCATE on the history (the suite runs as such a role:
tests/conftest.py), and a trigger refuses TRUNCATE even from the tables' owner."""
import os

import pytest

from tests.factories import EMAILS
from tracker.history.tables import HistoryEntry

pytestmark = pytest.mark.anyio

ROUTES_COVERED: set = set()


async def _one_entry(client, world) -> dict:
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/actions/{world.upcoming}/statut", {"status": "en_cours", "version": "1"})
    assert response.status_code == 303
    return await HistoryEntry.select().first()


async def test_sqlite_refuses_insert_or_replace_update_and_delete_on_the_history(client, world, database):
    if database != "sqlite":
        pytest.skip("chemin SQLite : la même garantie est vérifiée sur PostgreSQL par le test suivant")
    import sqlite3
    from contextlib import closing

    from tracker.core.config import settings

    entry = await _one_entry(client, world)
    attacks = [
        ("INSERT OR REPLACE INTO history_entry (id, subject_type, subject_id, territory, from_value, to_value, actor,"
         " actor_contact, comment, created_at) VALUES (?, 'action', ?, NULL, '', 'realisee', NULL, NULL, 'réécrit',"
         " '2020-01-01')", (entry["id"], entry["subject_id"])),
        ("REPLACE INTO history_entry (id, subject_type, subject_id, from_value, to_value, comment, created_at)"
         " VALUES (?, 'action', 1, '', 'x', '', '2020-01-01')", (entry["id"],)),
        ("UPDATE history_entry SET to_value = 'realisee' WHERE id = ?", (entry["id"],)),
        ("DELETE FROM history_entry WHERE id = ?", (entry["id"],)),
    ]
    with closing(sqlite3.connect(settings.sqlite_path)) as connection:
        for statement, args in attacks:
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                connection.execute(statement, args)
    assert await HistoryEntry.select().first() == entry
    assert await HistoryEntry.count() == 1


async def test_postgres_the_application_role_cannot_rewrite_the_history_nor_can_the_owner_truncate_it(
        client, world, database):
    if database != "postgres":
        pytest.skip("chemin PostgreSQL : la même garantie est vérifiée sur SQLite par le test précédent")
    import asyncpg

    entry = await _one_entry(client, world)
    app_role = await asyncpg.connect(os.environ["DATABASE_URL"])  # the role the application runs as
    try:
        for statement in ("TRUNCATE history_entry", "UPDATE history_entry SET to_value = 'realisee'",
                          "DELETE FROM history_entry",
                          "INSERT INTO history_entry (id, subject_type, subject_id, from_value, to_value, comment,"
                          " created_at) VALUES (1, 'action', 1, '', 'x', '', now()) ON CONFLICT (id) DO UPDATE SET"
                          " to_value = 'x'"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app_role.execute(statement)
        # Adding to the history stays possible: the application writes its entries.
        assert await app_role.fetchval("SELECT has_table_privilege('history_entry', 'INSERT')")
    finally:
        await app_role.close()
    owner = await asyncpg.connect(os.environ["SUIVI_TEST_OWNER_URL"])
    try:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await owner.execute("TRUNCATE history_entry")
    finally:
        await owner.close()
    assert await HistoryEntry.select().first() == entry
