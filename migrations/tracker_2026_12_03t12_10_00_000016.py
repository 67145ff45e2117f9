"""« À relancer » reads indexed columns only (issue 15): each action keeps when its newest follow-up note was written
(`action.last_note_at`, NULL when it has none), filled here from the notes, and the partial index of open actions'
deadlines covers it, so that « overdue and no note for 30 days » is counted from that index alone instead of probing
the notes of every overdue action (3 to 5 ms of each request on the national data set).

A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T12:10:00:000016"
VERSION = "1.38.0"
DESCRIPTION = "each action's newest note kept beside it, in the partial index of open deadlines"

OPEN = """WHERE "status" NOT IN ('abandonnee', 'realisee')"""

FORWARDS = [
    'ALTER TABLE "action" ADD COLUMN "last_note_at" TIMESTAMPTZ DEFAULT null',
    'UPDATE "action" SET "last_note_at" = (SELECT MAX(n."created_at") FROM "action_note" n WHERE n."action" = "action"."id")',
    'DROP INDEX "action_open_deadline"',
    f"""CREATE INDEX "action_open_deadline" ON "action" ("deadline", "territory", "confidential", "status",
       "last_note_at") {OPEN}""",
]

BACKWARDS = [
    'DROP INDEX "action_open_deadline"',
    f"""CREATE INDEX "action_open_deadline" ON "action" ("deadline", "territory", "confidential", "status")
       {OPEN}""",
    'ALTER TABLE "action" DROP COLUMN "last_note_at"',
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
