"""Accounts and server-side sessions."""
from __future__ import annotations

from tracker.core import clock
import hashlib
import secrets
from datetime import timedelta

import arrow

from tracker.accounts.passwords import hash_password, password_problem, verify_password
from tracker.accounts.tables import Membership, User, UserSession
from tracker.core import audit
from tracker.core.config import settings
from tracker.core.db import write_transaction
from tracker.core.errors import InvalidInput

SESSION_COOKIE = "suivi_session"
# last_seen_at is written at most this often, so that reading pages does not mean writing the database.
_TOUCH_EVERY = timedelta(seconds=60)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    *,
    email: str,
    full_name: str,
    password: str,
    is_admin: bool = False,
    is_reviewer: bool = False,
    password_hash: str | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise InvalidInput("Adresse électronique invalide.", errors={"email": "Adresse électronique invalide."})
    if password_hash is None:
        problem = password_problem(password)
        if problem:
            raise InvalidInput(problem, errors={"password": problem})
        password_hash = await hash_password(password)
    user = User(
        email=email,
        full_name=full_name.strip()[:120],
        password_hash=password_hash,
        is_admin=is_admin,
        is_reviewer=is_reviewer,
        created_at=clock.now(),
    )
    await user.save()
    audit.record("compte_cree", compte=user.id, administrateur=is_admin, charge_de_mission=is_reviewer)
    return user


def plausible_email(email: str) -> bool:
    """What may be looked up: an address of at most 254 printable characters (a NUL never reaches PostgreSQL)."""
    return 3 <= len(email) <= 254 and "@" in email and email.isprintable()


async def authenticate(email: str, password: str) -> User | None:
    """The active user with this address and password, or None. An unknown or malformed address costs the same
    argon2 verification as a known one, so that the time taken says nothing about which addresses exist."""
    email = normalise_email(email)
    user = await User.objects().where(User.email == email).first() if plausible_email(email) else None
    ok = await verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        return None
    return user


async def open_session(user: User) -> str:
    """A fresh random session id at every sign-in (no fixation); returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = arrow.get(clock.now())
    async with write_transaction():
        await UserSession.insert(
            UserSession(
                token_hash=_token_hash(token),
                user=user.id,
                created_at=now.datetime,
                last_seen_at=now.datetime,
                expires_at=now.shift(hours=settings.session_absolute_hours).datetime,
            )
        )
        await User.update({User.last_login_at: now.datetime}).where(User.id == user.id)
    return token


async def close_session(token: str | None) -> None:
    if token:
        async with write_transaction():
            await UserSession.delete().where(UserSession.token_hash == _token_hash(token))


async def session_user(token: str | None) -> dict | None:
    """The signed-in user of a session cookie (user_id, email, full_name, is_admin, is_reviewer, and the session's
    `id`), or None if the session is unknown, expired, idle too long or the user is disabled."""
    if not token or len(token) > 100:
        return None
    row = (
        await UserSession.select(
            UserSession.id,
            UserSession.last_seen_at,
            UserSession.expires_at,
            UserSession.user.id.as_alias("user_id"),
            UserSession.user.email.as_alias("email"),
            UserSession.user.full_name.as_alias("full_name"),
            UserSession.user.is_admin.as_alias("is_admin"),
            UserSession.user.is_reviewer.as_alias("is_reviewer"),
            UserSession.user.is_active.as_alias("is_active"),
        )
        .where(UserSession.token_hash == _token_hash(token))
        .first()
    )
    if row is None:
        return None
    now = clock.now()
    idle_limit = row["last_seen_at"] + timedelta(minutes=settings.session_idle_minutes)
    if not row["is_active"] or now > row["expires_at"] or now > idle_limit:
        async with write_transaction():
            await UserSession.delete().where(UserSession.id == row["id"])
        return None
    if now - row["last_seen_at"] > _TOUCH_EVERY:
        await UserSession.update({UserSession.last_seen_at: now}).where(UserSession.id == row["id"])
    return row


async def write_membership(user_id: int, territory_id: int, role: str) -> None:
    """Write a role, unchecked: grant one through `tracker.auth.separation.grant_membership`, which first checks
    that the person is not a contact of one of the territory's partners."""
    if role not in {"lecteur", "editeur", "referent"}:
        raise InvalidInput("Rôle inconnu.")
    async with write_transaction():
        await Membership.delete().where((Membership.user == user_id) & (Membership.territory == territory_id))
        await Membership.insert(Membership(user=user_id, territory=territory_id, role=role))
