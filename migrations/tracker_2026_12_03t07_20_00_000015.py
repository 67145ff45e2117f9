"""The network review precomputed, not recomputed (issue 15, item 2):
- `territory_figures`: per territory and audience (`tout`: every action; `public`: confidential actions left out),
  counts by status and module, last update, commitments by state and sector, agreements by state;
- `realised_month`: per territory, audience and month, entries into « réalisée » minus entries out of it;
- `action_open_deadline`: a partial index on open actions' deadline (« en retard » is counted at read time from it,
  never kept: it changes with the date); `action_note_created_at` and `commitment_proposed` for « à relancer »
  (membership.territory, whom to contact, is indexed by the migration before this one).

Both tables start empty: `python -m tracker recalculer-indicateurs` fills them (`migrate` runs it when they are empty
and actions exist). A frozen snapshot: plain SQL with the table names written out, nothing imported from `tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-03T07:20:00:000015"
VERSION = "1.38.0"
DESCRIPTION = "kept review figures per territory, monthly « réalisées » curve, indexes for overdue and follow-ups"

FIGURES = """CREATE TABLE "territory_figures" ("id" {pk},
       "territory" INTEGER NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
       "audience" VARCHAR(6) NOT NULL DEFAULT '',
       "total" INTEGER NOT NULL DEFAULT 0,
       "s_a_venir" INTEGER NOT NULL DEFAULT 0,
       "s_en_cours" INTEGER NOT NULL DEFAULT 0,
       "s_en_pause" INTEGER NOT NULL DEFAULT 0,
       "s_bloquee" INTEGER NOT NULL DEFAULT 0,
       "s_realisee" INTEGER NOT NULL DEFAULT 0,
       "s_abandonnee" INTEGER NOT NULL DEFAULT 0,
       "m_1" INTEGER NOT NULL DEFAULT 0,
       "m_2" INTEGER NOT NULL DEFAULT 0,
       "m_3" INTEGER NOT NULL DEFAULT 0,
       "m_4" INTEGER NOT NULL DEFAULT 0,
       "last_update" TIMESTAMPTZ DEFAULT null,
       "commitments" TEXT NOT NULL DEFAULT '{{}}',
       "commitment_sectors" TEXT NOT NULL DEFAULT '{{}}',
       "agreements" TEXT NOT NULL DEFAULT '{{}}')"""

MONTHS = """CREATE TABLE "realised_month" ("id" {pk},
       "territory" INTEGER NOT NULL REFERENCES "territory" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
       "audience" VARCHAR(6) NOT NULL DEFAULT '',
       "month" VARCHAR(7) NOT NULL DEFAULT '',
       "delta" INTEGER NOT NULL DEFAULT 0)"""

INDEXES = [
    'CREATE UNIQUE INDEX "territory_figures_uniq" ON "territory_figures" ("territory", "audience")',
    'CREATE UNIQUE INDEX "realised_month_uniq" ON "realised_month" ("territory", "audience", "month")',
    # The network's curve: a sum by month over one audience, read from the index alone.
    'CREATE INDEX "realised_month_audience" ON "realised_month" ("audience", "month", "territory", "delta")',
    # « En retard » per territory, read from this index alone (status is in it so that it covers the query).
    """CREATE INDEX "action_open_deadline" ON "action" ("deadline", "territory", "confidential", "status")
       WHERE "status" NOT IN ('abandonnee', 'realisee')""",
    'CREATE INDEX IF NOT EXISTS "action_note_created_at" ON "action_note" ("created_at")',
    """CREATE INDEX "commitment_proposed" ON "commitment" ("updated_at") WHERE "state" = 'propose'""",
]

BACKWARDS = [
    'DROP INDEX "commitment_proposed"',
    'DROP INDEX IF EXISTS "action_note_created_at"',
    'DROP INDEX "action_open_deadline"',
    'DROP INDEX "realised_month_audience"',
    'DROP INDEX "realised_month_uniq"',
    'DROP INDEX "territory_figures_uniq"',
    'DROP TABLE "realised_month"',
    'DROP TABLE "territory_figures"',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        pk = "SERIAL PRIMARY KEY NOT NULL" if isinstance(db, PostgresEngine) else "INTEGER PRIMARY KEY NOT NULL"
        for statement in [FIGURES.format(pk=pk), MONTHS.format(pk=pk), *INDEXES]:
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in BACKWARDS:
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
