"""Agreements' and obligations' life cycles, declared once for the kernel (tracker.lifecycle), and a party's
signature. Web forms, htmx, the `contrats-echus` command and the demo all go through them: permission, rules, the new
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
Who: éditeurs and référents of any party territory (not of a witness). Reviewers and administrators without a
role change nothing.

Recorded after the fact (recording.py): a draft whose agreement was signed long ago goes straight to the state it
is in — brouillon → en_vigueur, then → echu or → resilie — each entry at its real date and marked as recorded
afterwards (the kernel's `recorded_at`). Only that service takes brouillon → en_vigueur (side « recorder »: a
référent of a party, or an administrator), never the state form.

Signatures: only a référent of a party's territory signs for that party, while the agreement is « À signer »,
once that party's deliberation is recorded (except the État, which does not deliberate, and witnesses). A witness
may sign; its signature is not needed for the agreement to take effect. Who and when are kept on
the party, and the signature is one history entry of the agreement (to_value "signature").

Obligations: the actions' statuses and rules (tracker.roadmaps.statuses: comment to block, pause, abandon or
reopen; overdue is derived). They are followed from the entry into force on (en_vigueur, suspendu, and after the
end to record the outcome); before that they are being negotiated. Only the owner party's éditeurs and référents
change an obligation's status.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tracker import lifecycle
from tracker.agreements.states import (
    AGREEMENT_STATE_LABELS,
    EXPIRABLE,
    FOLLOW_UP,
    TRANSITIONS,
)
from tracker.agreements.tables import Agreement, AgreementParty, Obligation
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.lifecycle import SYSTEM, Actor, Change, Machine, Step, Transition
from tracker.roadmaps.lifecycle import status_transitions
from tracker.roadmaps.statuses import STATUS_LABELS

NOT_FOUND_AGREEMENT = "Ce contrat n’existe pas ou ne vous est pas accessible."
NOT_FOUND_OBLIGATION = "Cette obligation n’existe pas ou ne vous est pas accessible."
NOT_FOUND_PARTY = "Cette partie n’existe pas ou ne vous est pas accessible."
STATE_KIND = "ETAT"  # the État signs without a deliberation
RECORDING = "recording"  # `via` of the changes recording.py writes: the side « recorder »


MAY_NOT_RECORD = (
    "Seuls les référents d’un territoire partie, ou un administrateur, enregistrent un contrat déjà signé."
)


class NotNow(DomainError):
    """Refused because of where the agreement is in its life cycle (e.g. signing a draft)."""

    status_code = 409
    title = "Impossible à ce stade du contrat"


# A party's deliberation and signature are edited under its own version (no life cycle of its own).
PARTY = lifecycle.Versioned(subject="party", table=AgreementParty, this="Cette partie", feminine=True)


async def party_rows(agreement_id: int) -> list[dict]:
    """The parties and witnesses (`role`) in their order, with the territory's name and kind."""
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
            AgreementParty.role,
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


async def hold_agreement(
    agreement_id: int, states: frozenset[str] | set[str], refusal: str, *, at: datetime | None = None
) -> None:
    """Inside a write transaction: lock the agreement's row while it is in one of `states` (NotNow otherwise),
    so that what follows reads what concurrent writers committed and cannot interleave with a state change."""
    held = (
        await Agreement.update({Agreement.updated_at: at or clock.now()})
        .where((Agreement.id == agreement_id) & Agreement.state.is_in(list(states)))
        .returning(Agreement.id)
    )
    if not held:
        raise NotNow(refusal)


# --- agreement state ---------------------------------------------------------------------------------------


def _comment_rule(source: str, target: str) -> str | None:
    """Terminating, suspending, and reopening a text some parties may have signed: always explained."""
    if target == "resilie":
        return "Un commentaire est obligatoire pour résilier un contrat : expliquez pourquoi."
    if target == "suspendu":
        return "Un commentaire est obligatoire pour suspendre un contrat : expliquez pourquoi."
    if (source, target) == ("a_signer", "en_negociation"):
        return (
            "Un commentaire est obligatoire pour rouvrir la négociation d’un contrat soumis à la signature : "
            "expliquez ce qui doit changer."
        )
    return None


def _agreement_transitions() -> tuple[Transition, ...]:
    editors = frozenset({"editor"})
    # What recording after the fact also takes (the end of a contract in force), besides the editors' own uses.
    recorded = {("en_vigueur", "echu"): {SYSTEM, "recorder"}, ("suspendu", "echu"): {SYSTEM},
                ("en_vigueur", "resilie"): {"recorder"}}
    by_hand = tuple(
        Transition(source, target, by=editors | recorded.get((source, target), set()),
                   comment=_comment_rule(source, target))
        for source, targets in TRANSITIONS.items()
        for target in targets
    )
    return by_hand + (Transition("brouillon", "en_vigueur", by=frozenset({"recorder"}), internal=True),)


