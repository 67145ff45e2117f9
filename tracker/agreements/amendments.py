"""Amendments (avenants) of an agreement in force: numbered, dated, with each party's deliberation and signature, and
what they change — add, change or end obligations, move the end date. Their life cycle (AMENDMENT) goes through the
kernel like every other:

    brouillon ──► a_signer ──► en_vigueur          (the last party's signature makes it take effect)
        │  ▲          │
        │  └──────────┘ (reopened: comment, the signatures recorded are withdrawn)
        └──────────────┴──► abandonne              (comment)

- brouillon → a_signer: the agreement is in force (or suspended), the amendment changes something, and the
  agreement as it will be holds together (every deadline inside the end date).
- a_signer → en_vigueur: taken only by the last party's signature, in the same transaction. The amendment then
  takes effect in that transaction: the end date moves (one entry of the agreement, before → after), each
  obligation is added (its creation entry), changed (one entry, before → after) or ended (one entry); what it
  replaced is kept on the amendment (`previous_ends_on`, AmendmentChange.previous_*), so that the agreement as it
  was before each amendment stays readable (`terms_before`). The agreement's own columns always hold its current
  terms: the base plus the amendments in force.
Who: éditeurs and référents of a party write it and move it; each party's éditeurs record its deliberation and
only its référents sign for it (as for the agreement). One amendment is under way at a time.

Every event is one entry of the amendment (subject « amendment »): creation, edits (before → after), changes added
or removed, deliberations, signatures, changes of state."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tracker import lifecycle
from tracker.agreements import edits
from tracker.agreements.forms import AmendmentChangeInput, AmendmentInput, DeliberationInput
from tracker.agreements.lifecycle import AGREEMENT, OBLIGATION, STATE_KIND, NotNow, hold_agreement, party_rows
from tracker.agreements.obligations import check_obligation, edit_lines
from tracker.agreements.parties import deliberation_comment
from tracker.agreements.reading import agreement_for, require_edit, theme_rows
from tracker.agreements.states import (
    AMENDABLE,
    AMENDMENT_OPEN,
    AMENDMENT_STATE_LABELS,
    CHANGE_KINDS,
)
from tracker.agreements.tables import (
    Agreement,
    AgreementAmendment,
    AgreementParty,
    AmendmentChange,
    AmendmentParty,
    Obligation,
)
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.lifecycle import Actor, Change, Machine, Step, Transition

NOT_FOUND_AMENDMENT = "Cet avenant n’existe pas ou ne vous est pas accessible."
NOT_AMENDABLE = "Un avenant se conclut sur un contrat en vigueur (ou suspendu)."
NOT_DRAFTED = ("Cet avenant n’est plus en préparation : son texte ne change plus (rouvrez-le pour le modifier, "
               "les signatures recueillies seront retirées).")
NOT_SIGNING = "L’avenant n’est pas à l’état « À signer » : les signatures ne s’enregistrent qu’à ce stade."
NOT_DELIBERATING = "Les délibérations sur un avenant s’enregistrent pendant sa préparation ou avant sa signature."
MAY_NOT_EDIT = "Votre rôle ne permet pas de modifier les avenants de ce contrat."
SIGNATURE = "signature"  # `via` of the entry into force that the last signature takes
MAX_CHANGES = 50

# An amendment's version guards its text and state; a party's deliberation and signature have their own.
AMENDMENT_PARTY = lifecycle.Versioned(subject="amendment_party", table=AmendmentParty, this="Cette partie",
                                      feminine=True)


def _label(row: dict) -> str:
    return f"avenant n° {row['number']}"


# --- the machine ---------------------------------------------------------------------------------------------


async def _load(amendment_id: int) -> dict | None:
    row = await AgreementAmendment.select(
        AgreementAmendment.id, AgreementAmendment.agreement, AgreementAmendment.number, AgreementAmendment.state,
        AgreementAmendment.version, AgreementAmendment.new_ends_on, AgreementAmendment.in_force_on,
        AgreementAmendment.agreement.territory.as_alias("territory"),
    ).where(AgreementAmendment.id == amendment_id).first()
    if row is not None:
        everyone = await AgreementParty.select(AgreementParty.territory, AgreementParty.role).where(
            AgreementParty.agreement == row["agreement"])
        row["members"] = [p["territory"] for p in everyone]
        row["parties"] = [p["territory"] for p in everyone if p["role"] == "partie"]
    return row


async def _side(viewer: Viewer, row: dict, via: Any) -> Actor:
    if not viewer.can_read_agreement(row["members"]):
        raise NotFound(NOT_FOUND_AMENDMENT)
    if via == SIGNATURE:  # sign_amendment has checked who signs, under the lock
        return Actor(SIGNATURE, viewer.user_id)
    if not viewer.can_edit_agreement(row["parties"]):
        raise Forbidden("Votre rôle ne permet pas de changer l’état de cet avenant.")
    return Actor("editor", viewer.user_id)


def _values(step: Step) -> dict:
    if step.transition.target == "en_vigueur" and step.row["in_force_on"] is None:
        return {AgreementAmendment.in_force_on: step.today}
    return {}


async def _after(step: Step) -> None:
    source, target = step.transition.source, step.transition.target
    if target == "a_signer":
        await _check_submission(step.row)
    elif (source, target) == ("a_signer", "brouillon"):
        # The text will change: nobody stays bound to a text they did not sign (the history keeps the signatures).
        await AmendmentParty.update({
            AmendmentParty.signed_on: None, AmendmentParty.signed_at: None, AmendmentParty.signed_by: None,
            AmendmentParty.version: AmendmentParty.version + 1,
        }).where((AmendmentParty.amendment == step.row["id"]) & AmendmentParty.signed_at.is_not_null())
    elif target == "en_vigueur":
        await _take_effect(step)


def _transitions() -> tuple[Transition, ...]:
    editors = frozenset({"editor"})
    reopen = ("Un commentaire est obligatoire pour rouvrir un avenant soumis à la signature : expliquez ce qui doit "
              "changer.")
    abandon = "Un commentaire est obligatoire pour abandonner un avenant : expliquez pourquoi."
    return (
        Transition("brouillon", "a_signer", by=editors),
        Transition("a_signer", "brouillon", by=editors, comment=reopen),
        Transition("brouillon", "abandonne", by=editors, comment=abandon),
        Transition("a_signer", "abandonne", by=editors, comment=abandon),
        Transition("a_signer", "en_vigueur", by=frozenset({SIGNATURE}), internal=True),
    )


AMENDMENT = Machine(
    subject="amendment",
    table=AgreementAmendment,
    state=AgreementAmendment.state,
    labels=AMENDMENT_STATE_LABELS,
    initial="brouillon",
    transitions=_transitions(),
    load=_load,
    side=_side,
    not_found=NOT_FOUND_AMENDMENT,
    a="Un avenant",
    the="L’avenant",
    this="Cet avenant",
    feminine=False,
    values=_values,
    after=_after,
)

TRANSITION_LABELS = {
    ("brouillon", "a_signer"): "Soumettre l’avenant à la signature des parties",
    ("a_signer", "brouillon"): "Rouvrir l’avenant (les signatures recueillies sont retirées)",
    ("brouillon", "abandonne"): "Abandonner l’avenant",
    ("a_signer", "abandonne"): "Abandonner l’avenant",
}


# --- reading -------------------------------------------------------------------------------------------------


async def amendments_of(agreement_id: int) -> list[dict]:
    """The agreement's amendments by number, with their state and dates."""
    return await AgreementAmendment.select(
        AgreementAmendment.id, AgreementAmendment.number, AgreementAmendment.title, AgreementAmendment.state,
        AgreementAmendment.in_force_on, AgreementAmendment.new_ends_on, AgreementAmendment.previous_ends_on,
        AgreementAmendment.created_at,
    ).where(AgreementAmendment.agreement == agreement_id).order_by(AgreementAmendment.number)


