"""The roadmaps' forms, read at the edge into typed values with French messages. What needs the database (an axis
of this roadmap, a pilot of this territory, one level of sub-actions) is checked by the service."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tracker.core.forms import FormReader
from tracker.roadmaps.statuses import PRIORITY_LABELS

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
NOTE_MAX = 5000


@dataclass(frozen=True)
class ActionInput:
    """What an action says (not its status: that is the life cycle's)."""

    title: str
    description: str = ""
    module: int | None = None
    axis: int | None = None
    pilot: int | None = None
    parent: int | None = None
    start_on: date | None = None
    deadline: date | None = None
    priority: str = "normale"
    confidential: bool = False


@dataclass(frozen=True)
class WorkshopInput:
    """A workshop and the roadmap it produced for its host (a SIREN)."""

    host: str
    held_on: date
    module_primary: int
    module_secondary: int | None = None
    participants: int = 0
    experts: str = ""
    title: str = "Feuille de route"
    adopted_on: date | None = None
    horizon: date | None = None
    axes: list[str] = field(default_factory=list)


def read_action(data: Mapping[str, Any]) -> tuple[ActionInput, int | None]:
    """An action form, and the version it was read at (None when creating)."""
    form = FormReader(data)
    version = form.integer("version", "Version", minimum=0) if "version" in data else None
    values = ActionInput(
        title=form.text("title", "Intitulé", max_length=TITLE_MAX, required=True),
        description=form.text("description", "Description", max_length=DESCRIPTION_MAX, multiline=True),
        module=form.integer("module", "Module", minimum=1, maximum=4),
        axis=form.integer("axis", "Axe", minimum=1),
        pilot=form.integer("pilot", "Pilote", minimum=1),
        parent=form.integer("parent", "Action parente", minimum=1),
        start_on=form.date("start_on", "Date de début"),
        deadline=form.date("deadline", "Échéance"),
        priority=form.choice("priority", "Priorité", PRIORITY_LABELS) or "normale",
        confidential=form.boolean("confidential"),
    )
    form.check(
        not (values.start_on and values.deadline and values.deadline < values.start_on),
        "deadline",
        "L’échéance ne peut précéder la date de début.",
    )
    form.raise_if_errors()
    return values, version


def read_workshop(data: Mapping[str, Any]) -> WorkshopInput:
    form = FormReader(data)
    host = form.text("host", "Territoire hôte (SIREN)", max_length=9, required=True)
    held_on = form.date("held_on", "Date de l’atelier", required=True)
    module_primary = form.integer("module_primary", "Module", required=True, minimum=1, maximum=4)
    module_secondary = form.integer("module_secondary", "Second module", minimum=1, maximum=4)
    participants = form.integer("participants", "Nombre de participants", minimum=0, maximum=500) or 0
    experts = form.text("experts", "Experts", max_length=2000, multiline=True)
    title = form.text("title", "Titre de la feuille de route", max_length=TITLE_MAX) or "Feuille de route"
    adopted_on = form.date("adopted_on", "Date d’adoption")
    horizon = form.date("horizon", "Horizon")
    axes = [line.strip() for line in form.text("axes", "Axes", max_length=4000, multiline=True).splitlines()]
    form.check(not (module_secondary and module_secondary == module_primary), "module_secondary",
               "Le second module doit différer du premier.")
    form.raise_if_errors()
    return WorkshopInput(
        host=host, held_on=held_on, module_primary=module_primary, module_secondary=module_secondary,
        participants=participants, experts=experts, title=title, adopted_on=adopted_on, horizon=horizon,
        axes=[a[:TITLE_MAX] for a in axes if a],
    )


def read_note(data: Mapping[str, Any]) -> str:
    form = FormReader(data)
    body = form.text("body", "Note de suivi", max_length=NOTE_MAX, required=True, multiline=True)
    form.raise_if_errors()
    return body
