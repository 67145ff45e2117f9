"""The one place where an agreement's state, a party's signature and an obligation's status change.
Web forms, htmx, the `contrats-echus` command and the demo all call these functions: permission, rules, the new
value and its history entry, in one transaction (subject_type "agreement" or "obligation").

Agreement states and transitions (DESIGN.md §4; labels in states.py):

    brouillon ──► en_negociation ──► a_signer ──► en_vigueur ◄──► suspendu
                        ▲               │             │              │
                        └───────────────┘             ▼              ▼
                     (reopen: comment,             echu (end date passed: by hand or by the
                      signatures withdrawn)              `python -m tracker contrats-echus` command)
    resilie: from every state but echu; echu and resilie are final.

- brouillon → en_negociation: no condition.
- en_negociation → a_signer: at least two parties, at least one obligation owned by each party (reciprocity:
  each one brings something), and an end date. From then on the text (title, purpose, themes, dates, parties,
  obligations) is frozen: it is what the parties sign.
- a_signer → en_negociation: comment required; the signatures already recorded are withdrawn (the text will
  change: nobody stays bound to a text they did not sign); their history entries remain.
- a_signer → en_vigueur: every party has signed; the end date is not past. The in-force date, if empty, becomes
  the day of the transition.
- en_vigueur → suspendu: comment required. suspendu → en_vigueur: the end date is not past.
- en_vigueur | suspendu → echu: only once the end date is past.
- any state but echu/resilie → resilie: comment required (terminating a contract, or abandoning a draft).
Who: éditeurs and référents of any party territory. Reviewers and administrators without a role change nothing.

Signatures: only a référent of a party's territory signs for that party, while the agreement is « À signer »,
once that party's deliberation is recorded (except the État, which does not deliberate). Who and when are kept on
the party, and the signature is one history entry of the agreement (to_value "signature").

Obligations: the actions' statuses and rules (tracker.roadmaps.statuses: comment to block, pause, abandon or
reopen; overdue is derived). They are followed from the entry into force on (en_vigueur, suspendu, and after the
end to record the outcome); before that they are being negotiated. Only the owner party's éditeurs and référents
change an obligation's status.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import arrow

from tracker.accounts.permissions import Viewer
from tracker.agreements.states import (
    AGREEMENT_STATE_LABELS,
    EXPIRABLE,
    FOLLOW_UP,
    TRANSITIONS,
    state_comment_required,
)
from tracker.agreements.tables import Agreement, AgreementParty, Obligation
from tracker.db import write_transaction
from tracker.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tracker.history import service as history
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.statuses import CLOSED, STATUS_LABELS, comment_required
from tracker.web.french import PARIS, date_fr, relative_fr, today_paris

COMMENT_MAX = 2000
NOT_FOUND_AGREEMENT = "Ce contrat n’existe pas ou ne vous est pas accessible."
NOT_FOUND_OBLIGATION = "Cette obligation n’existe pas ou ne vous est pas accessible."
NOT_FOUND_PARTY = "Cette partie n’existe pas ou ne vous est pas accessible."
CHANGED_AGREEMENT = "Ce contrat a été modifié par quelqu’un d’autre depuis que vous l’avez ouvert"
CHANGED_OBLIGATION = "Cette obligation a été modifiée par quelqu’un d’autre depuis que vous l’avez ouverte"
STATE_KIND = "ETAT"  # the État signs without a deliberation


class NotNow(DomainError):
    """Refused because of where the agreement is in its life cycle (e.g. signing a draft)."""

    status_code = 409
    title = "Impossible à ce stade du contrat"


@dataclass(frozen=True)
class Change:
    subject_id: int
    from_value: str
    to_value: str
    version: int


def _day(at: datetime | None) -> date:
    return arrow.get(at).to(PARIS).date() if at else today_paris()


def _check_comment_and_version(comment: str, version: int | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        message = f"Le commentaire ne peut dépasser {COMMENT_MAX} caractères."
        raise InvalidInput(message, errors={"comment": message})
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})
    return comment


async def _conflict_message(subject_type: str, subject_id: int, what: str) -> str:
    """`what` says who was changed since the user opened it, e.g. CHANGED_AGREEMENT."""
    last = (
        await HistoryEntry.select(HistoryEntry.created_at, HistoryEntry.actor.full_name.as_alias("who"))
        .where((HistoryEntry.subject_type == subject_type) & (HistoryEntry.subject_id == subject_id))
        .order_by(HistoryEntry.id, ascending=False)
        .first()
    )
    detail = f" ({last['who'] or 'quelqu’un'}, {relative_fr(last['created_at'])})" if last else ""
    return (
        f"{what}{detail}. Votre changement n’a pas été enregistré : rechargez la page pour voir son état actuel."
    )


async def party_rows(agreement_id: int) -> list[dict]:
    """The parties in their order, with the territory's name and kind."""
    return (
        await AgreementParty.select(
            AgreementParty.id,
            AgreementParty.territory,
            AgreementParty.position,
            AgreementParty.deliberation_on,
            AgreementParty.deliberation_ref,
            AgreementParty.signed_on,
            AgreementParty.signed_at,
            AgreementParty.signed_by,
            AgreementParty.version,
            AgreementParty.territory.name.as_alias("name"),
            AgreementParty.territory.siren.as_alias("siren"),
            AgreementParty.territory.kind.as_alias("kind"),
            AgreementParty.territory.typology.as_alias("typology"),
            AgreementParty.signed_by.full_name.as_alias("signed_by_name"),
        )
        .where(AgreementParty.agreement == agreement_id)
        .order_by(AgreementParty.position)
        .order_by(AgreementParty.id)
    )


