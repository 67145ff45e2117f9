"""The SQLite engine keeps its connections (tracker/core/sqlite_engine.py, issue 15): readers are reused from query
to query and page to page; writers queue on one in-process lock rather than in SQLite's busy handler; a transaction
sees its own writes and the readers see them once committed; a failed or cancelled transaction leaves the writer
clean. SQLite only: PostgreSQL keeps Piccolo's own engine (asyncpg's pool)."""
from __future__ import annotations

import asyncio
import contextvars
import sqlite3

import anyio
import pytest

from tests.factories import EMAILS, action
from tracker.core.db import engine, write_transaction
from tracker.core.sqlite_engine import READERS, PooledTransaction, is_read
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def sqlite_only(database):
    if database != "sqlite":
        pytest.skip("moteur SQLite seulement : PostgreSQL garde le moteur de Piccolo (pool asyncpg)")


def test_only_statements_that_read_go_to_the_readers():
    assert is_read('SELECT "action"."id" FROM "action"') and is_read("  select 1") and is_read("VALUES (1)")
    assert is_read("WITH t AS (SELECT 1 AS updated_at) SELECT * FROM t")
    assert is_read("EXPLAIN QUERY PLAN SELECT 1")
    for write in ('INSERT INTO "action" DEFAULT VALUES', 'UPDATE "action" SET "status" = 1', "DELETE FROM note",
                  "WITH t AS (SELECT 1) UPDATE action SET version = 2", "BEGIN IMMEDIATE", "PRAGMA foreign_keys = 1",
                  "CREATE INDEX x ON y (z)", "ANALYZE"):
        assert not is_read(write), write


async def test_a_page_load_reuses_the_reader_connections(client, world, monkeypatch):
    """Counted at `sqlite3.connect` (and aiosqlite's, which Piccolo's engine called for each query): from a cold
    start, pages that run dozens of queries open at most the pool's connections (the readers, which the thread pool
    starts as it needs them, and the writer), and never one per query."""
    import aiosqlite

    connects, queries = [], []
    real_connect, real_aio = sqlite3.connect, aiosqlite.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: connects.append(1) or real_connect(*a, **k))
    monkeypatch.setattr(aiosqlite, "connect", lambda *a, **k: connects.append(2) or real_aio(*a, **k))
    engine_class = type(engine())
    real_run = engine_class.run_querystring

    async def counting(self, querystring, in_pool=False):
        queries.append(1)
        return await real_run(self, querystring, in_pool)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    await client.login(EMAILS["ga_editor"])
    await engine().close_connections()  # cold: nothing kept
    connects.clear(), queries.clear()
    for _ in range(6):
        assert (await client.get(f"/feuilles-de-route/{world.ga_roadmap}")).status_code == 200
        assert (await client.get(f"/actions/{world.upcoming}")).status_code == 200
    assert len(queries) > 50
    assert 1 <= len(connects) <= READERS + 1, len(connects)
    assert 2 not in connects  # no aiosqlite connection: Piccolo's per-query connections are gone
    for _ in range(3):
        await asyncio.gather(*(client.get(f"/actions/{world.upcoming}") for _ in range(READERS * 2)))
    assert len(connects) <= READERS + 1 and len(queries) > 150  # queries at once: still the pool's connections


async def test_concurrent_status_changes_queue_on_the_lock_not_in_sqlites_busy_handler(make_client, world,
                                                                                        monkeypatch):
    """SQLite's busy handler switched off (timeout 0): had two writers of the process met at SQLite's lock, one
    would fail with « database is locked ». Thirty changes at once through HTTP all succeed, one transaction at a
    time, and the history has exactly one entry per change."""
    db = engine()
    async with write_transaction():
        ids = [await action(world.ga_roadmap, world.ga, f"Action {i}") for i in range(30)]
    await db.close_connections()
    # The writer, reopened below, without a busy wait (readers keep theirs: WAL readers do not wait for writers).
    monkeypatch.setattr(db.writer, "_kwargs", {**db.connection_kwargs, "timeout": 0})
    open_now, most_open, waiting, most_waiting = 0, 0, 0, 0
    real_enter, real_exit = PooledTransaction.__aenter__, PooledTransaction.__aexit__

    async def enter(self):
        nonlocal open_now, most_open, waiting, most_waiting
        waiting += 1
        most_waiting = max(most_waiting, waiting)
        try:
            got = await real_enter(self)
        finally:
            waiting -= 1
        if got is self and self.pooled:
            open_now += 1
            most_open = max(most_open, open_now)
        return got

    async def exit_(self, *exc):
        nonlocal open_now
        outermost = self._parent is None and self.pooled
        try:
            return await real_exit(self, *exc)
        finally:
            open_now -= outermost

    monkeypatch.setattr(PooledTransaction, "__aenter__", enter)
    monkeypatch.setattr(PooledTransaction, "__aexit__", exit_)
    client = await make_client()
    await client.login(EMAILS["ga_editor"])
    await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    forms = {i: dict(client.form(f"/actions/{i}/statut").fields) for i in ids}
    answers: list[tuple[int, str]] = []

    async def change(action_id: int) -> None:
        fields = {**forms[action_id], "status": "en_cours"}
        response = await client.post(f"/actions/{action_id}/statut", fields)
        answers.append((response.status_code, response.text))

    try:
        async with anyio.create_task_group() as group:
            for action_id in ids:
                group.start_soon(change, action_id)
    finally:
        await db.close_connections()  # the next tests reopen them with the real timeout
    assert [status for status, _ in answers] == [303] * 30, [text[:300] for _, text in answers if "locked" in text]
    assert most_open == 1 and most_waiting > 1  # they queued, and only one was ever open
    assert await Action.count().where(Action.id.is_in(ids) & (Action.status == "en_cours")) == 30
    entries = await HistoryEntry.select(HistoryEntry.subject_id).where(
        HistoryEntry.subject_id.is_in(ids) & (HistoryEntry.subject_type == "action"))
    assert sorted(e["subject_id"] for e in entries) == sorted(ids)


