"""Partners and commitments: uniqueness the ORM cannot declare (runs after the tables exist: a migration's raw
SQL runs before its own add_table operations). NULLs never collide in a unique index, on SQLite as on PostgreSQL,
so partners without an identifier and erased contacts (email NULL) are not constrained.

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-27T08:07:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "partenaires : identifiants uniques, un contact par adresse et par partenaire, un compte par partenaire"

# Raw indexes, not piccolo.constraints.Unique: Piccolo 1.38 emits ALTER TABLE ADD CONSTRAINT, which SQLite lacks.
UNIQUE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_siren_uniq ON partner (siren)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_siret_uniq ON partner (siret)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_rna_uniq ON partner (rna)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_contact_email_uniq ON partner_contact (partner, email)",
    "CREATE UNIQUE INDEX IF NOT EXISTS partner_contact_account_uniq ON partner_contact (partner, account)",
    "CREATE INDEX IF NOT EXISTS history_entry_actor_contact ON history_entry (actor_contact)",
]

DROP_INDEXES = [
    "DROP INDEX history_entry_actor_contact",
    "DROP INDEX partner_contact_account_uniq",
    "DROP INDEX partner_contact_email_uniq",
    "DROP INDEX partner_rna_uniq",
    "DROP INDEX partner_siret_uniq",
    "DROP INDEX partner_siren_uniq",
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