async def _load_agreement(agreement_id: int) -> dict | None:
    row = (
        await Agreement.select(
            Agreement.id, Agreement.territory, Agreement.state, Agreement.version, Agreement.in_force_on,
            Agreement.ends_on,
        )
        .where(Agreement.id == agreement_id)
        .first()
    )
    if row is not None:
        everyone = await AgreementParty.select(AgreementParty.territory, AgreementParty.role).where(
            AgreementParty.agreement == agreement_id)
        row["members"] = [p["territory"] for p in everyone]
        row["parties"] = [p["territory"] for p in everyone if p["role"] == "partie"]
    return row


async def _agreement_side(viewer: Viewer, row: dict, via: Any) -> Actor:
    if not viewer.can_read_agreement(row["members"]):
        raise NotFound(NOT_FOUND_AGREEMENT)
    if via == RECORDING:
        if not viewer.can_record_agreement(row["parties"]):
            raise Forbidden(MAY_NOT_RECORD)
        return Actor("recorder", viewer.user_id)
    if not viewer.can_edit_agreement(row["parties"]):
        raise Forbidden("Votre rôle ne permet pas de changer l’état de ce contrat.")
    return Actor("editor", viewer.user_id)


def _agreement_values(step: Step) -> dict:
    if step.transition.target == "en_vigueur" and step.row["in_force_on"] is None:
        return {Agreement.in_force_on: step.today}
    return {}


async def _refusals(agreement: dict, to_state: str, today: date) -> list[str]:
    """What prevents the transition, read after the row is locked (so nobody changes it meanwhile)."""
    problems: list[str] = []
    ends_on = agreement["ends_on"]
    if to_state == "a_signer":
        parties = [p for p in await party_rows(agreement["id"]) if p["role"] == "partie"]
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
            missing = [p["name"] for p in await party_rows(agreement["id"])
                       if p["signed_at"] is None and p["role"] == "partie"]
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




async def _agreement_after(step: Step) -> None:
    """Read after the row is locked by the UPDATE, so that nobody changes the parties meanwhile."""
    problems = await _refusals(step.row, step.transition.target, step.today)
    if problems:
        message = REFUSAL_INTRO[step.transition.target] + " ; ".join(problems) + "."
        raise InvalidInput(message, errors={"status": message})  # rolls the update back
    if (step.transition.source, step.transition.target) == ("a_signer", "en_negociation"):
        # The text will change: nobody stays bound to a text they did not sign (the history keeps the signatures).
        await AgreementParty.update(
            {
                AgreementParty.signed_on: None,
                AgreementParty.signed_at: None,
                AgreementParty.signed_by: None,
                AgreementParty.version: AgreementParty.version + 1,
            }
        ).where((AgreementParty.agreement == step.row["id"]) & AgreementParty.signed_at.is_not_null())


AGREEMENT = Machine(
    subject="agreement",
    table=Agreement,
    state=Agreement.state,
    labels=AGREEMENT_STATE_LABELS,
    initial="brouillon",
    transitions=_agreement_transitions(),
    load=_load_agreement,
    side=_agreement_side,
    not_found=NOT_FOUND_AGREEMENT,
    a="Un contrat",
    the="Le contrat",
    this="Ce contrat",
    feminine=False,
    values=_agreement_values,
    after=_agreement_after,
)


async def change_agreement_state(
    viewer: Viewer, agreement_id: int, new_state: str, comment: str | None, version: int | None,
    *, at: datetime | None = None,
) -> Change:
    """Apply a transition or raise NotFound / Forbidden / InvalidInput / Conflict; nothing is written on error."""
    return await lifecycle.apply(AGREEMENT, viewer, agreement_id, new_state, comment, version, at=at)


async def expire_agreement(agreement_id: int, *, at: datetime | None = None) -> bool:
    """The `contrats-echus` command: an in-force (or suspended) agreement whose end date has passed becomes
    « Échu », with a history entry that has no user. Returns False when there is nothing to do."""
    row = await Agreement.select(Agreement.version, Agreement.ends_on).where(Agreement.id == agreement_id).first()
    if row is None or row["ends_on"] is None:
        return False
    comment = (
        f"Échu automatiquement : la date de fin du contrat ({date_fr(row['ends_on'])}) est dépassée "
        "(commande contrats-echus)."
    )
    try:
        await lifecycle.apply(AGREEMENT, Viewer(), agreement_id, "echu", comment, row["version"], via=SYSTEM, at=at)
    except DomainError:
        return False  # not expirable, or changed meanwhile: the next run decides again
    return True


