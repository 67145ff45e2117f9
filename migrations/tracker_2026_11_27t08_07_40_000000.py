"""Partners and commitments: uniqueness the ORM cannot declare (runs after the tables exist: a migration's raw
SQL runs before its own add_table operations). NULLs never collide in a unique index, on SQLite as on PostgreSQL,
so partners without an identifier and erased contacts (email NULL) are not constrained."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from tracker.partners.tables import Partner

ID = "2026-11-27T08:07:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "partenaires : identifiants uniques, un contact par adresse et par partenaire, un compte par partenaire"

UNIQUE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_siren_uniq ON partner (siren)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_siret_uniq ON partner (siret)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_rna_uniq ON partner (rna)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_contact_email_uniq ON partner_contact (partner, email)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_contact_account_uniq ON partner_contact (partner, account)",
    "CREATE INDEX IF NOT EXISTS history_entry_actor_contact ON history_entry (actor_contact)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = Partner._meta.db
        for statement in UNIQUE_INDEXES:
            await db.run_ddl(statement)

    manager.add_raw(run)
    return manager
