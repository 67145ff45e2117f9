"""The suite runs on one database per pytest run: `--db=sqlite` (default) or `--db=postgres`
(TEST_DATABASE_URL, default the local `test` database). The schema is built by the real migrations.
Each test starts from the empty migrated schema. Nothing from `tracker` is imported at module level:
the engine is chosen from the environment set in pytest_configure."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit
from pathlib import Path

import pytest

pytest_plugins = ["tests.browser_fixtures"]  # the real server and Chromium, for tests/test_browser_*.py

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgres"], default="sqlite", help="base de données des tests")


def _postgres(url: str, statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def pytest_configure(config: pytest.Config) -> None:
    database = config.getoption("--db")
    # In memory (tmpfs) when the machine has one: SQLite's fsync at every commit then costs nothing (about a fifth
    # of the SQLite run); the files are thrown away at the end anyway.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    workdir = Path(tempfile.mkdtemp(prefix="suivi-tests-", dir=shm))
    os.environ["SUIVI_VAR_DIR"] = str(workdir)
    os.environ["SECRET_KEY"] = "cle-de-test-" + "x" * 40
    os.environ["SUIVI_TESTS_CHEAP_PASSWORD_HASHING"] = "1"  # argon2id at its lowest cost (tracker/config.py)
    os.environ.pop("REDIS_URL", None)
    if database == "postgres":
        url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
        # A database per run, next to the given one, so that runs never clobber each other.
        name = f"suivi_test_{uuid.uuid4().hex[:12]}"
        _postgres(url, f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path="/" + name))
        config.suivi_admin_url = url  # type: ignore[attr-defined]
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(workdir / "test.sqlite3")
    subprocess.run([sys.executable, "-m", "tracker", "migrate"], cwd=ROOT, env=os.environ, check=True,
                   stdout=subprocess.DEVNULL)
    if database == "postgres":
        # The app runs as a role that may not UPDATE, DELETE or TRUNCATE the history (README, « Rôle de l’application
        # sur PostgreSQL »), as in production; the migrations above and the cleaning between tests, as the owner.
        owner_url = os.environ["DATABASE_URL"]
        role = f"suivi_app_{name[len('suivi_test_'):]}"
        _postgres(owner_url, APP_ROLE_SQL.format(role=role, database=name))
        os.environ["SUIVI_TEST_OWNER_URL"] = owner_url
        os.environ["DATABASE_URL"] = urlunsplit(urlsplit(owner_url)._replace(netloc=role + "@" + urlsplit(
            owner_url).netloc.rpartition("@")[2]))
        config.suivi_app_role = role  # type: ignore[attr-defined]
    if database == "sqlite":
        shutil.copy(workdir / "test.sqlite3", workdir / "template.sqlite3")
    config.suivi_database = database  # type: ignore[attr-defined]
    config.suivi_workdir = workdir  # type: ignore[attr-defined]


# The README's SQL for the application's role, applied to this run's database (the role is per run: roles are
# shared by every database of the server, and several runs may go on at once).
APP_ROLE_SQL = """
CREATE ROLE {role} LOGIN;
GRANT CONNECT ON DATABASE {database} TO {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON history_entry FROM {role};
REVOKE UPDATE, DELETE, TRUNCATE ON membership_event FROM {role};
"""


def pytest_unconfigure(config: pytest.Config) -> None:
    if getattr(config, "suivi_database", None) == "postgres":
        name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
        _postgres(config.suivi_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[attr-defined]
        if getattr(config, "suivi_app_role", None):
            _postgres(config.suivi_admin_url, f"DROP ROLE IF EXISTS {config.suivi_app_role}")  # type: ignore
    shutil.rmtree(getattr(config, "suivi_workdir", ""), ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str:
    return f"base de données des tests : {config.getoption('--db')}"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Session-wide, so that the session's app and its PostgreSQL pool live in one event loop for the whole run."""
    return "asyncio"


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    return request.config.suivi_database  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
async def session_app():
    """One app for the whole run (building it costs more than most tests), its lifespan entered once."""
    from tracker.app import create_app

    application = create_app()
    async with application.lifespan():
        yield application
    if _owner is not None:
        await _owner.close()


@pytest.fixture
async def clean_db(request: pytest.FixtureRequest, database: str, session_app):
    """An empty migrated schema for every test."""
    workdir: Path = request.config.suivi_workdir  # type: ignore[attr-defined]
    if database == "sqlite":
        # The engine keeps its connections (tracker/core/sqlite_engine.py): closed here, reopened by the next query,
        # so that no connection sees the file replaced under it; checked.
        from tracker.core.db import close_pool

        await close_pool()
        assert not _held_open(workdir / "test.sqlite3"), "une connexion SQLite est restée ouverte entre deux tests"
        for suffix in ("-wal", "-shm"):
            (workdir / f"test.sqlite3{suffix}").unlink(missing_ok=True)
        shutil.copy(workdir / "template.sqlite3", workdir / "test.sqlite3")
    else:
        await _empty_postgres()
    yield


def _held_open(path: Path) -> list[str]:
    """The files this process holds open whose path starts with `path` (from Linux's /proc; elsewhere none known)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return []
    found = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed since listed
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


_owner = None  # the owner's connection, for emptying the tables between tests (the app's role may not)


async def _empty_postgres() -> None:
    """Every table emptied and its ids restarted, in one transaction. DELETE rather than TRUNCATE: TRUNCATE costs
    tens of milliseconds per table on PostgreSQL, these DELETEs a few milliseconds in all."""
    global _owner
    import asyncpg
    from piccolo.table import sort_table_classes

    from tracker.piccolo_app import TABLES

    if _owner is None or _owner.is_closed():
        _owner = await asyncpg.connect(os.environ["SUIVI_TEST_OWNER_URL"])
    async with _owner.transaction():
        # The history is append-only by a trigger; paused for this transaction only, by the tables' owner.
        await _owner.execute("ALTER TABLE history_entry DISABLE TRIGGER USER")
        await _owner.execute("ALTER TABLE membership_event DISABLE TRIGGER USER")
        for table in reversed(sort_table_classes(TABLES)):  # referencing tables first
            await _owner.execute(f'DELETE FROM "{table._meta.tablename}"')
        await _owner.execute("ALTER TABLE history_entry ENABLE TRIGGER USER")
        await _owner.execute("ALTER TABLE membership_event ENABLE TRIGGER USER")
        await _owner.execute("SELECT " + ", ".join(
            f"setval(pg_get_serial_sequence('\"{t._meta.tablename}\"', 'id'), 1, false)" for t in TABLES))


def reset_stores() -> None:
    """Every module-level `_store` (the sign-in throttle) starts empty: a fresh one on first use."""
    for name, module in list(sys.modules.items()):
        if name.startswith("tracker.") and getattr(module, "_store", None) is not None:
            module._store = None  # type: ignore[attr-defined]


@pytest.fixture
async def app(session_app, clean_db):
    reset_stores()
    return session_app


@pytest.fixture
async def client(app):
    import httpx

    from tests.browser import Browser

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Browser(http)


@pytest.fixture
async def make_client(app):
    """For tests that need several people signed in at once."""
    import httpx

    from tests.browser import Browser

    clients = []

    async def make() -> Browser:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(http)
        return Browser(http)

    yield make
    for http in clients:
        await http.aclose()


@pytest.fixture
async def world(app):
    from tests.factories import build_world

    return await build_world()
