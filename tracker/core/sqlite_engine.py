"""Piccolo's SQLite engine, with its connections kept and reused (issue 15).

Piccolo's `SQLiteEngine` opens a new aiosqlite connection (a new thread, a new `sqlite3.connect`, a `PRAGMA`) for
every query outside a transaction, and hops to that thread three or four times per query. On the roadmap page that
made 10 queries whose SQL takes 0.8 ms in all cost 27 ms. This subclass keeps Piccolo's API and what Piccolo sets on
each connection (the same `connection_kwargs`: `detect_types` for Piccolo's converters, `isolation_level=None`,
the busy `timeout`; `dict_factory` rows; `PRAGMA foreign_keys = 1`; WAL is set on the file by
`db.prepare_sqlite_file`) and changes where queries run:

- **Readers**: a query outside a transaction whose SQL reads (`SELECT`, `WITH` without a write, `VALUES`,
  `EXPLAIN`) runs at once in the calling thread, on a connection that thread keeps (`PRAGMA query_only = 1`: a
  write sent there by mistake fails loudly instead of bypassing the writer's lock). In the application that is the
  event loop's thread: the page's queries take a tenth of a millisecond to a few, and a hop to a thread costs more
  than that (measured at 8 clients: the action page went from 44–60 to 80–86 requests a second), because the
  thread's answer waits for the GIL that the event loop holds while it renders other pages. In WAL mode readers
  never wait for the writer and each statement sees the last commit. Long reads are cut in batches by their
  callers (the exports read 500 rows at a time).
- **One writer**: one connection, opened and used by one thread for what may wait or write to disk (`BEGIN
  IMMEDIATE`, which may wait for another process's lock; `COMMIT`, which syncs the file; a write outside a
  transaction). Every transaction (`engine.transaction()`, `atomic()`, and so `db.write_transaction()`, which asks
  for `BEGIN IMMEDIATE`) takes an in-process `asyncio.Lock` for the whole BEGIN … COMMIT/ROLLBACK; between the two,
  its statements run at once in the event loop's thread on that same connection (the lock and the BEGIN already
  done mean they never wait), under Piccolo's `current_transaction` context variable, as before, so tasks started
  inside it see it too. The BEGIN itself runs in place too when it cannot wait (no job of the writer's thread
  pending, SQLite's busy handler off for that statement: another process's lock makes it fail at once, and it is
  then sent to the writer's thread, which waits): a transaction then holds the lock for one hop, its COMMIT (issue
  15). A write outside a transaction (autocommit) takes the same lock for its one statement.
  Writers therefore queue in the event loop, in order, instead of sleeping in SQLite's busy handler (which polls
  with growing sleeps: the long tail of a status change under load), and hold the lock for one hop (the COMMIT),
  not one per statement. The busy timeout stays for the other processes (a command, a backup) that share the file.
- Commits are real `COMMIT`s on a file in WAL mode with SQLite's default `synchronous` (FULL): once a request has
  answered, its change is on disk; a `kill -9` loses nothing.
- **One process, one event loop**: the lock belongs to the event loop that first uses the engine (re-bound when that
  loop has been closed, as between two `asyncio.run` of a command). A transaction or a write from another loop
  running at the same time (Piccolo's `run_sync` inside a running loop) falls back to Piccolo's own behaviour: a
  connection of its own, arbitrated by SQLite's file lock. Several uvicorn workers are a PostgreSQL setting; on
  SQLite the application is one process.
- `close_connections()` closes every kept connection (the app's shutdown, the commands, the tests between two
  copies of the database file); the next query opens them again. The writer's thread is a `ThreadPoolExecutor`'s,
  which the interpreter stops at exit, so a forgotten close never keeps a process alive.
- `batch()` keeps Piccolo's behaviour: a connection of its own for the cursor it holds open.
"""
from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

READERS = 4  # threads the readers' pool may start; the reads run in place, so the application starts none

_READ = re.compile(r"\s*(?:SELECT|VALUES|EXPLAIN)\b", re.IGNORECASE)
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_WRITE_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def is_read(sql: str) -> bool:
    """A statement that only reads, and so may run on a reader connection outside any transaction."""
    if _READ.match(sql):
        return True
    return bool(_WITH.match(sql)) and not _WRITE_WORD.search(sql)


class _Generation:
    """One thread pool and the connections its threads opened: `close()` ends both together, and a query that
    comes meanwhile starts the next generation instead of using a connection being closed."""

    def __init__(self, size: int, name: str) -> None:
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self.opened: list[sqlite3.Connection] = []


def _rows(connection: sqlite3.Connection, sql: str, args: list[Any] | tuple) -> list[dict]:
    cursor = connection.execute(sql, args)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


