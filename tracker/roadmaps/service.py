"""Workshops, roadmaps and actions: what the pages read and the edits other than status changes."""
from __future__ import annotations

from tracker.core import clock
from dataclasses import asdict
from datetime import datetime
from datetime import date
from typing import Iterable, Sequence

from piccolo.query.functions.aggregate import Count, Max

from tracker.core.permissions import Viewer
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker import lifecycle
from tracker.partners.tables import PartnerTerritory
from tracker.roadmaps.statuses import (
    CLOSED,
    MODULE_TITLES,
    STATUS_LABELS,
    is_overdue,
)
from tracker.roadmaps.tables import Action, ActionNote, Axis, Roadmap, Workshop
from tracker.territories.tables import Territory
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.roadmaps.forms import TITLE_MAX, ActionInput, WorkshopInput
from tracker.roadmaps.queries import ActionFilters
from tracker.roadmaps.lifecycle import ACTION


NOT_FOUND_ROADMAP = "Cette feuille de route n’existe pas ou ne vous est pas accessible."
NOT_FOUND_ACTION = "Cette action n’existe pas ou ne vous est pas accessible."
NOTE_MAX = 5000


# --- roadmaps ---------------------------------------------------------------------------------------------


async def roadmap_for(viewer: Viewer, roadmap_id: int) -> dict:
    roadmap = (
        await Roadmap.select(
            Roadmap.all_columns(),
            Roadmap.territory.siren.as_alias("siren"),
            Roadmap.territory.name.as_alias("territory_name"),
            Roadmap.workshop.held_on.as_alias("held_on"),
            Roadmap.workshop.module_primary.as_alias("module_primary"),
            Roadmap.workshop.module_secondary.as_alias("module_secondary"),
            Roadmap.workshop.participants.as_alias("participants"),
        )
        .where(Roadmap.id == roadmap_id)
        .first()
    )
    if roadmap is None or not viewer.can_read_territory(roadmap["territory"]):
        raise NotFound(NOT_FOUND_ROADMAP)
    roadmap["modules"] = [m for m in (roadmap["module_primary"], roadmap["module_secondary"]) if m]
    return roadmap


async def axes_of(roadmap_id: int) -> list[dict]:
    return await Axis.select(Axis.id, Axis.title, Axis.position).where(Axis.roadmap == roadmap_id).order_by(
        Axis.position
    )


async def partners_of(territory_id: int) -> list[dict]:
    """Partners working with the territory: the pilots one may choose."""
    return (
        await PartnerTerritory.select(
            PartnerTerritory.partner.id.as_alias("id"),
            PartnerTerritory.partner.name.as_alias("name"),
            PartnerTerritory.partner.sector.as_alias("sector"),
        )
        .where(PartnerTerritory.territory == territory_id)
        .order_by(PartnerTerritory.partner.name)
    )


def _visible(viewer: Viewer, territory_id: int):
    """The territory's actions this viewer may read (confidential ones only for its members)."""
    return (Action.territory == territory_id) & viewer.actions_scope(Action.territory, Action.confidential)


def _overdue_condition(today: date):
    return Action.deadline.is_not_null() & (Action.deadline < today) & Action.status.not_in(list(CLOSED))


async def list_actions(
    viewer: Viewer, roadmap: dict, filters: ActionFilters, only_id: int | None = None
) -> list[dict]:
    """The roadmap's actions matching the filters, as table rows (or one row, for an in-place update)."""
    today = clock.today()
    where = _visible(viewer, roadmap["territory"]) & (Action.roadmap == roadmap["id"])
    if only_id is not None:
        where &= Action.id == only_id
    if filters.status:
        where &= Action.status == filters.status
    if filters.module:
        where &= Action.module == filters.module
    if filters.axis:
        where &= Action.axis == filters.axis
    if filters.pilot:
        where &= Action.pilot == filters.pilot
    if filters.overdue:
        where &= _overdue_condition(today)
    rows = await Action.select(
        Action.id,
        Action.title,
        Action.status,
        Action.priority,
        Action.module,
        Action.deadline,
        Action.start_on,
        Action.version,
        Action.confidential,
        Action.parent,
        Action.axis,
        Action.territory,
        Action.axis.title.as_alias("axis_title"),
        Action.axis.position.as_alias("axis_position"),
        Action.pilot.name.as_alias("pilot_name"),
    ).where(where)
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
    return order_with_children(rows)


