"""The network's monthly « réalisées » curve kept (issue 15): `realised_network`, per audience and month, the sum of
the territories' `realised_month` (a month whose sum is zero has no row). /pilotage without filters reads its ~24
rows instead of summing ~15,000 rows of `realised_month` on every request. Filled here from `realised_month`; kept
since by the same writes as the territories' months (review/figures.py).

And `territory_name_key`, the territories in the dashboard's order by name (its sort key, written as the page's query
writes it on each database: `lower(name)` on SQLite, `lower(name COLLATE "C")` on PostgreSQL): the first page of
/pilotage reads its 100 territories in order instead of sorting the 1,255. And `action_open_territory`, open actions
by territory and deadline (partial, as `action_open_deadline`, and covering the count): each shown territory's
« en retard » reads its overdue actions alone instead of all its actions.

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-03T12:30:00:000017"
VERSION = "1.38.0"
DESCRIPTION = ("the network's monthly « réalisées » curve kept per audience; the territories by name's sort key; "
               "open actions by territory and deadline")

NETWORK = """CREATE TABLE "realised_network" ("id" {pk},
       "audience" VARCHAR(6) NOT NULL DEFAULT '',
       "month" VARCHAR(7) NOT NULL DEFAULT '',
       "delta" INTEGER NOT NULL DEFAULT 0)"""

FORWARDS = [
    'CREATE UNIQUE INDEX "realised_network_uniq" ON "realised_network" ("audience", "month")',
    """INSERT INTO "realised_network" ("audience", "month", "delta")
       SELECT "audience", "month", SUM("delta") FROM "realised_month" GROUP BY "audience", "month"
       HAVING SUM("delta") <> 0""",
    """CREATE INDEX "action_open_territory" ON "action" ("territory", "deadline", "confidential", "status")
       WHERE "status" NOT IN ('abandonnee', 'realisee')""",
]

NAME_KEY = {False: 'CREATE INDEX "territory_name_key" ON "territory" (lower("name"))',
            True: 'CREATE INDEX "territory_name_key" ON "territory" (lower("name" COLLATE "C"))'}

BACKWARDS = [
    'DROP INDEX "territory_name_key"',
    'DROP INDEX "action_open_territory"',
    'DROP INDEX "realised_network_uniq"',
    'DROP TABLE "realised_network"',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        pk = "SERIAL PRIMARY KEY NOT NULL" if isinstance(db, PostgresEngine) else "INTEGER PRIMARY KEY NOT NULL"
        postgres = isinstance(db, PostgresEngine)
        for statement in [NETWORK.format(pk=pk), *FORWARDS, NAME_KEY[postgres]]:
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in BACKWARDS:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
