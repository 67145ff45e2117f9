"""Rows read by the domains' services, turned into what the API returns (French field names, labels beside codes)."""
from __future__ import annotations

from typing import Any

from tracker.agreements.states import AGREEMENT_STATE_LABELS
from tracker.api.v1.queries import Paging
from tracker.api.v1.schemas import (
    Action,
    ActionDetail,
    ActionResume,
    Avancement,
    Axe,
    Contrat,
    ContratDetail,
    Engagement,
    EntreeHistorique,
    FeuilleDeRoute,
    FeuilleDeRouteDetail,
    FeuilleDeRouteResume,
    Obligation,
    Partie,
    Territoire,
    TerritoireDetail,
    TerritoireRef,
)
from tracker.commitments.states import ROLE_LABELS as COMMITMENT_ROLE_LABELS
from tracker.commitments.states import STATE_LABELS as COMMITMENT_STATE_LABELS
from tracker.roadmaps.statuses import STATUS_LABELS
from tracker.territories.reference import KIND_LABELS

# --- lists ----------------------------------------------------------------------------------------------------


def page_fields(items: list[Any], paging: Paging, total: int | None = None) -> dict:
    """The page of `items` (all of them when `total` is None; else `items` is already the page), as the fields of
    a Page… dataclass."""
    if total is None:
        total = len(items)
        items = items[(paging.page - 1) * paging.size : paging.page * paging.size]
    return {
        "donnees": items,
        "page": paging.page,
        "par_page": paging.size,
        "total": total,
        "pages": max(1, -(-total // paging.size)),
    }


def in_order(rows: list[dict], ids: list[int]) -> list[dict]:
    """`rows` (read with WHERE id IN ids) in the order of `ids`."""
    position = {ident: i for i, ident in enumerate(ids)}
    return sorted(rows, key=lambda row: position[row["id"]])


# --- territoires ----------------------------------------------------------------------------------------------


def _territoire_fields(row: dict) -> dict:
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
        "nom_court": row["short_name"],
        "autres_noms": [name for name in row["aliases"].split("\n") if name],
        "departements": [code for code in (row["departements"] or row["departement"]).split(",") if code],
        "regions": [code for code in (row["regions"] or row["region"]).split(",") if code],
    }


def territoire(row: dict) -> Territoire:
    return Territoire(**_territoire_fields(row))


def territoire_detail(row: dict, roadmaps: list[dict]) -> TerritoireDetail:
    return TerritoireDetail(
        **_territoire_fields(row),
        feuilles_de_route=[
            FeuilleDeRouteResume(id=r["id"], titre=r["title"], atelier_le=r["held_on"]) for r in roadmaps
        ],
    )


# --- feuilles de route ----------------------------------------------------------------------------------------


def _feuille_fields(row: dict) -> dict:
    return {
        "id": row["id"],
        "titre": row["title"],
        "territoire": TerritoireRef(siren=row["siren"], nom=row["territory_name"]),
        "atelier_le": row["held_on"],
        "modules": [m for m in (row["module_primary"], row["module_secondary"]) if m],
        "adoptee_le": row["adopted_on"],
        "horizon": row["horizon"],
    }


def feuille_de_route(row: dict) -> FeuilleDeRoute:
    return FeuilleDeRoute(**_feuille_fields(row))


def feuille_de_route_detail(row: dict, axes: list[dict], counts: dict) -> FeuilleDeRouteDetail:
    return FeuilleDeRouteDetail(
        **_feuille_fields(row),
        axes=[Axe(id=a["id"], titre=a["title"], position=a["position"]) for a in axes],
        avancement=Avancement(total=counts["total"], en_retard=counts["overdue"], par_statut=counts["by_status"]),
    )


# --- actions --------------------------------------------------------------------------------------------------


def _action_fields(row: dict) -> dict:
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


def action(row: dict) -> Action:
    return Action(**_action_fields(row))


def action_detail(row: dict, parent_title: str | None) -> ActionDetail:
    return ActionDetail(
        **_action_fields(row),
        description=row["description"],
        titre_action_parente=parent_title,
        territoire=TerritoireRef(siren=row["siren"], nom=row["territory_name"]),
        sous_actions=[
            ActionResume(id=c["id"], titre=c["title"], statut=c["status"], echeance=c["deadline"])
            for c in row["children"]
        ],
        creee_le=row["created_at"],
    )


def entree_historique(entry: dict) -> EntreeHistorique:
    return EntreeHistorique(
        horodatage=entry["created_at"],
        ancien_statut=entry["from_value"],
        ancien_statut_libelle=STATUS_LABELS.get(entry["from_value"], entry["from_value"]),
        nouveau_statut=entry["to_value"],
        nouveau_statut_libelle=STATUS_LABELS.get(entry["to_value"], entry["to_value"]),
        par=entry["actor_label"],
        commentaire=entry["comment"],
    )


# --- engagements ----------------------------------------------------------------------------------------------


def engagement(row: dict) -> Engagement:
    return Engagement(
        id=row["id"],
        action=row["action"],
        titre_action=row["action_title"],
        territoire=TerritoireRef(siren=row["siren"], nom=row["territory_name"]),
        partenaire=row["partner_name"],
        role=row["role"],
        role_libelle=COMMITMENT_ROLE_LABELS.get(row["role"], row["role"]),
        description=row["description"],
        montant=row["amount"],
        unite=row["amount_unit"],
        echeance=row["due_on"] or row["action_deadline"],
        etat=row["state"],
        etat_libelle=COMMITMENT_STATE_LABELS.get(row["state"], row["state"]),
        confirme_le=row["confirmed_at"],
        mise_a_jour_le=row["updated_at"],
    )


# --- contrats -------------------------------------------------------------------------------------------------


def partie(row: dict) -> Partie:
    return Partie(
        territoire=TerritoireRef(siren=row["siren"], nom=row["name"]),
        deliberation_le=row["deliberation_on"],
        deliberation_ref=row["deliberation_ref"],
        signe_le=row["signed_on"],
    )


def _contrat_fields(row: dict, parties: list[dict], themes: list[str]) -> dict:
    return {
        "id": row["id"],
        "titre": row["title"],
        "etat": row["state"],
        "etat_libelle": AGREEMENT_STATE_LABELS.get(row["state"], row["state"]),
        "en_vigueur_le": row["in_force_on"],
        "fin_le": row["ends_on"],
        "parties": [partie(p) for p in parties],
        "themes": themes,
    }


def contrat(row: dict, parties: list[dict], themes: list[str]) -> Contrat:
    return Contrat(**_contrat_fields(row, parties, themes))


def obligation(row: dict, party_names: dict[int, str]) -> Obligation:
    return Obligation(
        id=row["id"],
        titre=row["title"],
        description=row["description"],
        partie=party_names.get(row["owner"], ""),
        pour=row["for_label"],
        partenaire=row["partner_name"],
        echeance=row["deadline"],
        statut=row["status"],
        statut_libelle=STATUS_LABELS.get(row["status"], row["status"]),
        en_retard=row["overdue"],
    )


def contrat_detail(found: dict, obligations: list[Obligation]) -> ContratDetail:
    """An agreement read by `agreements.reading.agreement_for` (its parties and themes included)."""
    return ContratDetail(
        **_contrat_fields(found, found["parties"], found["themes"]),
        objet=found["purpose"],
        obligations=obligations,
    )
