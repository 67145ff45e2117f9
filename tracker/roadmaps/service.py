"""Workshops, roadmaps and actions: what the pages read and the edits other than status changes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

import arrow
from piccolo.query.functions.aggregate import Count

from tracker.accounts.permissions import Viewer
from tracker.commitments import queries as commitments
from tracker.db import write_transaction
from tracker.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.history import service as history
from tracker.partners.tables import PartnerTerritory
from tracker.roadmaps.statuses import (
    CLOSED,
    MODULE_TITLES,
    PRIORITY_LABELS,
    STATUS_LABELS,
    is_overdue,
)
from tracker.roadmaps.tables import Action, ActionNote, Axis, Roadmap, Workshop
from tracker.territories.tables import Territory
from tracker.web.forms import FormReader
from tracker.web.french import today_paris

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


@dataclass
class ActionFilters:
    status: str | None = None
    module: int | None = None
    axis: int | None = None
    pilot: int | None = None
    overdue: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return any([self.status, self.module, self.axis, self.pilot, self.overdue])

    def query(self) -> dict[str, str]:
        params = {"statut": self.status, "module": self.module, "axe": self.axis, "pilote": self.pilot}
        out = {k: str(v) for k, v in params.items() if v}
        if self.overdue:
            out["en_retard"] = "1"
        return out


def parse_action_filters(query: Mapping[str, Any]) -> ActionFilters:
    """Filters from the query string (statut, module, axe, pilote, en_retard). Bad values → InvalidInput (400)."""
    form = FormReader(query)
    filters = ActionFilters(
        status=form.choice("statut", "Statut", {"en_retard": 1, **STATUS_LABELS}),
        module=form.integer("module", "Module", minimum=1, maximum=4),
        axis=form.integer("axe", "Axe", minimum=1),
        pilot=form.integer("pilote", "Pilote", minimum=1),
        overdue=form.boolean("en_retard"),
    )
    if filters.status == "en_retard":
        filters.status, filters.overdue = None, True
    if form.errors:
        error = InvalidInput("Filtre invalide : " + " ".join(form.errors.values()), errors=form.errors)
        error.status_code = 400
        raise error
    return filters


def _visible(viewer: Viewer, territory_id: int):
    """Confidential actions are left out for those who may not see them."""
    condition = Action.territory == territory_id
    if not viewer.can_see_confidential(territory_id):
        condition &= Action.confidential.eq(False)
    return condition


def _overdue_condition(today: date):
    return Action.deadline.is_not_null() & (Action.deadline < today) & Action.status.not_in(list(CLOSED))


async def list_actions(
    viewer: Viewer, roadmap: dict, filters: ActionFilters, only_id: int | None = None
) -> list[dict]:
    """The roadmap's actions matching the filters, as table rows (or one row, for an in-place update)."""
    today = today_paris()
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
    # How many partners confirmed their commitment, for every row in one aggregated query.
    counts = await commitments.confirmed_counts(row["id"] for row in rows)
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
        row["commitments"] = counts[row["id"]]
    return order_with_children(rows)


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
    overdue = await Action.count().where(where & _overdue_condition(today_paris()))
    return {"by_status": counts, "total": sum(counts.values()), "overdue": overdue}


# --- one action -------------------------------------------------------------------------------------------


async def action_for(viewer: Viewer, action_id: int) -> dict:
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
    committed = set()
    if not member and viewer.partner_ids and not action["confidential"]:
        committed = await commitments.committed_partners(action_id, viewer.partner_ids)
    if not viewer.can_read_action(action["territory"], action["confidential"], committed):
        raise NotFound(NOT_FOUND_ACTION)
    action["partner_view"] = not member
    if action["parent_confidential"] and not viewer.can_see_confidential(action["territory"]):
        action["parent"] = action["parent_title"] = None  # a confidential parent is not even named
    action["overdue"] = is_overdue(action["status"], action["deadline"], today_paris())
    where = Action.parent == action_id
    if not viewer.can_see_confidential(action["territory"]):
        where &= Action.confidential.eq(False)
    action["children"] = (
        [] if action["partner_view"]
        else await Action.select(Action.id, Action.title, Action.status, Action.deadline).where(where)
    )
    action["commitments"] = await commitments.for_action(viewer, action)
    action["can_record_commitments"] = viewer.can_record_commitments(action["territory"])
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


async def read_action_form(form: FormReader, roadmap: dict, choices: dict, action_id: int | None = None) -> dict:
    values = {
        Action.title: form.text("title", "Intitulé", max_length=200, required=True),
        Action.description: form.text("description", "Description", max_length=10000, multiline=True),
        Action.module: form.integer("module", "Module", minimum=1, maximum=4),
        Action.axis: form.id_in("axis", "Axe", {a["id"] for a in choices["axes"]}),
        Action.pilot: form.id_in("pilot", "Pilote", {p["id"] for p in choices["pilots"]}),
        Action.parent: form.id_in("parent", "Action parente", {p["id"] for p in choices["parents"]}),
        Action.start_on: form.date("start_on", "Date de début"),
        Action.deadline: form.date("deadline", "Échéance"),
        Action.priority: form.choice("priority", "Priorité", PRIORITY_LABELS) or "normale",
        Action.confidential: form.boolean("confidential"),
    }
    if values[Action.module] and values[Action.module] not in MODULE_TITLES:
        form.check(False, "module", "Module inconnu.")
    start, deadline = values[Action.start_on], values[Action.deadline]
    form.check(
        not (start and deadline and deadline < start),
        "deadline",
        "L’échéance ne peut précéder la date de début.",
    )
    if action_id and values[Action.parent]:
        has_children = await Action.exists().where(Action.parent == action_id)
        form.check(
            not has_children,
            "parent",
            "Cette action a des sous-actions : elle ne peut devenir elle-même une sous-action (un seul niveau).",
        )
    form.raise_if_errors()
    return values