async def actions_with_parents(viewer: Viewer, roadmap: dict, filters: ActionFilters) -> list[dict]:
    """The rows of the roadmap page (same filters, same confidentiality rule, same order), each with
    `parent_title` and `updated_at`. A parent the viewer may not see (confidential) is neither named nor linked."""
    rows = await list_actions(viewer, roadmap, filters)
    everything = await list_actions(viewer, roadmap, ActionFilters()) if filters.active else rows
    titles = {row["id"]: row["title"] for row in everything}
    # One query for the whole roadmap; only the ids the service returned are used.
    updated = {
        row["id"]: row["updated_at"]
        for row in await Action.select(Action.id, Action.updated_at).where(Action.roadmap == roadmap["id"])
    }
    for row in rows:
        if row["parent"] not in titles:
            row["parent"] = None
        row["parent_title"] = titles.get(row["parent"]) if row["parent"] else None
        row["updated_at"] = updated.get(row["id"])
    return rows



def order_with_children(rows: list[dict]) -> list[dict]:
    """By axis, then each action followed by its sub-actions (one level)."""
    by_id = {row["id"]: row for row in rows}

    def key(row: dict) -> tuple:
        top = by_id.get(row["parent"]) if row["parent"] else row
        top = top or row  # parent filtered out: the child stands on its own
        return (top["axis_position"] is None, top["axis_position"] or 0, top["id"], row is not top, row["id"])

    return sorted(rows, key=key)


async def status_counts(viewer: Viewer, roadmap: dict) -> dict:
    """Counts over the whole roadmap (not the filtered list): one query per figure, whatever the size."""
    where = _visible(viewer, roadmap["territory"]) & (Action.roadmap == roadmap["id"])
    grouped = await Action.select(Action.status, Count(Action.id).as_alias("n")).where(where).group_by(Action.status)
    counts = {code: 0 for code in STATUS_LABELS}
    for row in grouped:
        counts[row["status"]] = row["n"]
    overdue = await Action.count().where(where & _overdue_condition(clock.today()))
    return {"by_status": counts, "total": sum(counts.values()), "overdue": overdue}


# --- one action -------------------------------------------------------------------------------------------


async def action_for(viewer: Viewer, action_id: int, committed: Iterable[int] = ()) -> dict:
    """One action, or NotFound unless the viewer may read it. `committed`: the viewer's organisations committed to
    the action (the commitments layer above passes them), through which a partner's contact reads it."""
    action = (
        await Action.select(
            Action.all_columns(),
            Action.pilot.name.as_alias("pilot_name"),
            Action.axis.title.as_alias("axis_title"),
            Action.parent.title.as_alias("parent_title"),
            Action.parent.confidential.as_alias("parent_confidential"),
            Action.roadmap.title.as_alias("roadmap_title"),
            Action.territory.siren.as_alias("siren"),
            Action.territory.name.as_alias("territory_name"),
        )
        .where(Action.id == action_id)
        .first()
    )
    if action is None:
        raise NotFound(NOT_FOUND_ACTION)
    # A partner's contact reads the actions their organisation is committed to (never a confidential one),
    # and only what concerns them: `partner_view`.
    member = viewer.can_read_action(action["territory"], action["confidential"])
    if not member and not viewer.can_read_action(action["territory"], action["confidential"], committed):
        raise NotFound(NOT_FOUND_ACTION)
    action["partner_view"] = not member
    if action["parent_confidential"] and not viewer.can_see_confidential(action["territory"]):
        action["parent"] = action["parent_title"] = None  # a confidential parent is not even named
    action["overdue"] = is_overdue(action["status"], action["deadline"], clock.today())
    where = (Action.parent == action_id) & viewer.actions_scope(Action.territory, Action.confidential)
    action["children"] = (
        [] if action["partner_view"]
        else await Action.select(Action.id, Action.title, Action.status, Action.deadline).where(where)
    )
    return action


async def notes_of(action_id: int) -> list[dict]:
    return (
        await ActionNote.select(
            ActionNote.id, ActionNote.body, ActionNote.created_at, ActionNote.author.full_name.as_alias("author_name")
        )
        .where(ActionNote.action == action_id)
        .order_by(ActionNote.created_at, ascending=False)
    )


async def action_form_choices(roadmap: dict, exclude_action: int | None = None) -> dict:
    axes = await axes_of(roadmap["id"])
    pilots = await partners_of(roadmap["territory"])
    parent_where = (Action.roadmap == roadmap["id"]) & Action.parent.is_null()
    if exclude_action:
        parent_where &= Action.id != exclude_action
    parents = await Action.select(Action.id, Action.title).where(parent_where).order_by(Action.id)
    return {"axes": axes, "pilots": pilots, "parents": parents}


