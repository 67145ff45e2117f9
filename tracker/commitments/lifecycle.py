"""The one place where a commitment's state changes (DESIGN.md §4). The partner's contact on /engagements, the
signed link, the territory's editors on the action page and the demo loader all call these functions:
permission, transition rules, the new state and its history entry, in one transaction.

Who does what:
- proposé → confirmé | décliné: only the partner — its signed-in contact, or the signed link (single use);
  declining needs a reason;
- confirmé → tenu: the partner's contact, or the territory's editors with a comment (how they know);
- confirmé → retiré: the partner's contact or the territory's editors, always with a reason;
- editing what a confirmed commitment says puts it back to « proposé » (`update_commitment`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

import arrow

from tracker.accounts.permissions import Viewer
from tracker.commitments.states import (
    BY_LINK,
    EDITABLE,
    EDITOR_MAY_SET,
    PARTNER_ONLY,
    REASON_REQUIRED,
    ROLE_LABELS,
    STATE_LABELS,
    UNIT_LABELS,
    allowed,
)
from tracker.commitments.tables import Commitment, CommitmentLink
from tracker.db import write_transaction
from tracker.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tracker.history import service as history
from tracker.history.tables import HistoryEntry
from tracker.partners.tables import PartnerContact
from tracker.web.forms import FormReader
from tracker.web.french import relative_fr

COMMENT_MAX = 2000
DESCRIPTION_MAX = 2000
AMOUNT_MAX = 2_000_000_000
NOT_FOUND = "Cet engagement n’existe pas ou ne vous est pas accessible."
EDITED_COMMENT = "Engagement modifié : le partenaire doit le confirmer à nouveau."


class LinkGone(DomainError):
    """The signed link was used, replaced or expired meanwhile."""

    status_code = 410
    title = "Lien expiré ou déjà utilisé"


@dataclass(frozen=True)
class LinkUse:
    """A signed link presented with a decision: the link speaks for the contact it was sent to."""

    link_id: int
    contact_id: int
    commitment_id: int


@dataclass(frozen=True)
class StateChange:
    commitment_id: int
    from_state: str
    to_state: str
    version: int


async def _load(commitment_id: int) -> dict | None:
    return (
        await Commitment.select(
            Commitment.id,
            Commitment.territory,
            Commitment.partner,
            Commitment.action,
            Commitment.state,
            Commitment.version,
            Commitment.role,
            Commitment.description,
            Commitment.amount,
            Commitment.amount_unit,
            Commitment.due_on,
            Commitment.action.confidential.as_alias("confidential"),
        )
        .where(Commitment.id == commitment_id)
        .first()
    )


def readable(viewer: Viewer, row: dict) -> bool:
    """Members and the ADGCF read the action's commitments; a partner's contact only its own organisation's."""
    return viewer.can_read_action(row["territory"], row["confidential"], [row["partner"]])


async def _conflict_message(commitment_id: int) -> str:
    last = (
        await HistoryEntry.select(HistoryEntry.created_at, HistoryEntry.actor.full_name.as_alias("who"))
        .where((HistoryEntry.subject_type == "commitment") & (HistoryEntry.subject_id == commitment_id))
        .order_by(HistoryEntry.id, ascending=False)
        .first()
    )
    detail = f" ({last['who'] or 'le partenaire'}, {relative_fr(last['created_at'])})" if last else ""
    return (
        f"Cet engagement a été modifié depuis que vous l’avez ouvert{detail}. "
        "Votre changement n’a pas été enregistré : rechargez la page pour voir son état et son texte actuels."
    )


async def contact_id_for(viewer: Viewer, partner_id: int) -> int | None:
    """The signed-in person's contact record at this partner (the history names the contact, not a copy)."""
    row = (
        await PartnerContact.select(PartnerContact.id)
        .where(
            (PartnerContact.account == viewer.user_id)
            & (PartnerContact.partner == partner_id)
            & PartnerContact.erased_at.is_null()
        )
        .first()
    )
    return row["id"] if row else None


def _check_comment(comment: str) -> str:
    comment = (comment or "").strip()
    if "\x00" in comment:
        raise InvalidInput("Le commentaire contient un caractère interdit.", errors={"comment": "Caractère interdit."})
    if len(comment) > COMMENT_MAX:
        message = f"Le commentaire ne peut dépasser {COMMENT_MAX} caractères."
        raise InvalidInput(message, errors={"comment": message})
    return comment


