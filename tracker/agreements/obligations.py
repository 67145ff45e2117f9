"""What each party brings (obligations): reading one, and writing what it says while the text is drafted — its
theme, party, beneficiary, partner and deadline, checked against this agreement. Every edit that changes something
is one history entry of the obligation, before → after. Its status is the life cycle's
(lifecycle.change_obligation_status); an amendment adds, changes or ends obligations of an agreement in force
(amendments.py)."""
from __future__ import annotations

from datetime import datetime

from datetime import date

from tracker import lifecycle
from tracker.agreements import edits
from tracker.agreements.forms import ObligationInput
from tracker.agreements.lifecycle import NOT_FOUND_OBLIGATION, OBLIGATION, hold_agreement
from tracker.agreements.reading import (
    DRAFT_ONLY,
    agreement_for,
    beneficiary_label,
    editable_agreement,
    require_edit,
    require_state,
)
from tracker.agreements.states import DRAFTING
from tracker.agreements.tables import AgreementParty, Obligation
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.partners.tables import PartnerTerritory
from tracker.roadmaps.statuses import is_overdue

MAY_NOT_ADD = "Votre rôle ne permet pas d’inscrire des obligations à ce contrat."
MAY_NOT_EDIT = "Votre rôle ne permet pas de modifier les obligations de ce contrat."
UNKNOWN = "« {} » : valeur inconnue, choisissez dans la liste."


async def obligation_for(viewer: Viewer, obligation_id: int) -> dict:
    """One obligation with its agreement (`agreement_row`), or NotFound unless the viewer reads that agreement."""
    obligation = (
        await Obligation.select(
            Obligation.all_columns(),
            Obligation.partner.name.as_alias("partner_name"),
            Obligation.owner.territory.as_alias("owner_territory"),
            Obligation.owner.territory.name.as_alias("owner_name"),
            Obligation.theme.theme.as_alias("theme_name"),
            Obligation.added_by.number.as_alias("added_by_number"),
            Obligation.ended_by.number.as_alias("ended_by_number"),
        )
        .where(Obligation.id == obligation_id)
        .first()
    )
    if obligation is None:
        raise NotFound(NOT_FOUND_OBLIGATION)
    try:
        agreement = await agreement_for(viewer, obligation["agreement"])
    except NotFound:
        raise NotFound(NOT_FOUND_OBLIGATION) from None
    obligation["agreement_row"] = agreement
    obligation["overdue"] = is_overdue(obligation["status"], obligation["deadline"], clock.today())
    obligation["for_label"] = beneficiary_label(obligation, agreement["parties"])
    return obligation


async def editable_obligation(viewer: Viewer, obligation_id: int) -> dict:
    """The obligation, if this person may change what it says now (NotFound / Forbidden / NotNow otherwise)."""
    obligation = await obligation_for(viewer, obligation_id)
    require_edit(viewer, obligation["agreement_row"], MAY_NOT_EDIT)
    require_state(obligation["agreement_row"], DRAFTING, DRAFT_ONLY)
    return obligation


async def obligation_form_choices(agreement: dict, owner: int | None = None) -> dict:
    """Parties, the themes, the beneficiaries (« Au bénéfice de »: the parties but the one that brings, when it is
    known: `owner`), and for each party the partners working with its territory (who may carry an obligation)."""
    partners = await PartnerTerritory.select(
        PartnerTerritory.territory,
        PartnerTerritory.partner.id.as_alias("id"),
        PartnerTerritory.partner.name.as_alias("name"),
    ).where(PartnerTerritory.territory.is_in(agreement["party_territories"] or [0])).order_by(
        PartnerTerritory.partner.name
    )
    by_territory: dict[int, list[dict]] = {}
    for row in partners:
        by_territory.setdefault(row["territory"], []).append(row)
    groups = [{"party": p, "partners": by_territory.get(p["territory"], [])} for p in agreement["parties"]]
    beneficiaries = [p for p in agreement["parties"] if p["id"] != owner]
    return {"parties": agreement["parties"], "partner_groups": groups, "beneficiaries": beneficiaries,
            "themes": agreement["theme_rows"]}


async def check_obligation(values: ObligationInput, agreement: dict, ends_on: date | None = None) -> dict:
    """What the form could not check alone: the parties and the theme are this agreement's (a theme is required
    when it has some), the partner works with the party that brings, the deadline is inside the contract (its end
    date, or `ends_on` when an amendment moves it). Returns the columns to write, or raises InvalidInput naming
    each field."""
    choices = await obligation_form_choices(agreement)
    parties = {p["id"]: p for p in choices["parties"]}
    partners_of = {g["party"]["territory"]: {p["id"] for p in g["partners"]} for g in choices["partner_groups"]}
    errors: dict[str, str] = {}
    if values.owner not in parties:
        errors["owner"] = UNKNOWN.format("Partie qui apporte")
    if values.beneficiary is not None and values.beneficiary not in parties:
        errors["beneficiary"] = UNKNOWN.format("Au bénéfice de")
    elif values.beneficiary is not None and values.beneficiary == values.owner:
        errors["beneficiary"] = "Une partie ne s’apporte pas quelque chose à elle-même : choisissez une autre partie."
    if values.partner is not None and values.partner not in set().union(*partners_of.values()):
        errors["partner"] = UNKNOWN.format("Porté par le partenaire")
    elif values.partner is not None and values.owner in parties:
        owner = parties[values.owner]
        if values.partner not in partners_of.get(owner["territory"], set()):
            errors["partner"] = f"Ce partenaire ne travaille pas avec {owner['name']}, la partie qui apporte."
    themes = {t["id"] for t in choices["themes"]}
    if values.theme is not None and values.theme not in themes:
        errors["theme"] = UNKNOWN.format("Thème")
    elif values.theme is None and themes:
        errors["theme"] = "« Thème » est obligatoire : chaque obligation relève d’un thème du contrat."
    end = ends_on or agreement["ends_on"]
    if values.deadline and end and values.deadline > end:
        errors["deadline"] = f"L’échéance ne peut dépasser la date de fin du contrat ({date_fr(end)})."
    if errors:
        raise InvalidInput(GENERIC, errors=errors)
    return {
        Obligation.title: values.title,
        Obligation.description: values.description,
        Obligation.owner: values.owner,
        Obligation.beneficiary: values.beneficiary,
        Obligation.partner: values.partner,
        Obligation.deadline: values.deadline,
        Obligation.theme: values.theme,
    }


