"""Indexes on the foreign keys the pages filter on (issue 15): a roadmap's sub-actions (`action.parent`, a full scan
on every action page before), its axes and the actions of an axis, a territory's members (`membership.territory`,
« à relancer » and every members page), its partners (`partner_territory.territory`, the pilot list of every
roadmap page), a person's sessions (`/compte`), the file waiting for an import's preview, the obligations of a theme.

Named as Piccolo names the index of a column declared `index=True` (`<table>_<column>`), created `IF NOT EXISTS`,
so that a database where one was already made by hand migrates too. A frozen snapshot: nothing imported from
`tracker`."""
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-03T07:10:00:000151"
VERSION = "1.38.0"
DESCRIPTION = "indexes on the foreign keys the pages filter on"

# `action.parent` is NULL but for sub-actions: a whole index would count its NULLs, and SQLite's statistics
# (sqlite_stat1, no per-value histogram) would then judge it useless for `parent = ?` and scan the 39,000 actions;
# without its NULLs (a partial index, which `parent = ?` implies on both databases) it is small and always used.
PARTIAL = {("action", "parent"): '"parent" IS NOT NULL'}

INDEXES = [  # (table, column)
    ("action", "parent"),
    ("action", "axis"),
    ("roadmap_axis", "roadmap"),
    ("membership", "territory"),
    ("partner_territory", "territory"),
    ("user_session", "user"),
    ("pending_import", "roadmap"),
    ("obligation", "theme"),
]


def _create(postgres: bool) -> list[str]:
    using = " USING btree" if postgres else ""
    return [f'CREATE INDEX IF NOT EXISTS {table}_{column} ON "{table}"{using} ("{column}")'
            + (f" WHERE {PARTIAL[table, column]}" if (table, column) in PARTIAL else "") for table, column in INDEXES]


def _drop() -> list[str]:
    return [f"DROP INDEX IF EXISTS {table}_{column}" for table, column in reversed(INDEXES)]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tracker", description=DESCRIPTION)

    async def run():
        db = engine_finder()
        for statement in _create(isinstance(db, PostgresEngine)):
            await db.run_ddl(statement)

    async def run_backwards():
        db = engine_finder()
        for statement in _drop():
            await db.run_ddl(statement)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
