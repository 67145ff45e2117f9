"""What a roadmap export and an action's history export contain. Reading goes through the roadmap service
(roadmap_for, list_actions, action_for): the same permissions and the same filters as the pages."""
from __future__ import annotations

from tracker.accounts.permissions import Viewer
from tracker.errors import Forbidden
from tracker.exports.writer import Column
from tracker.history.service import entries_for
from tracker.roadmaps import service
from tracker.roadmaps.statuses import MODULE_TITLES, PRIORITY_LABELS, STATUS_LABELS
from tracker.roadmaps.tables import Action
from tracker.web.french import today_paris

ROADMAP_COLUMNS = [
    Column("Axe", width=28),
    Column("Action", width=48),
    Column("Action parente", width=36),
    Column("Module", width=36),
    Column("Pilote", width=28),
    Column("Statut", width=13),
    Column("En retard", width=11),
    Column("Début", "date"),
    Column("Échéance", "date"),
    Column("Priorité", width=11),
    Column("Confidentielle", width=15),
    Column("Dernière mise à jour", "datetime", width=20),
]

HISTORY_COLUMNS = [
    Column("Date", "datetime"),
    Column("Ancien statut", width=15),
    Column("Nouveau statut", width=15),
    Column("Par", width=30),
    Column("Commentaire", width=60),
]


def module_label(module: int | None) -> str:
    return f"{module} – {MODULE_TITLES[module]}" if module in MODULE_TITLES else ""


async def visible_actions(viewer: Viewer, roadmap: dict, filters: service.ActionFilters) -> list[dict]:
    """The rows of the roadmap page (same filters, same confidentiality rule, same order), each with
    `parent_title` and `updated_at`. A parent the viewer may not see (confidential) is neither named nor linked."""
    rows = await service.list_actions(viewer, roadmap, filters)
    everything = await service.list_actions(viewer, roadmap, service.ActionFilters()) if filters.active else rows
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


def roadmap_row(action: dict) -> list:
    return [
        action["axis_title"],
        action["title"],
        action["parent_title"],
        module_label(action["module"]),
        action["pilot_name"],
        STATUS_LABELS.get(action["status"], action["status"]),
        "Oui" if action["overdue"] else "Non",
        action["start_on"],
        action["deadline"],
        PRIORITY_LABELS.get(action["priority"], action["priority"]),
        "Oui" if action["confidential"] else "Non",
        action["updated_at"],
    ]


async def roadmap_export(viewer: Viewer, roadmap_id: int, query) -> tuple[str, list[list]]:
    """(file name, rows) for a roadmap's actions; NotFound when the roadmap is not readable, InvalidInput (400)
    for a bad filter — as the page."""
    roadmap = await service.roadmap_for(viewer, roadmap_id)
    filters = service.parse_action_filters(query)
    rows = [roadmap_row(action) for action in await visible_actions(viewer, roadmap, filters)]
    suffix = " (filtrée)" if filters.active else ""
    name = f"{roadmap['title']} – {roadmap['territory_name']}{suffix} – {today_paris().isoformat()}"
    return name, rows


def history_row(entry: dict) -> list:
    return [
        entry["created_at"],
        STATUS_LABELS.get(entry["from_value"], entry["from_value"]),
        STATUS_LABELS.get(entry["to_value"], entry["to_value"]),
        entry["actor_label"],
        entry["comment"],
    ]


HISTORY_FORBIDDEN = "L’historique de cette action est réservé aux membres du territoire et à l’ADGCF."


async def action_with_history(viewer: Viewer, action_id: int) -> dict:
    """The action (NotFound when not readable) when its history may be read: as on the action page, not by a
    partner's contact who reads the action only through their organisation's commitment (`partner_view`)."""
    action = await service.action_for(viewer, action_id)
    if action.get("partner_view"):
        raise Forbidden(HISTORY_FORBIDDEN)
    return action


async def history_export(viewer: Viewer, action_id: int) -> tuple[str, list[list]]:
    """(file name, rows) for an action's history, newest first as on the page; NotFound when not readable."""
    action = await action_with_history(viewer, action_id)
    rows = [history_row(entry) for entry in await entries_for("action", action_id)]
    return f"Historique – {action['title']} – {today_paris().isoformat()}", rows
