"""Accounts and territories run from the browser (issue 10, part B):
- `password_reset`: forgotten-password links (only the SHA-256 of the token, one hour, single use);
- `user_session.device`: the browser and system a session was opened from (« Firefox sur Linux »);
- `territory`: short name, aliases (one a line), every département and région (codes, comma-separated; the main
  ones stay in `departement` and `region`), and `search_key`, the names without case, accents, hyphens or
  apostrophes, filled here for the rows already there.

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
import re
import unicodedata

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

ID = "2026-12-02T23:20:00:000102"
VERSION = "1.38.0"
DESCRIPTION = "password reset links, session device, territory short name, aliases, départements, search key"

SQLITE = [
    """CREATE TABLE "password_reset" ("id" INTEGER PRIMARY KEY NOT NULL,
       "user" INTEGER NOT NULL REFERENCES "app_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE DEFAULT null,
       "token_hash" VARCHAR(64) NOT NULL UNIQUE DEFAULT '',
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE INDEX "password_reset_user" ON "password_reset" ("user")',
    """ALTER TABLE "user_session" ADD COLUMN "device" VARCHAR(120) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "short_name" VARCHAR(100) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "aliases" TEXT NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "departements" VARCHAR(400) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "regions" VARCHAR(100) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "search_key" TEXT NOT NULL DEFAULT ''""",
    """UPDATE "territory" SET "departements" = "departement", "regions" = "region\"""",
]

SQLITE_BACKWARDS = [
    'ALTER TABLE "territory" DROP COLUMN "search_key"',
    'ALTER TABLE "territory" DROP COLUMN "regions"',
    'ALTER TABLE "territory" DROP COLUMN "departements"',
    'ALTER TABLE "territory" DROP COLUMN "aliases"',
    'ALTER TABLE "territory" DROP COLUMN "short_name"',
    'ALTER TABLE "user_session" DROP COLUMN "device"',
    'DROP INDEX "password_reset_user"',
    'DROP TABLE "password_reset"',
]

POSTGRES = [
    """CREATE TABLE "password_reset" ("id" SERIAL PRIMARY KEY NOT NULL,
       "user" INTEGER NOT NULL REFERENCES "app_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
       "token_hash" VARCHAR(64) NOT NULL UNIQUE,
       "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
       "expires_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE INDEX "password_reset_user" ON "password_reset" ("user")',
    """ALTER TABLE "user_session" ADD COLUMN "device" VARCHAR(120) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "short_name" VARCHAR(100) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "aliases" TEXT NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "departements" VARCHAR(400) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "regions" VARCHAR(100) NOT NULL DEFAULT ''""",
    """ALTER TABLE "territory" ADD COLUMN "search_key" TEXT NOT NULL DEFAULT ''""",
    """UPDATE "territory" SET "departements" = "departement", "regions" = "region\"""",
]

POSTGRES_BACKWARDS = [
    'ALTER TABLE "territory" DROP COLUMN "search_key"',
    'ALTER TABLE "territory" DROP COLUMN "regions"',
    'ALTER TABLE "territory" DROP COLUMN "departements"',
    'ALTER TABLE "territory" DROP COLUMN "aliases"',
    'ALTER TABLE "territory" DROP COLUMN "short_name"',
    'ALTER TABLE "user_session" DROP COLUMN "device"',
    'DROP TABLE "password_reset"',
]


def _normalise(text: str) -> str:
    """As tracker.territories.search.normalise was when this migration was written."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        for statement in POSTGRES if isinstance(db, PostgresEngine) else SQLITE:
            await db.run_ddl(statement)
        rows = await db.run_querystring(QueryString('SELECT "id", "name" FROM "territory"'))
        for row in rows:
            await db.run_querystring(QueryString('UPDATE "territory" SET "search_key" = {} WHERE "id" = {}',
                                                 _normalise(row["name"]), row["id"]))

    async def run_backwards():
        db = engine_finder()
        for statement in POSTGRES_BACKWARDS if isinstance(db, PostgresEngine) else SQLITE_BACKWARDS:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