async def change_commitment_state(
    viewer: Viewer,
    commitment_id: int,
    new_state: str,
    comment: str,
    version: int | None,
    *,
    link: LinkUse | None = None,
    at: datetime | None = None,
) -> StateChange:
    """Apply a state change or raise NotFound / Forbidden / InvalidInput / Conflict / LinkGone; nothing is written
    on error. With `link`, the signed link acts (whoever is signed in) and is used up in the same transaction."""
    comment = _check_comment(comment)
    if new_state not in STATE_LABELS:
        raise InvalidInput("État inconnu : choisissez une réponse proposée.", errors={"etat": "État inconnu."})
    if version is None:
        raise InvalidInput("Version manquante : rechargez la page.", errors={"version": "Version manquante."})

    async with write_transaction():
        row = await _load(commitment_id)
        if row is None:
            raise NotFound(NOT_FOUND)
        if link is not None:
            if link.commitment_id != commitment_id or row["confidential"]:
                raise NotFound(NOT_FOUND)
            side = "partner"
        elif not readable(viewer, row):
            raise NotFound(NOT_FOUND)
        elif viewer.acts_for_partner(row["partner"]):
            side = "partner"
        elif viewer.can_record_commitments(row["territory"]):
            side = "territory"
        else:
            raise Forbidden("Votre rôle ne permet pas de changer l’état de cet engagement.")

        if row["version"] != version:
            raise Conflict(await _conflict_message(commitment_id))
        from_state = row["state"]
        if new_state == from_state:
            raise InvalidInput(f"L’engagement est déjà « {STATE_LABELS[new_state]} ».", errors={"etat": "Inchangé."})
        if not allowed(from_state, new_state):
            raise InvalidInput(
                f"Un engagement « {STATE_LABELS[from_state]} » ne peut pas passer à « {STATE_LABELS[new_state]} ».",
                errors={"etat": "Changement impossible."},
            )
        if new_state in PARTNER_ONLY and side != "partner":
            raise Forbidden(
                "Seul le partenaire confirme ou décline son engagement : envoyez-lui le lien par courriel, "
                "ou demandez à son contact de répondre depuis son espace « Mes engagements »."
            )
        if link is not None and new_state not in BY_LINK:
            raise Forbidden("Ce lien sert seulement à confirmer ou décliner l’engagement.")
        if side == "territory" and new_state not in EDITOR_MAY_SET:
            raise Forbidden("Votre rôle ne permet pas ce changement.")
        if new_state in REASON_REQUIRED and not comment:
            message = (
                "Indiquez la raison du refus : elle aide le territoire à trouver une autre solution."
                if new_state == "decline"
                else "Indiquez la raison du retrait de cet engagement."
            )
            raise InvalidInput(message, errors={"comment": message})
        if side == "territory" and new_state == "tenu" and not comment:
            message = (
                "Un commentaire est obligatoire pour enregistrer un engagement tenu à la place du partenaire : "
                "dites comment il a été tenu."
            )
            raise InvalidInput(message, errors={"comment": message})

        when = at or arrow.utcnow().datetime
        if link is not None:
            # Single use: only a link still unused, not replaced and not expired is taken, once.
            taken = (
                await CommitmentLink.update({CommitmentLink.used_at: when})
                .where(
                    (CommitmentLink.id == link.link_id)
                    & CommitmentLink.used_at.is_null()
                    & CommitmentLink.voided_at.is_null()
                    & (CommitmentLink.expires_at > when)
                )
                .returning(CommitmentLink.id)
            )
            if not taken:
                raise LinkGone("Ce lien vient d’être utilisé ou n’est plus valable : rien n’a été enregistré.")
            contact_id: int | None = link.contact_id
            actor_id = None
        else:
            contact_id = await contact_id_for(viewer, row["partner"]) if side == "partner" else None
            actor_id = viewer.user_id

        values: dict[Any, Any] = {
            Commitment.state: new_state,
            Commitment.version: version + 1,
            Commitment.updated_at: when,
        }
        if new_state == "confirme":
            values.update({
                Commitment.confirmed_at: when,
                Commitment.confirmed_by: actor_id,
                Commitment.confirmed_by_contact: contact_id,
            })
        updated = (
            await Commitment.update(values)
            .where((Commitment.id == commitment_id) & (Commitment.version == version))
            .returning(Commitment.id)
        )
        if not updated:
            raise Conflict(await _conflict_message(commitment_id))
        await history.record(
            subject_type="commitment",
            subject_id=commitment_id,
            territory_id=row["territory"],
            from_value=from_state,
            to_value=new_state,
            actor_id=actor_id,
            actor_contact_id=contact_id,
            comment=comment,
            at=when,
        )
    return StateChange(commitment_id=commitment_id, from_state=from_state, to_state=new_state, version=version + 1)


# --- what a commitment says -----------------------------------------------------------------------------------


def _amount(form: FormReader) -> int | None:
    raw = form.raw("amount")
    cleaned = "".join(raw.split()).replace("\u00a0", "").replace("\u202f", "").replace("€", "").replace(".", "")
    if not cleaned:
        return None
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 10:
        form.check(False, "amount", "« Montant » doit être un nombre entier (par exemple 12 500).")
        return None
    amount = int(cleaned)
    form.check(0 < amount <= AMOUNT_MAX, "amount", "« Montant » doit être positif et raisonnable.")
    return amount


