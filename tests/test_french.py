"""The French date filters (tracker/core/french.py) give, without arrow, exactly what they gave with it (issue 15:
no arrow in the per-row filters). The old code is kept below as the oracle and compared over thousands of values:
every day of four years, moments across the daylight-saving changes, naive and aware, relative times from seconds
to years around month ends and leap days."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import arrow

from tracker.core import clock
from tracker.core.french import NBSP, date_fr, datetime_fr, relative_fr

PARIS = "Europe/Paris"


# The filters as they were (commit 058ae12), with arrow.
def old_date_fr(value):
    if isinstance(value, datetime):
        value = arrow.get(value).to(PARIS).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {arrow.get(value).format('MMMM YYYY', locale='fr')}"


def old_datetime_fr(value):
    local = arrow.get(value).to(PARIS)
    return f"{old_date_fr(local.date())} à {local.format('H')}{NBSP}h{NBSP}{local.format('mm')}"


def old_relative_fr(value, now=None):
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


UTC = timezone.utc
BASES = [datetime(2026, 11, 27, 8, 30, tzinfo=UTC), datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
         datetime(2026, 1, 31, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
         datetime(2025, 10, 26, 1, 15, 7, 250000, tzinfo=UTC), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)]
OFFSETS = sorted({s * sign for sign in (1, -1) for s in (
    0, 1, 9, 10, 11, 30, 59, 60, 61, 119, 120, 121, 1799, 3599, 3600, 3601, 7199, 7200, 7201, 43200, 86399, 86400,
    86401, 172799, 172800, 172801, 3 * 86400, 6 * 86400 + 86399, 7 * 86400, 10 * 86400, 13 * 86400, 14 * 86400,
    15 * 86400, 20 * 86400, 27 * 86400, 29 * 86400, 30 * 86400, 31 * 86400, 2635199, 2635200, 2635201, 40 * 86400,
    44 * 86400, 45 * 86400, 46 * 86400, 59 * 86400, 60 * 86400, 61 * 86400, 75 * 86400, 90 * 86400, 180 * 86400,
    300 * 86400, 330 * 86400, 345 * 86400, 350 * 86400, 360 * 86400, 364 * 86400, 365 * 86400, 366 * 86400,
    400 * 86400, 729 * 86400, 730 * 86400, 731 * 86400, 1000 * 86400, 1500 * 86400, 4000 * 86400)})


def test_date_fr_is_unchanged_for_every_day_of_four_years_and_moments_around_midnight_in_paris():
    day = date(2024, 1, 1)
    while day < date(2028, 1, 1):
        assert date_fr(day) == old_date_fr(day)
        for hour in (0, 21, 22, 23):  # UTC evening: already the next day in Paris
            moment = datetime(day.year, day.month, day.day, hour, 30)
            assert date_fr(moment) == old_date_fr(moment)  # naive: UTC, as stored
            assert date_fr(moment.replace(tzinfo=UTC)) == old_date_fr(moment.replace(tzinfo=UTC))
        day += timedelta(days=1)
    assert date_fr(date(2026, 12, 1)) == "1er décembre 2026"
    assert date_fr(datetime(2026, 2, 28, 23, 30, tzinfo=UTC)) == "1er mars 2026"
    assert date_fr(date(812, 8, 15)) == "15 août 0812" == old_date_fr(date(812, 8, 15))
    assert date_fr(None) == ""


def test_datetime_fr_is_unchanged_across_a_year_and_both_daylight_saving_changes():
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment < datetime(2027, 1, 1, tzinfo=UTC):
        assert datetime_fr(moment) == old_datetime_fr(moment)
        assert datetime_fr(moment.replace(tzinfo=None)) == old_datetime_fr(moment.replace(tzinfo=None))
        moment += timedelta(minutes=97)
    for text in ("2026-03-29T00:59:00+00:00", "2026-03-29T01:00:00+00:00", "2026-10-25T00:30:00+00:00",
                 "2026-10-25T01:30:00+00:00"):
        assert datetime_fr(datetime.fromisoformat(text)) == old_datetime_fr(datetime.fromisoformat(text))
    paris = datetime(2026, 11, 27, 9, 5, tzinfo=ZoneInfo(PARIS))
    assert datetime_fr(paris) == old_datetime_fr(paris) == f"27 novembre 2026 à 9{NBSP}h{NBSP}05"
    assert datetime_fr(None) == ""


def test_relative_fr_of_moments_is_unchanged_from_seconds_to_years():
    for base in BASES:
        for offset in OFFSETS:
            for value in (base + timedelta(seconds=offset), base + timedelta(seconds=offset, microseconds=600000)):
                assert relative_fr(value, now=base) == old_relative_fr(value, now=base), (base, offset)
                naive = value.replace(tzinfo=None)
                assert relative_fr(naive, now=base) == old_relative_fr(naive, now=base), (base, offset)
        for months in range(-30, 31):  # month ends and leap days: the calendar months arrow counts
            year, month = divmod(base.year * 12 + base.month - 1 + months, 12)
            for day in (1, 14, 15, 16, 28, 29, 30, 31):
                try:
                    value = base.replace(year=year, month=month + 1, day=day)
                except ValueError:
                    continue
                assert relative_fr(value, now=base) == old_relative_fr(value, now=base), (base, value)
    with clock.fixed_at(BASES[0]):
        for offset in (-5, 0, 5, 3600, -86400 * 3):
            value = BASES[0] + timedelta(seconds=offset)
            assert relative_fr(value) == old_relative_fr(value)
    assert relative_fr(BASES[0] - timedelta(days=3), now=BASES[0]) == "il y a 3 jours"
    assert relative_fr(BASES[0] + timedelta(days=62), now=BASES[0]) == "dans 2 mois"
    assert relative_fr(BASES[0], now=BASES[0]) == "à l’instant"


def test_relative_fr_of_dates_is_unchanged_for_every_day_within_three_years():
    for today in (datetime(2026, 11, 27, 10, tzinfo=UTC), datetime(2024, 2, 29, 22, 30, tzinfo=UTC),
                  datetime(2026, 1, 31, 12, tzinfo=UTC)):
        with clock.fixed_at(today):
            start = clock.today()
            for days in range(-1100, 1101):
                value = start + timedelta(days=days)
                assert relative_fr(value) == old_relative_fr(value), (start, days)
    with clock.fixed_at(datetime(2026, 11, 27, 10, tzinfo=UTC)):
        assert [relative_fr(date(2026, 11, d)) for d in (26, 27, 28, 30)] == [
            "hier", "aujourd'hui", "demain", "dans 3 jours"]
        assert relative_fr(date(2027, 2, 27)) == "dans 3 mois"
        assert relative_fr(date(2024, 11, 1)) == "il y a 2 ans"
    assert relative_fr(None) == ""


def test_datetime_attr_and_typo_are_unchanged():
    """Issue 15 made `datetime_attr` (isoformat, no strftime) and `typo` (one scan when nothing changes) cheaper:
    the same output as before, for aware moments in any zone, naive ones (stored in UTC), dates, and text."""
    import re

    from tracker.core.french import datetime_attr, typo

    def old_datetime_attr(value):
        if value is None:
            return ""
        if not isinstance(value, datetime):
            return value.isoformat()
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def old_typo(text):
        return re.sub(r"«[ \t]+", "«" + NBSP, re.sub(r"[ \t]+([:;?!»])", NBSP + r"\1", text))

    paris = ZoneInfo(PARIS)
    for base in BASES:
        for offset in OFFSETS:
            moment = base + timedelta(seconds=offset)
            for value in (moment, moment.astimezone(paris), moment.replace(tzinfo=None), moment.date(),
                          moment.astimezone(timezone(timedelta(hours=-5, minutes=-30)))):
                assert datetime_attr(value) == old_datetime_attr(value), value
    assert datetime_attr(None) == ""
    pieces = ["a", " ", "\t", ":", ";", "?", "!", "»", "«", "é", "\n", "  ", NBSP]
    texts = ["", "Point d’étape.", "Bloquée : en attente du financement ; relancer ?", "« Oui »", "«\t x \t»"]
    texts += ["".join(pieces[(i * 7 + j * 3) % len(pieces)] for j in range(i % 17)) for i in range(3000)]
    for text in texts:
        assert typo(text) == old_typo(text), repr(text)


def test_month_year_short_is_arrows_over_three_years():
    from tracker.core.french import month_year_short

    for year in (2025, 2026, 2027):
        for month in range(1, 13):
            assert month_year_short(year, month) == arrow.get(year, month, 1).format("MMM YYYY", locale="fr")
