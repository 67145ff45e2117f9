"""French formatting: dates « 27 novembre 2026 », relative times, money « 12 500 € », typography."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tracker.core import clock

# These filters run once per row of a page: plain `datetime`/`date` arithmetic and `zoneinfo`, no parsing and no
# arrow (issue 15). Their output is arrow 1.4's, byte for byte (`format('MMMM YYYY', locale='fr')`, `humanize(…,
# locale='fr')`): tests/test_french.py compares them over thousands of values.
PARIS = "Europe/Paris"
_PARIS = ZoneInfo(PARIS)
NBSP = "\u00a0"
NNBSP = "\u202f"  # espace fine insécable, the thousands separator
MONTHS = ("", "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
MONTHS_SHORT = ("", "janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov", "déc")

_BEFORE = re.compile(r"[ \t]+([:;?!»])")
_AFTER = re.compile(r"«[ \t]+")
_SPACED = re.compile(r"[ \t][:;?!»]|«[ \t]")  # what either substitution would change


def _before(match: re.Match) -> str:
    return NBSP + match.group(1)


def typo(text: str) -> str:
    """Non-breaking spaces before : ; ? ! » and after «, as French typography requires. Runs once per comment of a
    history: text with nothing to change is returned after one scan."""
    if not _SPACED.search(text):
        return text
    return _AFTER.sub("«" + NBSP, _BEFORE.sub(_before, text))


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = clock.aware(value).astimezone(_PARIS).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month]} {value.year:04d}"


def datetime_attr(value: date | datetime | None) -> str:
    """The machine-readable value of `<time datetime>`: a date as 2026-11-27, a moment in UTC to the second,
    2026-11-27T08:30:00Z (HTML allows at most three digits of a second's fraction; none are needed here)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is not None and value.tzinfo is not timezone.utc:  # naive: stored in UTC
        value = value.astimezone(timezone.utc)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return ""
    local = clock.aware(value).astimezone(_PARIS)
    return f"{date_fr(local.date())} à {local.hour}{NBSP}h{NBSP}{local.minute:02d}"


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved by whole months, the day clipped to the month's last (as dateutil's relativedelta)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 + months, 12)
    last = _MONTH_DAYS[month]
    if month == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    day = moment.day
    return moment.replace(year=year, month=month + 1, day=day if day <= last else last)


def _calendar_months(later: datetime, earlier: datetime) -> int:
    """Whole months from `earlier` to `later`, plus one when more than 14 days remain (arrow's humanize)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    shifted = _add_months(earlier, months)
    while later < shifted:
        months -= 1
        shifted = _add_months(earlier, months)
    months = months + (1 if (later - shifted).days > 14 else 0)
    return min(months, 12)


def _ago(count: str, sign: int) -> str:
    return f"il y a {count}" if sign < 0 else f"dans {count}"


_MINUTE, _HOUR, _DAY, _WEEK, _YEAR = 60, 3600, 86400, 604800, 31536000
_MONTH = 86400 * 30.5


def _humanize(value: datetime, other: datetime) -> str:
    """arrow 1.4's `humanize(other, locale='fr')` with the « auto » granularity."""
    delta = int(round((value - other).total_seconds()))
    sign = -1 if delta < 0 else 1
    diff = abs(delta)
    if diff < 10:
        return "maintenant"
    if diff < _MINUTE:
        return _ago(f"{diff} secondes", sign)
    if diff < _MINUTE * 2:
        return _ago("une minute", sign)
    if diff < _HOUR:
        return _ago(f"{max(diff // _MINUTE, 2)} minutes", sign)
    if diff < _HOUR * 2:
        return _ago("une heure", sign)
    if diff < _DAY:
        return _ago(f"{max(diff // _HOUR, 2)} heures", sign)
    if diff < _DAY * 2:
        return _ago("un jour", sign)
    if diff < _WEEK:
        return _ago(f"{max(diff // _DAY, 2)} jours", sign)
    months = _calendar_months(other, value) if value < other else _calendar_months(value, other)
    if months >= 1 and diff < _YEAR:
        return _ago("un mois" if months == 1 else f"{months} mois", sign)
    if diff < _WEEK * 2:
        return _ago("une semaine", sign)
    if diff < _MONTH:
        return _ago(f"{max(diff // _WEEK, 2)} semaines", sign)
    if diff < _YEAR * 2:
        return _ago("un an", sign)
    return _ago(f"{max(diff // _YEAR, 2)} ans", sign)


def relative_fr(value: date | datetime | None, now: datetime | None = None) -> str:
    """« il y a 3 jours », « dans 2 mois »; for a date, counted in days from today in Paris."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = clock.aware(value)
        text = _humanize(moment, clock.aware(now) if now else clock.now())
        return "à l’instant" if text == "maintenant" else text
    today = clock.today()
    days = (value - today).days
    if days == 0:
        return "aujourd'hui"
    if days == 1:
        return "demain"
    if days == -1:
        return "hier"
    if abs(days) < 45:  # arrow's « day » granularity: always in days
        return _ago(f"{abs(days)} jours", days)
    midnight = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return _humanize(midnight, datetime(today.year, today.month, today.day, tzinfo=timezone.utc))


def money_fr(amount: int | float | None) -> str:
    if amount is None:
        return ""
    whole = f"{round(amount):,}".replace(",", NNBSP)
    return f"{whole}{NBSP}€"


def number_fr(value: int | float | None) -> str:
    if value is None:
        return ""
    return f"{value:,}".replace(",", NNBSP).replace(".", ",")


def month_year_short(year: int, month: int) -> str:
    """« déc 2026 »: arrow 1.4's `format('MMM YYYY', locale='fr')` of that month."""
    return f"{MONTHS_SHORT[month]} {year:04d}"