async def _count_outside() -> int:
    """Counted in a fresh context: outside any transaction, so on a reader connection."""
    return await asyncio.get_running_loop().create_task(Action.count().run(), context=contextvars.Context())


async def test_a_transaction_sees_its_writes_and_the_readers_see_them_once_committed(world):
    before = await Action.count()
    async with write_transaction():
        await action(world.ga_roadmap, world.ga, "Écrite dans la transaction")
        assert await Action.count() == before + 1  # on the writer: its own write
        assert await _count_outside() == before  # a reader: the last commit only
    assert await _count_outside() == before + 1


async def test_a_failed_or_cancelled_transaction_leaves_the_writer_clean(world):
    before = await Action.count()
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await action(world.ga_roadmap, world.ga, "Annulée")
            raise RuntimeError("échec au milieu")
    started = asyncio.Event()

    async def cancelled() -> None:
        async with write_transaction():
            await action(world.ga_roadmap, world.ga, "Interrompue")
            started.set()
            await asyncio.sleep(30)

    task = asyncio.ensure_future(cancelled())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with write_transaction():  # the lock is free and the writer has no transaction left open
        await action(world.ga_roadmap, world.ga, "Écrite après")
    assert await Action.count() == before + 1
    assert [r["title"] for r in await Action.select(Action.title).where(Action.title.is_in(
        ["Annulée", "Interrompue", "Écrite après"]))] == ["Écrite après"]


async def test_a_write_from_another_event_loop_uses_a_connection_of_its_own(world):
    """Piccolo's `run_sync` inside a running loop runs another loop in a thread: it must not share the writer."""

    async def elsewhere() -> None:
        async with write_transaction():
            await action(world.ga_roadmap, world.ga, "Depuis une autre boucle")

    before = await Action.count()
    await anyio.to_thread.run_sync(lambda: asyncio.run(elsewhere()))
    assert await Action.count() == before + 1



async def test_begin_runs_in_place_unless_another_process_holds_the_write_lock(world, monkeypatch):
    """A transaction's BEGIN runs at once in the event loop's thread when nothing can make it wait (no hop to the
    writer's thread); when another process holds SQLite's write lock it goes to the writer's thread, which waits
    for it without blocking the event loop (issue 15)."""
    db = engine()
    writer = db.writer
    jobs = []
    call = writer.call

    async def counted(function):
        jobs.append(getattr(function, "__qualname__", ""))
        return await call(function)

    monkeypatch.setattr(writer, "call", counted)
    async with write_transaction():
        await action(world.ga_roadmap, world.ga, "Sans attendre")
    assert [j for j in jobs if "begin" in j] == [] and len(jobs) == 1  # only the COMMIT

    jobs.clear()
    other = sqlite3.connect(db.path, isolation_level=None)  # another process's writer, as a command would be
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def loop_keeps_turning() -> None:
        nonlocal ticks
        for _ in range(10):
            await asyncio.sleep(0.02)
            ticks += 1
        other.execute("ROLLBACK")

    async def write() -> None:
        async with write_transaction():
            await action(world.ga_roadmap, world.ga, "Après l’autre processus")

    try:
        await asyncio.gather(loop_keeps_turning(), write())
    finally:
        other.close()
    assert ticks == 10
    assert any("begin" in j for j in jobs)  # waited in the writer's thread
    assert await Action.count().where(Action.title == "Après l’autre processus") == 1
