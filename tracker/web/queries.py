"""Query strings of the pages composed here, read into typed values at the edge; a bad value raises `BadQuery`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.core.forms import FormReader


@dataclass(frozen=True)
class TerritorySearch:
    """/territoires: words of the name or a SIREN, only those with a roadmap, the page."""

    text: str = ""
    only_roadmaps: bool = False
    page: int = 1


def read_territory_search(query: Mapping[str, Any]) -> TerritorySearch:
    form = FormReader(query)
    text = form.text("q", "Recherche", max_length=100)
    page = form.integer("page", "Page", minimum=1, maximum=10_000) or 1
    only_roadmaps = form.boolean("avec_feuille")
    form.raise_if_bad_query()
    return TerritorySearch(text=text, only_roadmaps=only_roadmaps, page=page)


def read_whole_history(query: Mapping[str, Any]) -> bool:
    """/actions/{id}: `historique=tout` shows the action's whole history (the page shows the latest entries)."""
    form = FormReader(query)
    whole = form.choice("historique", "Historique", {"tout": True}) == "tout"
    form.raise_if_bad_query()
    return whole
