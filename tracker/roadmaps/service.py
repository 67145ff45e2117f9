"""Workshops, roadmaps and actions: what the pages read and the edits other than status changes."""
from __future__ import annotations

from tracker.core import clock
from dataclasses import asdict
from datetime import datetime
from datetime import date
from typing import Iterable, Sequence

from piccolo.query.functions.aggregate import Count, Max

from tracker.core.permissions import Viewer
from tracker.core.db import fetch, in_list, is_sqlite, write_transaction
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


# The pages' hot reads are written in SQL, through Piccolo's `raw` (parameters always bound): building the same
# query with Piccolo's select cost more than the query itself (issue 15). Every column read directly (not in an
# expression) comes back typed as a select returns it on both databases (dates, times, booleans): SQLite's
# declared types drive Piccolo's converters, asyncpg types PostgreSQL's.

_ROADMAP = (
    "SELECT r.*, t.siren AS siren, t.name AS territory_name, w.held_on AS held_on, "
    "w.module_primary AS module_primary, w.module_secondary AS module_secondary, w.participants AS participants "
    "FROM roadmap r LEFT JOIN territory t ON t.id = r.territory LEFT JOIN workshop w ON w.id = r.workshop "
    "WHERE r.id = {}"
)


async def roadmap_for(viewer: Viewer, roadmap_id: int) -> dict:
    found = await Roadmap.raw(_ROADMAP, roadmap_id)
    roadmap = found[0] if found else None
    if roadmap is None or not viewer.can_read_territory(roadmap["territory"]):
        raise NotFound(NOT_FOUND_ROADMAP)
    roadmap["modules"] = [m for m in (roadmap["module_primary"], roadmap["module_secondary"]) if m]
    return roadmap


async def axes_of(roadmap_id: int) -> list[dict]:
    return await Axis.raw(
        "SELECT id, title, position FROM roadmap_axis WHERE roadmap = {} ORDER BY position", roadmap_id
    )


async def partners_of(territory_id: int) -> list[dict]:
    """Partners working with the territory: the pilots one may choose."""
    return await PartnerTerritory.raw(
        "SELECT p.id AS id, p.name AS name, p.sector AS sector FROM partner_territory pt "
        "LEFT JOIN partner p ON p.id = pt.partner WHERE pt.territory = {} ORDER BY p.name",
        territory_id,
    )


def _visible(viewer: Viewer, territory_id: int):
    """The territory's actions this viewer may read (confidential ones only for its members)."""
    return (Action.territory == territory_id) & viewer.actions_scope(Action.territory, Action.confidential)


def _overdue_condition(today: date):
    return Action.deadline.is_not_null() & (Action.deadline < today) & Action.status.not_in(list(CLOSED))


def _visible_sql(viewer: Viewer, roadmap: dict, alias: str) -> tuple[str, list] | None:
    """`_visible` and the roadmap, as SQL on the action aliased `alias` (None: this viewer reads none of them).
    Within one territory, `actions_scope` comes down to « may read the territory » and, for a confidential action,
    « may see the territory's confidential actions »."""
    territory = roadmap["territory"]
    if not viewer.can_read_territory(territory):
        return None
    sql = f" {alias}.roadmap = {{}} AND {alias}.territory = {{}}"
    args: list = [roadmap["id"], territory]
    if not viewer.can_see_confidential(territory):
        sql += f" AND {alias}.confidential = {{}}"
        args.append(False)
    return sql, args


_ACTION_ROWS = (
    "SELECT a.id, a.title, a.status, a.priority, a.module, a.deadline, a.start_on, a.version, a.confidential, "
    "a.parent, a.axis, a.territory, a.updated_at, x.title AS axis_title, x.position AS axis_position, "
    "p.name AS pilot_name, up.id AS visible_parent, up.title AS parent_title "
    "FROM action a LEFT JOIN roadmap_axis x ON x.id = a.axis LEFT JOIN partner p ON p.id = a.pilot "
)


async def _action_rows(viewer: Viewer, roadmap: dict, filters: ActionFilters, only_id: int | None) -> list[dict]:
    """The roadmap's visible actions matching the filters, each with its parent when the viewer may see it in the
    roadmap (`visible_parent`, `parent_title`: the same visibility, whatever the filters) and `updated_at`."""
    visible = _visible_sql(viewer, roadmap, "a")
    parent = _visible_sql(viewer, roadmap, "up")
    if visible is None or parent is None:
        return []
    where, args = visible
    parent_sql, parent_args = parent
    sql = _ACTION_ROWS + "LEFT JOIN action up ON up.id = a.parent AND" + parent_sql + " WHERE" + where
    args = parent_args + args
    if only_id is not None:
        sql += " AND a.id = {}"
        args.append(only_id)
    if filters.status:
        sql += " AND a.status = {}"
        args.append(filters.status)
    if filters.module:
        sql += " AND a.module = {}"
        args.append(filters.module)
    if filters.axis:
        sql += " AND a.axis = {}"
        args.append(filters.axis)
    if filters.pilot:
        sql += " AND a.pilot = {}"
        args.append(filters.pilot)
    if filters.overdue:
        closed = sorted(CLOSED)
        sql += " AND a.deadline IS NOT NULL AND a.deadline < {} AND a.status NOT IN " + in_list(closed)
        args += [clock.today(), *closed]
    return await Action.raw(sql, *args)


async def list_actions(
    viewer: Viewer, roadmap: dict, filters: ActionFilters, only_id: int | None = None
) -> list[dict]:
    """The roadmap's actions matching the filters, as table rows (or one row, for an in-place update). Each row
    also carries `updated_at` and, when the viewer may see the parent, `visible_parent` and `parent_title`."""
    today = clock.today()
    rows = await _action_rows(viewer, roadmap, filters, only_id)
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
    return order_with_children(rows)


