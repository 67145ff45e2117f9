"""What the contract says — title, purpose, dates, protocol, themes — written when it is created and while it is
drafted (brouillon, en négociation); and what the signed document says about itself (place, reference, link),
written at any time. Every edit that changes something is one history entry naming each field, before → after.
Its state is the life cycle's (lifecycle.py)."""
from __future__ import annotations

from datetime import datetime

from tracker import lifecycle
from tracker.agreements import edits
from tracker.agreements.forms import AgreementInput, DocumentInput, ThemeInput, themes_problem
from tracker.agreements.lifecycle import AGREEMENT, hold_agreement
from tracker.agreements.reading import DRAFT_ONLY, editable_agreement, theme_rows
from tracker.agreements.states import DRAFTING, normalise_theme
from tracker.agreements.tables import (
    Agreement,
    AgreementParty,
    AgreementReview,
    AgreementTheme,
    AmendmentChange,
    Obligation,
)
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.territories.tables import Territory

MAY_NOT_CREATE = "Seuls les éditeurs et référents d’un territoire créent des contrats de réciprocité."
TEXT_FIELDS = (
    ("title", "Intitulé"),
    ("purpose", "Objet"),
    ("protocol_on", "Protocole ou accord préalable"),
    ("in_force_on", "Entrée en vigueur"),
    ("ends_on", "Fin"),
)
DOCUMENT_FIELDS = (
    ("signing_place", "Lieu de signature"),
    ("document_ref", "Référence du document"),
    ("document_url", "Lien vers le document"),
)


async def lead_choices(viewer: Viewer, for_territory: int | None = None) -> list[dict]:
    """The territories in whose name this person may start an agreement: their own, and for an administrator the
    territory they came from (`for_territory`, help desk)."""
    ids = viewer.editable_territories()
    if for_territory is not None and viewer.can_lead_agreement(for_territory):
        ids = [*ids, for_territory]
    if not ids:
        return []
    return await Territory.select(Territory.id, Territory.name).where(Territory.id.is_in(ids)).order_by(
        Territory.name
    )


def require_author(viewer: Viewer) -> None:
    """Éditeurs and référents of a territory, and administrators, start agreements (Forbidden otherwise)."""
    if not viewer.can_start_agreements():
        raise Forbidden(MAY_NOT_CREATE)


def _themes(values: AgreementInput) -> tuple[ThemeInput, ...]:
    """The themes as ThemeInput (a plain name is a new theme), once they are known to fit."""
    themes = tuple(t if isinstance(t, ThemeInput) else ThemeInput(name=normalise_theme(t)) for t in values.themes)
    problem = themes_problem(t.name for t in themes)
    if not problem and len({t.name.casefold() for t in themes}) != len(themes):
        problem = "Un thème figure deux fois."
    if problem:
        raise InvalidInput(GENERIC, errors={"themes": problem})
    return themes


def _columns(values: AgreementInput) -> dict:
    """The columns of the text (the themes are written in their own table)."""
    return {
        Agreement.title: values.title,
        Agreement.purpose: values.purpose,
        Agreement.in_force_on: values.in_force_on,
        Agreement.ends_on: values.ends_on,
        Agreement.protocol_on: values.protocol_on,
    }


async def _write_themes(agreement_id: int, themes: tuple[ThemeInput, ...]) -> None:
    """Inside the write transaction: the agreement's themes become `themes`, in that order. A theme keeps its id
    (and its obligations) when renamed; one removed must have no obligation left (InvalidInput naming it)."""
    existing = {row["id"]: row for row in await theme_rows(agreement_id)}
    kept = {t.id for t in themes if t.id is not None}
    unknown = kept - set(existing)
    if unknown:
        raise InvalidInput(GENERIC, errors={"themes": "Un thème n’appartient pas à ce contrat : rechargez la page."})
    removed = [row for ident, row in existing.items() if ident not in kept]
    for row in removed:
        if await Obligation.exists().where(Obligation.theme == row["id"]) or await AmendmentChange.exists().where(
            AmendmentChange.theme == row["id"]
        ):
            raise InvalidInput(GENERIC, errors={"themes": (
                f"Des obligations relèvent du thème « {row['theme']} » : rattachez-les à un autre thème avant de "
                "le retirer.")})
    if removed:
        await AgreementTheme.delete().where(AgreementTheme.id.is_in([row["id"] for row in removed]))
    # Renaming A → B and B → A at once would break the (agreement, theme) uniqueness midway: a free name first.
    for ident in kept:
        await AgreementTheme.update({AgreementTheme.theme: f"\x01{ident}"}).where(AgreementTheme.id == ident)
    for position, theme in enumerate(themes, start=1):
        if theme.id is None:
            await AgreementTheme.insert(AgreementTheme(agreement=agreement_id, theme=theme.name,
                                                       description=theme.description, position=position))
        else:
            await AgreementTheme.update({AgreementTheme.theme: theme.name, AgreementTheme.description: theme.description,
                                         AgreementTheme.position: position}).where(AgreementTheme.id == theme.id)


