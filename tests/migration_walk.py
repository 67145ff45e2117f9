"""Walks the migrations on the database the environment names (SQLITE_PATH, or DATABASE_URL for PostgreSQL) and
writes the schema seen at each step as JSON: `python -m tests.migration_walk OUT.json`.

Run in its own process by tests/test_migrations.py, because Piccolo picks its engine once, from piccolo_conf.py,
and the test process already holds the engine of the shared test database.

The walk: all migrations forwards at once (as `python -m tracker migrate` does), then backwards one at a time down
to nothing, then forwards one at a time. Each step records the schema and the migrations Piccolo records as run."""
from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

SQLITE_SCHEMA = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"

# Everything a migration here may create, read from the catalogue: no pg_dump needed (nor its version to match).
POSTGRES_SCHEMA = {
    "tables": """SELECT table_name, table_type FROM information_schema.tables
                 WHERE table_schema = 'public' ORDER BY 1""",
    "columns": """SELECT table_name, ordinal_position, column_name, data_type, character_maximum_length,
                         is_nullable, column_default
                  FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2""",
    "constraints": """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                      WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2""",
    "indexes": """SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
                  ORDER BY 1, 2""",
    "triggers": """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
                   WHERE NOT tgisinternal ORDER BY 1, 2""",
    "functions": """SELECT proname, pg_get_functiondef(oid) FROM pg_proc
                    WHERE pronamespace = 'public'::regnamespace ORDER BY 1""",
    "sequences": """SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences
                    WHERE sequence_schema = 'public' ORDER BY 1""",
}

RAN = "SELECT name FROM migration WHERE app_name = 'tracker' ORDER BY name"


async def snapshot() -> dict:
    """The schema of the database the environment names, and the tracker migrations recorded as run."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        with sqlite3.connect(os.environ["SQLITE_PATH"]) as connection:
            schema = [list(row) for row in connection.execute(SQLITE_SCHEMA)]
            ran = [row[0] for row in connection.execute(RAN)]
        return {"schema": {"sqlite_master": schema}, "ran": ran}

    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        schema = {name: [list(row) for row in await connection.fetch(query)] for name, query in POSTGRES_SCHEMA.items()}
        ran = [row[0] for row in await connection.fetch(RAN)]
    finally:
        await connection.close()
    return {"schema": schema, "ran": ran}


def _check(result) -> None:
    if not result.success:
        raise SystemExit(f"migration command failed: {result.message}")


async def walk() -> dict:
    from piccolo.apps.migrations.commands.backwards import run_backwards
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.conf.apps import Finder

    manager = BaseMigrationManager()
    folder = Finder().get_app_config("tracker").resolved_migrations_folder_path
    ids = manager.get_migration_ids(manager.get_migration_modules(folder))

    await manager.create_migration_table()
    empty = await snapshot()

    _check(await run_forwards("tracker", migration_id="all"))
    first = await snapshot()

    # Level k: the first k migrations applied. "down" is reached by reversing one migration at a time from the top,
    # "up" by applying them again one at a time from nothing.
    down: dict[int, dict] = {}
    for level in reversed(range(len(ids))):
        _check(await run_backwards("tracker", migration_id="1", auto_agree=True))
        down[level] = await snapshot()

    up: dict[int, dict] = {}
    for level, migration_id in enumerate(ids, start=1):
        _check(await run_forwards("tracker", migration_id=migration_id))
        up[level] = await snapshot()

    return {"ids": ids, "empty": empty, "first": first, "down": down, "up": up}


def main() -> int:
    out = Path(sys.argv[1])
    out.write_text(json.dumps(asyncio.run(walk()), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
