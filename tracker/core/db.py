"""Database engine, the one way to open a write transaction, and planner statistics after bulk loads.

On SQLite the engine is `PooledSQLiteEngine` (tracker/core/sqlite_engine.py): kept reader connections, one writer
connection behind an in-process lock. On PostgreSQL, Piccolo's engine with asyncpg's pool."""
from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager
from typing import AsyncIterator

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from tracker.core import piccolo_speedups
from tracker.core.config import settings
from tracker.core.sqlite_engine import PooledSQLiteEngine

piccolo_speedups.install()


ANALYSIS_LIMIT = 1000


def make_engine() -> SQLiteEngine | PostgresEngine:
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url})
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    # Writers of this process queue on the engine's lock; the busy timeout is for other processes (a command, a
    # backup) that write the same file.
    return PooledSQLiteEngine(path=str(settings.sqlite_path), timeout=30)


_found: SQLiteEngine | PostgresEngine | None = None


def engine() -> SQLiteEngine | PostgresEngine:
    """The engine of piccolo_conf.py. Piccolo's tables take it once, when they are made; it is looked up once here
    too (Piccolo's finder imports and inspects the module at each call: a quarter of a millisecond per request)."""
    global _found
    if _found is None:
        from piccolo.engine import engine_finder

        found = engine_finder()
        assert found is not None, "piccolo_conf.py n'a pas été trouvé"
        _found = found
    return _found


async def fetch(sql: str, *args: object) -> list[dict]:
    """One raw statement, `{}` for each bound parameter (never a value written into the text), on the current
    transaction when there is one: where building the query in Piccolo costs more than running it (the Viewer of
    every request, the status change's transaction). Rows as dicts; on SQLite a column read straight from a table
    keeps Piccolo's conversion (its declared type), a computed one comes raw (text for a time, 0/1 for a boolean).
    On SQLite the text goes to the engine as it is, each `{}` made a `?` (no `{{` escapes in these statements)."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        return await db.run_sql(sql.replace("{}", "?"), list(args))
    return [dict(row) for row in await db.run_querystring(QueryString(sql, *args))]  # asyncpg's records


def in_list(values) -> str:
    """The placeholders of `IN (…)` for raw SQL (Piccolo's `raw`, `{}` per bound value): « ({}, {}, {}) »."""
    return "(" + ", ".join("{}" for _ in values) + ")"


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


def prepare_sqlite_file() -> None:
    """WAL lets readers go on while one request writes; set once, it sticks to the file."""
    if settings.database_url:
        return
    with sqlite3.connect(settings.sqlite_path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for writes. On SQLite it runs on the engine's one writer connection, holding the engine's
    asyncio lock from BEGIN IMMEDIATE to COMMIT/ROLLBACK: the process's writers queue in the event loop, in order,
    rather than in SQLite's busy handler; IMMEDIATE takes SQLite's write lock at BEGIN, so that another process's
    writer never makes this one fail with "database is locked" on upgrade."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def _session_unchanged(connection) -> None:
    """asyncpg's pool resets each connection it takes back (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`): a round trip on every statement run outside a transaction (each is a release), and most of
    PostgreSQL's CPU on the light pages (the action page: 1.8 → 0.6 ms per request without it), for session state
    this application never sets. Its SQL sets none: no `SET`, no `LISTEN`, no
    session-level advisory lock (only `pg_advisory_xact_lock`, released at COMMIT), no cursor `WITH HOLD`
    (tests/test_postgres_pool.py reads the sources for them and checks the locks after a burst). A connection
    given back inside a transaction is still rolled back by asyncpg before this hook."""


async def start_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(max_size=10, reset=_session_unchanged)


async def close_pool() -> None:
    """At shutdown (the app's, a command's): PostgreSQL's pool, or SQLite's kept connections."""
    db = engine()
    if isinstance(db, PostgresEngine):
        if db.pool is not None:
            await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await db.close_connections()


async def analyse(*tables: str) -> None:
    """Planner statistics after a bulk load (the territories, the demo, an import), on both databases: without
    them SQLite's planner guesses row counts and may pick a full scan over an index, and PostgreSQL's autovacuum
    may be off or late. `tables` narrows it (an import touches a few); none means the whole database. Bounded:
    SQLite reads at most `ANALYSIS_LIMIT` rows per index (`PRAGMA analysis_limit`, the approximation SQLite
    recommends), PostgreSQL samples its default 30,000 rows per table. A PostgreSQL role that does not own a table
    gets a warning for it, never an error."""
    db = engine()
    async with write_transaction():
        if isinstance(db, SQLiteEngine):
            await db.run_ddl(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
            for name in tables or ("",):  # SQLite's ANALYZE takes one table at a time
                await db.run_ddl(f'ANALYZE "{name}"' if name else "ANALYZE")
        else:
            await db.run_ddl("ANALYZE " + ", ".join(f'"{name}"' for name in tables) if tables else "ANALYZE")


def name_contains(column, text: str):
    """Case-insensitive "contains": ILIKE on PostgreSQL; SQLite's LIKE is already case-insensitive (ASCII)."""
    pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", " ") + "%"
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)
