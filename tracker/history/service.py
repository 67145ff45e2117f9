"""Reading the append-only history (it is written only by the life-cycle kernel, tracker.lifecycle)."""
from __future__ import annotations

from datetime import datetime


from tracker.core.db import in_list
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


# Written in SQL (Piccolo's `raw`, parameters bound): building the same select with its four joins cost more than
# running it (issue 15). The columns come back typed as a select returns them (times aware, in UTC).
_ENTRIES = (
    "SELECT h.id, h.subject_id, h.from_value, h.to_value, h.comment, h.created_at, h.recorded_at, h.subject_type, "
    "h.actor, h.actor_contact, h.acting_as, u.full_name AS actor_name, c.full_name AS contact_name, "
    "c.erased_at AS contact_erased_at, cp.name AS contact_partner "
    "FROM history_entry h LEFT JOIN app_user u ON u.id = h.actor LEFT JOIN partner_contact c ON c.id = h.actor_contact "
    "LEFT JOIN partner cp ON cp.id = c.partner WHERE "
)
_NEWEST_FIRST = " ORDER BY h.created_at DESC, h.id DESC"


def _subjects_sql(subject_type: str, ids: list[int]) -> tuple[str, list]:
    return "(h.subject_type = {} AND h.subject_id IN " + in_list(ids) + ")", [subject_type, *ids]


def _labelled(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["actor_label"] = actor_label(row)
    return rows


async def entries_for(subject_type: str, subject_id: int, limit: int | None = None) -> list[dict]:
    """Newest first (the `limit` newest, if given), with the actor's name (`actor_name`) and how to show who acted
    (`actor_label`)."""
    sql, args = _ENTRIES + "h.subject_type = {} AND h.subject_id = {}" + _NEWEST_FIRST, [subject_type, subject_id]
    if limit is not None:
        sql += " LIMIT {}"
        args.append(limit)
    return _labelled(await HistoryEntry.raw(sql, *args))


async def entries_for_many(subject_type: str, subject_ids: list[int]) -> dict[int, list[dict]]:
    """The entries of several subjects in one query, newest first, by subject id."""
    grouped: dict[int, list[dict]] = {i: [] for i in subject_ids}
    if not subject_ids:
        return grouped
    condition, args = _subjects_sql(subject_type, list(subject_ids))
    for row in _labelled(await HistoryEntry.raw(_ENTRIES + condition + _NEWEST_FIRST, *args)):
        grouped.setdefault(row["subject_id"], []).append(row)
    return grouped


async def entries_for_subjects(subjects: dict[str, list[int]]) -> list[dict]:
    """The entries of several subjects of several types (subject type → ids) in one list, newest first."""
    parts, args = [], []
    for subject_type, ids in subjects.items():
        if ids:
            condition, values = _subjects_sql(subject_type, list(ids))
            parts.append(condition)
            args += values
    if not parts:
        return []
    return _labelled(await HistoryEntry.raw(_ENTRIES + "(" + " OR ".join(parts) + ")" + _NEWEST_FIRST, *args))


async def count_for(subject_type: str, subject_id: int) -> int:
    rows = await HistoryEntry.raw(
        "SELECT COUNT(*) AS n FROM history_entry WHERE subject_type = {} AND subject_id = {}", subject_type, subject_id
    )
    return int(rows[0]["n"])
