"""What a roadmap export and an action's history export contain. Reading goes through the roadmap service
(roadmap_for, actions_with_parents) and the commitments layer (action_with_history): the same permissions and the
same filters as the pages. The filters are read at the edge (`roadmaps.queries.read_action_filters`)."""
from __future__ import annotations

from tracker.core import clock
from tracker.core.permissions import Viewer
from tracker.exports.writer import Column
from tracker.history.service import entries_for
from tracker.commitments import service as commitments
from tracker.roadmaps import service
from tracker.roadmaps.queries import ActionFilters
from tracker.roadmaps.statuses import MODULE_TITLES, PRIORITY_LABELS, STATUS_LABELS


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
    # For the round trip (tracker.imports): which action a line is, the version it was exported at, and a column
    # where the CODIR writes why a status changed.
    Column("N°", "integer", width=8),
    Column("Version", "integer", width=9),
    Column("Commentaire", width=40),
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
        action["id"],
        action["version"],
        "",
    ]


async def roadmap_export(viewer: Viewer, roadmap: dict, filters: ActionFilters) -> tuple[str, list[list]]:
    """(file name, rows) for the actions of a roadmap read through `roadmaps.service.roadmap_for`, with the page's
    filters: the same permissions and the same rows as the page."""
    rows = [roadmap_row(action) for action in await service.actions_with_parents(viewer, roadmap, filters)]
    suffix = " (filtrée)" if filters.active else ""
    name = f"{roadmap['title']} – {roadmap['territory_name']}{suffix} – {clock.today().isoformat()}"
    return name, rows


def history_row(entry: dict) -> list:
    return [
        entry["created_at"],
        STATUS_LABELS.get(entry["from_value"], entry["from_value"]),
        STATUS_LABELS.get(entry["to_value"], entry["to_value"]),
        entry["actor_label"],
        entry["comment"],
    ]


async def history_export(viewer: Viewer, action_id: int) -> tuple[str, list[list]]:
    """(file name, rows) for an action's history, newest first as on the page; NotFound when not readable."""
    action = await commitments.action_with_history(viewer, action_id)
    rows = [history_row(entry) for entry in await entries_for("action", action_id)]
    return f"Historique – {action['title']} – {clock.today().isoformat()}", rows
