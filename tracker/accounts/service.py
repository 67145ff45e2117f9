"""Accounts and server-side sessions."""
from __future__ import annotations

from tracker.core import clock
import hashlib
import secrets
from datetime import timedelta

import arrow

from tracker.accounts.passwords import hash_password, password_problem, verify_password
from tracker.accounts.tables import Membership, PasswordReset, User, UserSession
from tracker.core import audit
from tracker.core.config import settings
from tracker.core.db import fetch, write_transaction
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


async def open_session(user: User, *, device: str = "") -> str:
    """A fresh random session id at every sign-in (no fixation); returns the cookie value. `device`: « Firefox sur
    Linux » (accounts.devices.summarise of the User-Agent), shown on /compte."""
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
                device=device[:120],
            )
        )
        await User.update({User.last_login_at: now.datetime}).where(User.id == user.id)
    return token


async def close_session(token: str | None) -> None:
    if token:
        async with write_transaction():
            await UserSession.delete().where(UserSession.token_hash == _token_hash(token))


def session_hash(token: str | None) -> str | None:
    """What a session cookie is looked up by (its SHA-256), or None for no cookie or one too long to be ours."""
    if not token or len(token) > 100:
        return None
    return _token_hash(token)


async def session_still_valid(row: dict) -> bool:
    """The rule of a session, given its row (id, last_seen_at, expires_at, and its user's is_active): False when
    the user is disabled, the session past its end or idle too long, and then the session is deleted; when valid,
    last_seen_at is written if older than _TOUCH_EVERY (reading pages does not mean writing the database)."""
    now = clock.now()
    last_seen = clock.aware(row["last_seen_at"])
    if (not row["is_active"] or now > clock.aware(row["expires_at"])
            or now > last_seen + timedelta(minutes=settings.session_idle_minutes)):
        async with write_transaction():
            await fetch("DELETE FROM user_session WHERE id = {}", row["id"])
        return False
    if now - last_seen > _TOUCH_EVERY:
        await fetch("UPDATE user_session SET last_seen_at = {} WHERE id = {}", now, row["id"])
    return True


async def write_membership(user_id: int, territory_id: int, role: str) -> None:
    """Write a role, unchecked: grant one through `tracker.auth.separation.grant_membership`, which first checks
    that the person is not a contact of one of the territory's partners."""
    if role not in {"lecteur", "editeur", "referent"}:
        raise InvalidInput("Rôle inconnu.")
    async with write_transaction():
        await Membership.delete().where((Membership.user == user_id) & (Membership.territory == territory_id))
        await Membership.insert(Membership(user=user_id, territory=territory_id, role=role))


# --- My account: sessions, name, password -------------------------------------------------------------------------

WRONG_PASSWORD = "Le mot de passe actuel est incorrect."
NOT_CONFIRMED = "Les deux nouveaux mots de passe ne sont pas identiques."
RESET_VALID_FOR = timedelta(hours=1)


async def sessions_of(user_id: int) -> list[dict]:
    """The account's sessions still open (neither past their end nor idle too long), the most recently used first
    (id, device, created_at, last_seen_at)."""
    now = clock.now()
    return await UserSession.select(
        UserSession.id, UserSession.device, UserSession.created_at, UserSession.last_seen_at
    ).where(
        (UserSession.user == user_id) & (UserSession.expires_at > now)
        & (UserSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes))
    ).order_by(UserSession.last_seen_at, ascending=False)


async def end_session(user_id: int, session_id: int) -> bool:
    """End one of the account's own sessions; False when it is not one of them (or already ended)."""
    async with write_transaction():
        ended = await UserSession.delete().where(
            (UserSession.id == session_id) & (UserSession.user == user_id)).returning(UserSession.id)
    return bool(ended)


async def _end_sessions(user_id: int, *, keep: int | None = None) -> None:
    """Inside a write transaction: every session of the account ends, but `keep`."""
    where = UserSession.user == user_id
    if keep is not None:
        where &= UserSession.id != keep
    await UserSession.delete().where(where)


async def rename(user_id: int, full_name: str) -> None:
    async with write_transaction():
        await User.update({User.full_name: full_name}).where(User.id == user_id)
    audit.record("nom_modifie", utilisateur=user_id)


