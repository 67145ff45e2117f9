"""The one way a Viewer is built: from a user id, whatever the channel (session cookie, API token).

Every signed-in request pays for it, so it is one raw statement (issue 15): the person (with their session or
token), their roles and the organisations they speak for, as the rows of one UNION ALL told apart by `kind`.
Nothing is kept between requests: a role removed, an account disabled, a contact erased apply to the next one."""
from __future__ import annotations

from collections.abc import Sequence

from tracker.core.db import fetch
from tracker.core.permissions import ANONYMOUS, Viewer
from tracker.accounts.service import session_hash, session_still_valid

_PERSON = ("u.id AS user_id, u.email, u.full_name, u.is_admin, u.is_reviewer, u.is_active, "
           "CAST(NULL AS INTEGER) AS territory, NULL AS role, CAST(NULL AS INTEGER) AS partner")


def _rights(pad: int) -> str:
    """The roles held in territories, then the organisations this person speaks for as a partner's contact (an
    erased contact speaks for no one), for the person of the `who` table; `pad` NULL columns before them. (The
    NULLs that stand for an integer say so: PostgreSQL types a UNION two branches at a time.)"""
    nulls = "NULL, " * pad
    return (f"SELECT 'role' AS kind, {nulls}m.territory, m.role, CAST(NULL AS INTEGER) AS partner "
            'FROM membership m JOIN who ON m."user" = who.user_id '
            f"UNION ALL SELECT 'partner', {nulls}NULL, NULL, c.partner "
            "FROM partner_contact c JOIN who ON c.account = who.user_id WHERE c.erased_at IS NULL")


def viewer_statement(who: str, head: Sequence[str]) -> str:
    """One statement for a person and their rights. `who`: a SELECT (with `{}` parameters) of one row at most,
    naming the user's id `user_id` and the columns `head` (the session's or the token's own: id, dates…), which
    the person's row (kind `person`) carries before the user's columns."""
    columns = "".join(f"who.{c}, " for c in head)
    return (f"WITH who AS ({who}) SELECT 'person' AS kind, {columns}{_PERSON} "
            f"FROM who JOIN app_user u ON u.id = who.user_id UNION ALL {_rights(len(head) + 6)}")


def _viewer(user: dict, rows: list[dict], session_id: int | None) -> Viewer:
    return Viewer(
        user_id=user["user_id"],
        email=user["email"],
        full_name=user["full_name"],
        is_admin=bool(user["is_admin"]),
        is_reviewer=bool(user["is_reviewer"]),
        roles={r["territory"]: r["role"] for r in rows if r["kind"] == "role"},
        partner_ids=frozenset(r["partner"] for r in rows if r["kind"] == "partner"),
        session_id=session_id,
    )


def viewer_of(rows: list[dict], *, session_id_from: str | None = None) -> tuple[dict | None, Viewer]:
    """The person's row (None when there is none) and the Viewer the rows of a `viewer_statement` make
    (`session_id_from`: the column of the person's row that is the session's id)."""
    person = next((r for r in rows if r["kind"] == "person"), None)
    if person is None:
        return None, ANONYMOUS
    return person, _viewer(person, rows, person[session_id_from] if session_id_from else None)


_BY_USER = f"WITH who AS (SELECT CAST({{}} AS INTEGER) AS user_id) {_rights(0)}"


async def viewer_for_user(user: dict, *, session_id: int | None = None) -> Viewer:
    """`user` holds user_id, email, full_name, is_admin and is_reviewer, as read by the caller together with its
    session or token; the roles and the organisations this person speaks for are read here, now."""
    return _viewer(user, await fetch(_BY_USER, user["user_id"]), session_id)


_BY_SESSION = viewer_statement(
    'SELECT id, "user" AS user_id, last_seen_at, expires_at FROM user_session WHERE token_hash = {}',
    ("id", "last_seen_at", "expires_at"))


async def viewer_for_session(token: str | None) -> Viewer:
    """The Viewer of a session cookie, or ANONYMOUS when the session is not (or no longer) valid (an expired or
    idle session, or one of a disabled account, is deleted: accounts.service.session_still_valid)."""
    key = session_hash(token)
    if key is None:
        return ANONYMOUS
    person, viewer = viewer_of(await fetch(_BY_SESSION, key), session_id_from="id")
    if person is None or not await session_still_valid(person):
        return ANONYMOUS
    return viewer