async def hold_agreement(agreement_id: int, states: frozenset[str] | set[str], refusal: str) -> None:
    """Inside a write transaction: lock the agreement's row while it is in one of `states` (NotNow otherwise),
    so that what follows reads what concurrent writers committed and cannot interleave with a state change."""
    held = (
        await Agreement.update({Agreement.updated_at: arrow.utcnow().datetime})
        .where((Agreement.id == agreement_id) & Agreement.state.is_in(list(states)))
        .returning(Agreement.id)
    )
    if not held:
        raise NotNow(refusal)


# --- agreement state ---------------------------------------------------------------------------------------


def _comment_needed_message(from_state: str, to_state: str) -> str:
    if to_state == "resilie":
        return "Un commentaire est obligatoire pour résilier un contrat : expliquez pourquoi."
    if to_state == "suspendu":
        return "Un commentaire est obligatoire pour suspendre un contrat : expliquez pourquoi."
    return (
        "Un commentaire est obligatoire pour rouvrir la négociation d’un contrat soumis à la signature : "
        "expliquez ce qui doit changer."
    )


async def _refusals(agreement: dict, to_state: str, today: date) -> list[str]:
    """What prevents the transition, read after the row is locked (so nobody changes it meanwhile)."""
    problems: list[str] = []
    ends_on = agreement["ends_on"]
    if to_state == "a_signer":
        parties = await party_rows(agreement["id"])
        if len(parties) < 2:
            problems.append("il faut au moins deux parties")
        owners = {
            row["owner"]
            for row in await Obligation.select(Obligation.owner).where(Obligation.agreement == agreement["id"])
        }
        for party in parties:
            if party["id"] not in owners:
                problems.append(f"aucune obligation n’est inscrite pour ce qu’apporte {party['name']}")
        if ends_on is None:
            problems.append("la date de fin n’est pas renseignée")
        elif ends_on < today:
            problems.append(f"la date de fin ({date_fr(ends_on)}) est dépassée")
    elif to_state == "en_vigueur":
        if agreement["state"] == "a_signer":
            missing = [p["name"] for p in await party_rows(agreement["id"]) if p["signed_at"] is None]
            if missing:
                problems.append("toutes les parties doivent avoir signé ; signature manquante : " + ", ".join(missing))
        if ends_on is not None and ends_on < today:
            problems.append(f"sa date de fin ({date_fr(ends_on)}) est dépassée : il est échu")
    elif to_state == "echu":
        if ends_on is None:
            problems.append("il n’a pas de date de fin")
        elif ends_on >= today:
            problems.append(f"il ne le sera qu’après sa date de fin ({date_fr(ends_on)})")
    return problems


REFUSAL_INTRO = {
    "a_signer": "Le contrat ne peut pas encore être soumis à la signature : ",
    "en_vigueur": "Le contrat ne peut entrer en vigueur : ",
    "echu": "Le contrat ne peut être déclaré échu : ",
}


