"""Run the network from the browser (issue 10, part A):
- `invitation`: emailed links that create an account or add a role (only the token's SHA-256 is kept);
- `membership_event`: the append-only history of grants, role changes and removals, per territory;
- `history_entry.acting_as`: 'administrateur' when an administrator acted on a territory as its référent.

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-02T23:20:00:000010"
VERSION = "1.38.0"
DESCRIPTION = "invitations, append-only membership history, history entries made by an administrator as such"

SQLITE = [
    """CREATE TABLE "invitation" ("id" INTEGER PRIMARY KEY NOT NULL,
       "email" VARCHAR(254) NOT NULL DEFAULT '',
       "full_name" VARCHAR(120) NOT NULL DEFAULT '',
       "territory" INTEGER REFERENCES "territory" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
       "role" VARCHAR(10) NOT NULL DEFAULT '',
       "partner_contact" INTEGER REFERENCES "partner_contact" ("id") ON DELETE CASCADE ON UPDATE CASCADE
           DEFAULT null,
       "token_hash" VARCHAR(64) NOT NULL UNIQUE DEFAULT '',
       "state" VARCHAR(12) NOT NULL DEFAULT 'en_attente',
       "version" INTEGER NOT NULL DEFAULT 1,
       "created_by" INTEGER REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null,
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "updated_at" TIMESTAMPTZ DEFAULT null,
       "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "accepted_at" TIMESTAMPTZ DEFAULT null,
       "revoked_at" TIMESTAMPTZ DEFAULT null)""",
    'CREATE INDEX "invitation_email" ON "invitation" ("email")',
    'CREATE INDEX "invitation_territory" ON "invitation" ("territory")',
    """CREATE TABLE "membership_event" ("id" INTEGER PRIMARY KEY NOT NULL,
       "territory" INTEGER NOT NULL REFERENCES "territory" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null,
       "user" INTEGER NOT NULL REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null,
       "role_before" VARCHAR(10) NOT NULL DEFAULT '',
       "role_after" VARCHAR(10) NOT NULL DEFAULT '',
       "actor" INTEGER REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE DEFAULT null,
       "acting_as" VARCHAR(20) NOT NULL DEFAULT '',
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE INDEX "membership_event_territory" ON "membership_event" ("territory")',
    """CREATE TRIGGER membership_event_no_update BEFORE UPDATE ON membership_event
       BEGIN SELECT RAISE(ABORT, 'membership_event is append-only'); END""",
    """CREATE TRIGGER membership_event_no_delete BEFORE DELETE ON membership_event
       BEGIN SELECT RAISE(ABORT, 'membership_event is append-only'); END""",
    """CREATE TRIGGER membership_event_no_replace BEFORE INSERT ON membership_event
       WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM membership_event WHERE id = NEW.id)
       BEGIN SELECT RAISE(ABORT, 'membership_event is append-only'); END""",
    'ALTER TABLE "history_entry" ADD COLUMN "acting_as" VARCHAR(20) NOT NULL DEFAULT \'\'',
]

SQLITE_BACKWARDS = [
    'ALTER TABLE "history_entry" DROP COLUMN "acting_as"',
    "DROP TRIGGER membership_event_no_replace",
    "DROP TRIGGER membership_event_no_delete",
    "DROP TRIGGER membership_event_no_update",
    'DROP INDEX "membership_event_territory"',
    'DROP TABLE "membership_event"',
    'DROP INDEX "invitation_territory"',
    'DROP INDEX "invitation_email"',
    'DROP TABLE "invitation"',
]

POSTGRES = [
    """CREATE TABLE "invitation" ("id" SERIAL PRIMARY KEY NOT NULL,
       "email" VARCHAR(254) NOT NULL DEFAULT '',
       "full_name" VARCHAR(120) NOT NULL DEFAULT '',
       "territory" INTEGER REFERENCES "territory" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
       "role" VARCHAR(10) NOT NULL DEFAULT '',
       "partner_contact" INTEGER REFERENCES "partner_contact" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
       "token_hash" VARCHAR(64) NOT NULL UNIQUE DEFAULT '',
       "state" VARCHAR(12) NOT NULL DEFAULT 'en_attente',
       "version" INTEGER NOT NULL DEFAULT 1,
       "created_by" INTEGER REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "updated_at" TIMESTAMPTZ,
       "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "accepted_at" TIMESTAMPTZ,
       "revoked_at" TIMESTAMPTZ)""",
    'CREATE INDEX "invitation_email" ON "invitation" ("email")',
    'CREATE INDEX "invitation_territory" ON "invitation" ("territory")',
    """CREATE TABLE "membership_event" ("id" SERIAL PRIMARY KEY NOT NULL,
       "territory" INTEGER NOT NULL REFERENCES "territory" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
       "user" INTEGER NOT NULL REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
       "role_before" VARCHAR(10) NOT NULL DEFAULT '',
       "role_after" VARCHAR(10) NOT NULL DEFAULT '',
       "actor" INTEGER REFERENCES "app_user" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
       "acting_as" VARCHAR(20) NOT NULL DEFAULT '',
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE INDEX "membership_event_territory" ON "membership_event" ("territory")',
    """CREATE OR REPLACE FUNCTION membership_event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'membership_event is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER membership_event_no_update_delete BEFORE UPDATE OR DELETE ON membership_event
       FOR EACH ROW EXECUTE FUNCTION membership_event_append_only()""",
    """CREATE TRIGGER membership_event_no_truncate BEFORE TRUNCATE ON membership_event
       FOR EACH STATEMENT EXECUTE FUNCTION membership_event_append_only()""",
    'ALTER TABLE "history_entry" ADD COLUMN "acting_as" VARCHAR(20) NOT NULL DEFAULT \'\'',
]

POSTGRES_BACKWARDS = [
    'ALTER TABLE "history_entry" DROP COLUMN "acting_as"',
    'DROP TABLE "membership_event"',
    "DROP FUNCTION membership_event_append_only()",
    'DROP TABLE "invitation"',
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
