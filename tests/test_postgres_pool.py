"""PostgreSQL's pool gives connections back without asyncpg's reset round trip (core.db._session_unchanged, issue 15):
safe only while the application leaves no session state on a connection. The sources are read for the statements
that would leave some, and on PostgreSQL no advisory lock outlives the requests that took one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.factories import EMAILS

pytestmark = pytest.mark.anyio

TRACKER = Path(__file__).resolve().parent.parent / "tracker"

# Session state a connection would carry to its next user once the reset is gone. `UPDATE … SET` and
# `ON CONFLICT … DO UPDATE SET` are not: only a statement (a string, or the part after a `;`) that starts with SET.
SESSION_STATE = [
    re.compile(r"""(?:^|["'`;]\s*)(?:SET|RESET)\s+(?!NULL\b)[A-Za-z_]""", re.MULTILINE),  # SQL is upper case here
    re.compile(r"\b(?:UN)?LISTEN\b"),
    re.compile(r"pg_advisory_(?:un)?lock"),  # pg_advisory_xact_lock is released at COMMIT / ROLLBACK
    re.compile(r"WITH\s+HOLD", re.IGNORECASE),
    re.compile(r"\bCREATE\s+TEMP", re.IGNORECASE),
    re.compile(r"set_config\s*\(", re.IGNORECASE),
    re.compile(r"""["']\s*PREPARE\s""", re.IGNORECASE),
]


def _session_state(text: str) -> list[str]:
    return [m.group(0).strip() for pattern in SESSION_STATE for m in pattern.finditer(text)]


def test_the_check_finds_session_state_and_ignores_updates():
    caught = ['await fetch("SET statement_timeout = 1000")', "conn.execute('SET LOCAL work_mem = 1')",
              'x = "SELECT 1; RESET ALL"', 'await db.run_ddl("LISTEN changes")',
              "SELECT pg_advisory_lock(1, 2)", "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
              "CREATE TEMPORARY TABLE t (x int)", "SELECT set_config('a.b', 'c', false)",
              'await fetch("PREPARE p AS SELECT 1")']
    for text in caught:
        assert _session_state(text), text
    ignored = ['"UPDATE action SET last_note_at = {} WHERE id = {}"', '" ON CONFLICT (territory) DO UPDATE SET "',
               "f\"pg_advisory_xact_lock({LOCK_SPACE}, {int(key)})\"", "UNSET = 'non renseigné'",
               "status = Varchar(length=12)  # the set of statuses"]
    for text in ignored:
        assert not _session_state(text), text


def test_the_application_leaves_no_session_state_on_a_connection():
    found = {}
    for path in sorted(TRACKER.rglob("*.py")):
        if path.name == "db.py" and path.parent.name == "core":
            text = path.read_text().split("async def _session_unchanged", 1)[0]  # its docstring names them
        else:
            text = path.read_text()
        if hits := _session_state(text):
            found[str(path.relative_to(TRACKER))] = hits
    assert found == {}


async def test_on_postgresql_no_advisory_lock_outlives_the_requests(client, world, database):
    if database != "postgres":
        pytest.skip("PostgreSQL seulement : le pool asyncpg et ses verrous consultatifs (SQLite : pas de pool)")
    from tracker.core.db import _session_unchanged, engine, fetch

    assert engine().pool._reset is _session_unchanged
    await client.login(EMAILS["ga_editor"])
    for n in range(3):  # each note takes the figures' advisory lock of its territory (review.figures._lock)
        sent = await client.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/notes",
                                   {"body": f"Note {n}"})
        assert sent.status_code == 303
    held = await fetch("SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory'")
    assert held[0]["n"] == 0
