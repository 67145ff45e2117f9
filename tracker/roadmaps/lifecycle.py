"""The one place where an action's status changes. Web form, htmx, import and command line all call
`change_action_status`: permission, transition rules, the new status and its history entry, in one transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import arrow

from tracker.accounts.permissions import Viewer
from tracker.db import write_transaction
from tracker.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.history import service as history
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.statuses import STATUS_LABELS, comment_required
from tracker.roadmaps.tables import Action
from tracker.web.french import relative_fr

COMMENT_MAX = 2000


@dataclass(frozen=True)
class StatusChange:
    action_id: int
    from_status: str
    to_status: str
    version: int


def _comment_needed_message(from_status: str, to_status: str) -> str:
    if from_status in {"realisee", "abandonnee"}:
        return (
            f"Un commentaire est obligatoire pour rouvrir une action « {STATUS_LABELS[from_status].lower()} » : "
            "expliquez pourquoi elle reprend."
        )
    return (
        f"Un commentaire est obligatoire pour passer une action au statut « {STATUS_LABELS[to_status]} » : "
        "expliquez pourquoi."
    )


async def _conflict_message(action_id: int) -> str:
    last = (
        await HistoryEntry.select(HistoryEntry.created_at, HistoryEntry.actor.full_name.as_alias("who"))
        .where((HistoryEntry.subject_type == "action") & (HistoryEntry.subject_id == action_id))
        .order_by(HistoryEntry.id, ascending=False)
        .first()
    )
    detail = f" ({last['who'] or 'quelqu’un'}, {relative_fr(last['created_at'])})" if last else ""
    return (
        f"Cette action a été modifiée par quelqu’un d’autre depuis que vous l’avez ouverte{detail}. "
        "Votre changement n’a pas été enregistré : rechargez la page pour voir son état actuel."
    )


async def change_action_status(
    viewer: Viewer,
    action_id: int,
    new_status: str,
    comment: str,
    version: int | None,
    *,
    at: datetime | None = None,
) -> StatusChange:
    """Apply a status change or raise NotFound / Forbidden / InvalidInput / Conflict; nothing is written on error.

    `version` is the action's version the user saw; None is refused (a change must say what it changes)."""
    comment = (comment or "").strip()
    if new_status not in STATUS_LABELS:
        raise InvalidInput("Statut inconnu : choisissez un statut dans la liste.", errors={"status": "Statut inconnu."})
    if len(comment) > COMMENT_MAX:
        message = f"Le commentaire ne peut dépasser {COMMENT_MAX} caractères."
        raise InvalidInput(message, errors={"comment": message})
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})

    async with write_transaction():
        action = (
            await Action.select(Action.id, Action.territory, Action.status, Action.version, Action.confidential)
            .where(Action.id == action_id)
            .first()
        )
        if action is None or not viewer.can_read_action(action["territory"], action["confidential"]):
            raise NotFound("Cette action n’existe pas ou ne vous est pas accessible.")
        if not viewer.can_edit_territory(action["territory"]):
            raise Forbidden("Votre rôle ne permet pas de modifier le statut des actions de ce territoire.")
        if action["version"] != version:
            raise Conflict(await _conflict_message(action_id))
        from_status = action["status"]
        if new_status == from_status:
            raise InvalidInput(
                f"L’action est déjà au statut « {STATUS_LABELS[new_status]} ».", errors={"status": "Statut inchangé."}
            )
        if comment_required(from_status, new_status) and not comment:
            message = _comment_needed_message(from_status, new_status)
            raise InvalidInput(message, errors={"comment": message})

        when = at or arrow.utcnow().datetime
        # The version in the WHERE clause makes the check hold under PostgreSQL's concurrency too:
        # a second writer that read the same version updates no row.
        updated = (
            await Action.update(
                {Action.status: new_status, Action.version: version + 1, Action.updated_at: when}
            )
            .where((Action.id == action_id) & (Action.version == version))
            .returning(Action.id)
        )
        if not updated:
            raise Conflict(await _conflict_message(action_id))
        await history.record(
            subject_type="action",
            subject_id=action_id,
            territory_id=action["territory"],
            from_value=from_status,
            to_value=new_status,
            actor_id=viewer.user_id,
            comment=comment,
            at=when,
        )
    return StatusChange(action_id=action_id, from_status=from_status, to_status=new_status, version=version + 1)
