"""Calendar feeds (RFC 5545, built by the `icalendar` library) at /calendrier/{token}.ics: a person's deadlines,
a territory's, a partner's.

The token is 32 bytes from `secrets` (256 bits), shown once to its owner; only its SHA-256 is stored. A feed reads
with its owner's rights of today (a role lost, an account deactivated: the feed follows, or answers 404), and
renewing it revokes the previous address. Each deadline is an all-day event on its date, with a UID stable per
object (calendars update the event instead of adding one), its status in the summary, a link back to its page;
what is no longer due (done, abandoned, declined…) is kept as a cancelled event so that calendars strike it out.
A fixed number of queries per feed, whatever its size."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from icalendar import Calendar, vDuration

from tracker.auth.viewer import viewer_for_user
from tracker.core import clock
from tracker.core.config import settings
from tracker.core.db import write_transaction
from tracker.core.errors import NotFound
from tracker.core.permissions import Viewer
from tracker.deadlines import service
from tracker.deadlines.forms import FeedRequest
from tracker.deadlines.items import KIND_LABELS, KIND_SINGULAR, Deadline, Scope, load
from tracker.deadlines.tables import CalendarFeed
from tracker.territories.service import territory_for

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)
NOT_FOUND = "Ce calendrier n’existe pas ou a été révoqué."
MINE = "Ce calendrier n’existe pas ou ne vous appartient pas."
REFRESH = timedelta(hours=3)
PRODID = "-//ADGCF//Suivi des feuilles de route//FR"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    return f"{settings.base_url}/calendrier/{token}.ics"


def subscribe_url(token: str) -> str:
    """webcal:// opens the calendar program's « subscribe » dialog (Thunderbird, Outlook, Apple Calendar)."""
    return "webcal://" + feed_url(token).split("://", 1)[1]


# --- the owner's side: create, renew, revoke ---------------------------------------------------------------------


async def _target(viewer: Viewer, request: FeedRequest) -> tuple[int | None, int | None]:
    """(territory id, partner id) of the feed asked for, if this person may have it; NotFound otherwise."""
    if request.scope == "territoire":
        territory = await territory_for(viewer, request.siren or "")
        return territory["id"], None
    if request.scope == "partenaire":
        if not viewer.acts_for_partner(request.partner or 0):
            raise NotFound("Vous n’êtes contact d’aucun partenaire de ce numéro.")
        return None, request.partner
    return None, None


async def create_feed(viewer: Viewer, request: FeedRequest) -> tuple[str, int]:
    """A new address for this calendar; the one it had before, if any, is revoked (renewal). Returns the token
    (shown once, never stored) and the feed's id."""
    territory_id, partner_id = await _target(viewer, request)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    same = (CalendarFeed.user == viewer.user_id) & (CalendarFeed.scope == request.scope) & CalendarFeed.revoked_at.is_null()
    same &= CalendarFeed.territory.is_null() if territory_id is None else CalendarFeed.territory == territory_id
    same &= CalendarFeed.partner.is_null() if partner_id is None else CalendarFeed.partner == partner_id
    async with write_transaction():
        await CalendarFeed.update({CalendarFeed.revoked_at: now}).where(same)
        row = CalendarFeed(user=viewer.user_id, scope=request.scope, territory=territory_id, partner=partner_id,
                           token_hash=token_hash(token), created_at=now)
        await row.save()
    return token, row.id


async def revoke_feed(viewer: Viewer, feed_id: int) -> None:
    """The owner revokes one of their addresses: it answers 404 from now on."""
    async with write_transaction():
        revoked = await CalendarFeed.update({CalendarFeed.revoked_at: clock.now()}).where(
            (CalendarFeed.id == feed_id) & (CalendarFeed.user == viewer.user_id) & CalendarFeed.revoked_at.is_null()
        ).returning(CalendarFeed.id)
    if not revoked:
        raise NotFound(MINE)


async def feeds_of(viewer: Viewer) -> list[dict]:
    """This person's active calendars, each with what it shows (`label`)."""
    rows = await CalendarFeed.select(
        CalendarFeed.id, CalendarFeed.scope, CalendarFeed.territory, CalendarFeed.partner, CalendarFeed.created_at,
        CalendarFeed.territory.name.as_alias("territory_name"), CalendarFeed.territory.siren.as_alias("siren"),
        CalendarFeed.partner.name.as_alias("partner_name"),
    ).where((CalendarFeed.user == viewer.user_id) & CalendarFeed.revoked_at.is_null()).order_by(CalendarFeed.id)
    for row in rows:
        row["label"] = _label(row["scope"], row["territory_name"], row["partner_name"])
    return rows


def _label(scope: str, territory_name: str | None, partner_name: str | None) -> str:
    if scope == "territoire":
        return f"Échéances de {territory_name}"
    if scope == "partenaire":
        return f"Engagements de {partner_name}"
    return "Mes échéances"


# --- the feed itself ---------------------------------------------------------------------------------------------


async def _feed_deadlines(feed: dict, viewer: Viewer) -> list[Deadline]:
    if feed["scope"] == "territoire":
        if not viewer.can_read_territory(feed["territory"]):
            raise NotFound(NOT_FOUND)
        return await service.territory_deadlines(viewer, feed["territory"], include_closed=True)
    if feed["scope"] == "partenaire":
        if not viewer.acts_for_partner(feed["partner"]):
            raise NotFound(NOT_FOUND)
        scope = Scope(partners=frozenset({feed["partner"]}), include_closed=True)
        return [d for d in await load(scope) if feed["partner"] in d.partners and d.readable_by(viewer)]
    return await service.person_deadlines(viewer, include_closed=True)