def edit_lines(agreement: dict, partner_names: dict[int, str], before: dict, after: dict) -> list[str]:
    """The history's lines for an obligation's edit: each field that changed, before → after, by name."""
    parties = {p["id"]: p["name"] for p in agreement["parties"]}
    themes = {t["id"]: t["theme"] for t in agreement["theme_rows"]}

    def beneficiary(value: int | None) -> str:
        return parties.get(value, "") if value else "les autres parties"

    return edits.changes([
        ("Thème", themes.get(before["theme"], ""), themes.get(after["theme"], "")),
        ("Partie qui apporte", parties.get(before["owner"], ""), parties.get(after["owner"], "")),
        ("Ce qui est apporté", before["title"], after["title"]),
        ("Précisions", before["description"], after["description"]),
        ("Au bénéfice de", beneficiary(before["beneficiary"]), beneficiary(after["beneficiary"])),
        ("Porté par le partenaire", partner_names.get(before["partner"], ""), partner_names.get(after["partner"], "")),
        ("Échéance", before["deadline"], after["deadline"]),
    ])


async def _owner_territory(agreement_id: int, party_id: int) -> int:
    """Inside the write transaction: the territory of the party that brings, still a party of this agreement."""
    owner = await AgreementParty.select(AgreementParty.territory).where(
        (AgreementParty.id == party_id) & (AgreementParty.agreement == agreement_id)
    ).first()
    if owner is None:  # removed meanwhile
        raise InvalidInput("Cette partie n’est plus partie au contrat : rechargez la page.",
                           errors={"owner": "Partie inconnue."})
    return owner["territory"]


async def create_obligation(
    viewer: Viewer, agreement_id: int, values: ObligationInput, *, at: datetime | None = None
) -> int:
    """Write what a party brings into a draft; its first history entry (« À venir »). Returns its id."""
    agreement = await editable_agreement(viewer, agreement_id, DRAFTING, DRAFT_ONLY, refused=MAY_NOT_ADD)
    columns = await check_obligation(values, agreement)
    now = at or clock.now()
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY, at=now)
        territory = await _owner_territory(agreement_id, values.owner)
        obligation = Obligation(agreement=agreement_id, status=OBLIGATION.initial, version=1, created_at=now,
                                updated_at=now, **{column._meta.name: value for column, value in columns.items()})
        await obligation.save()
        await lifecycle.record_created(OBLIGATION, obligation.id, territory, viewer,
                                       comment="Obligation inscrite au contrat", at=now)
    return obligation.id


async def update_obligation(
    viewer: Viewer, obligation_id: int, values: ObligationInput, version: int | None, *, at: datetime | None = None
) -> int:
    """Edit what an obligation says while the contract is drafted; returns the agreement id. When something
    changed, one history entry names each field, before → after."""
    obligation = await editable_obligation(viewer, obligation_id)
    agreement = obligation["agreement_row"]
    columns = await check_obligation(values, agreement)
    async with write_transaction():
        await hold_agreement(agreement["id"], DRAFTING, DRAFT_ONLY, at=at)
        territory = await _owner_territory(agreement["id"], values.owner)
        fields = [column._meta.name for column in columns]
        before = await Obligation.select(*columns, Obligation.status).where(Obligation.id == obligation_id).first()
        await lifecycle.save_edit(OBLIGATION, obligation_id, version, columns, at=at)
        partners = {p["id"]: p["name"] for g in (await obligation_form_choices(agreement))["partner_groups"]
                    for p in g["partners"]}
        lines = edit_lines(agreement, partners, before, {f: getattr(values, f) for f in fields})
        if lines:
            await lifecycle.record(subject=OBLIGATION.subject, subject_id=obligation_id, territory_id=territory,
                                   source=before["status"], target="modification", actor=viewer,
                                   comment=edits.comment(lines), at=at)
    return agreement["id"]


async def delete_obligation(
    viewer: Viewer, obligation_id: int, version: int | None, *, at: datetime | None = None
) -> int:
    """Take an obligation out of a draft if nobody changed it since `version` was read; the history keeps a
    « supprimee » entry. Returns the agreement id."""
    obligation = await editable_obligation(viewer, obligation_id)
    agreement = obligation["agreement_row"]
    async with write_transaction():
        await hold_agreement(agreement["id"], DRAFTING, DRAFT_ONLY, at=at)
        # The version check (and the one conflict message) of every edit, then the row goes.
        await lifecycle.save_edit(OBLIGATION, obligation_id, version, {}, at=at)
        await Obligation.delete().where(Obligation.id == obligation_id)
        await lifecycle.record(subject=OBLIGATION.subject, subject_id=obligation_id,
                               territory_id=obligation["owner_territory"], source=obligation["status"],
                               target="supprimee", actor=viewer,
                               comment=f"Obligation retirée du projet de contrat : « {obligation['title']} »", at=at)
    return agreement["id"]