async def _changes(amendment_id: int) -> list[dict]:
    rows = await AmendmentChange.select(
        AmendmentChange.all_columns(),
        AmendmentChange.obligation.title.as_alias("obligation_title"),
        AmendmentChange.obligation.title.as_alias("current_title"),
        AmendmentChange.obligation.description.as_alias("current_description"),
        AmendmentChange.obligation.deadline.as_alias("current_deadline"),
        AmendmentChange.obligation.owner.territory.name.as_alias("obligation_owner"),
        AmendmentChange.owner.territory.name.as_alias("owner_name"),
        AmendmentChange.theme.theme.as_alias("theme_name"),
        AmendmentChange.partner.name.as_alias("partner_name"),
    ).where(AmendmentChange.amendment == amendment_id).order_by(AmendmentChange.id)
    for row in rows:
        row["kind_label"] = CHANGE_KINDS.get(row["kind"], row["kind"])
    return rows


async def amendment_for(viewer: Viewer, agreement_id: int, number: int) -> dict:
    """One amendment of an agreement this person reads (NotFound otherwise), with `agreement_row`, its changes
    and each party's deliberation and signature (`parties`)."""
    agreement = await agreement_for(viewer, agreement_id)
    amendment = await AgreementAmendment.select(
        AgreementAmendment.all_columns(), AgreementAmendment.created_by.full_name.as_alias("created_by_name"),
    ).where((AgreementAmendment.agreement == agreement_id) & (AgreementAmendment.number == number)).first()
    if amendment is None:
        raise NotFound(NOT_FOUND_AMENDMENT)
    amendment["agreement_row"] = agreement
    amendment["changes"] = await _changes(amendment["id"])
    amendment["parties"] = await AmendmentParty.select(
        AmendmentParty.all_columns(),
        AmendmentParty.party.territory.as_alias("territory"),
        AmendmentParty.party.territory.name.as_alias("name"),
        AmendmentParty.party.territory.kind.as_alias("kind"),
        AmendmentParty.signed_by.full_name.as_alias("signed_by_name"),
    ).where(AmendmentParty.amendment == amendment["id"]).order_by(AmendmentParty.party.position).order_by(
        AmendmentParty.id)
    return amendment


