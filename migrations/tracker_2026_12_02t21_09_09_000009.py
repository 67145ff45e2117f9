"""A partner's word must be the partner's (issue 9):
- `partner_attachment`: a territory asks to work with an existing partner; one of its current territories accepts;
- `partner_contact.created_by`: who added a contact (shown beside every confirmation);
- `commitment_link.sent_to`: the address a signed link went to, as it was when sent;
- `commitment.confirmed_link`: the signed link a confirmation came through (NULL when signed in);
- the history refuses an INSERT on an existing id (SQLite `INSERT OR REPLACE`) and TRUNCATE (PostgreSQL).

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T21:09:09:000009"
VERSION = "1.38.0"
DESCRIPTION = "partner attachment requests, who added a contact, where a link went, append-only history on insert"

SQLITE = [
    """CREATE TABLE "partner_attachment" ("id" INTEGER PRIMARY KEY NOT NULL,
       "partner" INTEGER NOT NULL REFERENCES "partner" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
       "territory" INTEGER NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
       "state" VARCHAR(10) NOT NULL DEFAULT 'demande',
       "version" INTEGER NOT NULL DEFAULT 1,
       "requested_by" INTEGER REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null,
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "updated_at" TIMESTAMPTZ DEFAULT null)""",
    'CREATE INDEX "partner_attachment_partner" ON "partner_attachment" ("partner", "state")',
    'ALTER TABLE "partner_contact" ADD COLUMN "created_by" INTEGER REFERENCES "app_user" ("id") '
    "ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null",
    'ALTER TABLE "commitment_link" ADD COLUMN "sent_to" VARCHAR(254) DEFAULT null',
    # No foreign key: commitment_link already references commitment, and links are never deleted.
    'ALTER TABLE "commitment" ADD COLUMN "confirmed_link" INTEGER DEFAULT null',
    # BEFORE INSERT runs before the conflict is resolved: `INSERT OR REPLACE` on an existing id is refused instead
    # of deleting the old row (REPLACE's delete fires no delete trigger).
    """CREATE TRIGGER IF NOT EXISTS history_entry_no_replace BEFORE INSERT ON history_entry
       WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM history_entry WHERE id = NEW.id)
       BEGIN SELECT RAISE(ABORT, 'history_entry is append-only'); END""",
]

SQLITE_BACKWARDS = [
    "DROP TRIGGER history_entry_no_replace",
    'ALTER TABLE "commitment" DROP COLUMN "confirmed_link"',
    'ALTER TABLE "commitment_link" DROP COLUMN "sent_to"',
    'ALTER TABLE "partner_contact" DROP COLUMN "created_by"',
    'DROP INDEX "partner_attachment_partner"',
    'DROP TABLE "partner_attachment"',
]

POSTGRES = [
    """CREATE TABLE "partner_attachment" ("id" SERIAL PRIMARY KEY NOT NULL,
       "partner" INTEGER NOT NULL REFERENCES "partner" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
       "territory" INTEGER NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
       "state" VARCHAR(10) NOT NULL DEFAULT 'demande',
       "version" INTEGER NOT NULL DEFAULT 1,
       "requested_by" INTEGER REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "updated_at" TIMESTAMPTZ)""",
    'CREATE INDEX "partner_attachment_partner" ON "partner_attachment" ("partner", "state")',
    'ALTER TABLE "partner_contact" ADD COLUMN "created_by" INTEGER REFERENCES "app_user" ("id") '
    "ON DELETE RESTRICT ON UPDATE CASCADE",
    'ALTER TABLE "commitment_link" ADD COLUMN "sent_to" VARCHAR(254)',
    'ALTER TABLE "commitment" ADD COLUMN "confirmed_link" INTEGER',
    # Row triggers do not see TRUNCATE: a statement trigger refuses it, even from the tables' owner.
    """CREATE TRIGGER history_entry_no_truncate BEFORE TRUNCATE ON history_entry
       FOR EACH STATEMENT EXECUTE FUNCTION history_entry_append_only()""",
]

POSTGRES_BACKWARDS = [
    "DROP TRIGGER history_entry_no_truncate ON history_entry",
    'ALTER TABLE "commitment" DROP COLUMN "confirmed_link"',
    'ALTER TABLE "commitment_link" DROP COLUMN "sent_to"',
    'ALTER TABLE "partner_contact" DROP COLUMN "created_by"',
    'DROP TABLE "partner_attachment"',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        for statement in POSTGRES if isinstance(db, PostgresEngine) else SQLITE:
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in POSTGRES_BACKWARDS if isinstance(db, PostgresEngine) else SQLITE_BACKWARDS:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
