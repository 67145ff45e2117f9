"""Recording an agreement after the fact: one signed years ago (in force, expired or terminated) is typed in as a
draft — parties, themes, what each brings — then recorded as it was, in one transaction:

- its real dates (entry into force, end, termination) and the signed document (place, reference, link);
- each party's deliberation and signature, at their real dates;
- the history: the protocol, each deliberation, each signature, the entry into force and, when it is over, its
  expiry or termination — one entry each, at its real date (noon, Paris), marked as recorded afterwards by the
  kernel's `recorded_at` (when it was typed in) with the person who typed it as the actor.

No walk through négociation and signature: brouillon → en_vigueur is a transition only this module takes
(lifecycle.RECORDING), and no end date is invented (an agreement in force may have none)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tracker import lifecycle
from tracker.agreements.forms import RecordingInput
from tracker.agreements.lifecycle import (
    AGREEMENT,
    MAY_NOT_RECORD,
    RECORDING,
    STATE_KIND,
    hold_agreement,
    party_rows,
)
from tracker.agreements.parties import deliberation_comment
from tracker.agreements.reading import agreement_for, require_state
from tracker.agreements.tables import Agreement, AgreementParty, AgreementReview, Obligation
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.lifecycle import Change

NOT_A_DRAFT = (
    "Seul un contrat en brouillon s’enregistre comme déjà signé : saisissez-le d’abord (parties, thèmes, "
    "ce que chacun apporte), puis enregistrez-le tel qu’il a été signé."
)
PARTIES_CHANGED = "Les parties du contrat ont changé depuis l’ouverture du formulaire : rechargez la page."


def event_time(day: date) -> datetime:
    """The moment an event recorded afterwards is placed at: noon in Paris on its day (a date, not an hour)."""
    return datetime.combine(day, time(12), tzinfo=clock.PARIS)


async def recordable_agreement(viewer: Viewer, agreement_id: int) -> dict:
    """The draft, if this person may record it as already signed (NotFound / Forbidden / NotNow otherwise).
    Routes ask it before reading what was sent."""
    agreement = await agreement_for(viewer, agreement_id)
    if not viewer.can_record_agreement(agreement["party_territories"]):
        raise Forbidden(MAY_NOT_RECORD)
    require_state(agreement, {"brouillon"}, NOT_A_DRAFT)
    return agreement


def _date_problems(values: RecordingInput, today: date) -> dict[str, str]:
    """The contract's own dates against today and its state."""
    errors: dict[str, str] = {}
    if values.in_force_on > today:
        errors["in_force_on"] = ("L’entrée en vigueur ne peut être dans le futur : un contrat qui n’est pas encore "
                                 "en vigueur se négocie et se signe ici, partie par partie.")
    end = values.ends_on
    if values.state == "en_vigueur" and end is not None and end < today:
        errors["ends_on"] = f"Sa date de fin ({date_fr(end)}) est passée : enregistrez-le comme échu."
    if values.state == "echu" and end is not None and end >= today:
        errors["ends_on"] = (f"Sa date de fin ({date_fr(end)}) n’est pas passée : "
                             "enregistrez-le comme signé et en vigueur.")
    stop = values.terminated_on
    if stop is not None and stop > today:
        errors["terminated_on"] = "La date de résiliation ne peut être dans le futur."
    elif stop is not None and end is not None and stop > end:
        errors["terminated_on"] = f"La résiliation ne peut suivre la date de fin ({date_fr(end)}) : il était échu."
    return errors


def _party_problems(values: RecordingInput, signatories: list[dict], protocol_on: date | None,
                    today: date) -> dict[str, str]:
    """Each party's deliberation and signature: present, in order, not in the future."""
    errors: dict[str, str] = {}
    given = {p.party: p for p in values.parties}
    for party in signatories:
        prefix, name = f"partie_{party['id']}_", party["name"]
        recorded = given[party["id"]]
        witness = party["role"] != "partie"
        deliberates = not witness and party["kind"] != STATE_KIND
        if deliberates and recorded.deliberation_on is None:
            errors[prefix + "deliberation_on"] = f"La date de la délibération de {name} est obligatoire."
        if recorded.deliberation_on is not None and not recorded.deliberation_ref:
            errors[prefix + "deliberation_ref"] = f"La référence de la délibération de {name} est obligatoire."
        if not witness and recorded.signed_on is None:
            errors[prefix + "signed_on"] = f"La date de signature de {name} est obligatoire."
        for field, day in (("deliberation_on", recorded.deliberation_on), ("signed_on", recorded.signed_on)):
            if day is not None and day > today:
                errors.setdefault(prefix + field, f"Une date de {name} est dans le futur.")
        if recorded.signed_on and recorded.deliberation_on and recorded.signed_on < recorded.deliberation_on:
            errors.setdefault(prefix + "signed_on", f"La signature de {name} ne peut précéder sa délibération.")
        if recorded.signed_on and protocol_on and recorded.signed_on < protocol_on:
            errors.setdefault(prefix + "signed_on",
                              f"La signature de {name} ne peut précéder le protocole du {date_fr(protocol_on)}.")
    return errors


