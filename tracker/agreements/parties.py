"""The parties of an agreement: finding territories, adding and removing parties (or witnesses: the État, the
Région) while the text is drafted, each party's deliberation, and who may sign for a party (the signature itself
is lifecycle.sign_for_party). Each addition, removal and deliberation is one history entry of the agreement."""
from __future__ import annotations

from datetime import datetime

from tracker import lifecycle
from tracker.agreements.forms import DeliberationInput
from tracker.agreements.lifecycle import AGREEMENT, NOT_FOUND_PARTY, PARTY, NotNow, hold_agreement, party_rows
from tracker.agreements.reading import (
    DRAFT_ONLY,
    agreement_for,
    editable_agreement,
    require_edit,
    require_state,
)
from tracker.agreements.states import DELIBERATION, DRAFTING, PARTY_ROLE_LABELS, WITNESS_KINDS
from tracker.agreements.tables import AgreementAction, AgreementParty, Obligation
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.territories.search import matching
from tracker.territories.tables import Territory

MAX_PARTIES = 10
SEARCH_RESULTS = 20
NOT_DELIBERATING = "Les délibérations s’enregistrent pendant la négociation ou avant la signature."


async def search_territories(agreement: dict, text: str) -> list[dict]:
    """Territories (any kind) whose name contains the text or whose SIREN it is, not parties yet. Names and
    SIREN of public bodies are public data."""
    if not text:
        return []
    where = matching(text)
    if agreement["member_territories"]:
        where = where & Territory.id.not_in(agreement["member_territories"])
    return (
        await Territory.select(Territory.id, Territory.name, Territory.siren, Territory.kind, Territory.departement)
        .where(where)
        .order_by(Territory.name)
        .limit(SEARCH_RESULTS)
    )


async def add_party(
    viewer: Viewer, agreement_id: int, territory_id: int, role: str = "partie", *, at: datetime | None = None
) -> int:
    """Add a territory as a party (or the État or a Région as a witness) while the text is drafted; returns the
    new party's id. One history entry."""
    agreement = await editable_agreement(viewer, agreement_id, DRAFTING, DRAFT_ONLY)
    territory = await Territory.select(Territory.id, Territory.name, Territory.kind).where(
        Territory.id == territory_id).first()
    if territory is None:
        raise InvalidInput("Ce territoire n’existe pas : choisissez-le dans les résultats de la recherche.",
                           errors={"territory": "Territoire inconnu."})
    if role not in PARTY_ROLE_LABELS:
        raise InvalidInput("« Qualité » : valeur inconnue, choisissez dans la liste.", errors={"role": "Inconnue."})
    if role == "temoin" and territory["kind"] not in WITNESS_KINDS:
        raise InvalidInput(f"Seuls l’État et les régions signent un contrat en qualité de témoin ; "
                           f"{territory['name']} peut y être partie.", errors={"role": "Témoin impossible."})
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY, at=at)
        parties = await party_rows(agreement_id)
        if territory_id in [p["territory"] for p in parties]:
            raise InvalidInput(f"{territory['name']} est déjà partie à ce contrat.",
                               errors={"territory": "Déjà partie."})
        if len(parties) >= MAX_PARTIES:
            raise InvalidInput(f"Un contrat compte {MAX_PARTIES} parties au plus.", errors={"territory": "Trop de parties."})
        position = max((p["position"] for p in parties), default=0) + 1
        party = AgreementParty(agreement=agreement_id, territory=territory_id, position=position,
                               deliberation_ref="", version=1, role=role)
        await party.save()
        await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement_id, territory_id=agreement["territory"],
                               source=agreement["state"], target="partie_ajoutee", actor=viewer, at=at,
                               comment=f"{territory['name']} ajouté{'' if role == 'partie' else ' comme témoin'} "
                                       "au contrat.")
    return party.id


