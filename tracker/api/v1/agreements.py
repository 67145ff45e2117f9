"""API v1: reciprocity agreements (contrats). Every agreement goes through the agreements domain's rule
(`Viewer.can_read_agreement`, `agreements.reading.agreement_for`): members of a party territory and the ADGCF."""
from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from tracker.agreements import reading as agreements
from tracker.agreements.states import AGREEMENT_STATE_LABELS
from tracker.agreements.tables import Agreement, AgreementParty, AgreementTheme
from tracker.api.v1 import convert
from tracker.api.v1.queries import PageParam, PerPageParam, read_agreement_filter, read_paging
from tracker.api.v1.schemas import ERRORS, ERRORS_404, ContratDetail, PageContrats
from tracker.core.http import parse_id
from tracker.core.permissions import Viewer


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
    paging = read_paging({"page": page, "par_page": par_page})
    chosen_filter = read_agreement_filter({"etat": etat})
    query = Agreement.select(Agreement.id).order_by(Agreement.updated_at, ascending=False).order_by(
        Agreement.id, ascending=False
    )
    if chosen_filter.state:
        query = query.where(Agreement.state == chosen_filter.state)
    ordered = [row["id"] for row in await query]
    party_territories: dict[int, list[int]] = {}
    for row in await AgreementParty.select(AgreementParty.agreement, AgreementParty.territory):
        party_territories.setdefault(row["agreement"], []).append(row["territory"])
    readable = [i for i in ordered if viewer.can_read_agreement(party_territories.get(i, []))]
    chosen = paging.window(readable)
    if not chosen:
        return PageContrats(**convert.page_fields([], paging, total=len(readable)))
    rows = convert.in_order(
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
    ).where(AgreementParty.agreement.is_in(chosen) & (AgreementParty.role == "partie")).order_by(
        AgreementParty.position).order_by(AgreementParty.id):  # witnesses are not parties (as in the detail)
        parties[row["agreement"]].append(row)
    themes: dict[int, list[str]] = {i: [] for i in chosen}
    for row in await AgreementTheme.select(AgreementTheme.agreement, AgreementTheme.theme).where(
        AgreementTheme.agreement.is_in(chosen)
    ).order_by(AgreementTheme.position).order_by(AgreementTheme.id):  # the agreement's order
        themes[row["agreement"]].append(row["theme"])
    donnees = [convert.contrat(row, parties[row["id"]], themes[row["id"]]) for row in rows]
    return PageContrats(**convert.page_fields(donnees, paging, total=len(readable)))


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
        convert.obligation(o, names)
        for party in found["parties"]
        for o in balance["by_party"].get(party["id"], [])
    ]
    return convert.contrat_detail(found, obligations)


HANDLERS = [contrats, contrat]