async def editable_amendment(viewer: Viewer, agreement_id: int, number: int, *, drafted: bool = True) -> dict:
    """The amendment, if this person may write it (NotFound / Forbidden otherwise) and, with `drafted`, while it is
    being prepared (NotNow otherwise). Routes ask it before reading what was sent."""
    amendment = await amendment_for(viewer, agreement_id, number)
    require_edit(viewer, amendment["agreement_row"], MAY_NOT_EDIT)
    if drafted and amendment["state"] != "brouillon":
        raise NotNow(NOT_DRAFTED)
    return amendment


async def amending_agreement(viewer: Viewer, agreement_id: int) -> dict:
    """The agreement, if this person may start an amendment of it now (NotFound / Forbidden / NotNow otherwise)."""
    agreement = await agreement_for(viewer, agreement_id)
    require_edit(viewer, agreement, MAY_NOT_EDIT)
    if agreement["state"] not in AMENDABLE:
        raise NotNow(NOT_AMENDABLE)
    return agreement


def _obligation_snapshot(row: dict) -> dict:
    return {key: row[key] for key in ("id", "title", "description", "deadline", "owner", "owner_name", "theme",
                                      "theme_name", "status")}


async def terms_before(amendment: dict) -> dict:
    """The agreement as it was just before this amendment took effect (as it is now, when it has not): its end
    date and its obligations then in force, undoing the amendments in force from the last one down to this one."""
    agreement = amendment["agreement_row"]
    rows = await Obligation.select(
        Obligation.id, Obligation.title, Obligation.description, Obligation.deadline, Obligation.owner,
        Obligation.theme, Obligation.status, Obligation.added_by, Obligation.ended_by,
        Obligation.owner.territory.name.as_alias("owner_name"), Obligation.theme.theme.as_alias("theme_name"),
    ).where(Obligation.agreement == agreement["id"]).order_by(Obligation.id)
    obligations = {row["id"]: _obligation_snapshot(row) | {"added_by": row["added_by"], "ended_by": row["ended_by"]}
                   for row in rows}
    ends_on = agreement["ends_on"]
    if amendment["state"] == "en_vigueur":
        later = [a for a in await amendments_of(agreement["id"])
                 if a["state"] == "en_vigueur" and a["number"] >= amendment["number"]]
        for undone in sorted(later, key=lambda a: a["number"], reverse=True):
            for change in await AmendmentChange.select().where(AmendmentChange.amendment == undone["id"]):
                target = obligations.get(change["obligation"])
                if change["kind"] == "modification" and target is not None:
                    target.update(title=change["previous_title"], description=change["previous_description"],
                                  deadline=change["previous_deadline"])
            for row in obligations.values():
                if row["ended_by"] == undone["id"]:
                    row["ended_by"] = None
            obligations = {k: v for k, v in obligations.items() if v["added_by"] != undone["id"]}
            if undone["new_ends_on"] is not None:
                ends_on = undone["previous_ends_on"]
    in_force = [row for row in obligations.values() if row["ended_by"] is None]
    return {"ends_on": ends_on, "obligations": in_force}


