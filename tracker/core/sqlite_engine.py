"""Piccolo's SQLite engine, with its connections kept and reused (issue 15).

Piccolo's `SQLiteEngine` opens a new aiosqlite connection (a new thread, a new `sqlite3.connect`, a `PRAGMA`) for
every query outside a transaction, and hops to that thread three or four times per query. On the roadmap page that
made 10 queries whose SQL takes 0.8 ms in all cost 27 ms. This subclass keeps Piccolo's API and what Piccolo sets on
each connection (the same `connection_kwargs`: `detect_types` for Piccolo's converters, `isolation_level=None`,
the busy `timeout`; `dict_factory` rows; `PRAGMA foreign_keys = 1`; WAL is set on the file by
`db.prepare_sqlite_file`) and changes where queries run:

- **Readers**: a small pool of threads (`READERS`), each with its own `sqlite3` connection opened on its first query
  and kept (`PRAGMA query_only = 1`: a write sent there by mistake fails loudly instead of bypassing the writer's
  lock). A query outside a transaction whose SQL reads (`SELECT`, `WITH` without a write, `VALUES`, `EXPLAIN`) runs
  on one of them, in one hop to the thread (execute and fetch together). In WAL mode readers never wait for the
  writer and each statement sees the last commit.
- **One writer**: one thread with one connection. Every transaction (`engine.transaction()`, `atomic()`, and so
  `db.write_transaction()`, which asks for `BEGIN IMMEDIATE`) takes an in-process `asyncio.Lock` for the whole
  BEGIN … COMMIT/ROLLBACK and runs all its queries on that connection (Piccolo's `current_transaction` context
  variable, as before, so tasks started inside it see it too). A write outside a transaction (autocommit) takes the
  same lock for its one statement. Writers therefore queue in the event loop, in order, instead of sleeping in
  SQLite's busy handler (which polls with growing sleeps: the long tail of a status change under load). The busy
  timeout stays for the other processes (a command, a backup) that share the file.
- **Few hops while the lock is held** (issue 15): every hop to the writer's thread is a switch of threads and, on a
  busy event loop, a wait for the loop's turn, during which every other writer waits too. So `BEGIN IMMEDIATE` is
  sent with the transaction's first statement (a transaction that runs nothing costs nothing), and a statement
  sent `later` (`db.write_later`, `db.send_later`: a history entry, the kept figures) goes with the next statement
  or with the COMMIT, in one job; its error is raised there and the transaction rolls back. A status change is two
  jobs: BEGIN, UPDATE, history entry and the figures' read; then the figures and COMMIT.
- Commits are real `COMMIT`s on a file in WAL mode with SQLite's default `synchronous` (FULL): once a request has
  answered, its change is on disk; a `kill -9` loses nothing.
- **One process, one event loop**: the lock belongs to the event loop that first uses the engine (re-bound when that
  loop has been closed, as between two `asyncio.run` of a command). A transaction or a write from another loop
  running at the same time (Piccolo's `run_sync` inside a running loop) falls back to Piccolo's own behaviour: a
  connection of its own, arbitrated by SQLite's file lock. Several uvicorn workers are a PostgreSQL setting; on
  SQLite the application is one process.
- `close_connections()` closes every kept connection (the app's shutdown, the commands, the tests between two
  copies of the database file); the next query opens them again. The threads are those of `ThreadPoolExecutor`,
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

READERS = 4  # reader connections (threads); sqlite3 lets go of the GIL while SQLite works

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
        cursor = self._connection(generation).execute(sql, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

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

    async def fetch(self, sql: str, args: list[Any] | tuple = ()) -> list[dict]:
        """One statement, executed and fetched in one hop to a thread of the pool."""
        generation = self._current()
        return await asyncio.get_running_loop().run_in_executor(generation.executor, self._fetch, generation, sql, args)

    async def call(self, function: Callable[[sqlite3.Connection], Any]) -> Any:
        """`function(connection)` on a thread of the pool. Submitted at once: it runs even if the caller is
        cancelled while it waits, and, with one thread, in the order of submission."""
        generation = self._current()
        return await asyncio.get_running_loop().run_in_executor(generation.executor, self._call, generation, function)

    def submit(self, function: Callable[[sqlite3.Connection], Any]) -> None:
        """`function(connection)` queued on the pool without waiting for it (a clean-up after a cancellation)."""
        generation = self._current()
        generation.executor.submit(self._call, generation, function)

    def close(self) -> None:
        """Wait for the threads to finish their jobs and end, then close their connections."""
        with self._guard:
            generation, self._generation = self._generation, None
        if generation is None:
            return
        generation.executor.shutdown(wait=True)
        for connection in generation.opened:
            connection.close()


class Later:
    """The rows of a statement sent later (`PooledTransaction.later`): known once its hop has run."""

    __slots__ = ("_transaction", "done", "value")

    def __init__(self, transaction: PooledTransaction | None, value: list[dict] | None = None) -> None:
        self._transaction = transaction
        self.done = value is not None
        self.value: list[dict] = value or []

    async def rows(self) -> list[dict]:
        """Its rows, sending it now (with whatever waits before it) if it has not gone yet."""
        if not self.done:
            assert self._transaction is not None
            await self._transaction.flush()
        return self.value


def _batch(begin: str | None, statements: list[tuple[str, Any]], end: str | None
           ) -> Callable[[sqlite3.Connection], list[list[dict]]]:
    """One job for the writer's thread: BEGIN (when the transaction has not begun yet), the statements in order,
    then COMMIT or ROLLBACK (`end`). Returns the rows of each statement. A COMMIT that fails rolls back."""

    def run(connection: sqlite3.Connection) -> list[list[dict]]:
        if begin is not None:
            if connection.in_transaction:  # left open by a transaction whose end was cancelled: it never committed
                connection.execute("ROLLBACK")
            connection.execute(f"BEGIN {begin}")
        results: list[list[dict]] = []
        for sql, args in statements:
            cursor = connection.execute(sql, args)
            try:
                results.append(cursor.fetchall())
            finally:
                cursor.close()
        if end == "COMMIT":
            try:
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        elif end == "ROLLBACK" and connection.in_transaction:
            connection.execute("ROLLBACK")
        return results

    return run


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        connection.execute("ROLLBACK")


class WriterConnection:
    """What a pooled transaction exposes as `.connection` (Piccolo's savepoints call `execute` on it)."""

    def __init__(self, transaction: PooledTransaction) -> None:
        self._transaction = transaction

    async def execute(self, sql: str, *args: Any) -> list[dict]:
        return await self._transaction.run(sql, args[0] if args else ())


class PooledTransaction(SQLiteTransaction):
    """Piccolo's transaction, on the engine's one writer connection and under its in-process lock.

    Each hop to the writer's thread costs a switch of threads, and while a transaction waits for one, the other
    writers wait for it (on a busy event loop, each hop also waits for the loop's turn): so BEGIN goes with the
    transaction's first statement, a write whose result nobody reads (`later`) goes with the next statement or
    with the COMMIT, and a transaction that ran nothing costs no hop at all."""

    __slots__ = ("pooled", "_held", "_begun", "_pending")

    def __init__(self, engine: PooledSQLiteEngine, transaction_type: TransactionType = TransactionType.deferred,
                 allow_nested: bool = True) -> None:
        super().__init__(engine=engine, transaction_type=transaction_type, allow_nested=allow_nested)
        self.pooled = False
        self._held: asyncio.Lock | None = None
        self._begun = False
        self._pending: list[tuple[str, Any]] = []

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        lock = engine.write_lock()
        if lock is None:  # another event loop than the engine's: Piccolo's own connection per transaction
            return await super().__aenter__()
        await lock.acquire()
        self.connection = WriterConnection(self)
        self.pooled, self._held = True, lock
        self.context = engine.current_transaction.set(self)
        return self

    async def _hop(self, statements: list[tuple[str, Any, Later | None]], end: str | None) -> list[dict]:
        """The statements (and BEGIN first if needed, `end` last) in one job; the rows of the last one."""
        begin = None if self._begun else self.transaction_type.value
        # Set before the hop: a job once submitted runs even if this task is cancelled while it waits.
        self._begun, self._pending = True, []
        results = await self.engine.writer.call(  # type: ignore[attr-defined]
            _batch(begin, [(sql, args) for sql, args, _ in statements], end))
        for (_, _, later), rows in zip(statements, results):
            if later is not None:
                later.done, later.value = True, rows
        return results[-1] if results else []

    async def run(self, sql: str, args: Any) -> list[dict]:
        """One statement in the transaction, after the statements left for later: one hop."""
        return await self._hop([*self._pending, (sql, args, None)], None)

    def later(self, sql: str, args: Any) -> Later:
        """A statement sent with the transaction's next one or its COMMIT (or when its rows are asked for). Its
        error, if any, is raised there, and the transaction rolls back."""
        later = Later(self)
        self._pending.append((sql, args, later))
        return later

    async def flush(self) -> None:
        """Send the statements left for later now."""
        if self._pending:
            await self._hop(self._pending, None)

    async def commit(self) -> None:
        if not self.pooled:
            return await super().commit()
        if self._begun or self._pending:
            await self._hop(self._pending, "COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        if not self.pooled:
            return await super().rollback()
        self._pending = []
        if self._begun:
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
                return await transaction.run(sql, args)
            return await self._run_in_existing_connection(
                connection=transaction.connection, query=sql, args=args,
                query_type=querystring.query_type if querystring else "generic",
                table=querystring.table if querystring else None)
        if is_read(sql):
            return await self.readers.fetch(sql, args)
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
        """A statement already written for SQLite (`?` parameters), without Piccolo's query string."""
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