async def change_agreement_state(
    viewer: Viewer,
    agreement_id: int,
    new_state: str,
    comment: str,
    version: int | None,
    *,
    at: datetime | None = None,
) -> Change:
    """Apply a transition or raise NotFound / Forbidden / InvalidInput / NotNow / Conflict; nothing is written
    on error. `version` is the agreement's version the user saw."""
    if new_state not in AGREEMENT_STATE_LABELS:
        raise InvalidInput("État inconnu : choisissez un état dans la liste.", errors={"state": "État inconnu."})
    comment = _check_comment_and_version(comment, version)
    when = at or arrow.utcnow().datetime
    today = _day(at)

    async with write_transaction():
        agreement = (
            await Agreement.select(
                Agreement.id, Agreement.territory, Agreement.state, Agreement.version, Agreement.in_force_on,
                Agreement.ends_on,
            )
            .where(Agreement.id == agreement_id)
            .first()
        )
        territories = [p["territory"] for p in await party_rows(agreement_id)] if agreement else []
        if agreement is None or not viewer.can_read_agreement(territories):
            raise NotFound(NOT_FOUND_AGREEMENT)
        if not viewer.can_edit_agreement(territories):
            raise Forbidden("Votre rôle ne permet pas de changer l’état de ce contrat.")
        if agreement["version"] != version:
            raise Conflict(await _conflict_message("agreement", agreement_id, CHANGED_AGREEMENT))
        from_state = agreement["state"]
        if new_state == from_state:
            message = f"Le contrat est déjà à l’état « {AGREEMENT_STATE_LABELS[new_state]} »."
            raise InvalidInput(message, errors={"state": "État inchangé."})
        if new_state not in TRANSITIONS[from_state]:
            allowed = ", ".join(f"« {AGREEMENT_STATE_LABELS[s]} »" for s in TRANSITIONS[from_state]) or "aucun"
            message = (
                f"Un contrat à l’état « {AGREEMENT_STATE_LABELS[from_state]} » ne peut passer à l’état "
                f"« {AGREEMENT_STATE_LABELS[new_state]} ». États possibles : {allowed}."
            )
            raise InvalidInput(message, errors={"state": message})
        if state_comment_required(from_state, new_state) and not comment:
            message = _comment_needed_message(from_state, new_state)
            raise InvalidInput(message, errors={"comment": message})

        values: dict = {Agreement.state: new_state, Agreement.version: version + 1, Agreement.updated_at: when}
        if new_state == "en_vigueur" and agreement["in_force_on"] is None:
            values[Agreement.in_force_on] = today
        # The version in the WHERE clause locks the row and makes the check hold under concurrency.
        updated = (
            await Agreement.update(values)
            .where((Agreement.id == agreement_id) & (Agreement.version == version))
            .returning(Agreement.id)
        )
        if not updated:
            raise Conflict(await _conflict_message("agreement", agreement_id, CHANGED_AGREEMENT))
        problems = await _refusals(agreement, new_state, today)
        if problems:
            message = REFUSAL_INTRO[new_state] + " ; ".join(problems) + "."
            raise InvalidInput(message, errors={"state": message})  # rolls the update back
        if (from_state, new_state) == ("a_signer", "en_negociation"):
            await AgreementParty.update(
                {
                    AgreementParty.signed_on: None,
                    AgreementParty.signed_at: None,
                    AgreementParty.signed_by: None,
                    AgreementParty.version: AgreementParty.version + 1,
                }
            ).where((AgreementParty.agreement == agreement_id) & AgreementParty.signed_at.is_not_null())
        await history.record(
            subject_type="agreement",
            subject_id=agreement_id,
            territory_id=agreement["territory"],
            from_value=from_state,
            to_value=new_state,
            actor_id=viewer.user_id,
            comment=comment,
            at=when,
        )
    return Change(subject_id=agreement_id, from_value=from_state, to_value=new_state, version=version + 1)


