"""Reading the append-only history (it is written only by the life-cycle kernel, tracker.lifecycle)."""
from __future__ import annotations

from datetime import datetime


from tracker.history.tables import HistoryEntry

ERASED_CONTACT = "contact supprimé"


def contact_label(name: str | None, erased_at: datetime | None) -> str:
    return ERASED_CONTACT if erased_at is not None or not name else name


def actor_label(entry: dict) -> str:
    """Who acted, as shown: a user, a partner's contact (signed in), or « via lien envoyé à … »."""
    if entry.get("actor_contact"):
        who = contact_label(entry.get("contact_name"), entry.get("contact_erased_at"))
        if entry.get("actor") is None:
            return f"Via lien envoyé à {who}"
        return f"{who} ({entry['contact_partner']})" if entry.get("contact_partner") else who
    label = entry.get("actor_name") or "Système"
    if entry.get("acting_as") == "administrateur":
        label += " (en tant qu’administrateur ADGCF)"
    return label


def _entries_query():
    return HistoryEntry.select(
        HistoryEntry.id,
        HistoryEntry.subject_id,
        HistoryEntry.from_value,
        HistoryEntry.to_value,
        HistoryEntry.comment,
        HistoryEntry.created_at,
        HistoryEntry.recorded_at,
        HistoryEntry.subject_type,
        HistoryEntry.actor,
        HistoryEntry.actor_contact,
        HistoryEntry.acting_as,
        HistoryEntry.actor.full_name.as_alias("actor_name"),
        HistoryEntry.actor_contact.full_name.as_alias("contact_name"),
        HistoryEntry.actor_contact.erased_at.as_alias("contact_erased_at"),
        HistoryEntry.actor_contact.partner.name.as_alias("contact_partner"),
    )


def _labelled(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["actor_label"] = actor_label(row)
    return rows


async def entries_for(subject_type: str, subject_id: int) -> list[dict]:
    """Newest first, with the actor's name (`actor_name`) and how to show who acted (`actor_label`)."""
    return _labelled(
        await _entries_query()
        .where((HistoryEntry.subject_type == subject_type) & (HistoryEntry.subject_id == subject_id))
        .order_by(HistoryEntry.created_at, ascending=False)
        .order_by(HistoryEntry.id, ascending=False)
    )


async def entries_for_many(subject_type: str, subject_ids: list[int]) -> dict[int, list[dict]]:
    """The entries of several subjects in one query, newest first, by subject id."""
    grouped: dict[int, list[dict]] = {i: [] for i in subject_ids}
    if not subject_ids:
        return grouped
    rows = _labelled(
        await _entries_query()
        .where((HistoryEntry.subject_type == subject_type) & HistoryEntry.subject_id.is_in(subject_ids))
        .order_by(HistoryEntry.created_at, ascending=False)
        .order_by(HistoryEntry.id, ascending=False)
    )
    for row in rows:
        grouped.setdefault(row["subject_id"], []).append(row)
    return grouped


async def entries_for_subjects(subjects: dict[str, list[int]]) -> list[dict]:
    """The entries of several subjects of several types (subject type → ids) in one list, newest first."""
    condition = None
    for subject_type, ids in subjects.items():
        if ids:
            part = (HistoryEntry.subject_type == subject_type) & HistoryEntry.subject_id.is_in(ids)
            condition = part if condition is None else condition | part
    if condition is None:
        return []
    return _labelled(
        await _entries_query()
        .where(condition)
        .order_by(HistoryEntry.created_at, ascending=False)
        .order_by(HistoryEntry.id, ascending=False)
    )


async def count_for(subject_type: str, subject_id: int) -> int:
    return await HistoryEntry.count().where(
        (HistoryEntry.subject_type == subject_type) & (HistoryEntry.subject_id == subject_id)
    )



