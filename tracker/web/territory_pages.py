"""The territories' pages, composed from several domains: the list (with who has a roadmap), a territory's page
(its roadmaps, its agreements, its members) and, for the members of a territory that shares an agreement with it,
its public card (name, kind, population, the agreements they share: never its roadmaps)."""
from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from tracker.accounts.tables import Membership
from tracker.agreements.reading import agreements_of_territory
from tracker.core.errors import NotFound
from tracker.core.http import render
from tracker.core.permissions import Viewer
from tracker.roadmaps.service import roadmaps_of
from tracker.roadmaps.tables import Roadmap
from tracker.territories.search import matching
from tracker.territories.service import territory_for
from tracker.territories.tables import Territory
from tracker.web.queries import TerritorySearch, read_territory_search

PAGE_SIZE = 50


async def visible_territories(viewer: Viewer, search: TerritorySearch) -> dict:
    """Members see their territories; the ADGCF and administrators search all of them (paginated)."""
    text, page, only_roadmaps = search.text, search.page, search.only_roadmaps
    where = Territory.id.is_not_null()
    if not viewer.sees_all_territories:
        if not viewer.roles:
            return {"rows": [], "total": 0, "page": 1, "pages": 1, "q": text, "avec_feuille": only_roadmaps}
        where &= Territory.id.is_in(list(viewer.roles))
    if text:
        where &= matching(text)  # by any of its names, without case or accents, or by SIREN
    if only_roadmaps:
        where &= Territory.id.is_in(Roadmap.select(Roadmap.territory))
    total = await Territory.count().where(where)
    rows = (
        await Territory.select(
            Territory.id, Territory.siren, Territory.name, Territory.kind, Territory.departement,
            Territory.departements, Territory.population
        )
        .where(where)
        .order_by(Territory.name)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    with_roadmap = {
        r["territory"]
        for r in await Roadmap.select(Roadmap.territory).where(Roadmap.territory.is_in([r["id"] for r in rows] or [0]))
    }
    for row in rows:
        row["has_roadmap"] = row["id"] in with_roadmap
        row["role"] = viewer.roles.get(row["id"])
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "q": text,
        "avec_feuille": only_roadmaps,
    }



@get("/territoires", name="territories")
async def territories(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    listing = await visible_territories(viewer, read_territory_search(request.query_params))
    return render(request, "territories/list.html", {"listing": listing}, blocks=["results"])


async def _public_card(request: Request, viewer: Viewer, siren: str, hidden: NotFound) -> Template:
    """A territory this person may not read, seen from an agreement it shares with theirs: its public card.
    No shared agreement: the same 404 as any territory one may not read."""
    row = await Territory.select(
        Territory.id, Territory.siren, Territory.name, Territory.kind, Territory.population, Territory.departement,
        Territory.departements, Territory.region, Territory.typology,
    ).where(Territory.siren == siren).first() if len(siren) == 9 and siren.isdigit() else None
    shared = await agreements_of_territory(viewer, row["id"]) if row else []
    if not shared:
        raise hidden
    return render(request, "territories/card.html", {"territory": row, "agreements": shared})


@get("/territoires/{siren:str}", name="territory")
async def territory(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template:
    try:
        found = await territory_for(viewer, siren)
    except NotFound as hidden:
        return await _public_card(request, viewer, siren, hidden)
    members = []
    if viewer.can_manage_territory(found["id"]):
        members = await Membership.select(
            Membership.role, Membership.user.full_name.as_alias("name"), Membership.user.email.as_alias("email")
        ).where(Membership.territory == found["id"])
    return render(
        request,
        "territories/detail.html",
        {"territory": found, "roadmaps": await roadmaps_of(found["id"]), "members": members,
         "agreements": await agreements_of_territory(viewer, found["id"])},
    )


ROUTES = [territories, territory]
