"""What administrators see of the reminders: how many in each state, those that need them (failed, interrupted),
the last ones sent."""
from __future__ import annotations

from piccolo.query.functions.aggregate import Count

from tracker.deadlines.daily import KIND_NAMES
from tracker.deadlines.lifecycle import NEEDS_ATTENTION, REMINDER, STATE_LABELS
from tracker.deadlines.tables import Reminder
from tracker.history.service import contact_label

RECENT = 30


def _columns():
    return (
        Reminder.id, Reminder.kind, Reminder.state, Reminder.version, Reminder.attempts, Reminder.last_error,
        Reminder.created_at, Reminder.updated_at, Reminder.sent_at, Reminder.period, Reminder.user, Reminder.contact,
        Reminder.user.full_name.as_alias("user_name"), Reminder.user.email.as_alias("user_email"),
        Reminder.contact.full_name.as_alias("contact_name"), Reminder.contact.erased_at.as_alias("contact_erased_at"),
        Reminder.contact.partner.name.as_alias("partner_name"), Reminder.territory.name.as_alias("territory_name"),
    )


def _labelled(rows: list[dict]) -> list[dict]:
    for row in rows:
        if row["user"] is not None:
            row["recipient"] = f"{row['user_name']} <{row['user_email']}>"
        else:
            row["recipient"] = f"{contact_label(row['contact_name'], row['contact_erased_at'])} ({row['partner_name']})"
        row["kind_label"] = KIND_NAMES.get(row["kind"], row["kind"])
        row["state_label"] = STATE_LABELS.get(row["state"], row["state"])
        row["targets"] = [(t, STATE_LABELS[t]) for t in REMINDER.targets(row["state"])]
    return rows


async def board() -> dict:
    """Counts by state, the reminders needing an administrator (all of them), the last ones sent. Three queries."""
    counts = {row["state"]: row["n"] for row in await Reminder.select(
        Reminder.state, Count(Reminder.id).as_alias("n")).group_by(Reminder.state)}
    attention = await Reminder.select(*_columns()).where(Reminder.state.is_in(sorted(NEEDS_ATTENTION))).order_by(
        Reminder.id)
    recent = await Reminder.select(*_columns()).where(Reminder.state == "envoye").order_by(
        Reminder.sent_at, ascending=False).limit(RECENT)
    return {
        "counts": [(code, label, counts.get(code, 0)) for code, label in STATE_LABELS.items()],
        "attention": _labelled(attention),
        "recent": _labelled(recent),
    }