class Connections:
    """Threads that each keep one sqlite3 connection, opened on the thread's first job and closed by `close()`."""

    def __init__(self, connection_kwargs: dict[str, Any], size: int, name: str, query_only: bool) -> None:
        self._kwargs = connection_kwargs  # the engine's own dict: a change of `engine.path` is seen here too
        self.size = size
        self._name = name
        self._query_only = query_only
        self._local = threading.local()
        self._guard = threading.Lock()
        self._generation: _Generation | None = None
        self.connects = 0  # connections opened since the engine was made
        self._jobs = 0  # jobs submitted to the pool and not finished yet (counted under `_guard`)

    def _connection(self, generation: _Generation) -> sqlite3.Connection:
        if getattr(self._local, "generation", None) is generation:
            return self._local.connection
        # check_same_thread off only so that close() may close it from another thread once this one has ended.
        connection = sqlite3.connect(**self._kwargs, check_same_thread=False)
        connection.row_factory = dict_factory
        connection.execute("PRAGMA foreign_keys = 1")
        if self._query_only:
            connection.execute("PRAGMA query_only = 1")
        self._local.generation, self._local.connection = generation, connection
        with self._guard:
            generation.opened.append(connection)
            self.connects += 1
        return connection

    def _fetch(self, generation: _Generation, sql: str, args: list[Any] | tuple) -> list[dict]:
        return _rows(self._connection(generation), sql, args)

    def _call(self, generation: _Generation, function: Callable[[sqlite3.Connection], Any]) -> Any:
        return function(self._connection(generation))

    def _current(self) -> _Generation:
        generation = self._generation
        if generation is None:
            with self._guard:
                if self._generation is None:
                    self._generation = _Generation(self.size, self._name)
                generation = self._generation
        return generation

    def fetch_here(self, sql: str, args: list[Any] | tuple = ()) -> list[dict]:
        """One statement, executed and fetched at once in the calling thread, on the connection it keeps."""
        return self._fetch(self._current(), sql, args)

    def fetch_on_kept(self, sql: str, args: list[Any] | tuple = ()) -> list[dict] | None:
        """One statement at once in the calling thread on the connection the pool's one thread opened; None (nothing
        ran) when it has none yet or a job of that thread is pending (`call_here`). Only for a caller that holds that
        connection (the writer's lock, after its BEGIN ran)."""
        ran, rows = self.call_here(lambda connection: _rows(connection, sql, args))
        return rows if ran else None

    async def fetch(self, sql: str, args: list[Any] | tuple = ()) -> list[dict]:
        """One statement, executed and fetched in one hop to a thread of the pool."""
        generation = self._current()
        return await asyncio.wrap_future(self._submit(generation, self._fetch, generation, sql, args))

    async def call(self, function: Callable[[sqlite3.Connection], Any]) -> Any:
        """`function(connection)` on a thread of the pool. Submitted at once: it runs even if the caller is
        cancelled while it waits, and, with one thread, in the order of submission."""
        generation = self._current()
        return await asyncio.wrap_future(self._submit(generation, self._call, generation, function))

    def submit(self, function: Callable[[sqlite3.Connection], Any]) -> None:
        """`function(connection)` queued on the pool without waiting for it (a clean-up after a cancellation)."""
        generation = self._current()
        self._submit(generation, self._call, generation, function)

    def _submit(self, generation: _Generation, job: Callable[..., Any], *args: Any):
        """`job(*args)` on the pool, counted until it ends (run, failed or cancelled before it ran)."""
        with self._guard:
            self._jobs += 1
        future = generation.executor.submit(job, *args)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Any) -> None:
        with self._guard:
            self._jobs -= 1

    def call_here(self, function: Callable[[sqlite3.Connection], Any]) -> tuple[bool, Any]:
        """`function(connection)` at once in the calling thread on the connection the pool's one thread opened,
        when that connection exists and no job of the pool is queued or running (which could still touch it):
        (True, its result); (False, None) otherwise, and then nothing ran."""
        generation = self._generation
        if generation is None or self.size != 1 or not generation.opened:
            return False, None
        with self._guard:
            if self._jobs:
                return False, None
        return True, function(generation.opened[0])

    def close(self) -> None:
        """Wait for the threads to finish their jobs and end, then close their connections."""
        with self._guard:
            generation, self._generation = self._generation, None
        if generation is None:
            return
        generation.executor.shutdown(wait=True)
        for connection in generation.opened:
            connection.close()


def _begin(kind: str) -> Callable[[sqlite3.Connection], None]:
    def begin(connection: sqlite3.Connection) -> None:
        if connection.in_transaction:  # left open by a transaction whose end was cancelled: it never committed
            connection.execute("ROLLBACK")
        connection.execute(f"BEGIN {kind}")

    return begin


def _begin_without_waiting(kind: str, busy_ms: int) -> Callable[[sqlite3.Connection], bool]:
    """BEGIN in the event loop's thread when it cannot wait: SQLite's busy handler off for that one statement, so
    that another process's write lock makes it fail at once (False: nothing begun, the caller then BEGINs in the
    writer's thread, which may wait) instead of blocking the loop."""

    def begin(connection: sqlite3.Connection) -> bool:
        if connection.in_transaction:  # left open by a cancelled transaction: the writer's thread cleans it up
            return False
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            connection.execute(f"BEGIN {kind}")
            return True
        except sqlite3.OperationalError:  # database is locked (another process writes)
            return False
        finally:
            connection.execute(f"PRAGMA busy_timeout = {busy_ms}")

    return begin


