"""An action's life cycle, declared once for the kernel (DESIGN.md §4). Web form, htmx, import, command line and
demo all change a status through `change_action_status`, that is `lifecycle.apply(ACTION, …)`.

Transitions (reviewed when they were made explicit): any status may follow any other, since a workshop's
actions really do jump (a small action done at once, a blocked one abandoned); what protects the record is the
comment rule — moving to Bloquée, En pause or Abandonnée, and reopening a Réalisée or Abandonnée action, must say
why. Only the territory's éditeurs and référents change a status."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from tracker import lifecycle
from tracker.core.db import fetch
from tracker.core.errors import Forbidden, NotFound
from tracker.core.permissions import Viewer
from tracker.lifecycle import Actor, Change, Machine, Transition
from tracker.roadmaps.statuses import CLOSED, NEEDS_COMMENT_TO, STATUS_LABELS
from tracker.roadmaps.tables import Action

NOT_FOUND = "Cette action n’existe pas ou ne vous est pas accessible."
REFUSED = "Votre rôle ne permet pas de modifier le statut des actions de ce territoire."


def comment_rule(kind: str, source: str, target: str) -> str | None:
    """The message when a comment is missing, or None when it is optional. `kind`: « une action », « une obligation »."""
    if source in CLOSED:
        return (
            f"Un commentaire est obligatoire pour rouvrir {kind} « {STATUS_LABELS[source].lower()} » : "
            "expliquez pourquoi elle reprend."
        )
    if target in NEEDS_COMMENT_TO:
        return f"Un commentaire est obligatoire pour passer {kind} au statut « {STATUS_LABELS[target]} » : expliquez pourquoi."
    return None


def status_transitions(kind: str, by: frozenset[str]) -> tuple[Transition, ...]:
    """The status table shared by actions and agreements' obligations."""
    return tuple(
        Transition(source, target, by=by, comment=comment_rule(kind, source, target))
        for source in STATUS_LABELS
        for target in STATUS_LABELS
        if source != target
    )


async def _load(action_id: int) -> dict | None:
    rows = await fetch("SELECT id, territory, status AS state, version, confidential FROM action WHERE id = {}",
                       action_id)
    if not rows:
        return None
    row = rows[0]
    row["confidential"] = bool(row["confidential"])  # 0/1 on SQLite when read raw
    return row


async def _side(viewer: Viewer, row: dict, _: Any) -> Actor:
    if not viewer.can_read_action(row["territory"], row["confidential"]):
        raise NotFound(NOT_FOUND)
    if not viewer.can_edit_territory(row["territory"]):
        raise Forbidden(REFUSED)
    return Actor("editor", viewer.user_id)


ACTION = Machine(
    subject="action",
    table=Action,
    state=Action.status,
    labels=STATUS_LABELS,
    initial="a_venir",
    transitions=status_transitions("une action", frozenset({"editor"})),
    load=_load,
    side=_side,
    not_found=NOT_FOUND,
    a="Une action",
    the="L’action",
    this="Cette action",
    feminine=True,
    state_noun="statut",
    refused=REFUSED,
    # `_load` and `_side` read the status, territory and confidential flag, which every writer of an action changes
    # with its version (`apply`, `save_edit`): they run before the write transaction (kernel's `checks_before`).
    checks_before=True,
)


async def change_action_status(
    viewer: Viewer, action_id: int, status: str, comment: str | None, version: int | None, *, at: datetime | None = None
) -> Change:
    """Apply a status change or raise NotFound / Forbidden / InvalidInput / Conflict; nothing is written on error."""
    return await lifecycle.apply(ACTION, viewer, action_id, status, comment, version, at=at)
