"""The deadline lists' query strings, read into typed values at the edge: `?territoire=SIREN&type=KIND`. A bad value
raises `BadQuery` (400) naming every bad parameter; whether the territory is one of the person's is the service's."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.core.forms import FormReader
from tracker.deadlines.items import KIND_LABELS

UNKNOWN_TERRITORY = "« Territoire » : valeur inconnue, choisissez dans la liste."


@dataclass(frozen=True)
class DeadlineFilters:
    siren: str | None = None
    kind: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.siren or self.kind)


def read_filters(query: Mapping[str, Any]) -> DeadlineFilters:
    form = FormReader(query)
    kind = form.choice("type", "Type d’échéance", KIND_LABELS)
    siren = form.text("territoire", "Territoire", max_length=9) or None
    form.check(siren is None or (siren.isascii() and siren.isdigit() and len(siren) == 9), "territoire",
               UNKNOWN_TERRITORY)
    form.raise_if_bad_query("Filtre invalide : ")
    return DeadlineFilters(siren=siren, kind=kind)