async def actions_with_parents(viewer: Viewer, roadmap: dict, filters: ActionFilters) -> list[dict]:
    """The rows of the roadmap page (same filters, same confidentiality rule, same order), each with
    `parent_title` and `updated_at`. A parent the viewer may not see (confidential) is neither named nor linked.
    One query: the parent comes from a join under the same visibility as the unfiltered list."""
    rows = await list_actions(viewer, roadmap, filters)
    for row in rows:
        row["parent"] = row.pop("visible_parent")
    return rows


def order_with_children(rows: list[dict]) -> list[dict]:
    """By axis, then each action followed by its sub-actions (one level)."""
    by_id = {row["id"]: row for row in rows}

    def key(row: dict) -> tuple:
        top = by_id.get(row["parent"]) if row["parent"] else row
        top = top or row  # parent filtered out: the child stands on its own
        return (top["axis_position"] is None, top["axis_position"] or 0, top["id"], row is not top, row["id"])

    return sorted(rows, key=key)


def counts_of(rows: Iterable[dict]) -> dict:
    """The counters of a roadmap from its rows (status, overdue): what `status_counts` returns."""
    counts = {code: 0 for code in STATUS_LABELS}
    overdue = 0
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        overdue += row["overdue"]
    return {"by_status": counts, "total": sum(counts.values()), "overdue": overdue}


async def status_counts(viewer: Viewer, roadmap: dict) -> dict:
    """Counts over the whole roadmap (not the filtered list), « en retard » included: one grouped query, whatever
    the size."""
    visible = _visible_sql(viewer, roadmap, "a")
    grouped = [] if visible is None else await Action.raw(
        "SELECT a.status AS status, COUNT(*) AS n, COUNT(CASE WHEN a.deadline < {} THEN 1 END) AS late "
        "FROM action a WHERE" + visible[0] + " GROUP BY a.status",
        clock.today(), *visible[1],
    )
    counts = {code: 0 for code in STATUS_LABELS}
    overdue = 0
    for row in grouped:
        counts[row["status"]] = int(row["n"])
        if row["status"] not in CLOSED:
            overdue += int(row["late"])
    return {"by_status": counts, "total": sum(counts.values()), "overdue": overdue}


# --- one action -------------------------------------------------------------------------------------------


_ACTION = (
    "SELECT a.*, p.name AS pilot_name, x.title AS axis_title, up.title AS parent_title, "
    "up.confidential AS parent_confidential, r.title AS roadmap_title, t.siren AS siren, t.name AS territory_name "
    "FROM action a LEFT JOIN partner p ON p.id = a.pilot LEFT JOIN roadmap_axis x ON x.id = a.axis "
    "LEFT JOIN action up ON up.id = a.parent LEFT JOIN roadmap r ON r.id = a.roadmap "
    "LEFT JOIN territory t ON t.id = a.territory WHERE a.id = {}"
)


async def action_for(viewer: Viewer, action_id: int, committed: Iterable[int] = ()) -> dict:
    """One action, or NotFound unless the viewer may read it. `committed`: the viewer's organisations committed to
    the action (the commitments layer above passes them), through which a partner's contact reads it."""
    found = await Action.raw(_ACTION, action_id)
    if not found:
        raise NotFound(NOT_FOUND_ACTION)
    action = found[0]
    # A partner's contact reads the actions their organisation is committed to (never a confidential one),
    # and only what concerns them: `partner_view`.
    member = viewer.can_read_action(action["territory"], action["confidential"])
    if not member and not viewer.can_read_action(action["territory"], action["confidential"], committed):
        raise NotFound(NOT_FOUND_ACTION)
    action["partner_view"] = not member
    if action["parent_confidential"] and not viewer.can_see_confidential(action["territory"]):
        action["parent"] = action["parent_title"] = None  # a confidential parent is not even named
    action["overdue"] = is_overdue(action["status"], action["deadline"], clock.today())
    scope = viewer.actions_scope_sql("territory", "confidential", sqlite=is_sqlite())
    action["children"] = (
        [] if action["partner_view"]
        else await Action.raw(
            f"SELECT id, title, status, deadline FROM action WHERE parent = {{}} AND {scope} ORDER BY id", action_id
        )
    )
    return action


async def notes_of(action_id: int) -> list[dict]:
    return await ActionNote.raw(
        "SELECT n.id, n.body, n.created_at, u.full_name AS author_name FROM action_note n "
        "LEFT JOIN app_user u ON u.id = n.author WHERE n.action = {} ORDER BY n.created_at DESC",
        action_id,
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
    written = at or clock.now()
    async with write_transaction():
        await ActionNote.insert(ActionNote(action=action_id, author=viewer.user_id, body=body, created_at=written))
        # The action's newest note, kept beside it (an imported note may be dated before one already there).
        await fetch("UPDATE action SET last_note_at = {} WHERE id = {} AND (last_note_at IS NULL OR last_note_at < {})",
                    written, action_id, written)
        await lifecycle.touched(ACTION.subject, action_id)  # a note dates the territory's last update


async def rewrite_last_notes() -> int:
    """`action.last_note_at` rewritten from the notes wherever it differs (`recalculer-indicateurs`, after rows
    written in bulk outside `add_note`); returns how many actions it corrected."""
    differs = "IS NOT" if is_sqlite() else "IS DISTINCT FROM"
    newest = "(SELECT MAX(n.created_at) FROM action_note n WHERE n.action = action.id)"
    rows = await fetch(f"UPDATE action SET last_note_at = {newest} WHERE last_note_at {differs} {newest} RETURNING id")
    return len(rows)


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
