"""API v1: partners' commitments (engagements).

Every row goes through the commitments domain's rule (`commitments.lifecycle.readable`, `commitment_for`): members
and the ADGCF read the commitments of the actions they may read (never on a confidential action outside its
territory), a partner's contact those of their organisation. For members, the SQL only narrows the candidates to
their territories and organisations (a superset of what they may read); the rule then decides."""
from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from tracker.api.v1 import convert
from tracker.api.v1.queries import PageParam, PerPageParam, read_commitment_filter, read_paging
from tracker.api.v1.schemas import ERRORS, ERRORS_404, Engagement, PageEngagements
from tracker.commitments import lifecycle as commitment_rules
from tracker.commitments.queries import commitment_columns
from tracker.commitments.service import commitment_for
from tracker.commitments.states import STATE_LABELS as COMMITMENT_STATE_LABELS
from tracker.commitments.tables import Commitment
from tracker.core.http import parse_id
from tracker.core.permissions import Viewer


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
    paging = read_paging({"page": page, "par_page": par_page})
    chosen_filter = read_commitment_filter({"action": action, "etat": etat})
    where = Commitment.id.is_not_null()
    if chosen_filter.action:
        where &= Commitment.action == chosen_filter.action
    if chosen_filter.state:
        where &= Commitment.state == chosen_filter.state
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
    chosen = paging.window(readable)
    rows = (
        convert.in_order(await Commitment.select(*commitment_columns()).where(Commitment.id.is_in(chosen)), chosen)
        if chosen
        else []
    )
    return PageEngagements(**convert.page_fields([convert.engagement(row) for row in rows], paging, total=len(readable)))


@get(
    "/engagements/{commitment_id:str}",
    summary="Un engagement",
    responses=ERRORS_404,
    response_description="Réponse",
    tags=["Engagements"],
)
async def engagement(viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Engagement:
    return convert.engagement(await commitment_for(viewer, parse_id(commitment_id)))


HANDLERS = [engagements, engagement]