async def _check_action(values: ActionInput, roadmap: dict, choices: dict, action_id: int | None = None) -> dict:
    """What the form could not check alone: the choices belong to this roadmap and territory, one level of
    sub-actions. Returns the columns to write, or raises InvalidInput naming each field."""
    errors: dict[str, str] = {}
    for name, label, allowed in (
        ("axis", "Axe", {a["id"] for a in choices["axes"]}),
        ("pilot", "Pilote", {p["id"] for p in choices["pilots"]}),
        ("parent", "Action parente", {p["id"] for p in choices["parents"]}),
    ):
        if getattr(values, name) is not None and getattr(values, name) not in allowed:
            errors[name] = f"« {label} » : valeur inconnue, choisissez dans la liste."
    if values.module is not None and values.module not in MODULE_TITLES:
        errors["module"] = "Module inconnu."
    if action_id and values.parent and await Action.exists().where(Action.parent == action_id):
        errors["parent"] = (
            "Cette action a des sous-actions : elle ne peut devenir elle-même une sous-action (un seul niveau)."
        )
    if errors:
        raise InvalidInput(GENERIC, errors=errors)
    return {getattr(Action, name): value for name, value in asdict(values).items()}


async def editable_roadmap(viewer: Viewer, roadmap_id: int) -> dict:
    """The roadmap, if this person may add actions to it (NotFound / Forbidden otherwise)."""
    roadmap = await roadmap_for(viewer, roadmap_id)
    if not viewer.can_edit_territory(roadmap["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’ajouter des actions à cette feuille de route.")
    return roadmap


async def editable_action(viewer: Viewer, action_id: int) -> dict:
    """The action, if this person may edit what it says (NotFound / Forbidden otherwise)."""
    action = await action_for(viewer, action_id)
    if not viewer.can_edit_territory(action["territory"]):
        raise Forbidden("Votre rôle ne permet pas de modifier les actions de ce territoire.")
    return action


INSERT_BATCH = 500  # rows per INSERT: well under SQLite's limit on bound values


async def create_actions(
    viewer: Viewer,
    roadmap_id: int,
    actions: Sequence[tuple[ActionInput, str]],
    *,
    at: datetime | None = None,
    comment: str = "Action créée",
) -> list[int]:
    """New actions in one roadmap, each in its status (« À venir », or the status an import records) with its one
    history entry ('' → status, `comment`), all or none: the form creates one, an import hundreds. Every action is
    checked as the form's is, then all are written together. `at` backdates them (demo, import)."""
    roadmap = await editable_roadmap(viewer, roadmap_id)
    choices = await action_form_choices(roadmap)
    now = at or clock.now()
    rows = []
    for values, status in actions:
        try:
            columns = await _check_action(values, roadmap, choices)
        except InvalidInput as error:
            if len(actions) > 1:  # name the action among many
                error.message = f"« {values.title} » : " + " ".join(error.errors.values())
            raise
        if status not in STATUS_LABELS:
            raise InvalidInput("Statut inconnu : choisissez dans la liste.", errors={"status": "Statut inconnu."})
        action = Action(roadmap=roadmap["id"], territory=roadmap["territory"], status=status, version=1,
                        created_at=now, updated_at=now)
        for column, value in columns.items():
            setattr(action, column._meta.name, value)
        rows.append(action)
    ids: list[int] = []
    async with write_transaction():
        for start in range(0, len(rows), INSERT_BATCH):
            inserted = await Action.insert(*rows[start:start + INSERT_BATCH]).returning(Action.id)
            # Ids are given in the order of the VALUES; RETURNING's own order is not guaranteed on SQLite.
            ids += sorted(row["id"] for row in inserted)
        await lifecycle.record_created_many(
            ACTION, [(ident, status) for ident, (_, status) in zip(ids, actions)], roadmap["territory"], viewer,
            comment=comment, at=now,
        )
    return ids


async def create_action(viewer: Viewer, roadmap_id: int, values: ActionInput, *, at: datetime | None = None) -> int:
    """A new action « À venir », with its history entry; `at` backdates it (demo)."""
    return (await create_actions(viewer, roadmap_id, [(values, ACTION.initial)], at=at))[0]


async def create_axis(viewer: Viewer, roadmap_id: int, title: str) -> int:
    """A new axis at the end of the roadmap's axes (the import creates those its file names)."""
    roadmap = await editable_roadmap(viewer, roadmap_id)
    title = " ".join(title.split())
    if not title or len(title) > TITLE_MAX:
        raise InvalidInput(f"Le titre d’un axe compte de 1 à {TITLE_MAX} caractères.", errors={"axis": "Titre."})
    async with write_transaction():
        last = await Axis.select(Max(Axis.position).as_alias("last")).where(Axis.roadmap == roadmap["id"]).first()
        axis = Axis(roadmap=roadmap["id"], position=((last or {}).get("last") or 0) + 1, title=title)
        await axis.save()
    return axis.id


async def change_deadline(
    viewer: Viewer, action_id: int, deadline: date | None, version: int | None, *, comment: str = "",
    at: datetime | None = None,
) -> int:
    """Move an action's deadline if nobody changed the action since `version`, with a history entry (the status
    stays, the comment says from → to); returns the new version. The import's round trip uses it."""
    action = await editable_action(viewer, action_id)
    if action["start_on"] and deadline and deadline < action["start_on"]:
        message = "L’échéance ne peut précéder la date de début."
        raise InvalidInput(message, errors={"deadline": message})
    now = at or clock.now()
    async with write_transaction():
        new_version = await lifecycle.save_edit(ACTION, action_id, version, {Action.deadline: deadline}, at=now)
        status = (await Action.select(Action.status).where(Action.id == action_id).first())["status"]
        before = date_fr(action["deadline"]) or "aucune"
        after = date_fr(deadline) or "aucune"
        text = f"Échéance : {before} → {after}" + (f" ({comment})" if comment else "")
        await lifecycle.record(subject=ACTION.subject, subject_id=action_id, territory_id=action["territory"],
                               source=status, target=status, actor=viewer, comment=text, at=now)
    return new_version


async def update_action(viewer: Viewer, action_id: int, values: ActionInput, version: int | None) -> None:
    """Edit what an action says (not its status: that is lifecycle.change_action_status)."""
    action = await editable_action(viewer, action_id)
    roadmap = await roadmap_for(viewer, action["roadmap"])
    columns = await _check_action(values, roadmap, await action_form_choices(roadmap, action_id), action_id)
    await lifecycle.save_edit(ACTION, action_id, version, columns)


async def commentable_action(viewer: Viewer, action_id: int) -> dict:
    """The action, if this person may add follow-up notes to it (NotFound / Forbidden otherwise)."""
    action = await action_for(viewer, action_id)
    if not viewer.can_comment_action(action["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’ajouter des notes de suivi.")
    return action


async def add_note(viewer: Viewer, action_id: int, body: str, *, at: datetime | None = None) -> None:
    await commentable_action(viewer, action_id)
    async with write_transaction():
        await ActionNote.insert(ActionNote(action=action_id, author=viewer.user_id, body=body, created_at=at or clock.now()))
        await lifecycle.touched(ACTION.subject, action_id)  # a note dates the territory's last update


# --- workshops (administrators) ---------------------------------------------------------------------------


async def create_workshop(viewer: Viewer, values: WorkshopInput, *, at: datetime | None = None) -> int:
    """A workshop and its roadmap, created together; returns the roadmap id."""
    if not viewer.can_manage_workshops():
        raise Forbidden("Seuls les administrateurs enregistrent les ateliers.")
    host = await Territory.select(Territory.id).where(Territory.siren == values.host).first()
    if host is None:
        raise InvalidInput(GENERIC, errors={"host": "Aucun territoire ne porte ce SIREN."})
    now = at or clock.now()
    async with write_transaction():
        workshop = Workshop(
            host=host["id"],
            held_on=values.held_on,
            module_primary=values.module_primary,
            module_secondary=values.module_secondary,
            participants=values.participants,
            experts=values.experts,
            created_at=now,
        )
        await workshop.save()
        roadmap = Roadmap(
            workshop=workshop.id,
            territory=host["id"],
            title=values.title,
            adopted_on=values.adopted_on,
            horizon=values.horizon,
            created_at=now,
        )
        await roadmap.save()
        if values.axes:
            await Axis.insert(*[Axis(roadmap=roadmap.id, position=i + 1, title=t) for i, t in enumerate(values.axes)])
    return roadmap.id


async def roadmaps_of(territory_id: int) -> list[dict]:
    return (
        await Roadmap.select(
            Roadmap.id,
            Roadmap.title,
            Roadmap.adopted_on,
            Roadmap.horizon,
            Roadmap.workshop.held_on.as_alias("held_on"),
            Roadmap.workshop.module_primary.as_alias("module_primary"),
            Roadmap.workshop.module_secondary.as_alias("module_secondary"),
        )
        .where(Roadmap.territory == territory_id)
        .order_by(Roadmap.workshop.held_on, ascending=False)
    )
