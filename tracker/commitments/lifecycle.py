"""A commitment's life cycle, declared once for the kernel (DESIGN.md §4). The partner's contact on /engagements,
the signed link, the territory's editors on the action page and the demo loader all go through `apply(COMMITMENT…)`.

Who does what (the sides of `_side`):
- proposé → confirmé | décliné: only the partner — its signed-in contact (« partner »), or the signed link
  (« link », single use, used up in the same transaction); declining needs a reason;
- confirmé → tenu: the partner's contact, or the territory's editors (« territory ») with a comment (how they know);
- confirmé → retiré: the partner's contact or the territory's editors, always with a reason;
- confirmé → proposé: only by editing what the commitment says (« edit », `update_commitment`): a partner never
  stays bound to a text it did not see."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.columns import Column

from tracker import lifecycle
from tracker.commitments import confirmations
from tracker.commitments.forms import Terms, TermsEdit
from tracker.commitments.states import ACTIVE, EDITABLE, ROLE_LABELS, STATE_LABELS
from tracker.commitments.tables import Commitment, CommitmentLink
from tracker.core.db import write_transaction
from tracker.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.permissions import Viewer
from tracker.lifecycle import Actor, Change, Machine, Step, Transition
from tracker.partners.tables import PartnerContact

NOT_FOUND = "Cet engagement n’existe pas ou ne vous est pas accessible."
EDITED_COMMENT = "Engagement modifié : le partenaire doit le confirmer à nouveau."
PARTNER_ONLY = (
    "Seul le partenaire confirme ou décline son engagement : envoyez-lui le lien par courriel, "
    "ou demandez à son contact de répondre depuis son espace « Mes engagements »."
)
LINK_ONLY_ANSWERS = "Ce lien sert seulement à confirmer ou décliner l’engagement."


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
class Edit:
    """What a commitment says, edited by the territory: the new terms go with the state change."""

    terms: dict[Column, Any]


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


async def _side(viewer: Viewer, row: dict, via: Any) -> Actor:
    if isinstance(via, LinkUse):
        # The valid link is the permission: bound to this one commitment, never a confidential action's.
        if via.commitment_id != row["id"] or row["confidential"]:
            raise NotFound(NOT_FOUND)
        return Actor("link", None, via.contact_id)
    if not readable(viewer, row):
        raise NotFound(NOT_FOUND)
    if isinstance(via, Edit):
        if not viewer.can_record_commitments(row["territory"]):
            raise Forbidden("Votre rôle ne permet pas de modifier les engagements de ce territoire.")
        return Actor("edit", viewer.user_id)
    if viewer.acts_for_partner(row["partner"]):
        return Actor("partner", viewer.user_id, await contact_id_for(viewer, row["partner"]))
    if viewer.can_record_commitments(row["territory"]):
        return Actor("territory", viewer.user_id)
    raise Forbidden("Votre rôle ne permet pas de changer l’état de cet engagement.")


def _values(step: Step) -> dict:
    if step.transition.target == "confirme":
        return {
            Commitment.confirmed_at: step.at,
            Commitment.confirmed_by: step.actor.user_id,
            Commitment.confirmed_by_contact: step.actor.contact_id,
            Commitment.confirmed_link: step.via.link_id if isinstance(step.via, LinkUse) else None,
        }
    if isinstance(step.via, Edit):
        return {
            **step.via.terms,
            Commitment.confirmed_at: None,
            Commitment.confirmed_by: None,
            Commitment.confirmed_by_contact: None,
            Commitment.confirmed_link: None,
        }
    return {}


async def _use_link(step: Step) -> None:
    """Single use: only a link still unused, not replaced and not expired is taken, once, with the answer."""
    if not isinstance(step.via, LinkUse):
        return
    taken = (
        await CommitmentLink.update({CommitmentLink.used_at: step.at})
        .where(
            (CommitmentLink.id == step.via.link_id)
            & CommitmentLink.used_at.is_null()
            & CommitmentLink.voided_at.is_null()
            & (CommitmentLink.expires_at > step.at)
        )
        .returning(CommitmentLink.id)
    )
    if not taken:
        raise LinkGone("Ce lien vient d’être utilisé ou n’est plus valable : rien n’a été enregistré.")


ANSWER = frozenset({"partner", "link"})
FOLLOW_UP = frozenset({"partner", "territory"})

COMMITMENT = Machine(
    subject="commitment",
    table=Commitment,
    state=Commitment.state,
    labels=STATE_LABELS,
    initial="propose",
    transitions=(
        Transition("propose", "confirme", by=ANSWER, refused=PARTNER_ONLY),
        Transition(
            "propose", "decline", by=ANSWER, refused=PARTNER_ONLY,
            comment="Indiquez la raison du refus : elle aide le territoire à trouver une autre solution.",
        ),
        Transition(
            "confirme", "tenu", by=FOLLOW_UP, refused=LINK_ONLY_ANSWERS,
            comment=(
                "Un commentaire est obligatoire pour enregistrer un engagement tenu à la place du partenaire : "
                "dites comment il a été tenu."
            ),
            comment_sides=frozenset({"territory"}),
        ),
        Transition(
            "confirme", "retire", by=FOLLOW_UP, refused=LINK_ONLY_ANSWERS,
            comment="Indiquez la raison du retrait de cet engagement.",
        ),
        Transition("confirme", "propose", by=frozenset({"edit"}), internal=True),
    ),
    load=_load,
    side=_side,
    not_found=NOT_FOUND,
    a="Un engagement",
    the="L’engagement",
    this="Cet engagement",
    feminine=False,
    values=_values,
    after=_use_link,
)


async def change_commitment_state(
    viewer: Viewer,
    commitment_id: int,
    new_state: str,
    comment: str | None,
    version: int | None,
    *,
    link: LinkUse | None = None,
    at: datetime | None = None,
) -> Change:
    """Apply a state change or raise NotFound / Forbidden / InvalidInput / Conflict / LinkGone; nothing is written
    on error. With `link`, the signed link acts (whoever is signed in) and is used up in the same transaction.
    A confirmation made now (not backdated: `at` is the demo's replay) is sent in copy to the partner's other
    contacts, once it is written."""
    change = await lifecycle.apply(COMMITMENT, viewer, commitment_id, new_state, comment, version, via=link, at=at)
    if change.target == "confirme" and at is None:
        await confirmations.send_copies(commitment_id)
    return change


# --- what a commitment says -----------------------------------------------------------------------------------


def terms_columns(terms: Terms) -> dict[Column, Any]:
    return {
        Commitment.role: terms.role,
        Commitment.description: terms.description,
        Commitment.amount: terms.amount,
        Commitment.amount_unit: terms.amount_unit,
        Commitment.due_on: terms.due_on,
    }


async def check_role(action_id: int, partner_id: int, role: str, exclude: int | None = None) -> None:
    """One active commitment per partner and role on an action, and one pilot per action (InvalidInput on
    « role » otherwise)."""
    where = (Commitment.action == action_id) & Commitment.state.is_in(sorted(ACTIVE))
    if exclude is not None:
        where &= Commitment.id != exclude
    others = await Commitment.select(
        Commitment.partner, Commitment.role, Commitment.partner.name.as_alias("partner_name")
    ).where(where).order_by(Commitment.id)
    for other in others:
        if other["partner"] == partner_id and other["role"] == role:
            message = f"Ce partenaire a déjà un engagement « {ROLE_LABELS[role]} » sur cette action."
        elif role == "pilote" and other["role"] == "pilote":
            message = f"Cette action a déjà un pilote engagé : « {other['partner_name']} »."
        else:
            continue
        raise InvalidInput(GENERIC, errors={"role": message})


async def editable_commitment(viewer: Viewer, commitment_id: int) -> dict:
    """The commitment's row, if this person may edit what it says (NotFound / Forbidden otherwise)."""
    row = await _load(commitment_id)
    if row is None or not readable(viewer, row):
        raise NotFound(NOT_FOUND)
    if not viewer.can_record_commitments(row["territory"]):
        raise Forbidden("Votre rôle ne permet pas de modifier les engagements de ce territoire.")
    return row


async def update_commitment(viewer: Viewer, commitment_id: int, edit: TermsEdit) -> bool:
    """Edit what a commitment says (territory's editors). Editing a confirmed commitment puts it back to
    « proposé » with a history entry: a partner never stays bound to a text it did not see.
    Returns True when the commitment went back to « proposé » (the partner must be asked again)."""
    terms = terms_columns(edit.terms)
    async with write_transaction():
        row = await editable_commitment(viewer, commitment_id)
        if row["state"] not in EDITABLE:
            raise InvalidInput(
                f"Un engagement « {STATE_LABELS[row['state']]} » ne se modifie plus : "
                "enregistrez un nouvel engagement si le partenaire s’engage à nouveau.",
                errors={"status": "Engagement clos."},
            )
        if row["version"] != edit.version:  # before the other checks: a stale form is told so, even unchanged
            raise Conflict(await lifecycle.conflict_message(COMMITMENT, commitment_id))
        await check_role(row["action"], row["partner"], edit.terms.role, exclude=commitment_id)
        if not any(row[column._meta.name] != value for column, value in terms.items()):
            return False
        if row["state"] == "confirme":
            comment = EDITED_COMMENT + (f" {edit.note}" if edit.note else "")
            await lifecycle.apply(COMMITMENT, viewer, commitment_id, "propose", comment, edit.version,
                                  via=Edit(terms))
            return True
        await lifecycle.save_edit(COMMITMENT, commitment_id, edit.version, terms)
    return False
