"""What the API returns: one dataclass per object of the OpenAPI schema (its name is the schema's name), and the
error responses every endpoint documents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from litestar.openapi.datastructures import ResponseSpec

from tracker.api.errors import ReponseErreur

ERRORS = {
    400: ResponseSpec(data_container=ReponseErreur, description="Paramètre de requête invalide."),
    401: ResponseSpec(data_container=ReponseErreur, description="Jeton absent, inconnu, révoqué ou expiré."),
}
ERRORS_404 = {
    **ERRORS,
    404: ResponseSpec(data_container=ReponseErreur, description="N’existe pas ou n’est pas accessible avec ce jeton."),
}


@dataclass
class Pagination:
    page: int
    par_page: int
    total: int
    pages: int


@dataclass
class TerritoireRef:
    siren: str
    nom: str


# --- territoires ----------------------------------------------------------------------------------------------


@dataclass
class Territoire:
    siren: str
    nom: str
    nature: str
    nature_libelle: str
    departement: str  # the main one, the first of `departements`
    region: str  # the main one, the first of `regions`
    typologie: str
    population: int | None
    epci: bool
    nom_court: str
    autres_noms: list[str]
    departements: list[str]
    regions: list[str]


@dataclass
class FeuilleDeRouteResume:
    id: int
    titre: str
    atelier_le: date | None


@dataclass
class TerritoireDetail(Territoire):
    feuilles_de_route: list[FeuilleDeRouteResume]


@dataclass
class PageTerritoires(Pagination):
    donnees: list[Territoire]


# --- feuilles de route ----------------------------------------------------------------------------------------


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
class PageFeuillesDeRoute(Pagination):
    donnees: list[FeuilleDeRoute]


# --- actions --------------------------------------------------------------------------------------------------


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
class PageActions(Pagination):
    donnees: list[Action]


@dataclass
class PageHistorique(Pagination):
    donnees: list[EntreeHistorique]


# --- engagements ----------------------------------------------------------------------------------------------


@dataclass
class Engagement:
    id: int
    action: int
    titre_action: str
    territoire: TerritoireRef
    partenaire: str
    role: str
    role_libelle: str
    description: str
    montant: int | None
    unite: str
    echeance: date | None
    etat: str
    etat_libelle: str
    confirme_le: datetime | None
    mise_a_jour_le: datetime | None


@dataclass
class PageEngagements(Pagination):
    donnees: list[Engagement]


# --- contrats -------------------------------------------------------------------------------------------------


@dataclass
class Partie:
    territoire: TerritoireRef
    deliberation_le: date | None
    deliberation_ref: str
    signe_le: date | None


@dataclass
class Contrat:
    id: int
    titre: str
    etat: str
    etat_libelle: str
    en_vigueur_le: date | None
    fin_le: date | None
    parties: list[Partie]
    themes: list[str]


@dataclass
class Obligation:
    id: int
    titre: str
    description: str
    partie: str
    pour: str
    partenaire: str | None
    echeance: date | None
    statut: str
    statut_libelle: str
    en_retard: bool


@dataclass
class ContratDetail(Contrat):
    objet: str
    obligations: list[Obligation]


@dataclass
class PageContrats(Pagination):
    donnees: list[Contrat]