async def create_action(viewer: Viewer, roadmap_id: int, data: Mapping[str, Any]) -> int:
    roadmap = await roadmap_for(viewer, roadmap_id)
    if not viewer.can_edit_territory(roadmap["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’ajouter des actions à cette feuille de route.")
    form = FormReader(data)
    values = await read_action_form(form, roadmap, await action_form_choices(roadmap))
    now = arrow.utcnow().datetime
    async with write_transaction():
        action = Action(
            roadmap=roadmap["id"],
            territory=roadmap["territory"],
            status="a_venir",
            version=1,
            created_at=now,
            updated_at=now,
        )
        for column, value in values.items():
            setattr(action, column._meta.name, value)
        await action.save()
        await history.record(
            subject_type="action",
            subject_id=action.id,
            territory_id=roadmap["territory"],
            from_value="",
            to_value="a_venir",
            actor_id=viewer.user_id,
            comment="Action créée",
            at=now,
        )
    return action.id


async def update_action(viewer: Viewer, action_id: int, data: Mapping[str, Any]) -> None:
    """Edit what an action says (not its status: that is lifecycle.change_action_status)."""
    action = await action_for(viewer, action_id)
    if not viewer.can_edit_territory(action["territory"]):
        raise Forbidden("Votre rôle ne permet pas de modifier les actions de ce territoire.")
    form = FormReader(data)
    version = form.integer("version", "Version", required=True)
    roadmap = await roadmap_for(viewer, action["roadmap"])
    values = await read_action_form(form, roadmap, await action_form_choices(roadmap, action_id), action_id)
    async with write_transaction():
        updated = (
            await Action.update({**values, Action.version: Action.version + 1, Action.updated_at: arrow.utcnow().datetime})
            .where((Action.id == action_id) & (Action.version == version))
            .returning(Action.id)
        )
        if not updated:
            raise Conflict(
                "Cette action a été modifiée par quelqu’un d’autre depuis que vous avez ouvert le formulaire. "
                "Vos modifications n’ont pas été enregistrées : rechargez la page pour repartir de la version actuelle."
            )


async def add_note(viewer: Viewer, action_id: int, data: Mapping[str, Any]) -> None:
    action = await action_for(viewer, action_id)
    if not viewer.can_comment_action(action["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’ajouter des notes de suivi.")
    form = FormReader(data)
    body = form.text("body", "Note de suivi", max_length=NOTE_MAX, required=True, multiline=True)
    form.raise_if_errors()
    async with write_transaction():
        await ActionNote.insert(
            ActionNote(action=action_id, author=viewer.user_id, body=body, created_at=arrow.utcnow().datetime)
        )


# --- workshops (administrators) ---------------------------------------------------------------------------


async def create_workshop(viewer: Viewer, data: Mapping[str, Any]) -> int:
    """A workshop and its roadmap, created together; returns the roadmap id."""
    if not viewer.can_manage_workshops():
        raise Forbidden("Seuls les administrateurs enregistrent les ateliers.")
    form = FormReader(data)
    siren = form.text("host", "Territoire hôte (SIREN)", max_length=9, required=True)
    held_on = form.date("held_on", "Date de l’atelier", required=True)
    module_primary = form.integer("module_primary", "Module", required=True, minimum=1, maximum=4)
    module_secondary = form.integer("module_secondary", "Second module", minimum=1, maximum=4)
    participants = form.integer("participants", "Nombre de participants", minimum=0, maximum=500) or 0
    experts = form.text("experts", "Experts", max_length=2000, multiline=True)
    title = form.text("title", "Titre de la feuille de route", max_length=200) or "Feuille de route"
    adopted_on = form.date("adopted_on", "Date d’adoption")
    horizon = form.date("horizon", "Horizon")
    axes = [line.strip() for line in form.text("axes", "Axes", max_length=4000, multiline=True).splitlines()]
    axes = [a[:200] for a in axes if a]
    form.check(not (module_secondary and module_secondary == module_primary), "module_secondary",
               "Le second module doit différer du premier.")
    host = await Territory.select(Territory.id).where(Territory.siren == siren).first() if siren else None
    form.check(host is not None or not siren, "host", "Aucun territoire ne porte ce SIREN.")
    form.raise_if_errors()
    now = arrow.utcnow().datetime
    async with write_transaction():
        workshop = Workshop(
            host=host["id"],
            held_on=held_on,
            module_primary=module_primary,
            module_secondary=module_secondary,
            participants=participants,
            experts=experts,
            created_at=now,
        )
        await workshop.save()
        roadmap = Roadmap(
            workshop=workshop.id,
            territory=host["id"],
            title=title,
            adopted_on=adopted_on,
            horizon=horizon,
            created_at=now,
        )
        await roadmap.save()
        if axes:
            await Axis.insert(*[Axis(roadmap=roadmap.id, position=i + 1, title=t) for i, t in enumerate(axes)])
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
