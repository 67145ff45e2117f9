"""Constraints the ORM cannot declare: composite uniqueness, and an append-only history.

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-27T07:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes, append-only history triggers"

# Raw indexes, not piccolo.constraints.Unique: Piccolo 1.38 emits ALTER TABLE ADD CONSTRAINT, which SQLite lacks.
SQLITE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS membership_user_territory_uniq ON membership (user, territory)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_territory_uniq ON partner_territory (partner, territory)",
    "CREATE INDEX IF NOT EXISTS history_entry_subject ON history_entry (subject_type, subject_id)",
]

POSTGRES_INDEXES = [
    # "user" is a reserved word in PostgreSQL.
    'CREATE UNIQUE INDEX IF NOT EXISTS membership_user_territory_uniq ON membership ("user", territory)',
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_territory_uniq ON partner_territory (partner, territory)",
    "CREATE INDEX IF NOT EXISTS history_entry_subject ON history_entry (subject_type, subject_id)",
]

DROP_INDEXES = [
    "DROP INDEX history_entry_subject",
    "DROP INDEX partner_territory_uniq",
    "DROP INDEX membership_user_territory_uniq",
]

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS history_entry_no_update BEFORE UPDATE ON history_entry
       BEGIN SELECT RAISE(ABORT, 'history_entry is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS history_entry_no_delete BEFORE DELETE ON history_entry
       BEGIN SELECT RAISE(ABORT, 'history_entry is append-only'); END""",
]

SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER history_entry_no_delete",
    "DROP TRIGGER history_entry_no_update",
]

POSTGRES_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION history_entry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'history_entry is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER history_entry_no_update_delete BEFORE UPDATE OR DELETE ON history_entry
       FOR EACH ROW EXECUTE FUNCTION history_entry_append_only()""",
]

POSTGRES_DROP_TRIGGERS = [
    "DROP TRIGGER history_entry_no_update_delete ON history_entry",
    "DROP FUNCTION history_entry_append_only()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        postgres = isinstance(db, PostgresEngine)
        for statement in POSTGRES_INDEXES if postgres else SQLITE_INDEXES:
            await db.run_ddl(statement)
        for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in POSTGRES_DROP_TRIGGERS if isinstance(db, PostgresEngine) else SQLITE_DROP_TRIGGERS:
            await db.run_ddl(statement)
        for statement in DROP_INDEXES:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