# --- writing the amendment while it is prepared ----------------------------------------------------------------


def _check_end(agreement: dict, values: AmendmentInput) -> None:
    start = agreement["in_force_on"]
    if values.new_ends_on and start and values.new_ends_on <= start:
        message = f"La nouvelle date de fin doit suivre l’entrée en vigueur du contrat ({date_fr(start)})."
        raise InvalidInput(GENERIC, errors={"new_ends_on": message})
    if values.in_force_on and start and values.in_force_on < start:
        message = f"Un avenant ne prend pas effet avant le contrat ({date_fr(start)})."
        raise InvalidInput(GENERIC, errors={"in_force_on": message})


async def create_amendment(viewer: Viewer, agreement_id: int, values: AmendmentInput,
                           *, at: datetime | None = None) -> int:
    """A new amendment being prepared, numbered after the agreement's last one, with a deliberation and signature
    row for each party; its creation entry. Returns its number."""
    agreement = await amending_agreement(viewer, agreement_id)
    _check_end(agreement, values)
    now = at or clock.now()
    async with write_transaction():
        await hold_agreement(agreement_id, AMENDABLE, NOT_AMENDABLE, at=now)
        existing = await amendments_of(agreement_id)
        open_one = next((a for a in existing if a["state"] in AMENDMENT_OPEN), None)
        if open_one is not None:
            raise NotNow(f"L’avenant n° {open_one['number']} est en cours : menez-le à son terme ou abandonnez-le "
                         "avant d’en préparer un autre.")
        number = max((a["number"] for a in existing), default=0) + 1
        amendment = AgreementAmendment(agreement=agreement_id, number=number, title=values.title,
                                       purpose=values.purpose, new_ends_on=values.new_ends_on,
                                       in_force_on=values.in_force_on, state=AMENDMENT.initial, version=1,
                                       created_by=viewer.user_id, created_at=now, updated_at=now)
        await amendment.save()
        parties = await AgreementParty.select(AgreementParty.id).where(
            (AgreementParty.agreement == agreement_id) & (AgreementParty.role == "partie"))
        await AmendmentParty.insert(*[AmendmentParty(amendment=amendment.id, party=p["id"], deliberation_ref="",
                                                     version=1) for p in parties])
        await lifecycle.record_created(AMENDMENT, amendment.id, agreement["territory"], viewer, at=now,
                                       comment=f"Avenant n° {number} créé : « {values.title} ».")
    return number


async def update_amendment(viewer: Viewer, agreement_id: int, number: int, values: AmendmentInput,
                           version: int | None, *, at: datetime | None = None) -> int:
    """Edit what an amendment says while it is prepared; one entry (before → after) when something changed."""
    amendment = await editable_amendment(viewer, agreement_id, number)
    _check_end(amendment["agreement_row"], values)
    fields = (("title", "Intitulé"), ("purpose", "Objet"), ("new_ends_on", "Nouvelle date de fin"),
              ("in_force_on", "Date d’effet"))
    async with write_transaction():
        new_version = await lifecycle.save_edit(
            AMENDMENT, amendment["id"], version,
            {getattr(AgreementAmendment, name): getattr(values, name) for name, _ in fields}, at=at)
        lines = edits.changes((label, amendment[name], getattr(values, name)) for name, label in fields)
        if lines:
            await lifecycle.record(subject=AMENDMENT.subject, subject_id=amendment["id"],
                                   territory_id=amendment["agreement_row"]["territory"], source="brouillon",
                                   target="modification", actor=viewer, comment=edits.comment(lines), at=at)
    return new_version


async def _hold_draft(amendment_id: int, at: datetime | None) -> None:
    """Inside a write transaction: lock the amendment while it is prepared (NotNow otherwise)."""
    held = await AgreementAmendment.update({AgreementAmendment.updated_at: at or clock.now()}).where(
        (AgreementAmendment.id == amendment_id) & (AgreementAmendment.state == "brouillon")
    ).returning(AgreementAmendment.id)
    if not held:
        raise NotNow(NOT_DRAFTED)


async def followed_obligations(agreement_id: int) -> list[dict]:
    """The obligations an amendment may change or end: those of the agreement not ended yet."""
    return await Obligation.select(
        Obligation.id, Obligation.title, Obligation.description, Obligation.deadline,
        Obligation.owner.territory.name.as_alias("owner_name"),
    ).where((Obligation.agreement == agreement_id) & Obligation.ended_by.is_null()).order_by(Obligation.id)


