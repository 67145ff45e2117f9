"""The read-only JSON API, version 1, under /api/v1/.

Conventions (also in the OpenAPI schema at /api/v1/schema/openapi.json):
- Authentication: `Authorization: Bearer sfr_…`, a personal access token (page « Jetons d’accès »). Session cookies
  are ignored here: the API never acts on a cookie, so it needs no CSRF protection.
- A token reads exactly what its owner reads on the site now: same Viewer, same service functions.
- Field names are French, in snake_case without accents. Dates `AAAA-MM-JJ`; instants ISO 8601 in UTC.
- Lists are paginated: `?page=` (from 1) and `?par_page=` (1 to 200, 50 by default); the answer is
  `{"donnees": [...], "page": n, "par_page": n, "total": n, "pages": n}`.
- Errors: `{"erreur": {"statut", "titre", "message", "champs"}}` — 401 without a valid token (with
  `WWW-Authenticate: Bearer`), 404 for what does not exist or is not readable, 400 for a bad query parameter.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from litestar import Request, Router, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.params import FromPath, QueryParameter

from tracker.core.permissions import Viewer
from tracker.api.common import (
    ERRORS,
    ERRORS_404,
    PageParam,
    Pagination,
    PerPageParam,
    TerritoireRef,
    bad_query,
    in_order,
    page_fields,
    page_of,
    paging,
)
from tracker.api.errors import EXCEPTION_HANDLERS, ReponseErreur
from tracker.api.tokens import bearer_token, viewer_for_api_token
from tracker.api.v1_engagements_contrats import HANDLERS as ENGAGEMENT_AND_AGREEMENT_HANDLERS
from tracker.core.errors import NotFound
from tracker.commitments.service import action_with_history, readable_action
from tracker.history.service import entries_for
from tracker.roadmaps import service as roadmaps
from tracker.roadmaps.statuses import STATUS_LABELS
from tracker.roadmaps.tables import Roadmap
from tracker.territories.reference import KIND_LABELS
from tracker.territories.service import territory_for
from tracker.territories.tables import Territory
from tracker.core.forms import FormReader
from tracker.core.http import parse_id

SECURITY_NAME = "jeton"


# --- what the API returns ---------------------------------------------------------------------------------


@dataclass
class Territoire:
    siren: str
    nom: str
    nature: str
    nature_libelle: str
    departement: str
    region: str
    typologie: str
    population: int | None
    epci: bool


@dataclass
class FeuilleDeRouteResume:
    id: int
    titre: str
    atelier_le: date | None


@dataclass
class TerritoireDetail(Territoire):
    feuilles_de_route: list[FeuilleDeRouteResume]


@dataclass
class FeuilleDeRoute:
    id: int
    titre: str
    territoire: TerritoireRef
    atelier_le: date | None
    modules: list[int]
    adoptee_le: date | None
    horizon: date | None


@dataclass
class Axe:
    id: int
    titre: str
    position: int


@dataclass
class Avancement:
    """Counts over the actions the token's owner may see (confidential ones only for the territory's members)."""

    total: int
    en_retard: int
    par_statut: dict[str, int]


@dataclass
class FeuilleDeRouteDetail(FeuilleDeRoute):
    axes: list[Axe]
    avancement: Avancement


@dataclass
class Action:
    id: int
    titre: str
    feuille_de_route: int
    statut: str
    statut_libelle: str
    en_retard: bool
    debut: date | None
    echeance: date | None
    priorite: str
    module: int | None
    axe: str | None
    pilote: str | None
    action_parente: int | None
    confidentielle: bool
    mise_a_jour_le: datetime | None


@dataclass
class ActionResume:
    id: int
    titre: str
    statut: str
    echeance: date | None


@dataclass
class ActionDetail(Action):
    description: str
    titre_action_parente: str | None
    territoire: TerritoireRef
    sous_actions: list[ActionResume]
    creee_le: datetime | None


@dataclass
class EntreeHistorique:
    horodatage: datetime
    ancien_statut: str
    ancien_statut_libelle: str
    nouveau_statut: str
    nouveau_statut_libelle: str
    par: str
    commentaire: str


@dataclass
class PageTerritoires(Pagination):
    donnees: list[Territoire]


@dataclass
class PageFeuillesDeRoute(Pagination):
    donnees: list[FeuilleDeRoute]


@dataclass
class PageActions(Pagination):
    donnees: list[Action]


@dataclass
class PageHistorique(Pagination):
    donnees: list[EntreeHistorique]


# --- conversions --------------------------------------------------------------------------------------------


def _territoire(row: dict) -> dict:
    return {
        "siren": row["siren"],
        "nom": row["name"],
        "nature": row["kind"],
        "nature_libelle": KIND_LABELS.get(row["kind"], row["kind"]),
        "departement": row["departement"],
        "region": row["region"],
        "typologie": row["typology"],
        "population": row["population"],
        "epci": row["is_epci"],
    }


def _feuille(row: dict) -> dict:
    return {
        "id": row["id"],
        "titre": row["title"],
        "territoire": TerritoireRef(siren=row["siren"], nom=row["territory_name"]),
        "atelier_le": row["held_on"],
        "modules": [m for m in (row["module_primary"], row["module_secondary"]) if m],
        "adoptee_le": row["adopted_on"],
        "horizon": row["horizon"],
    }


def _action(row: dict) -> dict:
    return {
        "id": row["id"],
        "titre": row["title"],
        "feuille_de_route": row["roadmap"],
        "statut": row["status"],
        "statut_libelle": STATUS_LABELS.get(row["status"], row["status"]),
        "en_retard": row["overdue"],
        "debut": row["start_on"],
        "echeance": row["deadline"],
        "priorite": row["priority"],
        "module": row["module"],
        "axe": row["axis_title"],
        "pilote": row["pilot_name"],
        "action_parente": row["parent"],
        "confidentielle": row["confidential"],
        "mise_a_jour_le": row["updated_at"],
    }


def _entree(entry: dict) -> EntreeHistorique:
    return EntreeHistorique(
        horodatage=entry["created_at"],
        ancien_statut=entry["from_value"],
        ancien_statut_libelle=STATUS_LABELS.get(entry["from_value"], entry["from_value"]),
        nouveau_statut=entry["to_value"],
        nouveau_statut_libelle=STATUS_LABELS.get(entry["to_value"], entry["to_value"]),
        par=entry["actor_label"],
        commentaire=entry["comment"],
    )


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
)


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


# --- endpoints ----------------------------------------------------------------------------------------------

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
    number, size = paging(page, par_page)
    ordered = await Territory.select(Territory.id).order_by(Territory.name).order_by(Territory.id)
    readable = [row["id"] for row in ordered if viewer.can_read_territory(row["id"])]
    chosen = page_of(readable, number, size)
    rows = in_order(await Territory.select(*TERRITORY_COLUMNS).where(Territory.id.is_in(chosen)), chosen) if chosen else []
    return PageTerritoires(**page_fields([Territoire(**_territoire(row)) for row in rows], number, size, total=len(readable)))


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
    return TerritoireDetail(
        **_territoire(found),
        feuilles_de_route=[
            FeuilleDeRouteResume(id=row["id"], titre=row["title"], atelier_le=row["held_on"])
            for row in await roadmaps.roadmaps_of(found["id"])
        ],
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
    number, size = paging(page, par_page)
    siren = (territoire or "").strip()
    if siren and not (len(siren) == 9 and siren.isascii() and siren.isdigit()):
        form = FormReader({})
        form.check(False, "territoire", "« territoire » doit être un SIREN (9 chiffres).")
        raise bad_query(form)
    query = Roadmap.select(Roadmap.id, Roadmap.territory).order_by(Roadmap.territory.name).order_by(Roadmap.id)
    if siren:
        query = query.where(Roadmap.territory.siren == siren)
    # A roadmap is readable when its territory is: the rule of roadmaps.service.roadmap_for, through the Viewer.
    readable = [row["id"] for row in await query if viewer.can_read_territory(row["territory"])]
    chosen = page_of(readable, number, size)
    rows = in_order(await Roadmap.select(*_roadmap_columns()).where(Roadmap.id.is_in(chosen)), chosen) if chosen else []
    return PageFeuillesDeRoute(
        **page_fields([FeuilleDeRoute(**_feuille(row)) for row in rows], number, size, total=len(readable))
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
    return FeuilleDeRouteDetail(
        **_feuille(roadmap),
        axes=[Axe(id=a["id"], titre=a["title"], position=a["position"]) for a in await roadmaps.axes_of(roadmap["id"])],
        avancement=Avancement(total=counts["total"], en_retard=counts["overdue"], par_statut=counts["by_status"]),
    )


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
    number, size = paging(page, par_page)
    roadmap = await roadmaps.roadmap_for(viewer, parse_id(roadmap_id))
    filters = roadmaps.parse_action_filters(request.query_params)
    rows = await roadmaps.actions_with_parents(viewer, roadmap, filters)
    for row in rows:
        row["roadmap"] = roadmap["id"]
    return PageActions(**page_fields([Action(**_action(row)) for row in rows], number, size))



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
    return ActionDetail(
        **_action(row),
        description=row["description"],
        titre_action_parente=parent_title,
        territoire=TerritoireRef(siren=row["siren"], nom=row["territory_name"]),
        sous_actions=[
            ActionResume(id=c["id"], titre=c["title"], statut=c["status"], echeance=c["deadline"])
            for c in row["children"]
        ],
        creee_le=row["created_at"],
    )


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
    number, size = paging(page, par_page)
    found = await action_with_history(viewer, parse_id(action_id))
    entries = await entries_for("action", found["id"])
    return PageHistorique(**page_fields([_entree(entry) for entry in entries], number, size))


# --- wiring -------------------------------------------------------------------------------------------------


async def provide_api_viewer(request: Request) -> Viewer:
    """Only the bearer token counts: a session cookie sent along is ignored."""
    return await viewer_for_api_token(bearer_token(request.headers.get("authorization")))


HANDLERS = [
    territoires,
    territoire,
    feuilles_de_route,
    feuille_de_route,
    actions,
    action,
    historique,
    *ENGAGEMENT_AND_AGREEMENT_HANDLERS,
]

router = Router(
    path="/api/v1",
    route_handlers=HANDLERS,
    dependencies={"viewer": Provide(provide_api_viewer)},
    exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    include_in_schema=True,
    response_headers=[ResponseHeader(name="Cache-Control", value="no-store")],
    security=[{SECURITY_NAME: []}],
)

OPENAPI_PATH = "/api/v1/schema"
DESCRIPTION = """API en lecture seule du suivi des feuilles de route issues des ateliers itinérants de l’ADGCF.

