"""Who wants which reminder mail, and the link in each mail that stops them without signing in.

A recipient is a user (« u12 ») or a partner's contact without an account (« c5 »). The stop link carries that
reference and an HMAC-SHA256 of it under the application's SECRET_KEY: it works for its own person only, and a
forged or altered one is a 404. It stays valid (a mail read months later still stops what it was sent for)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from tracker.core import clock
from tracker.core.config import settings
from tracker.core.db import write_transaction
from tracker.core.errors import NotFound
from tracker.deadlines.forms import MAIL_KINDS, MailPreferences
from tracker.deadlines.tables import ReminderPreference

# Mail kind (as in URLs) → preference column.
COLUMNS = {
    "echeances": ReminderPreference.deadlines,
    "engagements": ReminderPreference.commitments,
    "codir": ReminderPreference.codir,
    "reseau": ReminderPreference.network,
}
FIELDS = {"echeances": "deadlines", "engagements": "commitments", "codir": "codir", "reseau": "network"}
_REF = re.compile(r"[uc][1-9][0-9]{0,9}")
STOP_NOT_FOUND = "Ce lien d’arrêt des rappels n’est pas valide : ouvrez celui du dernier courriel reçu."


@dataclass(frozen=True)
class Recipient:
    """Someone a reminder goes to: `ref` is « u<user id> » or « c<contact id> »."""

    ref: str
    email: str
    name: str
    user_id: int | None = None
    contact_id: int | None = None


def ref_of(*, user_id: int | None = None, contact_id: int | None = None) -> str:
    return f"u{user_id}" if user_id is not None else f"c{contact_id}"


def _signature(ref: str) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"arret-des-rappels:{ref}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def stop_token(ref: str) -> str:
    return f"{ref}-{_signature(ref)}"


def stop_url(ref: str, kind: str) -> str:
    """The one-click stop address of one kind of mail for one person."""
    return f"{settings.base_url}/rappels/arret/{kind}/{stop_token(ref)}"


def unsubscribe_headers(ref: str, kind: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail programs show an « unsubscribe » button that POSTs to the stop address."""
    return {"List-Unsubscribe": f"<{stop_url(ref, kind)}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def read_stop_token(kind: str, token: str) -> str:
    """The recipient's reference, or NotFound for an unknown kind or a token that was not signed here."""
    ref, _, signature = (token or "").partition("-")
    if kind not in MAIL_KINDS or not _REF.fullmatch(ref) or not hmac.compare_digest(signature, _signature(ref)):
        raise NotFound(STOP_NOT_FOUND)
    return ref


def _owner(ref: str) -> dict:
    ident = int(ref[1:])
    return {ReminderPreference.user: ident} if ref[0] == "u" else {ReminderPreference.contact: ident}


def _where(ref: str):
    ident = int(ref[1:])
    return (ReminderPreference.user == ident) if ref[0] == "u" else (ReminderPreference.contact == ident)


async def preferences_of(refs: list[str]) -> dict[str, MailPreferences]:
    """Every given recipient's preferences (all kinds on when nothing was saved), in two queries at most."""
    everything = MailPreferences(deadlines=True, commitments=True, codir=True, network=True)
    found = dict.fromkeys(refs, everything)
    users = [int(r[1:]) for r in refs if r[0] == "u"]
    contacts = [int(r[1:]) for r in refs if r[0] == "c"]
    columns = (ReminderPreference.user, ReminderPreference.contact, *COLUMNS.values())
    for chunk in _chunks(users):
        for row in await ReminderPreference.select(*columns).where(ReminderPreference.user.is_in(chunk)):
            found[f"u{row['user']}"] = _as_preferences(row)
    for chunk in _chunks(contacts):
        for row in await ReminderPreference.select(*columns).where(ReminderPreference.contact.is_in(chunk)):
            found[f"c{row['contact']}"] = _as_preferences(row)
    return found


def _as_preferences(row: dict) -> MailPreferences:
    return MailPreferences(deadlines=row["deadlines"], commitments=row["commitments"], codir=row["codir"],
                           network=row["network"])


def wants(preferences: MailPreferences, kind: str) -> bool:
    return getattr(preferences, FIELDS[kind])


def _chunks(values: list[int], size: int = 500):
    for start in range(0, len(values), size):
        yield values[start:start + size]


async def save_preferences(ref: str, values: MailPreferences) -> None:
    """Write a person's choices (insert or update their one row)."""
    columns = {COLUMNS[kind]: getattr(values, field) for kind, field in FIELDS.items()}
    now = clock.now()
    async with write_transaction():
        updated = await ReminderPreference.update({**columns, ReminderPreference.updated_at: now}).where(
            _where(ref)).returning(ReminderPreference.id)
        if not updated:
            await ReminderPreference.insert(ReminderPreference(**{
                **{c._meta.name: v for c, v in {**_owner(ref), **columns}.items()}, "updated_at": now,
            })).on_conflict(action="DO NOTHING")  # the same person's second click at the same instant


async def stop(ref: str, kinds: list[str]) -> MailPreferences:
    """The stop link: these kinds of mail are no longer sent to this person. Returns their preferences now."""
    current = (await preferences_of([ref]))[ref]
    changed = {FIELDS[k]: (False if k in kinds else getattr(current, FIELDS[k])) for k in FIELDS}
    values = MailPreferences(**changed)
    await save_preferences(ref, values)
    return values