def _theme_lines(before: list[dict], after: tuple[ThemeInput, ...]) -> list[str]:
    """The themes' part of an edit: the list (names in order), then each description that changed."""
    lines = edits.changes([("Thèmes", [t["theme"] for t in before], [t.name for t in after])])
    described = {t["id"]: t for t in before}
    for theme in after:
        old = described.get(theme.id) if theme.id is not None else None
        previous = old["description"] if old else ""
        if previous != theme.description:
            lines += edits.changes([(f"Description du thème « {theme.name} »", previous, theme.description)])
    return lines


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
    if not viewer.can_lead_agreement(lead) or not await Territory.exists().where(Territory.id == lead):
        raise InvalidInput(GENERIC, errors={
            "territory": "« Territoire porteur » : valeur inconnue, choisissez dans la liste."})
    themes = _themes(values)
    columns = _columns(values)
    now = at or clock.now()
    async with write_transaction():
        agreement = Agreement(territory=lead, state=AGREEMENT.initial, version=1, created_by=viewer.user_id,
                              created_at=now, updated_at=now,
                              **{column._meta.name: value for column, value in columns.items()})
        await agreement.save()
        await AgreementParty.insert(AgreementParty(agreement=agreement.id, territory=lead, position=1,
                                                   deliberation_ref="", version=1))
        await _write_themes(agreement.id, themes)
        await lifecycle.record_created(AGREEMENT, agreement.id, lead, viewer, comment="Contrat créé", at=now)
    return agreement.id


async def update_agreement(
    viewer: Viewer, agreement_id: int, values: AgreementInput, version: int | None, *, at: datetime | None = None
) -> int:
    """Edit the text of a draft (not its state: that is lifecycle.change_agreement_state); returns the new
    version, or raises Conflict when someone changed the agreement since `version` was read. When something
    changed, one history entry names each field, before → after."""
    current = await editable_agreement(viewer, agreement_id, DRAFTING, DRAFT_ONLY)
    themes = _themes(values)
    columns = _columns(values)
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY, at=at)
        await _dates_still_fit(agreement_id, values)
        before = await Agreement.select(*[getattr(Agreement, name) for name, _ in TEXT_FIELDS]).where(
            Agreement.id == agreement_id).first()
        before_themes = await theme_rows(agreement_id)
        new_version = await lifecycle.save_edit(AGREEMENT, agreement_id, version, columns, at=at)
        await _write_themes(agreement_id, themes)
        lines = edits.changes((label, before[name], getattr(values, name)) for name, label in TEXT_FIELDS)
        lines += _theme_lines(before_themes, themes)
        if lines:
            await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement_id,
                                   territory_id=current["territory"], source=current["state"], target="modification",
                                   actor=viewer, comment=edits.comment(lines), at=at)
    return new_version


async def update_document(
    viewer: Viewer, agreement_id: int, values: DocumentInput, version: int | None, *, at: datetime | None = None
) -> int:
    """Where the agreement was signed, its reference and a link to it: editable in every state (the document
    exists once signed, and its link may come later). One history entry when something changed."""
    current = await editable_agreement(viewer, agreement_id)
    columns = {getattr(Agreement, name): getattr(values, name) for name, _ in DOCUMENT_FIELDS}
    async with write_transaction():
        before = await Agreement.select(*[getattr(Agreement, name) for name, _ in DOCUMENT_FIELDS]).where(
            Agreement.id == agreement_id).first()
        new_version = await lifecycle.save_edit(AGREEMENT, agreement_id, version, columns, at=at)
        lines = edits.changes((label, before[name], getattr(values, name)) for name, label in DOCUMENT_FIELDS)
        if lines:
            await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement_id,
                                   territory_id=current["territory"], source=current["state"], target="modification",
                                   actor=viewer, comment=edits.comment(lines), at=at)
    return new_version