async def remove_party(viewer: Viewer, agreement_id: int, party_id: int, *, at: datetime | None = None) -> None:
    agreement, party = await _party_of(viewer, agreement_id, party_id)
    require_edit(viewer, agreement)
    require_state(agreement, DRAFTING, DRAFT_ONLY)
    if party["territory"] == agreement["territory"]:
        raise InvalidInput(f"{party['name']} porte ce contrat : ce territoire ne peut en être retiré.")
    witness = party["role"] != "partie"
    async with write_transaction():
        await hold_agreement(agreement_id, DRAFTING, DRAFT_ONLY, at=at)
        if await Obligation.exists().where(
            (Obligation.agreement == agreement_id) & ((Obligation.owner == party_id) | (Obligation.beneficiary == party_id))
        ):
            raise InvalidInput(
                f"Des obligations concernent {party['name']} (ce qu’elle apporte ou reçoit) : "
                "retirez-les ou changez-les d’abord."
            )
        if await AgreementAction.exists().where(
            (AgreementAction.agreement == agreement_id) & (AgreementAction.action.territory == party["territory"])
        ):
            raise InvalidInput(f"Des actions de {party['name']} sont liées au contrat : retirez d’abord ces liens.")
        await AgreementParty.delete().where((AgreementParty.id == party_id) & (AgreementParty.agreement == agreement_id))
        await lifecycle.touched(AGREEMENT.subject, agreement_id, party["territory"])  # its figures lose the agreement
        await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement_id, territory_id=agreement["territory"],
                               source=agreement["state"], target="partie_retiree", actor=viewer, at=at,
                               comment=f"{party['name']} retiré du contrat{' (témoin)' if witness else ''}.")


# --- deliberations and who signs ---------------------------------------------------------------------------------


async def _party_of(viewer: Viewer, agreement_id: int, party_id: int) -> tuple[dict, dict]:
    """The agreement (NotFound unless readable) and one of its parties (NotFound otherwise)."""
    agreement = await agreement_for(viewer, agreement_id)
    party = next((p for p in agreement["signatories"] if p["id"] == party_id), None)
    if party is None:
        raise NotFound(NOT_FOUND_PARTY)
    return agreement, party


async def deliberating_party(viewer: Viewer, agreement_id: int, party_id: int) -> dict:
    """The party, if this person may record its deliberation now (NotFound / Forbidden / NotNow otherwise)."""
    agreement, party = await _party_of(viewer, agreement_id, party_id)
    if not viewer.can_edit_territory(party["territory"]):
        raise Forbidden(
            f"Chaque partie enregistre sa propre délibération : seuls les éditeurs et référents de {party['name']} "
            "le peuvent."
        )
    if agreement["state"] not in DELIBERATION:
        raise NotNow(NOT_DELIBERATING)
    return party


async def signing_party(viewer: Viewer, agreement_id: int, party_id: int) -> dict:
    """The party, if this person may sign for it (NotFound / Forbidden otherwise). Whether the agreement awaits
    signatures, and everything else, is checked by lifecycle.sign_for_party under the lock."""
    _, party = await _party_of(viewer, agreement_id, party_id)
    if not viewer.can_sign_for(party["territory"]):
        raise Forbidden(
            f"Chaque partie signe pour elle-même : seuls les référents de {party['name']} peuvent signer en son nom."
        )
    return party


async def record_deliberation(
    viewer: Viewer,
    agreement_id: int,
    party_id: int,
    values: DeliberationInput,
    version: int | None,
    *,
    at: datetime | None = None,
) -> int:
    """Each party records its own deliberation (date, reference), before it signs; returns the party's new
    version, or raises Conflict when the party changed since `version` was read. One history entry."""
    party = await deliberating_party(viewer, agreement_id, party_id)
    today = (at or clock.now()).astimezone(clock.PARIS).date()
    if values.deliberation_on > today:
        raise InvalidInput(GENERIC, errors={"deliberation_on": "La date de la délibération ne peut être dans le futur."})
    async with write_transaction():
        await hold_agreement(agreement_id, DELIBERATION, NOT_DELIBERATING, at=at)
        current = await AgreementParty.select(
            AgreementParty.signed_at, AgreementParty.deliberation_on, AgreementParty.deliberation_ref,
            AgreementParty.agreement.state.as_alias("state"),
        ).where(AgreementParty.id == party_id).first()
        if current["signed_at"] is not None:
            raise NotNow(f"{party['name']} a déjà signé : sa délibération ne se modifie plus.")
        new_version = await lifecycle.save_edit(
            PARTY, party_id, version,
            {AgreementParty.deliberation_on: values.deliberation_on, AgreementParty.deliberation_ref: values.reference},
            at=at,
        )
        comment = deliberation_comment(party["name"], values.reference, values.deliberation_on)
        if current["deliberation_on"] is not None:
            comment += (f" Elle remplace la délibération {current['deliberation_ref']} du "
                        f"{date_fr(current['deliberation_on'])}.")
        await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement_id, territory_id=party["territory"],
                               source=current["state"], target="deliberation", actor=viewer, comment=comment, at=at)
        return new_version


def deliberation_comment(name: str, reference: str, deliberation_on) -> str:
    """How the history names a deliberation."""
    return f"Délibération de {name} ({reference}) du {date_fr(deliberation_on)}."
