"""Roadmap actions linked to an agreement: which ones each person may know of, which ones they may link, linking
and unlinking while the agreement is open, and the agreements of one action (for the action page)."""
from __future__ import annotations

from datetime import datetime

from tracker.agreements.forms import LINK_REFUSED
from tracker.agreements.lifecycle import hold_agreement
from tracker.agreements.reading import CLOSED_AGREEMENT, OPEN, agreement_for, editable_agreement, require_state
from tracker.agreements.tables import AgreementAction
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.permissions import Viewer
from tracker.roadmaps.statuses import is_overdue
from tracker.roadmaps.tables import Action


async def linked_actions(viewer: Viewer, agreement: dict) -> list[dict]:
    """The linked actions this person may know of (a confidential one stays inside its territory)."""
    rows = await AgreementAction.select(
        AgreementAction.action.id.as_alias("id"),
        AgreementAction.action.title.as_alias("title"),
        AgreementAction.action.status.as_alias("status"),
        AgreementAction.action.deadline.as_alias("deadline"),
        AgreementAction.action.territory.as_alias("territory"),
        AgreementAction.action.confidential.as_alias("confidential"),
        AgreementAction.action.territory.name.as_alias("territory_name"),
    ).where(AgreementAction.agreement == agreement["id"]).order_by(AgreementAction.id)
    today = clock.today()
    visible = []
    for row in rows:
        if row["confidential"] and not viewer.can_see_confidential(row["territory"]):
            continue
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
        row["readable"] = viewer.can_read_action(row["territory"], row["confidential"])
        row["can_unlink"] = viewer.can_edit_territory(row["territory"]) and agreement["state"] in OPEN
        visible.append(row)
    return visible


async def candidate_actions(viewer: Viewer, agreement: dict) -> list[dict]:
    """Actions one may link: of a party territory this person edits, not confidential, not linked yet."""
    territories = [t for t in agreement["party_territories"] if viewer.can_edit_territory(t)]
    if not territories or agreement["state"] not in OPEN:
        return []
    linked = AgreementAction.select(AgreementAction.action).where(AgreementAction.agreement == agreement["id"])
    return await Action.select(
        Action.id, Action.title, Action.territory.name.as_alias("territory_name"),
        Action.roadmap.title.as_alias("roadmap_title"),
    ).where(
        Action.territory.is_in(territories) & Action.confidential.eq(False) & Action.id.not_in(linked)
    ).order_by(Action.territory.name).order_by(Action.title)


async def link_action(viewer: Viewer, agreement_id: int, action_id: int, *, at: datetime | None = None) -> None:
    """Link one of the candidate actions (of a party territory this person edits, not confidential)."""
    agreement = await editable_agreement(viewer, agreement_id, OPEN, CLOSED_AGREEMENT)
    if action_id not in {a["id"] for a in await candidate_actions(viewer, agreement)}:
        raise InvalidInput(LINK_REFUSED, errors={"action": "« Action » : valeur inconnue, choisissez dans la liste."})
    now = at or clock.now()
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT, at=now)
        if await AgreementAction.exists().where(
            (AgreementAction.agreement == agreement_id) & (AgreementAction.action == action_id)
        ):
            raise InvalidInput("Cette action est déjà liée au contrat.", errors={"action": "Déjà liée."})
        await AgreementAction.insert(AgreementAction(agreement=agreement_id, action=action_id, created_at=now))


async def unlink_action(viewer: Viewer, agreement_id: int, action_id: int, *, at: datetime | None = None) -> None:
    agreement = await agreement_for(viewer, agreement_id)
    link = await AgreementAction.select(
        AgreementAction.id, AgreementAction.action.territory.as_alias("territory"),
        AgreementAction.action.confidential.as_alias("confidential"),
    ).where((AgreementAction.agreement == agreement_id) & (AgreementAction.action == action_id)).first()
    if link is None or (link["confidential"] and not viewer.can_see_confidential(link["territory"])):
        raise NotFound("Cette action n’est pas liée à ce contrat.")
    if not viewer.can_edit_territory(link["territory"]):
        raise Forbidden("Seuls les éditeurs et référents du territoire de l’action la retirent du contrat.")
    require_state(agreement, OPEN, CLOSED_AGREEMENT)
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT, at=at)
        await AgreementAction.delete().where(AgreementAction.id == link["id"])


async def agreements_of_action(viewer: Viewer, action_id: int) -> list[dict]:
    """For the action page: the agreements the action is linked to that this person may read. One query (SQL through
    Piccolo's `raw`, bound parameters): each agreement with its parties' territories, by title."""
    rows: list[dict] = []
    territories: dict[int, list[int]] = {}
    for row in await AgreementAction.raw(
        "SELECT g.id AS id, g.title AS title, g.state AS state, ap.territory AS party FROM agreement_action aa "
        "JOIN agreement g ON g.id = aa.agreement LEFT JOIN agreement_party ap ON ap.agreement = g.id "
        "WHERE aa.action = {} ORDER BY g.title, g.id",
        action_id,
    ):
        party = row.pop("party")
        if row["id"] not in territories:
            territories[row["id"]] = []
            rows.append(row)
        if party is not None:
            territories[row["id"]].append(party)
    return [r for r in rows if viewer.can_read_agreement(territories.get(r["id"], []))]
