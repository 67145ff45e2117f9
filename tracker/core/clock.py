"""One clock for the whole product: "now" (UTC) and "today" (Europe/Paris) are read here and nowhere else,
so that a test, a replayed import or a command run for a past day can set them in one place."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_fixed: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _fixed if _fixed is not None else datetime.now(timezone.utc)


def today() -> date:
    """Today's date in Paris: deadlines, « en retard » and relative dates are counted from it."""
    return now().astimezone(PARIS).date()


def aware(value: datetime | str) -> datetime:
    """A stored moment as an aware datetime: naive (or an ISO text without offset, as SQLite gives an aggregate)
    means UTC, as stored. `datetime.fromisoformat`, never arrow's parser: this runs once per row (issue 15)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


@contextmanager
def fixed_at(moment: datetime) -> Iterator[datetime]:
    """Freeze the clock at `moment` (aware) for the duration of the block."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("fixed_at needs an aware datetime")
    previous, _fixed = _fixed, moment.astimezone(timezone.utc)
    try:
        yield _fixed
    finally:
        _fixed = previous
