"""API v1: the territories the token's owner may read (`Viewer.can_read_territory`, `territories.service`)."""
from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath

from tracker.api.v1 import convert
from tracker.api.v1.queries import PageParam, PerPageParam, read_paging
from tracker.api.v1.schemas import ERRORS, ERRORS_404, PageTerritoires, TerritoireDetail
from tracker.core.permissions import Viewer
from tracker.roadmaps.service import roadmaps_of
from tracker.territories.service import territory_for
from tracker.territories.tables import Territory

TERRITORY_COLUMNS = (
    Territory.id,
    Territory.siren,
    Territory.name,
    Territory.kind,
    Territory.departement,
    Territory.region,
    Territory.typology,
    Territory.population,
    Territory.is_epci,
    Territory.short_name,
    Territory.aliases,
    Territory.departements,
    Territory.regions,
)


@get(
    "/territoires",
    summary="Territoires accessibles",
    description="Les territoires dont le propriétaire du jeton est membre ; tous pour l’ADGCF. Triés par nom.",
    responses=ERRORS,
    response_description="Réponse",
    tags=["Territoires"],
)
async def territoires(
    viewer: NamedDependency[Viewer], page: PageParam = None, par_page: PerPageParam = None
) -> PageTerritoires:
    paging = read_paging({"page": page, "par_page": par_page})
    ordered = await Territory.select(Territory.id).order_by(Territory.name).order_by(Territory.id)
    readable = [row["id"] for row in ordered if viewer.can_read_territory(row["id"])]
    chosen = paging.window(readable)
    rows = (
        convert.in_order(await Territory.select(*TERRITORY_COLUMNS).where(Territory.id.is_in(chosen)), chosen)
        if chosen
        else []
    )
    return PageTerritoires(**convert.page_fields([convert.territoire(row) for row in rows], paging, total=len(readable)))


@get(
    "/territoires/{siren:str}",
    summary="Un territoire",
    description="Le territoire et ses feuilles de route.",
    responses=ERRORS_404,
    response_description="Réponse",
    tags=["Territoires"],
)
async def territoire(viewer: NamedDependency[Viewer], siren: FromPath[str]) -> TerritoireDetail:
    found = await territory_for(viewer, siren)
    return convert.territoire_detail(found, await roadmaps_of(found["id"]))


HANDLERS = [territoires, territoire]
