"""French formatting: dates « 27 novembre 2026 », relative times, money « 12 500 € », typography."""
from __future__ import annotations

from tracker.core import clock
import re
from datetime import date, datetime, timezone

import arrow

PARIS = "Europe/Paris"
NBSP = "\u00a0"
NNBSP = "\u202f"  # espace fine insécable, the thousands separator

_BEFORE = re.compile(r"[ \t]+([:;?!»])")
_AFTER = re.compile(r"«[ \t]+")


def typo(text: str) -> str:
    """Non-breaking spaces before : ; ? ! » and after «, as French typography requires."""
    return _AFTER.sub("«" + NBSP, _BEFORE.sub(NBSP + r"\1", text))


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = arrow.get(value).to(PARIS).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {arrow.get(value).format('MMMM YYYY', locale='fr')}"


def datetime_attr(value: date | datetime | None) -> str:
    """The machine-readable value of `<time datetime>`: a date as 2026-11-27, a moment in UTC to the second,
    2026-11-27T08:30:00Z (HTML allows at most three digits of a second's fraction; none are needed here)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:  # stored in UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return ""
    local = arrow.get(value).to(PARIS)
    return f"{date_fr(local.date())} à {local.format('H')}{NBSP}h{NBSP}{local.format('mm')}"


def relative_fr(value: date | datetime | None, now: datetime | None = None) -> str:
    """« il y a 3 jours », « dans 2 mois »; for a date, counted in days from today in Paris."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = arrow.get(value).humanize(arrow.get(now) if now else arrow.get(clock.now()), locale="fr")
        return "à l’instant" if text == "maintenant" else text
    days = (value - clock.today()).days
    if days == 0:
        return "aujourd'hui"
    if days == 1:
        return "demain"
    if days == -1:
        return "hier"
    other = arrow.get(clock.today())
    return arrow.get(value).humanize(other, locale="fr", granularity="day" if abs(days) < 45 else "auto")


def money_fr(amount: int | float | None) -> str:
    if amount is None:
        return ""
    whole = f"{round(amount):,}".replace(",", NNBSP)
    return f"{whole}{NBSP}€"


def number_fr(value: int | float | None) -> str:
    if value is None:
        return ""
    return f"{value:,}".replace(",", NNBSP).replace(".", ",")