async def expire_agreement(agreement_id: int, *, at: datetime | None = None) -> bool:
    """The `contrats-echus` command: an in-force (or suspended) agreement whose end date has passed becomes
    « Échu », with a history entry that has no user. Returns False when there is nothing to do."""
    when = at or arrow.utcnow().datetime
    today = _day(at)
    async with write_transaction():
        row = (
            await Agreement.select(Agreement.id, Agreement.territory, Agreement.state, Agreement.version,
                                   Agreement.ends_on)
            .where(Agreement.id == agreement_id)
            .first()
        )
        if row is None or row["state"] not in EXPIRABLE or row["ends_on"] is None or row["ends_on"] >= today:
            return False
        updated = (
            await Agreement.update(
                {Agreement.state: "echu", Agreement.version: row["version"] + 1, Agreement.updated_at: when}
            )
            .where((Agreement.id == agreement_id) & (Agreement.version == row["version"]))
            .returning(Agreement.id)
        )
        if not updated:
            return False  # changed meanwhile: the next run decides again
        await history.record(
            subject_type="agreement",
            subject_id=agreement_id,
            territory_id=row["territory"],
            from_value=row["state"],
            to_value="echu",
            actor_id=None,
            comment=(
                f"Échu automatiquement : la date de fin du contrat ({date_fr(row['ends_on'])}) est dépassée "
                "(commande contrats-echus)."
            ),
            at=when,
        )
    return True


async def expire_ended_agreements(*, at: datetime | None = None) -> list[int]:
    """Every in-force or suspended agreement whose end date has passed, one transaction each."""
    today = _day(at)
    candidates = await Agreement.select(Agreement.id).where(
        Agreement.state.is_in(list(EXPIRABLE)) & Agreement.ends_on.is_not_null() & (Agreement.ends_on < today)
    ).order_by(Agreement.id)
    return [row["id"] for row in candidates if await expire_agreement(row["id"], at=at)]


# --- signatures --------------------------------------------------------------------------------------------


async def sign_for_party(
    viewer: Viewer,
    agreement_id: int,
    party_id: int,
    signed_on: date | None,
    version: int | None,
    *,
    at: datetime | None = None,
) -> Change:
    """A party's référent records that party's signature (date on the document); one history entry."""
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})
    when = at or arrow.utcnow().datetime
    today = _day(at)
    async with write_transaction():
        parties = await party_rows(agreement_id)
        party = next((p for p in parties if p["id"] == party_id), None)
        if not parties or not viewer.can_read_agreement([p["territory"] for p in parties]):
            raise NotFound(NOT_FOUND_AGREEMENT)
        if party is None:
            raise NotFound(NOT_FOUND_PARTY)
        if not viewer.can_sign_for(party["territory"]):
            raise Forbidden(
                f"Chaque partie signe pour elle-même : seuls les référents de {party['name']} peuvent signer "
                "en son nom."
            )
        await hold_agreement(
            agreement_id, {"a_signer"},
            "Le contrat n’est pas à l’état « À signer » : les signatures ne s’enregistrent qu’à ce stade.",
        )
        current = (  # read again under the lock
            await AgreementParty.select(
                AgreementParty.version, AgreementParty.signed_at, AgreementParty.deliberation_on
            )
            .where(AgreementParty.id == party_id)
            .first()
        )
        deliberation_on = current["deliberation_on"]
        if current["version"] != version:
            raise Conflict(
                f"Les informations de {party['name']} ont été modifiées par quelqu’un d’autre depuis que vous avez "
                "ouvert la page. Rien n’a été enregistré : rechargez la page."
            )
        if current["signed_at"] is not None:
            raise InvalidInput(f"{party['name']} a déjà signé ce contrat.", errors={"signed_on": "Déjà signé."})
        errors: dict[str, str] = {}
        if party["kind"] != STATE_KIND and deliberation_on is None:
            errors["signed_on"] = (
                f"Enregistrez d’abord la délibération de {party['name']} qui autorise la signature."
            )
        elif signed_on is None:
            errors["signed_on"] = "« Date de signature » est obligatoire."
        elif signed_on > today:
            errors["signed_on"] = "La date de signature ne peut être dans le futur."
        elif deliberation_on and signed_on < deliberation_on:
            errors["signed_on"] = (
                f"La date de signature ne peut précéder la délibération du {date_fr(deliberation_on)}."
            )
        if errors:
            raise InvalidInput(errors["signed_on"], errors=errors)
        updated = (
            await AgreementParty.update(
                {
                    AgreementParty.signed_on: signed_on,
                    AgreementParty.signed_at: when,
                    AgreementParty.signed_by: viewer.user_id,
                    AgreementParty.version: version + 1,
                }
            )
            .where((AgreementParty.id == party_id) & (AgreementParty.version == version))
            .returning(AgreementParty.id)
        )
        if not updated:
            raise Conflict("La signature de cette partie vient d’être modifiée : rechargez la page.")
        await history.record(
            subject_type="agreement",
            subject_id=agreement_id,
            territory_id=party["territory"],
            from_value="a_signer",
            to_value="signature",
            actor_id=viewer.user_id,
            comment=f"Signature de {party['name']} (document signé le {date_fr(signed_on)}).",
            at=when,
        )
    return Change(subject_id=party_id, from_value="", to_value="signature", version=version + 1)