def _commit(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")


class WriterConnection:
    """What a pooled transaction exposes as `.connection` (Piccolo's savepoints call `execute` on it)."""

    def __init__(self, writer: Connections) -> None:
        self._writer = writer

    async def execute(self, sql: str, *args: Any) -> list[dict]:
        return await _in_transaction(self._writer, sql, args[0] if args else ())


async def _in_transaction(writer: Connections, sql: str, args: list[Any] | tuple) -> list[dict]:
    """A statement of a pooled transaction: at once on the writer's connection (its BEGIN has run in its thread)."""
    rows = writer.fetch_on_kept(sql, args)
    return rows if rows is not None else await writer.fetch(sql, args)


class PooledTransaction(SQLiteTransaction):
    """Piccolo's transaction, on the engine's one writer connection and under its in-process lock."""

    __slots__ = ("pooled", "_held")

    def __init__(self, engine: PooledSQLiteEngine, transaction_type: TransactionType = TransactionType.deferred,
                 allow_nested: bool = True) -> None:
        super().__init__(engine=engine, transaction_type=transaction_type, allow_nested=allow_nested)
        self.pooled = False
        self._held: asyncio.Lock | None = None

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        lock = engine.write_lock()
        if lock is None:  # another event loop than the engine's: Piccolo's own connection per transaction
            return await super().__aenter__()
        await lock.acquire()
        try:
            self.connection = WriterConnection(engine.writer)
            # In place when it cannot wait (no hop to the writer's thread: one fewer while the others queue);
            # else in the writer's thread, which may wait for another process's lock.
            ran, begun = engine.writer.call_here(_begin_without_waiting(self.transaction_type.value, engine.busy_ms))
            if not (ran and begun):
                await engine.writer.call(_begin(self.transaction_type.value))
        except BaseException:  # cancelled while BEGIN was queued: it will run, so its ROLLBACK is queued after it
            engine.writer.submit(_rollback)
            lock.release()
            raise
        self.pooled, self._held = True, lock
        self.context = engine.current_transaction.set(self)
        return self

    async def commit(self) -> None:
        if not self.pooled:
            return await super().commit()
        await self.engine.writer.call(_commit)  # type: ignore[attr-defined]
        self._committed = True

    async def rollback(self) -> None:
        if not self.pooled:
            return await super().rollback()
        await self.engine.writer.call(_rollback)  # type: ignore[attr-defined]
        self._rolled_back = True

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent is not None or not self.pooled:
            return await super().__aexit__(exception_type, exception, traceback)
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            assert self._held is not None
            self._held.release()
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """`SQLiteEngine` with kept reader connections and one writer behind an asyncio lock (module docstring)."""

    def __init__(self, path: str = "piccolo.sqlite", readers: int = READERS, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError("SQLite 3.35 au moins est nécessaire (INSERT … RETURNING).")
        self.readers = Connections(self.connection_kwargs, readers, "sqlite-lecture", query_only=True)
        self.busy_ms = int(float(self.connection_kwargs.get("timeout", 5.0)) * 1000)  # sqlite3's own default: 5 s
        self.writer = Connections(self.connection_kwargs, 1, "sqlite-ecriture", query_only=False)
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def write_lock(self) -> asyncio.Lock | None:
        """The writers' lock of the running event loop; None when another, still open, loop owns the writer."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._loop is not None and not self._loop.is_closed():
                return None
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> PooledTransaction:
        return PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run(self, sql: str, args: list[Any], querystring: QueryString | None = None) -> list[dict]:
        transaction = self.current_transaction.get()
        if transaction is not None:
            if getattr(transaction, "pooled", False):
                return await _in_transaction(self.writer, sql, args)
            return await self._run_in_existing_connection(
                connection=transaction.connection, query=sql, args=args,
                query_type=querystring.query_type if querystring else "generic",
                table=querystring.table if querystring else None)
        if is_read(sql):
            return self.readers.fetch_here(sql, args)
        lock = self.write_lock()
        if lock is None:
            return await self._run_in_new_connection(
                query=sql, args=args, query_type=querystring.query_type if querystring else "generic",
                table=querystring.table if querystring else None)
        async with lock:
            return await self.writer.fetch(sql, args)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False):
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=querystring.__str__())
        query, query_args = querystring.compile_string(engine_type=self.engine_type)
        response = await self._run(query, query_args, querystring)
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    async def run_sql(self, sql: str, args: list[Any]) -> list[dict]:
        """A statement already written for SQLite (`?` parameters), without Piccolo's query string
        (`db.fetch`: the Viewer of every request, the status change's statements)."""
        if self.log_queries:
            self.print_query(query_id=self.get_query_id(), query=f"{sql} {args}")
        return await self._run(sql, args)

    async def run_ddl(self, ddl: str, in_pool: bool = False):
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=ddl)
        response = await self._run(ddl, [])
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    async def close_connections(self) -> None:
        """Close every kept connection (waiting, in a thread, for queries still running); reopened on demand."""
        await asyncio.get_running_loop().run_in_executor(None, self.close_connections_sync)

    def close_connections_sync(self) -> None:
        self.readers.close()
        self.writer.close()