def _describe(change: AmendmentChangeInput, title: str) -> str:
    if change.kind == "ajout":
        return f"Changement ajouté : ajout de « {title} »."
    if change.kind == "fin":
        return f"Changement ajouté : fin de « {title} » ({change.reason})."
    return f"Changement ajouté : modification de « {title} »."


async def add_change(viewer: Viewer, agreement_id: int, number: int, change: AmendmentChangeInput,
                     *, at: datetime | None = None) -> int:
    """Add one change to an amendment being prepared; one entry of the amendment. Returns the change's id."""
    amendment = await editable_amendment(viewer, agreement_id, number)
    agreement = amendment["agreement_row"]
    now = at or clock.now()
    ends_on = amendment["new_ends_on"] or agreement["ends_on"]
    columns: dict = {}
    title = ""
    if change.kind == "ajout":
        assert change.new is not None
        checked = await check_obligation(change.new, agreement, ends_on=ends_on)
        columns = {"owner": change.new.owner, "beneficiary": change.new.beneficiary, "partner": change.new.partner,
                   "theme": change.new.theme, "title": change.new.title, "description": change.new.description,
                   "deadline": change.new.deadline}
        title = checked[Obligation.title]
    else:
        target = next((o for o in await followed_obligations(agreement_id) if o["id"] == change.obligation), None)
        if target is None:
            raise InvalidInput(GENERIC, errors={"obligation": "« Obligation » : valeur inconnue, choisissez dans la "
                                                              "liste."})
        if change.deadline and ends_on and change.deadline > ends_on:
            raise InvalidInput(GENERIC, errors={"deadline": (
                f"L’échéance ne peut dépasser la date de fin du contrat ({date_fr(ends_on)}).")})
        title = target["title"]
        columns = {"obligation": target["id"], "title": change.title, "description": change.description,
                   "deadline": change.deadline, "reason": change.reason}
    async with write_transaction():
        await _hold_draft(amendment["id"], now)
        taken = await AmendmentChange.select(AmendmentChange.obligation).where(
            AmendmentChange.amendment == amendment["id"])
        if len(taken) >= MAX_CHANGES:
            raise InvalidInput(f"Un avenant compte {MAX_CHANGES} changements au plus.")
        if change.obligation is not None and change.obligation in {row["obligation"] for row in taken}:
            raise InvalidInput(GENERIC, errors={"obligation": "Cet avenant change déjà cette obligation : retirez "
                                                              "ce changement pour en écrire un autre."})
        created = AmendmentChange(amendment=amendment["id"], kind=change.kind, created_at=now,
                                  previous_title="", previous_description="",
                                  **{"title": "", "description": "", "reason": "", **columns})
        await created.save()
        await lifecycle.record(subject=AMENDMENT.subject, subject_id=amendment["id"], territory_id=agreement["territory"],
                               source="brouillon", target="modification", actor=viewer,
                               comment=_describe(change, title), at=now)
    return created.id


async def remove_change(viewer: Viewer, agreement_id: int, number: int, change_id: int,
                        *, at: datetime | None = None) -> None:
    """Take a change out of an amendment being prepared; one entry of the amendment."""
    amendment = await editable_amendment(viewer, agreement_id, number)
    change = next((c for c in amendment["changes"] if c["id"] == change_id), None)
    if change is None:
        raise NotFound("Ce changement n’existe pas.")
    async with write_transaction():
        await _hold_draft(amendment["id"], at)
        deleted = await AmendmentChange.delete().where(
            (AmendmentChange.id == change_id) & (AmendmentChange.amendment == amendment["id"])
        ).returning(AmendmentChange.id)
        if not deleted:
            raise NotFound("Ce changement n’existe pas.")
        title = change["obligation_title"] or change["title"]
        await lifecycle.record(subject=AMENDMENT.subject, subject_id=amendment["id"],
                               territory_id=amendment["agreement_row"]["territory"], source="brouillon",
                               target="modification", actor=viewer, at=at,
                               comment=f"Changement retiré : {change['kind_label'].lower()} « {title} ».")


# --- submitting and taking effect ------------------------------------------------------------------------------


