"""API v1: roadmaps, their actions and an action's history. Every read goes through the roadmaps service (the
roadmap page's filters, order and confidentiality rule) and the commitments layer (an action read through a
partner's commitment, the history reserved to the territory)."""
from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from tracker.api.errors import ReponseErreur
from tracker.api.v1 import convert
from tracker.api.v1.queries import PageParam, PerPageParam, read_paging, read_roadmap_filter
from tracker.api.v1.schemas import (
    ERRORS,
    ERRORS_404,
    ActionDetail,
    FeuilleDeRouteDetail,
    PageActions,
    PageFeuillesDeRoute,
    PageHistorique,
)
from tracker.commitments.service import action_with_history, readable_action
from tracker.core.errors import NotFound
from tracker.core.http import parse_id
from tracker.core.permissions import Viewer
from tracker.history.service import entries_for
from tracker.roadmaps import service as roadmaps
from tracker.roadmaps.queries import read_action_filters
from tracker.roadmaps.tables import Roadmap


def _roadmap_columns():
    return (
        Roadmap.id,
        Roadmap.title,
        Roadmap.territory,
        Roadmap.adopted_on,
        Roadmap.horizon,
        Roadmap.territory.siren.as_alias("siren"),
        Roadmap.territory.name.as_alias("territory_name"),
        Roadmap.workshop.held_on.as_alias("held_on"),
        Roadmap.workshop.module_primary.as_alias("module_primary"),
        Roadmap.workshop.module_secondary.as_alias("module_secondary"),
    )


@get(
    "/feuilles-de-route",
    summary="Feuilles de route accessibles",
    description="Les feuilles de route des territoires accessibles, par territoire. "
    "`territoire` (SIREN) restreint la liste à un territoire.",
    responses=ERRORS,
    response_description="Réponse",
    tags=["Feuilles de route"],
)
async def feuilles_de_route(
    viewer: NamedDependency[Viewer],
    page: PageParam = None,
    par_page: PerPageParam = None,
    territoire: Annotated[str | None, QueryParameter(description="SIREN d’un territoire.")] = None,
) -> PageFeuillesDeRoute:
    paging = read_paging({"page": page, "par_page": par_page})
    chosen_filter = read_roadmap_filter({"territoire": territoire})
    query = Roadmap.select(Roadmap.id, Roadmap.territory).order_by(Roadmap.territory.name).order_by(Roadmap.id)
    if chosen_filter.siren:
        query = query.where(Roadmap.territory.siren == chosen_filter.siren)
    # A roadmap is readable when its territory is: the rule of roadmaps.service.roadmap_for, through the Viewer.
    readable = [row["id"] for row in await query if viewer.can_read_territory(row["territory"])]
    chosen = paging.window(readable)
    rows = (
        convert.in_order(await Roadmap.select(*_roadmap_columns()).where(Roadmap.id.is_in(chosen)), chosen)
        if chosen
        else []
    )
    return PageFeuillesDeRoute(
        **convert.page_fields([convert.feuille_de_route(row) for row in rows], paging, total=len(readable))
    )


@get(
    "/feuilles-de-route/{roadmap_id:str}",
    summary="Une feuille de route",
    description="La feuille de route, ses axes et son avancement.",
    responses=ERRORS_404,
    response_description="Réponse",
    tags=["Feuilles de route"],
)
async def feuille_de_route(viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> FeuilleDeRouteDetail:
    roadmap = await roadmaps.roadmap_for(viewer, parse_id(roadmap_id))
    counts = await roadmaps.status_counts(viewer, roadmap)
    return convert.feuille_de_route_detail(roadmap, await roadmaps.axes_of(roadmap["id"]), counts)


@get(
    "/feuilles-de-route/{roadmap_id:str}/actions",
    summary="Actions d’une feuille de route",
    description="Dans l’ordre de la page (par axe, chaque action suivie de ses sous-actions), avec les mêmes filtres. "
    "Les actions confidentielles ne figurent que pour les membres du territoire.",
    responses=ERRORS_404,
    response_description="Réponse",
    tags=["Actions"],
)
async def actions(
    request: Request,
    viewer: NamedDependency[Viewer],
    roadmap_id: FromPath[str],
    page: PageParam = None,
    par_page: PerPageParam = None,
    statut: Annotated[str | None, QueryParameter(description="Code de statut, ou `en_retard`.")] = None,
    module: Annotated[str | None, QueryParameter(description="Module (1 à 4).")] = None,
    axe: Annotated[str | None, QueryParameter(description="Identifiant d’axe.")] = None,
    pilote: Annotated[str | None, QueryParameter(description="Identifiant du partenaire pilote.")] = None,
    en_retard: Annotated[str | None, QueryParameter(description="`1` : seulement les actions en retard.")] = None,
) -> PageActions:
    # The filters are declared above for the schema; they are read as the roadmap page reads them.
    paging = read_paging({"page": page, "par_page": par_page})
    roadmap = await roadmaps.roadmap_for(viewer, parse_id(roadmap_id))
    filters = read_action_filters(request.query_params)
    rows = await roadmaps.actions_with_parents(viewer, roadmap, filters)
    for row in rows:
        row["roadmap"] = roadmap["id"]
    return PageActions(**convert.page_fields([convert.action(row) for row in rows], paging))


@get(
    "/actions/{action_id:str}",
    summary="Une action",
    description="L’action, son statut, son échéance, le drapeau « en retard » et ses sous-actions.",
    responses=ERRORS_404,
    response_description="Réponse",
    tags=["Actions"],
)
async def action(viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> ActionDetail:
    row = await readable_action(viewer, parse_id(action_id))
    parent_title = None
    if row.get("partner_view"):  # read through the organisation's commitment: the action itself, not its context
        row["parent"] = None
    if row["parent"]:
        try:  # a parent the owner may not read (confidential) is neither named nor linked
            parent_title = (await roadmaps.action_for(viewer, row["parent"]))["title"]
        except NotFound:
            row["parent"] = None
    return convert.action_detail(row, parent_title)


@get(
    "/actions/{action_id:str}/historique",
    summary="Historique d’une action",
    description="Chaque changement de statut, du plus récent au plus ancien.",
    responses={**ERRORS_404, 403: ResponseSpec(data_container=ReponseErreur, description="Historique réservé au territoire.")},
    response_description="Réponse",
    tags=["Actions"],
)
async def historique(
    viewer: NamedDependency[Viewer], action_id: FromPath[str], page: PageParam = None, par_page: PerPageParam = None
) -> PageHistorique:
    paging = read_paging({"page": page, "par_page": par_page})
    found = await action_with_history(viewer, parse_id(action_id))
    entries = await entries_for("action", found["id"])
    return PageHistorique(**convert.page_fields([convert.entree_historique(entry) for entry in entries], paging))


HANDLERS = [feuilles_de_route, feuille_de_route, actions, action, historique]
