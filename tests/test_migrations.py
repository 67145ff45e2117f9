"""Migrations are frozen snapshots that run both ways: none imports `tracker` (a table class may change, an old
migration must not), and on the database of the run (--db) every migration reverses exactly what it applied.
The walk uses its own SQLite file or PostgreSQL database, never the schema the other tests share."""
from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted((ROOT / "migrations").glob("*.py"))


def _tracker_imports(path: Path) -> list[str]:
    """Every import of `tracker` in a file, at any depth, by statement or by importlib/__import__ with a literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
            "import_module",
            "__import__",
        }:
            names = [arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        else:
            continue
        found += [f"{path.name}:{node.lineno} {name}" for name in names if name.split(".")[0] == "tracker"]
    return found


def test_no_migration_imports_tracker():
    assert len(MIGRATIONS) > 1
    assert [found for path in MIGRATIONS for found in _tracker_imports(path)] == []


def test_the_import_check_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nasync def forwards():\n    from tracker.history.tables import HistoryEntry\n"
        "    import tracker.db\n    importlib.import_module('tracker.partners.tables')\n"
    )
    assert [line.split(" ")[1] for line in _tracker_imports(sample)] == [
        "tracker.history.tables",
        "tracker.db",
        "tracker.partners.tables",
    ]


def _admin(url: str, statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture
def walk_environment(request: pytest.FixtureRequest, tmp_path: Path):
    """The environment of a process whose engine is a fresh, empty database of the run's kind."""
    env = dict(os.environ)
    if request.config.getoption("--db") == "sqlite":
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(tmp_path / "migrations.sqlite3")
        yield env
        return
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"suivi_migrations_{uuid.uuid4().hex[:12]}"
    _admin(admin_url, f"CREATE DATABASE {name}")
    env["DATABASE_URL"] = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    try:
        yield env
    finally:
        _admin(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_every_migration_runs_backwards_to_what_it_started_from(walk_environment, tmp_path):
    out = tmp_path / "walk.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.migration_walk", str(out)],
        cwd=ROOT,
        env=walk_environment,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    walk = json.loads(out.read_text())
    ids, empty, first, down, up = walk["ids"], walk["empty"], walk["first"], walk["down"], walk["up"]

    assert len(ids) == len([path for path in MIGRATIONS if path.name != "__init__.py"])
    assert empty["ran"] == [] and first["ran"] == sorted(ids)
    assert first["schema"] != empty["schema"]
    # Each level reached going down is the level reached going up: each migration undoes exactly what it does.
    # From the top, so that the first difference names the migration that left it.
    for level in reversed(range(len(ids))):
        going_down, going_up = down[str(level)], (up[str(level)] if level else empty)
        assert going_down["ran"] == going_up["ran"] == sorted(ids[:level]), ids[level]
        assert going_down["schema"] == going_up["schema"], f"reversing {ids[level]} does not restore the schema"
    # All the way back leaves only Piccolo's own migration table; all the way forwards again, the first schema.
    assert down["0"]["schema"] == empty["schema"]
    assert up[str(len(ids))] == first
