"""Runs the themes' data migration (issue 13) on the database the environment names, from the schema just before it,
with themes stored the old way (split on commas, some with a stray quotation mark), and writes what it made of
them as JSON: `python -m tests.theme_migration_run OUT.json`. In its own process, as tests/migration_walk.py."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

BEFORE = "2026-11-27T08:50:00:000000"  # the last migration before issue 13's

ROWS = [
    # agreement 1: « "Mobilités, habitat et services" » typed with quotes, split in two; then « Santé »
    (1, "\"Mobilités"), (1, "Habitat et services\""), (1, "Santé"),
    # agreement 2: a stray quote that would repeat another theme once removed stays as it is
    (2, "Culture"), (2, "« Culture"), (2, "Énergie"),
    # two stray quotes that would make the same theme: both left as they are (names stay unique)
    (2, "\"Sport"), (2, "Sport\""),
]


def _check(result) -> None:
    if not result.success:
        raise SystemExit(f"migration command failed: {result.message}")


async def run() -> list:
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.engine import engine_finder
    from piccolo.querystring import QueryString

    await BaseMigrationManager().create_migration_table()
    _check(await run_forwards("tracker", migration_id=BEFORE))
    db = engine_finder()
    await db.run_ddl("INSERT INTO territory (siren, name, kind, departement, region, typology, is_epci, created_at) "
                     "VALUES ('200071827', 'CA du Grand Angoulême', 'CA', '16', '75', 'urbain', false, "
                     "CURRENT_TIMESTAMP)")
    for agreement in (1, 2):
        await db.run_ddl("INSERT INTO agreement (title, purpose, territory, state, version, created_at, updated_at) "
                         f"VALUES ('Contrat {agreement}', '', 1, 'brouillon', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    for agreement, name in ROWS:
        quoted = name.replace("'", "''")
        await db.run_ddl(f"INSERT INTO agreement_theme (agreement, theme) VALUES ({agreement}, '{quoted}')")
    _check(await run_forwards("tracker", migration_id="all"))
    rows = await db.run_querystring(QueryString(
        "SELECT agreement, theme, position, description FROM agreement_theme ORDER BY agreement, position"))
    return [[r["agreement"], r["theme"], r["position"], r["description"]] for r in rows]


def main() -> int:
    Path(sys.argv[1]).write_text(json.dumps(asyncio.run(run())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
