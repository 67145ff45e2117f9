"""Constraints the ORM cannot declare: composite uniqueness, and an append-only history."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine

from tracker.history.tables import HistoryEntry

ID = "2026-11-27T07:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes, append-only history triggers"

UNIQUE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS membership_user_territory_uniq ON membership (user, territory)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_territory_uniq ON partner_territory (partner, territory)",
    "CREATE INDEX IF NOT EXISTS history_entry_subject ON history_entry (subject_type, subject_id)",
]

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS history_entry_no_update BEFORE UPDATE ON history_entry
       BEGIN SELECT RAISE(ABORT, 'history_entry is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS history_entry_no_delete BEFORE DELETE ON history_entry
       BEGIN SELECT RAISE(ABORT, 'history_entry is append-only'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION history_entry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'history_entry is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER history_entry_no_update_delete BEFORE UPDATE OR DELETE ON history_entry
       FOR EACH ROW EXECUTE FUNCTION history_entry_append_only()""",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = HistoryEntry._meta.db
        postgres = isinstance(db, PostgresEngine)
        for statement in UNIQUE_INDEXES:
            # "user" is a reserved word in PostgreSQL.
            await db.run_ddl(statement.replace("(user,", '("user",') if postgres else statement)
        for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
            await db.run_ddl(statement)

    manager.add_raw(run)
    return manager
