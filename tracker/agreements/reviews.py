"""Review dates of an agreement (revue à mi-parcours, revue annuelle…), added and removed while it is open; each
addition and removal is one history entry of the agreement."""
from __future__ import annotations

from datetime import datetime

from tracker import lifecycle
from tracker.agreements.forms import ReviewInput
from tracker.agreements.lifecycle import AGREEMENT, hold_agreement
from tracker.agreements.reading import (
    CLOSED_AGREEMENT,
    OPEN,
    agreement_for,
    editable_agreement,
    require_edit,
    require_state,
)
from tracker.agreements.tables import AgreementReview
from tracker.core.db import write_transaction
from tracker.core.errors import InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer

MAX_REVIEWS = 20


async def reviews_of(agreement_id: int) -> list[dict]:
    return await AgreementReview.select(AgreementReview.id, AgreementReview.review_on, AgreementReview.title).where(
        AgreementReview.agreement == agreement_id
    ).order_by(AgreementReview.review_on).order_by(AgreementReview.id)


async def add_review(viewer: Viewer, agreement_id: int, values: ReviewInput, *, at: datetime | None = None) -> None:
    """A review date inside the contract's period (its in-force and end dates)."""
    agreement = await editable_agreement(viewer, agreement_id, OPEN, CLOSED_AGREEMENT)
    start, end = agreement["in_force_on"], agreement["ends_on"]
    if start and values.review_on < start:
        message = f"La revue ne peut précéder l’entrée en vigueur du contrat ({date_fr(start)})."
        raise InvalidInput(GENERIC, errors={"review_on": message})
    if end and values.review_on > end:
        message = f"La revue ne peut suivre la date de fin du contrat ({date_fr(end)})."
        raise InvalidInput(GENERIC, errors={"review_on": message})
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT, at=at)
        if await AgreementReview.count().where(AgreementReview.agreement == agreement_id) >= MAX_REVIEWS:
            raise InvalidInput(f"Un contrat compte {MAX_REVIEWS} revues au plus.", errors={"review_on": "Trop de revues."})
        await AgreementReview.insert(AgreementReview(agreement=agreement_id, review_on=values.review_on,
                                                     title=values.title))
        await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement_id, territory_id=agreement["territory"],
                               source=agreement["state"], target="revue_ajoutee", actor=viewer, at=at,
                               comment=f"{values.title} le {date_fr(values.review_on)}.")


async def delete_review(viewer: Viewer, agreement_id: int, review_id: int, *, at: datetime | None = None) -> None:
    agreement = await agreement_for(viewer, agreement_id)
    review = await AgreementReview.select(AgreementReview.review_on, AgreementReview.title).where(
        (AgreementReview.id == review_id) & (AgreementReview.agreement == agreement_id)
    ).first()
    if review is None:
        raise NotFound("Cette revue n’existe pas.")
    require_edit(viewer, agreement)
    require_state(agreement, OPEN, CLOSED_AGREEMENT)
    async with write_transaction():
        await hold_agreement(agreement_id, OPEN, CLOSED_AGREEMENT, at=at)
        deleted = await AgreementReview.delete().where(
            (AgreementReview.id == review_id) & (AgreementReview.agreement == agreement_id)
        ).returning(AgreementReview.id)
        if not deleted:  # removed meanwhile by someone else: nothing to record twice
            raise NotFound("Cette revue n’existe pas.")
        await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement_id, territory_id=agreement["territory"],
                               source=agreement["state"], target="revue_retiree", actor=viewer, at=at,
                               comment=f"{review['title']} du {date_fr(review['review_on'])} retirée.")
