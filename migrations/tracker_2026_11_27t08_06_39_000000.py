"""Contrats de réciprocité: the composite unique indexes the ORM cannot declare (runs after the tables exist:
a migration's raw SQL runs before its own add_table operations)."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tracker.agreements.tables import Agreement

ID = "2026-11-27T08:06:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "contrats de réciprocité: unique (agreement, territory), (agreement, theme), (agreement, action)"

UNIQUE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS agreement_party_uniq ON agreement_party (agreement, territory)",
    "CREATE UNIQUE INDEX IF NOT EXISTS agreement_theme_uniq ON agreement_theme (agreement, theme)",
    "CREATE UNIQUE INDEX IF NOT EXISTS agreement_action_uniq ON agreement_action (agreement, action)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = Agreement._meta.db
        for statement in UNIQUE_INDEXES:
            await db.run_ddl(statement)

    manager.add_raw(run)
    return manager
