"""A reminder's life cycle, declared once for the kernel (tracker.lifecycle): every change of a reminder's state is
`lifecycle.apply(REMINDER, …)`, with its history entry (subject "reminder").

    a_envoyer ──► en_envoi ──► envoye
        │            │  └────► echec ──► en_envoi (the next run retries it)
        │            └───────► interrompu (a run died while sending: maybe sent; an administrator decides)
        └──► annule ◄── (no longer due, recipient gone, preference off, too old; or an administrator gives up)

Only the daily run (side SYSTEM) sends. Administrators may give up a failed or interrupted reminder, or send an
interrupted one again (it may have arrived: they say why)."""
from __future__ import annotations

from typing import Any

from tracker import lifecycle
from tracker.core.errors import NotFound
from tracker.core.permissions import Viewer
from tracker.deadlines.tables import Reminder
from tracker.lifecycle import SYSTEM, Actor, Change, Machine, Step, Transition

STATE_LABELS = {
    "a_envoyer": "À envoyer",
    "en_envoi": "En cours d’envoi",
    "envoye": "Envoyé",
    "echec": "Échec, sera réessayé",
    "interrompu": "Interrompu",
    "annule": "Annulé",
}
RETRYABLE = frozenset({"a_envoyer", "echec"})
NEEDS_ATTENTION = frozenset({"echec", "interrompu"})
NOT_FOUND = "Ce rappel n’existe pas ou ne vous est pas accessible."

_system = frozenset({SYSTEM})
_system_or_admin = frozenset({SYSTEM, "admin"})
_admin = frozenset({"admin"})
WHY = "Un commentaire est obligatoire : expliquez pourquoi."

TRANSITIONS = (
    Transition("a_envoyer", "en_envoi", by=_system, internal=True),
    Transition("echec", "en_envoi", by=_system, internal=True),
    Transition("en_envoi", "envoye", by=_system, internal=True),
    Transition("en_envoi", "echec", by=_system, comment="La cause de l’échec est obligatoire.", internal=True),
    Transition("en_envoi", "interrompu", by=_system, comment=WHY, internal=True),
    Transition("en_envoi", "annule", by=_system, comment=WHY, internal=True),
    Transition("a_envoyer", "annule", by=_system_or_admin, comment=WHY),
    Transition("echec", "annule", by=_system_or_admin, comment=WHY),
    Transition("interrompu", "annule", by=_admin, comment=WHY),
    Transition(
        "interrompu", "a_envoyer", by=_admin,
        comment="Un commentaire est obligatoire pour renvoyer un rappel interrompu : il est peut-être déjà arrivé.",
    ),
)


async def _load(reminder_id: int) -> dict | None:
    return (
        await Reminder.select(Reminder.id, Reminder.territory, Reminder.state, Reminder.version, Reminder.attempts)
        .where(Reminder.id == reminder_id)
        .first()
    )


async def _side(viewer: Viewer, row: dict, _: Any) -> Actor:
    if not viewer.is_admin:
        raise NotFound(NOT_FOUND)
    return Actor("admin", viewer.user_id)


def _values(step: Step) -> dict:
    target = step.transition.target
    if target == "en_envoi":
        return {Reminder.attempts: step.row["attempts"] + 1}
    if target == "echec":
        return {Reminder.last_error: step.comment}
    if target == "envoye":
        return {Reminder.sent_at: step.at, Reminder.last_error: ""}
    return {}


REMINDER = Machine(
    subject="reminder",
    table=Reminder,
    state=Reminder.state,
    labels=STATE_LABELS,
    initial="a_envoyer",
    transitions=TRANSITIONS,
    load=_load,
    side=_side,
    not_found=NOT_FOUND,
    a="Un rappel",
    the="Le rappel",
    this="Ce rappel",
    feminine=False,
    refused="Seul l’envoi quotidien change cet état ; un administrateur peut seulement abandonner un rappel en "
    "échec ou interrompu, ou renvoyer un rappel interrompu.",
    values=_values,
)


async def system_change(reminder_id: int, target: str, version: int, comment: str = "") -> Change:
    """A change made by the daily run (no user); raises Conflict when another run changed it first."""
    return await lifecycle.apply(REMINDER, Viewer(), reminder_id, target, comment, version, via=SYSTEM)


async def change_reminder_state(viewer: Viewer, reminder_id: int, target: str, comment: str | None,
                                version: int | None) -> Change:
    """An administrator's change (abandon, send again); nothing is written on error."""
    return await lifecycle.apply(REMINDER, viewer, reminder_id, target, comment, version)
