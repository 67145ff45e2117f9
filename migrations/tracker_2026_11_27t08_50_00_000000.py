"""Indexes for the network review at scale (DESIGN.md §6: 40,000 actions, 250,000 history entries):
one covering index serves the dashboard's single scan of the actions; another the CODIR pack's history.

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "review indexes"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS action_review ON action (territory, confidential, status, module, deadline, updated_at)",
    "CREATE INDEX IF NOT EXISTS history_entry_territory_time ON history_entry (territory, subject_type, created_at)",
]

BACKWARDS_STATEMENTS = [
    "DROP INDEX history_entry_territory_time",
    "DROP INDEX action_review",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        for statement in STATEMENTS:
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in BACKWARDS_STATEMENTS:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