async def _check_submission(row: dict) -> None:
    """Read after the amendment's row is locked by the UPDATE: the agreement is amendable, the amendment changes
    something, and every obligation left in force ends by the end date it sets."""
    agreement = await Agreement.select(Agreement.state, Agreement.ends_on).where(
        Agreement.id == row["agreement"]).first()
    problems: list[str] = []
    if agreement["state"] not in AMENDABLE:
        problems.append("le contrat n’est plus en vigueur")
    changes = await AmendmentChange.select().where(AmendmentChange.amendment == row["id"])
    if not changes and (row["new_ends_on"] is None or row["new_ends_on"] == agreement["ends_on"]):
        problems.append("il ne change rien (ni obligation ni date de fin)")
    problems += await _deadline_problems(row["agreement"], row["new_ends_on"] or agreement["ends_on"], changes)
    if problems:
        message = "L’avenant ne peut être soumis à la signature : " + " ; ".join(problems) + "."
        raise InvalidInput(message, errors={"status": message})


async def _deadline_problems(agreement_id: int, ends_on: date | None, changes: list[dict]) -> list[str]:
    """Deadlines of the obligations as the amendment leaves them, against the end date it leaves."""
    if ends_on is None:
        return []
    ended = {c["obligation"] for c in changes if c["kind"] == "fin"}
    changed = {c["obligation"]: c for c in changes if c["kind"] == "modification"}
    problems = []
    for row in await followed_obligations(agreement_id):
        if row["id"] in ended:
            continue
        deadline = changed[row["id"]]["deadline"] if row["id"] in changed else row["deadline"]
        if deadline and deadline > ends_on:
            problems.append(f"l’obligation « {row['title']} » a une échéance après le {date_fr(ends_on)}")
    problems += [f"l’obligation ajoutée « {c['title']} » a une échéance après le {date_fr(ends_on)}"
                 for c in changes if c["kind"] == "ajout" and c["deadline"] and c["deadline"] > ends_on]
    return problems


async def _take_effect(step: Step) -> None:
    """Inside the transition's transaction: the amendment's changes applied to the agreement, one entry each."""
    row, actor, when = step.row, step.actor, step.at
    label = _label(row)
    agreement = await Agreement.select(
        Agreement.id, Agreement.state, Agreement.ends_on, Agreement.version, Agreement.territory
    ).where(Agreement.id == row["agreement"]).first()
    await hold_agreement(agreement["id"], AMENDABLE, NOT_AMENDABLE, at=when)
    day = row["in_force_on"] or step.today
    await AgreementAmendment.update({AgreementAmendment.previous_ends_on: agreement["ends_on"]}).where(
        AgreementAmendment.id == row["id"])
    if row["new_ends_on"] is not None and row["new_ends_on"] != agreement["ends_on"]:
        await lifecycle.save_edit(AGREEMENT, agreement["id"], agreement["version"],
                                  {Agreement.ends_on: row["new_ends_on"]}, at=when)
        lines = edits.changes([("Fin", agreement["ends_on"], row["new_ends_on"])])
        await lifecycle.record(subject=AGREEMENT.subject, subject_id=agreement["id"],
                               territory_id=agreement["territory"], source=agreement["state"], target="modification",
                               actor=actor, comment=edits.comment(lines, intro=f"Par l’{label} :"), at=when)
    # Names for the entries, read under the lock (the signer's right to read was checked before).
    full = {"id": agreement["id"], "theme_rows": await theme_rows(agreement["id"]),
            "parties": [p for p in await party_rows(agreement["id"]) if p["role"] == "partie"]}
    for change in await AmendmentChange.select().where(AmendmentChange.amendment == row["id"]).order_by(
            AmendmentChange.id):
        if change["kind"] == "ajout":
            await _add_obligation(full, row, change, actor, when)
        else:
            await _change_obligation(full, row, change, actor, when, day)
    problems = await _deadline_problems(agreement["id"], row["new_ends_on"] or agreement["ends_on"], [])
    if problems:
        message = "L’avenant ne peut prendre effet : " + " ; ".join(problems) + "."
        raise InvalidInput(message, errors={"signed_on": message})


async def _add_obligation(agreement: dict, row: dict, change: dict, actor: Actor, when: datetime) -> None:
    owner = next((p for p in agreement["parties"] if p["id"] == change["owner"]), None)
    if owner is None:
        raise InvalidInput(f"La partie qui apporte « {change['title']} » n’est plus partie au contrat.")
    created = Obligation(agreement=agreement["id"], owner=change["owner"], beneficiary=change["beneficiary"],
                         partner=change["partner"], theme=change["theme"], title=change["title"],
                         description=change["description"], deadline=change["deadline"],
                         status=OBLIGATION.initial, version=1, created_at=when, updated_at=when, added_by=row["id"])
    await created.save()
    await AmendmentChange.update({AmendmentChange.obligation: created.id}).where(AmendmentChange.id == change["id"])
    await lifecycle.record_created(OBLIGATION, created.id, owner["territory"], actor, at=when,
                                   comment=f"Obligation ajoutée au contrat par l’{_label(row)}.")