async def _content_problems(agreement_id: int, parties: list[dict], values: RecordingInput) -> list[str]:
    """Read under the lock: what every agreement needs before it is signed (two parties, something brought by
    each one), and obligations and reviews inside its period."""
    problems: list[str] = []
    if len(parties) < 2:
        problems.append("il faut au moins deux parties")
    obligations = await Obligation.select(Obligation.owner, Obligation.title, Obligation.deadline).where(
        Obligation.agreement == agreement_id)
    owners = {row["owner"] for row in obligations}
    problems += [f"aucune obligation n’est inscrite pour ce qu’apporte {p['name']}" for p in parties
                 if p["id"] not in owners]
    if values.ends_on is not None:
        problems += [f"l’obligation « {row['title']} » a une échéance après la date de fin" for row in obligations
                     if row["deadline"] and row["deadline"] > values.ends_on]
    for review in await AgreementReview.select(AgreementReview.review_on).where(
            AgreementReview.agreement == agreement_id):
        day = review["review_on"]
        if day < values.in_force_on or (values.ends_on is not None and day > values.ends_on):
            problems.append(f"la revue du {date_fr(day)} sort de la période du contrat")
    return problems


async def record_signed_agreement(
    viewer: Viewer, agreement_id: int, values: RecordingInput, version: int | None, *, now: datetime | None = None
) -> Change:
    """Record a draft as the agreement it already is (see the module's docstring). Raises NotFound / Forbidden /
    NotNow / InvalidInput / Conflict with nothing written; returns the last change of state."""
    agreement = await recordable_agreement(viewer, agreement_id)
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})
    now = now or clock.now()
    today = now.astimezone(clock.PARIS).date()
    errors = _date_problems(values, today)
    if errors:
        raise InvalidInput(GENERIC, errors=errors)
    async with write_transaction():
        await hold_agreement(agreement_id, {"brouillon"}, NOT_A_DRAFT, at=now)
        signatories = await party_rows(agreement_id)
        if {p["id"] for p in signatories} != {p.party for p in values.parties}:
            raise InvalidInput(PARTIES_CHANGED, errors={"version": PARTIES_CHANGED})
        protocol_on = agreement["protocol_on"]
        errors = _party_problems(values, signatories, protocol_on, today)
        if errors:
            raise InvalidInput(GENERIC, errors=errors)
        parties = [p for p in signatories if p["role"] == "partie"]
        problems = await _content_problems(agreement_id, parties, values)
        if problems:
            message = "Le contrat ne peut être enregistré comme signé : " + " ; ".join(problems) + "."
            raise InvalidInput(message, errors={"state": message})
        document = values.document
        version = await lifecycle.save_edit(AGREEMENT, agreement_id, version, {
            Agreement.in_force_on: values.in_force_on,
            Agreement.ends_on: values.ends_on,
            Agreement.signing_place: document.signing_place,
            Agreement.document_ref: document.document_ref,
            Agreement.document_url: document.document_url,
            Agreement.recorded_at: now,
            Agreement.recorded_by: viewer.user_id,
        }, at=now)
        await _record_parties(viewer, agreement, signatories, values, protocol_on, now)
        opening = "Entrée en vigueur" + (f" (contrat signé à {document.signing_place})"
                                         if document.signing_place else "") + "."
        change = await lifecycle.apply(AGREEMENT, viewer, agreement_id, "en_vigueur", opening, version,
                                       via=RECORDING, at=event_time(values.in_force_on), recorded_at=now)
        if values.state == "echu":
            ended = f"Échu : sa date de fin ({date_fr(values.ends_on)}) est passée."
            change = await lifecycle.apply(AGREEMENT, viewer, agreement_id, "echu", ended, change.version,
                                           via=RECORDING, at=event_time(values.ends_on + timedelta(days=1)),
                                           recorded_at=now)
        elif values.state == "resilie":
            change = await lifecycle.apply(AGREEMENT, viewer, agreement_id, "resilie", values.reason,
                                           change.version, via=RECORDING, at=event_time(values.terminated_on),
                                           recorded_at=now)
    return change


async def _record_parties(viewer: Viewer, agreement: dict, signatories: list[dict], values: RecordingInput,
                          protocol_on: date | None, now: datetime) -> None:
    """Inside the transaction: each party's deliberation and signature written, and their entries (with the
    protocol's) at their real dates, in the order they happened."""
    given = {p.party: p for p in values.parties}
    place = values.document.signing_place
    events: list[tuple[date, int, int | None, str, str]] = []  # day, order, territory, to_value, comment
    if protocol_on is not None:
        events.append((protocol_on, 0, None, "protocole", f"Protocole (accord préalable) du {date_fr(protocol_on)}."))
    for party in signatories:
        recorded = given[party["id"]]
        await AgreementParty.update({
            AgreementParty.deliberation_on: recorded.deliberation_on,
            AgreementParty.deliberation_ref: recorded.deliberation_ref,
            AgreementParty.signed_on: recorded.signed_on,
            AgreementParty.signed_at: now if recorded.signed_on else None,
            AgreementParty.signed_by: viewer.user_id if recorded.signed_on else None,
            AgreementParty.version: AgreementParty.version + 1,
        }).where(AgreementParty.id == party["id"])
        if recorded.deliberation_on is not None:
            events.append((recorded.deliberation_on, 1, party["territory"], "deliberation",
                           deliberation_comment(party["name"], recorded.deliberation_ref, recorded.deliberation_on)))
        if recorded.signed_on is not None:
            witness = " en qualité de témoin" if party["role"] != "partie" else ""
            where = f" à {place}" if place else ""
            events.append((recorded.signed_on, 2, party["territory"], "signature",
                           f"Signature de {party['name']}{witness} (document signé le "
                           f"{date_fr(recorded.signed_on)}{where})."))
    for day, _, territory, target, comment in sorted(events, key=lambda e: (e[0], e[1])):
        await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement["id"],
                               territory_id=territory or agreement["territory"],
                               source="brouillon", target=target, actor=viewer, comment=comment,
                               at=event_time(day), recorded_at=now)
