"""The roadmap's action filters, read from the query string into a typed value at the edge (the roadmap page, its
exports, the API's list of a roadmap's actions: the same filters everywhere)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.core.forms import FormReader
from tracker.roadmaps.statuses import STATUS_LABELS


@dataclass(frozen=True)
class ActionFilters:
    status: str | None = None
    module: int | None = None
    axis: int | None = None
    pilot: int | None = None
    overdue: bool = False

    @property
    def active(self) -> bool:
        return any([self.status, self.module, self.axis, self.pilot, self.overdue])

    def query(self) -> dict[str, str]:
        params = {"statut": self.status, "module": self.module, "axe": self.axis, "pilote": self.pilot}
        out = {k: str(v) for k, v in params.items() if v}
        if self.overdue:
            out["en_retard"] = "1"
        return out


def read_action_filters(query: Mapping[str, Any]) -> ActionFilters:
    """Filters from the query string (statut, module, axe, pilote, en_retard). Bad values → BadQuery (400).
    `statut=en_retard` is the same as `en_retard=1`."""
    form = FormReader(query)
    status = form.choice("statut", "Statut", {"en_retard": 1, **STATUS_LABELS})
    module = form.integer("module", "Module", minimum=1, maximum=4)
    axis = form.integer("axe", "Axe", minimum=1)
    pilot = form.integer("pilote", "Pilote", minimum=1)
    overdue = form.boolean("en_retard")
    form.raise_if_bad_query("Filtre invalide : ")
    if status == "en_retard":
        status, overdue = None, True
    return ActionFilters(status=status, module=module, axis=axis, pilot=pilot, overdue=overdue)