async def _change_obligation(agreement: dict, row: dict, change: dict, actor: Actor, when: datetime,
                             day: date) -> None:
    current = await Obligation.select().where(
        (Obligation.id == change["obligation"]) & Obligation.ended_by.is_null()).first()
    if current is None:
        raise InvalidInput("Une obligation que change l’avenant a déjà pris fin : rouvrez l’avenant pour le corriger.")
    territory = next((p["territory"] for p in agreement["parties"] if p["id"] == current["owner"]), None)
    if change["kind"] == "fin":
        await lifecycle.save_edit(OBLIGATION, current["id"], current["version"],
                                  {Obligation.ended_by: row["id"], Obligation.ended_on: day}, at=when)
        await lifecycle.record(subject=OBLIGATION.subject, subject_id=current["id"], territory_id=territory,
                               source=current["status"], target="terminee", actor=actor, at=when,
                               comment=f"Fin par l’{_label(row)} le {date_fr(day)} : {change['reason']}")
        return
    await AmendmentChange.update({
        AmendmentChange.previous_title: current["title"],
        AmendmentChange.previous_description: current["description"],
        AmendmentChange.previous_deadline: current["deadline"],
    }).where(AmendmentChange.id == change["id"])
    new = {"title": change["title"], "description": change["description"], "deadline": change["deadline"]}
    await lifecycle.save_edit(OBLIGATION, current["id"], current["version"],
                              {getattr(Obligation, k): v for k, v in new.items()}, at=when)
    lines = edit_lines(agreement, {}, current, {**current, **new})
    await lifecycle.record(subject=OBLIGATION.subject, subject_id=current["id"], territory_id=territory,
                           source=current["status"], target="modification", actor=actor, at=when,
                           comment=edits.comment(lines, intro=f"Par l’{_label(row)} :"))


async def change_amendment_state(viewer: Viewer, agreement_id: int, number: int, target: str, comment: str | None,
                                 version: int | None, *, at: datetime | None = None) -> Change:
    """Submit, reopen or abandon an amendment (taking effect is the last signature's); nothing written on error."""
    amendment = await amendment_for(viewer, agreement_id, number)
    return await lifecycle.apply(AMENDMENT, viewer, amendment["id"], target, comment, version, at=at)


# --- deliberations and signatures ------------------------------------------------------------------------------


def _amendment_party(amendment: dict, party_id: int) -> dict:
    party = next((p for p in amendment["parties"] if p["id"] == party_id), None)
    if party is None:
        raise NotFound("Cette partie n’existe pas ou ne vous est pas accessible.")
    return party


async def deliberating_party(viewer: Viewer, agreement_id: int, number: int, party_id: int) -> tuple[dict, dict]:
    """(amendment, party) if this person may record the party's deliberation now (NotFound / Forbidden / NotNow)."""
    amendment = await amendment_for(viewer, agreement_id, number)
    party = _amendment_party(amendment, party_id)
    if not viewer.can_edit_territory(party["territory"]):
        raise Forbidden(f"Chaque partie enregistre sa propre délibération : seuls les éditeurs et référents de "
                        f"{party['name']} le peuvent.")
    if amendment["state"] not in AMENDMENT_OPEN:
        raise NotNow(NOT_DELIBERATING)
    return amendment, party


async def signing_party(viewer: Viewer, agreement_id: int, number: int, party_id: int) -> tuple[dict, dict]:
    """(amendment, party) if this person may sign for the party (NotFound / Forbidden otherwise)."""
    amendment = await amendment_for(viewer, agreement_id, number)
    party = _amendment_party(amendment, party_id)
    if not viewer.can_sign_for(party["territory"]):
        raise Forbidden(f"Chaque partie signe pour elle-même : seuls les référents de {party['name']} peuvent "
                        "signer en son nom.")
    return amendment, party


