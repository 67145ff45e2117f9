"""API v1: partners' commitments (engagements) and reciprocity agreements (contrats).

Every row goes through the owning domain's rule: `tracker.commitments.lifecycle.readable` / `commitment_for` for a
commitment, `Viewer.can_read_agreement` / `agreement_for` for an agreement. For members, the SQL only narrows the
candidates to their territories and organisations (a superset of what they may read); the rule then decides."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from tracker.core.permissions import Viewer
from tracker.agreements import reading as agreements
from tracker.agreements.states import AGREEMENT_STATE_LABELS
from tracker.agreements.tables import Agreement, AgreementParty, AgreementTheme
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
from tracker.commitments import lifecycle as commitment_rules
from tracker.commitments.queries import commitment_columns
from tracker.commitments.service import commitment_for
from tracker.commitments.states import ROLE_LABELS as COMMITMENT_ROLE_LABELS
from tracker.commitments.states import STATE_LABELS as COMMITMENT_STATE_LABELS
from tracker.commitments.tables import Commitment
from tracker.roadmaps.statuses import STATUS_LABELS
from tracker.core.forms import FormReader
from tracker.core.http import parse_id

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


def _engagement(row: dict) -> Engagement:
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


@get(
    "/engagements",
    summary="Engagements des partenaires",
    description="Les engagements lisibles : ceux des actions accessibles (jamais sur une action confidentielle "
    "hors du territoire) et, pour le contact d’un partenaire, ceux de son organisation. Filtres : `action`, `etat`.",
    responses=ERRORS,
    response_description="Réponse",
    tags=["Engagements"],
)
async def engagements(
    viewer: NamedDependency[Viewer],
    page: PageParam = None,
    par_page: PerPageParam = None,
    action: Annotated[str | None, QueryParameter(description="Identifiant d’une action.")] = None,
    etat: Annotated[
        str | None, QueryParameter(description="État : " + ", ".join(COMMITMENT_STATE_LABELS) + ".")
    ] = None,
) -> PageEngagements:
    number, size = paging(page, par_page)
    form = FormReader({"action": action or "", "etat": etat or ""})
    action_id = form.integer("action", "action", minimum=1, maximum=2_147_483_647)
    state = form.choice("etat", "etat", COMMITMENT_STATE_LABELS)
    if form.errors:
        raise bad_query(form)
    where = Commitment.id.is_not_null()
    if action_id:
        where &= Commitment.action == action_id
    if state:
        where &= Commitment.state == state
    if not viewer.sees_all_territories:
        where &= Commitment.territory.is_in(list(viewer.roles) or [0]) | Commitment.partner.is_in(
            list(viewer.partner_ids) or [0]
        )
    candidates = await Commitment.select(
        Commitment.id,
        Commitment.territory,
        Commitment.partner,
        Commitment.action.confidential.as_alias("confidential"),
    ).where(where).order_by(Commitment.id)
    readable = [row["id"] for row in candidates if commitment_rules.readable(viewer, row)]
    chosen = page_of(readable, number, size)
    rows = (
        in_order(await Commitment.select(*commitment_columns()).where(Commitment.id.is_in(chosen)), chosen)
        if chosen
        else []
    )
    return PageEngagements(**page_fields([_engagement(row) for row in rows], number, size, total=len(readable)))


@get(
    "/engagements/{commitment_id:str}",
    summary="Un engagement",
    responses=ERRORS_404,
    response_description="Réponse",
    tags=["Engagements"],
)
async def engagement(viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Engagement:
    return _engagement(await commitment_for(viewer, parse_id(commitment_id)))


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


def _partie(row: dict) -> Partie:
    return Partie(
        territoire=TerritoireRef(siren=row["siren"], nom=row["name"]),
        deliberation_le=row["deliberation_on"],
        deliberation_ref=row["deliberation_ref"],
        signe_le=row["signed_on"],
    )


def _contrat(row: dict, parties: list[dict], themes: list[str]) -> dict:
    return {
        "id": row["id"],
        "titre": row["title"],
        "etat": row["state"],
        "etat_libelle": AGREEMENT_STATE_LABELS.get(row["state"], row["state"]),
        "en_vigueur_le": row["in_force_on"],
        "fin_le": row["ends_on"],
        "parties": [_partie(p) for p in parties],
        "themes": themes,
    }


@get(
    "/contrats",
    summary="Contrats de réciprocité",
    description="Les contrats dont un territoire partie est celui du propriétaire du jeton ; tous pour l’ADGCF. "
    "Filtre : `etat`.",
    responses=ERRORS,
    response_description="Réponse",
    tags=["Contrats"],
)
async def contrats(
    viewer: NamedDependency[Viewer],
    page: PageParam = None,
    par_page: PerPageParam = None,
    etat: Annotated[str | None, QueryParameter(description="État : " + ", ".join(AGREEMENT_STATE_LABELS) + ".")] = None,
) -> PageContrats:
    number, size = paging(page, par_page)
    form = FormReader({"etat": etat or ""})
    state = form.choice("etat", "etat", AGREEMENT_STATE_LABELS)
    if form.errors:
        raise bad_query(form)
    query = Agreement.select(Agreement.id).order_by(Agreement.updated_at, ascending=False).order_by(
        Agreement.id, ascending=False
    )
    if state:
        query = query.where(Agreement.state == state)
    ordered = [row["id"] for row in await query]
    party_territories: dict[int, list[int]] = {}
    for row in await AgreementParty.select(AgreementParty.agreement, AgreementParty.territory):
        party_territories.setdefault(row["agreement"], []).append(row["territory"])
    readable = [i for i in ordered if viewer.can_read_agreement(party_territories.get(i, []))]
    chosen = page_of(readable, number, size)
    if not chosen:
        return PageContrats(**page_fields([], number, size, total=len(readable)))
    rows = in_order(
        await Agreement.select(
            Agreement.id, Agreement.title, Agreement.state, Agreement.in_force_on, Agreement.ends_on
        ).where(Agreement.id.is_in(chosen)),
        chosen,
    )
    parties: dict[int, list[dict]] = {i: [] for i in chosen}
    for row in await AgreementParty.select(
        AgreementParty.agreement,
        AgreementParty.deliberation_on,
        AgreementParty.deliberation_ref,
        AgreementParty.signed_on,
        AgreementParty.territory.name.as_alias("name"),
        AgreementParty.territory.siren.as_alias("siren"),
    ).where(AgreementParty.agreement.is_in(chosen)).order_by(AgreementParty.position).order_by(AgreementParty.id):
        parties[row["agreement"]].append(row)
    themes: dict[int, list[str]] = {i: [] for i in chosen}
    for row in await AgreementTheme.select(AgreementTheme.agreement, AgreementTheme.theme).where(
        AgreementTheme.agreement.is_in(chosen)
    ):
        themes[row["agreement"]].append(row["theme"])
    donnees = [Contrat(**_contrat(row, parties[row["id"]], sorted(themes[row["id"]]))) for row in rows]
    return PageContrats(**page_fields(donnees, number, size, total=len(readable)))


@get(
    "/contrats/{agreement_id:str}",
    summary="Un contrat de réciprocité",
    description="Le contrat, ses parties (délibération, signature) et ce que chacune apporte.",
    responses=ERRORS_404,
    response_description="Réponse",
    tags=["Contrats"],
)
async def contrat(viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> ContratDetail:
    found = await agreements.agreement_for(viewer, parse_id(agreement_id))
    balance = await agreements.balance_of(found)
    names = {p["id"]: p["name"] for p in found["parties"]}
    obligations = [
        Obligation(
            id=o["id"],
            titre=o["title"],
            description=o["description"],
            partie=names.get(o["owner"], ""),
            pour=o["for_label"],
            partenaire=o["partner_name"],
            echeance=o["deadline"],
            statut=o["status"],
            statut_libelle=STATUS_LABELS.get(o["status"], o["status"]),
            en_retard=o["overdue"],
        )
        for party in found["parties"]
        for o in balance["by_party"].get(party["id"], [])
    ]
    return ContratDetail(
        **_contrat(found, found["parties"], found["themes"]),
        objet=found["purpose"],
        obligations=obligations,
    )


HANDLERS = [engagements, engagement, contrats, contrat]
