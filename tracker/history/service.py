"""The append-only history: one entry per change of status or state, written inside the change's transaction."""
from __future__ import annotations

from datetime import datetime

import arrow

from tracker.accounts.tables import User
from tracker.history.tables import HistoryEntry


async def record(
    *,
    subject_type: str,
    subject_id: int,
    territory_id: int | None,
    from_value: str,
    to_value: str,
    actor_id: int | None,
    comment: str = "",
    at: datetime | None = None,
) -> None:
    """Call only inside the write transaction that applies the change itself."""
    await HistoryEntry.insert(
        HistoryEntry(
            subject_type=subject_type,
            subject_id=subject_id,
            territory=territory_id,
            from_value=from_value,
            to_value=to_value,
            actor=actor_id,
            comment=comment,
            created_at=at or arrow.utcnow().datetime,
        )
    )


async def entries_for(subject_type: str, subject_id: int) -> list[dict]:
    """Newest first, with the actor's name."""
    return (
        await HistoryEntry.select(
            HistoryEntry.id,
            HistoryEntry.from_value,
            HistoryEntry.to_value,
            HistoryEntry.comment,
            HistoryEntry.created_at,
            HistoryEntry.actor.full_name.as_alias("actor_name"),
        )
        .where((HistoryEntry.subject_type == subject_type) & (HistoryEntry.subject_id == subject_id))
        .order_by(HistoryEntry.created_at, ascending=False)
        .order_by(HistoryEntry.id, ascending=False)
    )


async def count_for(subject_type: str, subject_id: int) -> int:
    return await HistoryEntry.count().where(
        (HistoryEntry.subject_type == subject_type) & (HistoryEntry.subject_id == subject_id)
    )


__all__ = ["record", "entries_for", "count_for", "User"]
