"""Contrats de réciprocité: the composite unique indexes the ORM cannot declare (runs after the tables exist:
a migration's raw SQL runs before its own add_table operations).

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T08:06:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "contrats de réciprocité: unique (agreement, territory), (agreement, theme), (agreement, action)"

# Raw indexes, not piccolo.constraints.Unique: Piccolo 1.38 emits ALTER TABLE ADD CONSTRAINT, which SQLite lacks.
UNIQUE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS agreement_party_uniq ON agreement_party (agreement, territory)",
    "CREATE UNIQUE INDEX IF NOT EXISTS agreement_theme_uniq ON agreement_theme (agreement, theme)",
    "CREATE UNIQUE INDEX IF NOT EXISTS agreement_action_uniq ON agreement_action (agreement, action)",
]

DROP_INDEXES = [
    "DROP INDEX agreement_action_uniq",
    "DROP INDEX agreement_theme_uniq",
    "DROP INDEX agreement_party_uniq",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        for statement in UNIQUE_INDEXES:
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in DROP_INDEXES:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
