"""What the contract says — title, purpose, dates, themes — written when it is created and while it is drafted
(brouillon, en négociation). Its state is the life cycle's (lifecycle.py)."""
from __future__ import annotations

from datetime import datetime

from tracker import lifecycle
from tracker.agreements.forms import AgreementInput, themes_problem
from tracker.agreements.lifecycle import AGREEMENT, hold_agreement
from tracker.agreements.reading import DRAFT_ONLY, editable_agreement
from tracker.agreements.states import DRAFTING
from tracker.agreements.tables import Agreement, AgreementParty, AgreementReview, AgreementTheme, Obligation
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.territories.tables import Territory

MAY_NOT_CREATE = "Seuls les éditeurs et référents d’un territoire créent des contrats de réciprocité."


async def lead_choices(viewer: Viewer) -> list[dict]:
    """The territories in whose name this person may start an agreement."""
    ids = viewer.editable_territories()
    if not ids:
        return []
    return await Territory.select(Territory.id, Territory.name).where(Territory.id.is_in(ids)).order_by(
        Territory.name
    )


def require_author(viewer: Viewer) -> None:
    """Éditeurs and référents of a territory start agreements (Forbidden otherwise)."""
    if not viewer.editable_territories():
        raise Forbidden(MAY_NOT_CREATE)


def _columns(values: AgreementInput) -> dict:
    """The columns of the text, once the themes are known to fit (they are written in their own table)."""
    problem = themes_problem(values.themes)
    if problem:
        raise InvalidInput(GENERIC, errors={"autres_themes": problem})
    return {
        Agreement.title: values.title,
        Agreement.purpose: values.purpose,
        Agreement.in_force_on: values.in_force_on,
        Agreement.ends_on: values.ends_on,
    }


async def _write_themes(agreement_id: int, themes: tuple[str, ...]) -> None:
    await AgreementTheme.delete().where(AgreementTheme.agreement == agreement_id)
    if themes:
        await AgreementTheme.insert(*[AgreementTheme(agreement=agreement_id, theme=t) for t in themes])


async def _dates_still_fit(agreement_id: int, values: AgreementInput) -> None:
    """Obligation deadlines and review dates must stay inside the new dates (InvalidInput naming the field)."""
    start, end = values.in_force_on, values.ends_on
    errors: dict[str, str] = {}
    if end:
        late = await Obligation.select(Obligation.title).where(
            (Obligation.agreement == agreement_id) & Obligation.deadline.is_not_null() & (Obligation.deadline > end)
        ).first()
        if late is not None:
            errors["ends_on"] = f"L’obligation « {late['title']} » a une échéance après cette date de fin."
    reviews = await AgreementReview.select(AgreementReview.review_on).where(AgreementReview.agreement == agreement_id)
    for review in reviews:
        if (start and review["review_on"] < start) or (end and review["review_on"] > end):
            errors.setdefault("ends_on" if end else "in_force_on",
                              f"La revue du {date_fr(review['review_on'])} sortirait de la période du contrat.")
    if errors:
        raise InvalidInput(GENERIC, errors=errors)


async def create_agreement(viewer: Viewer, lead: int, values: AgreementInput, *, at: datetime | None = None) -> int:
    """A draft agreement in the name of `lead` (a territory this person edits), which is its first party.
    One history entry; `at` backdates it (demo, import)."""
    require_author(viewer)
    if lead not in viewer.editable_territories():
        raise InvalidInput(GENERIC, errors={
            "territory": "« Territoire porteur » : valeur inconnue, choisissez dans la liste."})
    columns = _columns(values)
    now = at or clock.now()
    async with write_transaction():
        agreement = Agreement(territory=lead, state=AGREEMENT.initial, version=1, created_by=viewer.user_id,
                              created_at=now, updated_at=now,
                              **{column._meta.name: value for column, value in columns.items()})
        await agreement.save()
        await AgreementParty.insert(AgreementParty(agreement=agreement.id, territory=lead, position=1,
                                                   deliberation_ref="", version=1))
        await _write_themes(agreement.id, values.themes)
        await lifecycle.record_created(AGREEMENT, agreement.id, lead, viewer, comment="Contrat créé", at=now)
    return agreement.id


async def update_agreement(
    viewer: Viewer, agreement_id: int, values: AgreementInput, version: int | None, *, at: datetime | None = None
) -> int:
    """Edit the text of a draft (not its state: that is lifecycle.change_agreement_state); returns the new
    version, or raises Conflict when someone changed the agreement since `version` was read."""
    await editable_agreement(viewer, agreement_id, DRAFTING, DRAFT_ONLY)
    columns = _columns(values)
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY, at=at)
        await _dates_still_fit(agreement_id, values)
        new_version = await lifecycle.save_edit(AGREEMENT, agreement_id, version, columns, at=at)
        await _write_themes(agreement_id, values.themes)
    return new_version