def read_terms(form: FormReader) -> dict[Any, Any]:
    """Role, what is committed, optional amount (euros or days) and due date. Collects errors in `form`."""
    role = form.choice("role", "Rôle", ROLE_LABELS, required=True)
    description = form.text("description", "Ce qui est engagé", max_length=DESCRIPTION_MAX, required=True,
                            multiline=True)
    amount = _amount(form)
    unit = form.choice("amount_unit", "Unité du montant", UNIT_LABELS) or ""
    if amount is not None and not unit:
        form.check(False, "amount_unit", "Précisez si le montant est en euros ou en jours.")
    if amount is None:
        unit = ""
    due_on = form.date("due_on", "Échéance de l’engagement")
    return {
        Commitment.role: role,
        Commitment.description: description,
        Commitment.amount: amount,
        Commitment.amount_unit: unit,
        Commitment.due_on: due_on,
    }


async def check_role(form: FormReader, action_id: int, partner_id: int, role: str | None,
                     exclude: int | None = None) -> None:
    """One active commitment per partner and role on an action, and one pilot per action."""
    if not role:
        return
    where = (Commitment.action == action_id) & Commitment.state.is_in(["propose", "confirme", "tenu"])
    if exclude is not None:
        where &= Commitment.id != exclude
    others = await Commitment.select(
        Commitment.partner, Commitment.role, Commitment.partner.name.as_alias("partner_name")
    ).where(where)
    for other in others:
        if other["partner"] == partner_id and other["role"] == role:
            form.check(False, "role", f"Ce partenaire a déjà un engagement « {ROLE_LABELS[role]} » sur cette action.")
        elif role == "pilote" and other["role"] == "pilote":
            form.check(False, "role", f"Cette action a déjà un pilote engagé : « {other['partner_name']} ».")


async def update_commitment(viewer: Viewer, commitment_id: int, data: Mapping[str, Any]) -> bool:
    """Edit what a commitment says (territory's editors). Editing a confirmed commitment puts it back to
    « proposé » with a history entry: a partner never stays bound to a text it did not see.
    Returns True when the commitment went back to « proposé » (the partner must be asked again)."""
    # Who may edit is checked before what was sent (and again inside the transaction).
    found = await _load(commitment_id)
    if found is None or not readable(viewer, found):
        raise NotFound(NOT_FOUND)
    if not viewer.can_record_commitments(found["territory"]):
        raise Forbidden("Votre rôle ne permet pas de modifier les engagements de ce territoire.")
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    terms = read_terms(form)
    note = form.text("comment", "Commentaire", max_length=COMMENT_MAX, multiline=True)
    form.raise_if_errors()

    async with write_transaction():
        row = await _load(commitment_id)
        if row is None or not readable(viewer, row):
            raise NotFound(NOT_FOUND)
        if not viewer.can_record_commitments(row["territory"]):
            raise Forbidden("Votre rôle ne permet pas de modifier les engagements de ce territoire.")
        if row["state"] not in EDITABLE:
            raise InvalidInput(
                f"Un engagement « {STATE_LABELS[row['state']]} » ne se modifie plus : "
                "enregistrez un nouvel engagement si le partenaire s’engage à nouveau.",
                errors={"etat": "Engagement clos."},
            )
        if row["version"] != version:
            raise Conflict(await _conflict_message(commitment_id))
        await check_role(form, row["action"], row["partner"], terms[Commitment.role], exclude=commitment_id)
        form.raise_if_errors()
        changed = any(row[column._meta.name] != value for column, value in terms.items())
        if not changed:
            return False
        when = arrow.utcnow().datetime
        back_to_proposed = row["state"] == "confirme"
        values: dict[Any, Any] = {**terms, Commitment.version: version + 1, Commitment.updated_at: when}
        if back_to_proposed:
            values.update({
                Commitment.state: "propose",
                Commitment.confirmed_at: None,
                Commitment.confirmed_by: None,
                Commitment.confirmed_by_contact: None,
            })
        updated = (
            await Commitment.update(values)
            .where((Commitment.id == commitment_id) & (Commitment.version == version))
            .returning(Commitment.id)
        )
        if not updated:
            raise Conflict(await _conflict_message(commitment_id))
        if back_to_proposed:
            await history.record(
                subject_type="commitment",
                subject_id=commitment_id,
                territory_id=row["territory"],
                from_value="confirme",
                to_value="propose",
                actor_id=viewer.user_id,
                comment=EDITED_COMMENT + (f" {note}" if note else ""),
                at=when,
            )
    return back_to_proposed
