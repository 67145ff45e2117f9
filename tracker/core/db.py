"""Database engine and the one way to open a write transaction."""
from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager
from typing import AsyncIterator

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from tracker.core.config import settings


def make_engine() -> SQLiteEngine | PostgresEngine:
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url})
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    # Piccolo opens one connection per query: wait for the lock rather than fail at once.
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=30)


def engine() -> SQLiteEngine | PostgresEngine:
    from piccolo.engine import engine_finder

    found = engine_finder()
    assert found is not None, "piccolo_conf.py n'a pas été trouvé"
    return found


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
    """A transaction for writes. On SQLite it takes the write lock at BEGIN (IMMEDIATE) so that
    concurrent requests queue instead of failing with "database is locked" on upgrade."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def start_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(max_size=10)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


def name_contains(column, text: str):
    """Case-insensitive "contains": ILIKE on PostgreSQL; SQLite's LIKE is already case-insensitive (ASCII)."""
    pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", " ") + "%"
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)