async def calendar(token: str) -> bytes:
    """The .ics of a feed token; NotFound for an unknown or revoked one, or an owner no longer active."""
    if not _TOKEN_SHAPE.fullmatch(token or ""):
        raise NotFound(NOT_FOUND)
    found = await CalendarFeed.raw(  # read at every refresh of every subscribed calendar: SQL, not a built select
        "SELECT f.id, f.scope, f.territory, f.partner, f.revoked_at, u.id AS user_id, u.email AS email, "
        "u.full_name AS full_name, u.is_admin AS is_admin, u.is_reviewer AS is_reviewer, u.is_active AS is_active, "
        "t.name AS territory_name, p.name AS partner_name FROM calendar_feed f "
        'LEFT JOIN app_user u ON u.id = f."user" '
        "LEFT JOIN territory t ON t.id = f.territory LEFT JOIN partner p ON p.id = f.partner WHERE f.token_hash = {}",
        token_hash(token),
    )
    feed = found[0] if found else None
    if feed is None or feed["revoked_at"] is not None or not feed["is_active"]:
        raise NotFound(NOT_FOUND)
    viewer = await viewer_for_user(feed)
    deadlines = await _feed_deadlines(feed, viewer)
    name = _label(feed["scope"], feed["territory_name"], feed["partner_name"])
    if feed["scope"] == "personne":
        name += f" ({feed['full_name'] or feed['email']})"
    return build_calendar(f"calendrier-{feed['id']}", name, deadlines)


def build_calendar(uid: str, name: str, deadlines: list[Deadline]) -> bytes:
    """The .ics of these deadlines; `uid` names the calendar itself, stable from one reading to the next.

    The calendar's own properties are written by `icalendar`; its events by `_event`, which writes the bytes
    `icalendar.Event.new(…).to_ical()` wrote for them (tests/test_calendar_feeds.py compares the two), without
    building a component per event (issue 15: that was most of the feed's time)."""
    stamp = clock.now()
    host = urlsplit(settings.base_url).hostname or "suivi"
    cal = Calendar.new(
        prodid=PRODID, name=f"{name} — Suivi des feuilles de route", method="PUBLISH", refresh_interval=REFRESH,
        description="Échéances suivies dans l’outil de suivi des feuilles de route des ateliers de l’ADGCF.",
        uid=f"{uid}@{host}",
    )
    cal.add("X-WR-TIMEZONE", "Europe/Paris")
    cal.add("X-PUBLISHED-TTL", vDuration(REFRESH))  # Outlook's older name for REFRESH-INTERVAL
    head = cal.to_ical()
    assert head.endswith(_END)
    today, stamp_text = clock.today(), _utc(stamp)
    events = "".join(_event(deadline, host, today, stamp_text) for deadline in deadlines)
    return head[: -len(_END)] + events.encode() + _END


_END = b"END:VCALENDAR\r\n"


def _text(value: str) -> str:
    """An RFC 5545 TEXT value escaped, as icalendar escapes it (the order matters)."""
    return (
        value.replace(r"\N", "\n").replace("\\", "\\\\").replace(";", r"\;").replace(",", r"\,")
        .replace("\r\n", r"\n").replace("\n", r"\n").replace("\r", r"\n")
    )


def _fold(line: str, limit: int = 75) -> str:
    """A content line folded as icalendar folds it: lines under `limit` octets, never a character cut, and an escape
    (a backslash or a caret) never left at the end of a line."""
    if len(line) < limit and len(line.encode()) < limit:
        return line
    pieces = []
    start = count = 0
    for i, char in enumerate(line):
        size = 1 if char < "\x80" else len(char.encode())
        if i > start and count + size >= limit:
            if i - start > 1 and line[i - 1] in "\\^":
                pieces.append(line[start:i - 1])
                start, count = i - 1, len(line[i - 1].encode())
            else:
                pieces.append(line[start:i])
                start, count = i, 0
        count += size
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


def _utc(moment: datetime) -> str:
    return clock.aware(moment).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _event(deadline: Deadline, host: str, today: date, stamp: str) -> str:
    """One deadline's VEVENT: an all-day event on its date, in the order and the form icalendar wrote them."""
    url = settings.base_url + deadline.path
    status = deadline.status_text(today)
    lines = [
        "BEGIN:VEVENT",
        "SUMMARY:" + _text(f"{deadline.title} — {status}"),
        f"DTSTART;VALUE=DATE:{deadline.due.strftime('%Y%m%d')}",
        f"DTEND;VALUE=DATE:{(deadline.due + timedelta(days=1)).strftime('%Y%m%d')}",
        "DTSTAMP:" + stamp,
        "UID:" + _text(f"{deadline.uid_part}@{host}"),
    ]
    if deadline.version is not None:
        lines.append(f"SEQUENCE:{deadline.version}")
    lines.append("CATEGORIES:" + _text(KIND_LABELS[deadline.kind]))
    lines.append("DESCRIPTION:" + _text(f"{KIND_SINGULAR[deadline.kind]} · {deadline.context}\nStatut : {status}\n{url}"))
    if deadline.updated_at is not None:
        lines.append("LAST-MODIFIED:" + _utc(deadline.updated_at))
    lines += [
        "STATUS:" + ("CANCELLED" if deadline.cancelled else "CONFIRMED"),
        "TRANSP:TRANSPARENT",  # a deadline does not make anyone busy
        "URL:" + url,
        "END:VEVENT",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)