async def expire_ended_agreements(*, at: datetime | None = None) -> list[int]:
    """Every in-force or suspended agreement whose end date has passed, one transaction each."""
    today = (at or clock.now()).astimezone(clock.PARIS).date()
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
    when = at or clock.now()
    today = when.astimezone(clock.PARIS).date()
    async with write_transaction():
        parties = await party_rows(agreement_id)
        party = next((p for p in parties if p["id"] == party_id), None)
        if not parties or not viewer.can_read_agreement([p["territory"] for p in parties]):
            raise NotFound(NOT_FOUND_AGREEMENT)
        if party is None:
            raise NotFound(NOT_FOUND_PARTY)
        witness = party["role"] != "partie"
        if not viewer.can_sign_for(party["territory"]):
            raise Forbidden(
                f"Chaque partie signe pour elle-même : seuls les référents de {party['name']} peuvent signer "
                "en son nom."
            )
        await hold_agreement(
            agreement_id, {"a_signer"},
            "Le contrat n’est pas à l’état « À signer » : les signatures ne s’enregistrent qu’à ce stade.",
            at=when,
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
            raise Conflict(await lifecycle.conflict_message(PARTY, party_id))
        if current["signed_at"] is not None:
            raise InvalidInput(f"{party['name']} a déjà signé ce contrat.", errors={"signed_on": "Déjà signé."})
        errors: dict[str, str] = {}
        if party["kind"] != STATE_KIND and not witness and deliberation_on is None:
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
        new_version = await lifecycle.save_edit(
            PARTY,
            party_id,
            version,
            {
                AgreementParty.signed_on: signed_on,
                AgreementParty.signed_at: when,
                AgreementParty.signed_by: viewer.user_id,
            },
            at=when,
        )
        await lifecycle.record(
            subject=AGREEMENT.subject,
            subject_id=agreement_id,
            territory_id=party["territory"],
            source="a_signer",
            target="signature",
            actor=viewer,
            comment=(f"Signature de {party['name']}{' en qualité de témoin' if witness else ''} "
                     f"(document signé le {date_fr(signed_on)})."),
            at=when,
        )
    return Change(PARTY.subject, party_id, "", "signature", new_version)


# --- obligations -------------------------------------------------------------------------------------------


async def _load_obligation(obligation_id: int) -> dict | None:
    row = (
        await Obligation.select(
            Obligation.id,
            Obligation.agreement,
            Obligation.status.as_alias("state"),
            Obligation.version,
            Obligation.owner.territory.as_alias("territory"),
            Obligation.owner.territory.name.as_alias("owner_name"),
            Obligation.agreement.state.as_alias("agreement_state"),
            Obligation.ended_by.number.as_alias("ended_by_number"),
        )
        .where(Obligation.id == obligation_id)
        .first()
    )
    if row is not None:
        row["parties"] = [p["territory"] for p in await AgreementParty.select(AgreementParty.territory).where(
            AgreementParty.agreement == row["agreement"])]
    return row


async def _obligation_side(viewer: Viewer, row: dict, _: Any) -> Actor:
    if not viewer.can_read_agreement(row["parties"]):
        raise NotFound(NOT_FOUND_OBLIGATION)
    if not viewer.can_edit_territory(row["territory"]):
        raise Forbidden(
            f"Seuls les éditeurs et référents de {row['owner_name']} mettent à jour ce qu’apporte cette partie."
        )
    if row["agreement_state"] not in FOLLOW_UP:
        raise NotNow(
            "Le contrat n’est pas encore en vigueur : le statut de ses obligations se suit à partir de son "
            "entrée en vigueur."
        )
    if row["ended_by_number"] is not None:
        raise NotNow(f"Cette obligation a pris fin par l’avenant n° {row['ended_by_number']} : "
                     "son statut ne se suit plus.")
    return Actor("editor", viewer.user_id)


OBLIGATION = Machine(
    subject="obligation",
    table=Obligation,
    state=Obligation.status,
    labels=STATUS_LABELS,
    initial="a_venir",
    transitions=status_transitions("une obligation", frozenset({"editor"})),
    load=_load_obligation,
    side=_obligation_side,
    not_found=NOT_FOUND_OBLIGATION,
    a="Une obligation",
    the="L’obligation",
    this="Cette obligation",
    feminine=True,
    state_noun="statut",
)


async def followable_obligation(viewer: Viewer, obligation_id: int) -> dict:
    """The obligation, if this person may change its status now (NotFound / Forbidden / NotNow otherwise).
    Routes ask it before reading what was sent; `apply` checks it again under the lock."""
    row = await _load_obligation(obligation_id)
    if row is None:
        raise NotFound(NOT_FOUND_OBLIGATION)
    await _obligation_side(viewer, row, None)
    return row


async def change_obligation_status(
    viewer: Viewer, obligation_id: int, new_status: str, comment: str | None, version: int | None,
    *, at: datetime | None = None,
) -> Change:
    """The actions' rules applied to what a party brings; nothing is written on error."""
    return await lifecycle.apply(OBLIGATION, viewer, obligation_id, new_status, comment, version, at=at)