async def record_deliberation(viewer: Viewer, agreement_id: int, number: int, party_id: int,
                              values: DeliberationInput, version: int | None, *, at: datetime | None = None) -> int:
    """A party's deliberation on the amendment; one entry of the amendment. Returns the party row's version."""
    amendment, party = await deliberating_party(viewer, agreement_id, number, party_id)
    today = (at or clock.now()).astimezone(clock.PARIS).date()
    if values.deliberation_on > today:
        raise InvalidInput(GENERIC, errors={"deliberation_on": "La date de la délibération ne peut être dans le futur."})
    async with write_transaction():
        held = await AgreementAmendment.update({AgreementAmendment.updated_at: at or clock.now()}).where(
            (AgreementAmendment.id == amendment["id"]) & AgreementAmendment.state.is_in(list(AMENDMENT_OPEN))
        ).returning(AgreementAmendment.state)
        if not held:
            raise NotNow(NOT_DELIBERATING)
        current = await AmendmentParty.select(AmendmentParty.signed_at).where(AmendmentParty.id == party_id).first()
        if current["signed_at"] is not None:
            raise NotNow(f"{party['name']} a déjà signé : sa délibération ne se modifie plus.")
        new_version = await lifecycle.save_edit(AMENDMENT_PARTY, party_id, version, {
            AmendmentParty.deliberation_on: values.deliberation_on,
            AmendmentParty.deliberation_ref: values.reference}, at=at)
        await lifecycle.record(subject=AMENDMENT.subject, subject_id=amendment["id"], territory_id=party["territory"],
                               source=held[0]["state"], target="deliberation", actor=viewer, at=at,
                               comment=deliberation_comment(party["name"], values.reference, values.deliberation_on))
    return new_version


async def sign_amendment(viewer: Viewer, agreement_id: int, number: int, party_id: int, signed_on: date | None,
                         version: int | None, *, at: datetime | None = None) -> Change:
    """A party's référent records its signature of the amendment (one entry); the last signature makes the
    amendment take effect in the same transaction (its own entry, and one per change it makes)."""
    amendment, party = await signing_party(viewer, agreement_id, number, party_id)
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})
    when = at or clock.now()
    today = when.astimezone(clock.PARIS).date()
    async with write_transaction():
        held = await AgreementAmendment.update({AgreementAmendment.updated_at: when}).where(
            (AgreementAmendment.id == amendment["id"]) & (AgreementAmendment.state == "a_signer")
        ).returning(AgreementAmendment.version)
        if not held:
            raise NotNow(NOT_SIGNING)
        current = await AmendmentParty.select(
            AmendmentParty.version, AmendmentParty.signed_at, AmendmentParty.deliberation_on
        ).where(AmendmentParty.id == party_id).first()
        if current["version"] != version:
            raise Conflict(await lifecycle.conflict_message(AMENDMENT_PARTY, party_id))
        if current["signed_at"] is not None:
            raise InvalidInput(f"{party['name']} a déjà signé cet avenant.", errors={"signed_on": "Déjà signé."})
        deliberation_on = current["deliberation_on"]
        message = None
        if party["kind"] != STATE_KIND and deliberation_on is None:
            message = f"Enregistrez d’abord la délibération de {party['name']} qui autorise la signature."
        elif signed_on is None:
            message = "« Date de signature » est obligatoire."
        elif signed_on > today:
            message = "La date de signature ne peut être dans le futur."
        elif deliberation_on and signed_on < deliberation_on:
            message = f"La date de signature ne peut précéder la délibération du {date_fr(deliberation_on)}."
        if message:
            raise InvalidInput(message, errors={"signed_on": message})
        new_version = await lifecycle.save_edit(AMENDMENT_PARTY, party_id, version, {
            AmendmentParty.signed_on: signed_on, AmendmentParty.signed_at: when,
            AmendmentParty.signed_by: viewer.user_id}, at=when)
        await lifecycle.record(subject=AMENDMENT.subject, subject_id=amendment["id"], territory_id=party["territory"],
                               source="a_signer", target="signature", actor=viewer, at=when,
                               comment=f"Signature de {party['name']} (document signé le {date_fr(signed_on)}).")
        unsigned = await AmendmentParty.count().where(
            (AmendmentParty.amendment == amendment["id"]) & AmendmentParty.signed_at.is_null())
        if unsigned == 0:
            return await lifecycle.apply(
                AMENDMENT, viewer, amendment["id"], "en_vigueur",
                f"Toutes les parties ont signé : l’avenant n° {number} prend effet.", held[0]["version"],
                via=SIGNATURE, at=when)
    return Change(AMENDMENT_PARTY.subject, party_id, "", "signature", new_version)