async def change_password(user_id: int, session_id: int | None, current: str, new: str, confirmation: str) -> None:
    """The current password first; then the new one (password_problem, typed twice). Every other session of the
    account ends, and its pending reset links with them; this one stays open."""
    row = await User.select(User.password_hash).where(User.id == user_id).first()
    errors = {}
    if row is None or not await verify_password(row["password_hash"], current):
        errors["current_password"] = WRONG_PASSWORD
    problem = password_problem(new)
    if problem:
        errors["new_password"] = problem
    elif new != confirmation:
        errors["confirmation"] = NOT_CONFIRMED
    if errors:
        raise InvalidInput(next(iter(errors.values())) if len(errors) == 1 else
                           "Le formulaire contient des erreurs : corrigez les champs signalés.", errors=errors)
    password_hash = await hash_password(new)
    async with write_transaction():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id)
        await _end_sessions(user_id, keep=session_id)
        await PasswordReset.delete().where(PasswordReset.user == user_id)
    audit.record("mot_de_passe_change", utilisateur=user_id)


# --- Forgotten password -------------------------------------------------------------------------------------------


async def new_reset_link(email: str) -> tuple[dict, str] | None:
    """For an active account with this address: a fresh reset token (its SHA-256 stored, valid one hour; any older
    link of the account is voided), with the account (id, email, full_name). None for any other address: the
    caller answers the same either way."""
    email = normalise_email(email)
    if not plausible_email(email):
        return None
    user = await User.select(User.id, User.email, User.full_name).where(
        (User.email == email) & User.is_active.eq(True)).first()
    if user is None:
        return None
    token = secrets.token_urlsafe(32)  # 256 bits
    now = clock.now()
    async with write_transaction():
        await PasswordReset.delete().where(PasswordReset.user == user["id"])
        await PasswordReset.insert(PasswordReset(user=user["id"], token_hash=_token_hash(token), created_at=now,
                                                 expires_at=now + RESET_VALID_FOR))
    audit.record("reinitialisation_demandee", utilisateur=user["id"])
    return user, token


async def reset_link_account(token: str) -> dict | None:
    """The active account a reset token is for (id, email, full_name), or None: unknown, used, voided or expired.
    Reading it changes nothing."""
    if not token or len(token) > 100:
        return None
    return await PasswordReset.select(
        PasswordReset.user.id.as_alias("id"), PasswordReset.user.email.as_alias("email"),
        PasswordReset.user.full_name.as_alias("full_name"),
    ).where(
        (PasswordReset.token_hash == _token_hash(token)) & (PasswordReset.expires_at > clock.now())
        & PasswordReset.user.is_active.eq(True)
    ).first()


async def reset_password(token: str, new: str, confirmation: str) -> User | None:
    """Set a new password through a reset link: the link is used up (every link of the account is voided), every
    session of the account ends. None when the link is not (or no longer) valid; InvalidInput for a refused
    password (the link stays valid then)."""
    account = await reset_link_account(token)
    if account is None:
        return None
    problem = password_problem(new)
    if problem:
        raise InvalidInput(problem, errors={"new_password": problem})
    if new != confirmation:
        raise InvalidInput(NOT_CONFIRMED, errors={"confirmation": NOT_CONFIRMED})
    password_hash = await hash_password(new)
    async with write_transaction():
        # Claimed in the transaction: of two requests with one link, only one deletes its row and goes on.
        claimed = await PasswordReset.delete().where(
            (PasswordReset.token_hash == _token_hash(token)) & (PasswordReset.expires_at > clock.now())
        ).returning(PasswordReset.id)
        if not claimed:
            return None
        await PasswordReset.delete().where(PasswordReset.user == account["id"])
        await User.update({User.password_hash: password_hash}).where(User.id == account["id"])
        await _end_sessions(account["id"])
    audit.record("mot_de_passe_reinitialise", utilisateur=account["id"])
    return await User.objects().where(User.id == account["id"]).first()


# --- Deactivation ---------------------------------------------------------------------------------------------------


async def close_account_access(user_id: int) -> None:
    """Inside the caller's write transaction: the account is deactivated, every session ends and every pending
    reset link is voided (the caller voids what the layers above hold: API tokens, calendar addresses)."""
    await User.update({User.is_active: False}).where(User.id == user_id)
    await _end_sessions(user_id)
    await PasswordReset.delete().where(PasswordReset.user == user_id)


async def reopen_account(user_id: int) -> None:
    """Reactivated: it may sign in again. Nothing it had is revived (sessions, links, tokens stay ended)."""
    async with write_transaction():
        await User.update({User.is_active: True}).where(User.id == user_id)
