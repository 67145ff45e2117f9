"""« Mes échéances » and a territory's deadlines: the deadlines (items.py) a person may read, grouped from the
overdue to the later ones."""
from __future__ import annotations

from tracker.core import clock
from tracker.core.errors import BadQuery
from tracker.core.permissions import Viewer
from tracker.deadlines import items
from tracker.deadlines.items import GROUP_TITLES, KIND_LABELS, KIND_SINGULAR, Deadline, Scope
from tracker.deadlines.queries import UNKNOWN_TERRITORY, DeadlineFilters
from tracker.territories.service import territory_for
from tracker.territories.tables import Territory


def person_scope(viewer: Viewer, *, include_closed: bool = False) -> Scope:
    """What this person edits (their territories as éditeur or référent) and what their organisations take part in."""
    return Scope(territories=frozenset(viewer.editable_territories()), partners=viewer.partner_ids,
                 include_closed=include_closed)


async def person_deadlines(viewer: Viewer, *, include_closed: bool = False) -> list[Deadline]:
    return [
        d for d in await items.load(person_scope(viewer, include_closed=include_closed))
        if d.concerns(viewer) and d.readable_by(viewer)
    ]


async def territory_deadlines(viewer: Viewer, territory_id: int, *, include_closed: bool = False) -> list[Deadline]:
    """A territory's deadlines (its actions, its partners' commitments on them, what it brings to its agreements,
    its agreements' reviews and ends), as far as this person may read them. Callers check the territory first."""
    scope = Scope(territories=frozenset({territory_id}), include_closed=include_closed)
    return [d for d in await items.load(scope) if territory_id in d.editors_of and d.readable_by(viewer)]


def grouped(deadlines: list[Deadline]) -> list[dict]:
    """The groups of the page, in order, each with its deadlines soonest first (late ones: the oldest first)."""
    today = clock.today()
    groups = {code: [] for code in GROUP_TITLES}
    for deadline in deadlines:
        if deadline.still_ahead(today):
            groups[items.group_of(deadline, today)].append(deadline)
    return [{"code": code, "title": GROUP_TITLES[code], "rows": rows} for code, rows in groups.items()]


async def my_page(viewer: Viewer, filters: DeadlineFilters) -> dict:
    """« Mes échéances », with the territory and kind filters; a territory that is not one of the list's is a 400."""
    deadlines = await person_deadlines(viewer)
    territory_ids = {d.territory_id for d in deadlines} | set(viewer.editable_territories())
    rows = await Territory.select(Territory.siren, Territory.name, Territory.id).where(
        Territory.id.is_in(sorted(territory_ids) or [0])).order_by(Territory.name)
    territories = {t["siren"]: t["name"] for t in rows}
    if filters.siren and filters.siren not in territories:
        raise BadQuery("Filtre invalide : " + UNKNOWN_TERRITORY, errors={"territoire": UNKNOWN_TERRITORY})
    if filters.siren:
        chosen = next(t["id"] for t in rows if t["siren"] == filters.siren)
        # An agreement's review or end belongs to every party: it shows under each of them.
        deadlines = [d for d in deadlines if chosen in d.editors_of or chosen == d.territory_id]
    if filters.kind:
        deadlines = [d for d in deadlines if d.kind == filters.kind]
    return {"groups": grouped(deadlines), "filters": filters, "territories": territories, "kinds": KIND_LABELS,
            "singular": KIND_SINGULAR, "today": clock.today(), "is_partner": bool(viewer.partner_ids),
            "edits": bool(viewer.editable_territories())}


async def territory_page(viewer: Viewer, siren: str, filters: DeadlineFilters) -> dict:
    """A territory's deadlines, with the kind filter (the territory is the page's)."""
    territory = await territory_for(viewer, siren)
    deadlines = await territory_deadlines(viewer, territory["id"])
    if filters.kind:
        deadlines = [d for d in deadlines if d.kind == filters.kind]
    return {"territory": territory, "groups": grouped(deadlines), "filters": filters, "kinds": KIND_LABELS,
            "singular": KIND_SINGULAR, "today": clock.today()}