- **Authentification** : en-tête `Authorization: Bearer sfr_…`, un jeton d’accès personnel créé depuis la page
  « Jetons d’accès » du site (`/compte/jetons`). Les cookies de session sont ignorés.
- **Droits** : un jeton lit exactement ce que son propriétaire lit sur le site à cet instant (ses rôles actuels ;
  un compte désactivé ou un jeton révoqué ou expiré ne donne plus accès).
- **Champs** : noms en français, sans accents. Dates `AAAA-MM-JJ` ; horodatages ISO 8601 en UTC.
- **Pagination** : `?page=` (à partir de 1) et `?par_page=` (1 à 200, 50 par défaut) ; la réponse est
  `{"page", "par_page", "total", "pages", "donnees": [...]}`.
- **Erreurs** : `{"erreur": {"statut", "titre", "message", "champs"}}` — 401 sans jeton valide (avec
  `WWW-Authenticate: Bearer`), 404 pour ce qui n’existe pas ou n’est pas accessible, 400 pour un paramètre invalide.
"""


def openapi_config() -> OpenAPIConfig:
    """The schema of the API only (the HTML site is left out), as JSON at /api/v1/schema/openapi.json."""
    return OpenAPIConfig(
        title="Suivi des feuilles de route — API",
        version="1.0.0",
        description=DESCRIPTION,
        path=OPENAPI_PATH,
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                SECURITY_NAME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="Jeton d’accès personnel « sfr_… », créé depuis la page « Jetons d’accès ».",
                )
            }
        ),
        security=[{SECURITY_NAME: []}],
        tags=[
            Tag(name="Territoires"),
            Tag(name="Feuilles de route"),
            Tag(name="Actions"),
            Tag(name="Engagements"),
            Tag(name="Contrats"),
        ],
        use_handler_docstrings=False,
    )
