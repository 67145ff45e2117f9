"""The dashboard's « en retard » kept per territory and audience (issue 15): `territory_figures` keeps the count as of
the day it was counted (`overdue`, `overdue_on`) and the earliest open deadline still ahead that day
(`next_deadline`), so that /pilotage sums 1,255 kept counts instead of reading ~8,800 entries of an index on every
request; likewise « à relancer »'s count of those with no note for 30 days (`silent`, holding until the oldest
recent note among them ages past 30 days: `silent_until`). Left empty here (`overdue_on` NULL: the pages count those rows at read time, as before); `quotidien` and
`recalculer-indicateurs` fill them.

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T14:00:00:000018"
VERSION = "1.38.0"
DESCRIPTION = "« en retard » and its silent part kept per territory as of a day, until a deadline passes or a note ages"

FORWARDS = [
    'ALTER TABLE "territory_figures" ADD COLUMN "overdue" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "territory_figures" ADD COLUMN "overdue_on" DATE DEFAULT null',
    'ALTER TABLE "territory_figures" ADD COLUMN "next_deadline" DATE DEFAULT null',
    'ALTER TABLE "territory_figures" ADD COLUMN "silent" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "territory_figures" ADD COLUMN "silent_until" TIMESTAMPTZ DEFAULT null',
]

BACKWARDS = [
    'ALTER TABLE "territory_figures" DROP COLUMN "silent_until"',
    'ALTER TABLE "territory_figures" DROP COLUMN "silent"',
    'ALTER TABLE "territory_figures" DROP COLUMN "next_deadline"',
    'ALTER TABLE "territory_figures" DROP COLUMN "overdue_on"',
    'ALTER TABLE "territory_figures" DROP COLUMN "overdue"',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        for statement in FORWARDS:
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in BACKWARDS:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