# --- obligations -------------------------------------------------------------------------------------------


def _obligation_comment_message(from_status: str, to_status: str) -> str:
    if from_status in CLOSED:
        return (
            f"Un commentaire est obligatoire pour rouvrir une obligation « {STATUS_LABELS[from_status].lower()} » : "
            "expliquez pourquoi elle reprend."
        )
    return (
        f"Un commentaire est obligatoire pour passer une obligation au statut « {STATUS_LABELS[to_status]} » : "
        "expliquez pourquoi."
    )


async def change_obligation_status(
    viewer: Viewer,
    obligation_id: int,
    new_status: str,
    comment: str,
    version: int | None,
    *,
    at: datetime | None = None,
) -> Change:
    """The actions' rules applied to what a party brings; nothing is written on error."""
    if new_status not in STATUS_LABELS:
        raise InvalidInput("Statut inconnu : choisissez un statut dans la liste.", errors={"status": "Statut inconnu."})
    comment = _check_comment_and_version(comment, version)
    when = at or arrow.utcnow().datetime
    async with write_transaction():
        obligation = (
            await Obligation.select(
                Obligation.id,
                Obligation.agreement,
                Obligation.status,
                Obligation.version,
                Obligation.owner.territory.as_alias("owner_territory"),
                Obligation.owner.territory.name.as_alias("owner_name"),
                Obligation.agreement.state.as_alias("agreement_state"),
            )
            .where(Obligation.id == obligation_id)
            .first()
        )
        territories = [p["territory"] for p in await party_rows(obligation["agreement"])] if obligation else []
        if obligation is None or not viewer.can_read_agreement(territories):
            raise NotFound(NOT_FOUND_OBLIGATION)
        if not viewer.can_edit_territory(obligation["owner_territory"]):
            raise Forbidden(
                f"Seuls les éditeurs et référents de {obligation['owner_name']} mettent à jour ce qu’apporte "
                "cette partie."
            )
        if obligation["agreement_state"] not in FOLLOW_UP:
            raise NotNow(
                "Le contrat n’est pas encore en vigueur : le statut de ses obligations se suit à partir de son "
                "entrée en vigueur."
            )
        if obligation["version"] != version:
            raise Conflict(await _conflict_message("obligation", obligation_id, CHANGED_OBLIGATION))
        from_status = obligation["status"]
        if new_status == from_status:
            raise InvalidInput(
                f"L’obligation est déjà au statut « {STATUS_LABELS[new_status]} ».", errors={"status": "Statut inchangé."}
            )
        if comment_required(from_status, new_status) and not comment:
            message = _obligation_comment_message(from_status, new_status)
            raise InvalidInput(message, errors={"comment": message})
        updated = (
            await Obligation.update(
                {Obligation.status: new_status, Obligation.version: version + 1, Obligation.updated_at: when}
            )
            .where((Obligation.id == obligation_id) & (Obligation.version == version))
            .returning(Obligation.id)
        )
        if not updated:
            raise Conflict(await _conflict_message("obligation", obligation_id, CHANGED_OBLIGATION))
        await history.record(
            subject_type="obligation",
            subject_id=obligation_id,
            territory_id=obligation["owner_territory"],
            from_value=from_status,
            to_value=new_status,
            actor_id=viewer.user_id,
            comment=comment,
            at=when,
        )
    return Change(subject_id=obligation_id, from_value=from_status, to_value=new_status, version=version + 1)
