"""Signed links for partners without an account: /e/{token}, sent by email, bound to one commitment and one contact.

The token is 32 bytes from `secrets` (256 bits, CSPRNG), sent only in the email; the table keeps its SHA-256.
A link is single use (used_at, taken in the transaction of the answer), expires after 14 days, and sending a new
link for a commitment voids the older ones. GET only shows; only a POST (with the CSRF token) answers, through
lifecycle.change_commitment_state. The demo records its links through `record_sent_link`."""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import arrow

from tracker.commitments import lifecycle, service
from tracker.commitments.states import ROLE_LABELS
from tracker.commitments.tables import Commitment, CommitmentLink
from tracker.core import clock
from tracker.core.config import settings
from tracker.core.db import write_transaction
from tracker.core.errors import DomainError, Forbidden, InvalidInput
from tracker.core.forms import GENERIC, StateChangeInput
from tracker.core.french import date_fr, money_fr, number_fr, typo
from tracker.core.permissions import ANONYMOUS, Viewer
from tracker.history.service import contact_label
from tracker.lifecycle import Change
from tracker.mail import MailNotSent, send_mail
from tracker.partners.tables import PartnerContact

TOKEN_BYTES = 32
LINK_DAYS = 14
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)


class LinkProblem(DomainError):
    """Unknown (404), or used, replaced, expired, no longer awaiting an answer (410). `kind` says which."""

    def __init__(self, kind: str, *, status_code: int, territory_name: str = "", sender_name: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.status_code = status_code
        self.territory_name = territory_name
        self.sender_name = sender_name


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(token: str) -> str:
    return f"{settings.base_url}/e/{token}"


# --- sending ----------------------------------------------------------------------------------------------------


def amount_text(amount: int | None, unit: str) -> str:
    if amount is None:
        return ""
    return money_fr(amount) if unit == "euros" else f"{number_fr(amount)}\u00a0jour{'s' if amount > 1 else ''}"


async def sendable_commitment(viewer: Viewer, commitment_id: int) -> dict:
    """The commitment, if this person may send it to the partner: the territory's editors (NotFound / Forbidden
    otherwise)."""
    commitment = await service.commitment_for(viewer, commitment_id)
    if not viewer.can_record_commitments(commitment["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’envoyer les engagements de ce territoire aux partenaires.")
    return commitment


async def _recipient(commitment: dict, contact_id: int) -> dict:
    """The contact, if a link for this commitment may be sent to them now; InvalidInput otherwise."""
    if commitment["action_confidential"]:
        raise InvalidInput(service.CONFIDENTIAL_REFUSED)
    if commitment["state"] != "propose":
        raise InvalidInput("Seul un engagement « Proposé » attend la réponse du partenaire : rien n’a été envoyé.",
                           errors={"contact": "Engagement déjà traité."})
    if contact_id not in {c["id"] for c in await service.contacts_to_send(commitment)}:
        raise InvalidInput(GENERIC, errors={"contact": "« Contact » : valeur inconnue, choisissez dans la liste."})
    return (
        await PartnerContact.select(PartnerContact.id, PartnerContact.full_name, PartnerContact.email)
        .where(PartnerContact.id == contact_id)
        .first()
    )


async def _issue(viewer: Viewer, commitment_id: int, contact: dict, at: datetime) -> tuple[int, str, datetime]:
    """A new link, written with its hash only and the address it goes to: (its id, the token, when it expires)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = arrow.get(at).shift(days=LINK_DAYS).datetime
    async with write_transaction():
        current = await Commitment.select(Commitment.state).where(Commitment.id == commitment_id).first()
        if current is None or current["state"] != "propose":
            raise InvalidInput("L’engagement vient de changer d’état : rien n’a été envoyé. Rechargez la page.")
        link = CommitmentLink(
            commitment=commitment_id,
            contact=contact["id"],
            sent_to=contact["email"],
            token_hash=token_hash(token),
            created_by=viewer.user_id,
            created_at=at,
            expires_at=expires,
        )
        await link.save()
    return link.id, token, expires


async def _void_others(commitment_id: int, link_id: int, at: datetime) -> None:
    """Sending a new link voids the older ones of the commitment still usable."""
    async with write_transaction():
        await CommitmentLink.update({CommitmentLink.voided_at: at}).where(
            (CommitmentLink.commitment == commitment_id)
            & (CommitmentLink.id != link_id)
            & CommitmentLink.used_at.is_null()
            & CommitmentLink.voided_at.is_null()
        )


async def send_link(viewer: Viewer, commitment_id: int, contact_id: int) -> str:
    """Email a new signed link for a proposed commitment to one of the partner's contacts (territory's editors).
    The older links of this commitment are voided once the new one is sent. Returns the contact's name."""
    commitment = await sendable_commitment(viewer, commitment_id)
    contact = await _recipient(commitment, contact_id)
    await deliver_link(viewer, commitment, contact, sender_name=viewer.full_name or viewer.email,
                       reply_to=viewer.email or None)
    return contact["full_name"]


async def deliver_link(
    sender: Viewer,
    commitment: dict,
    contact: dict,
    *,
    sender_name: str,
    reply_to: str | None,
    template: str = "lien_engagement",
    subject: str = "Engagement à confirmer : {title}",
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> int:
    """Write a new link for a proposed commitment (`service.load_commitment`'s row) and mail it to `contact` (id,
    full_name, email): `send_link`, and the daily reminders (sender ANONYMOUS: no user), who check first who may
    send it. The older links are voided once the mail is sent; if it fails, the new link is voided and MailNotSent
    raised. Returns the new link's id."""
    link_id, token, expires = await _issue(sender, commitment["id"], contact, clock.now())
    context = {
        "contact_name": contact["full_name"],
        "partner_name": commitment["partner_name"],
        "action_title": commitment["action_title"],
        "territory_name": commitment["territory_name"],
        "role": ROLE_LABELS.get(commitment["role"], commitment["role"]),
        "description": commitment["description"],
        "amount": amount_text(commitment["amount"], commitment["amount_unit"]),
        "due": date_fr(commitment["due_on"] or commitment["action_deadline"]),
        "sender_name": sender_name,
        "url": link_url(token),
        "expires": date_fr(expires),
        "days": LINK_DAYS,
        **(extra or {}),
    }
    try:
        await send_mail(
            to=contact["email"],
            subject=typo(subject.format(title=commitment["action_title"])),
            template=template,
            context=context,
            reply_to=reply_to,
            headers=headers,
        )
    except MailNotSent:
        async with write_transaction():
            await CommitmentLink.update({CommitmentLink.voided_at: clock.now()}).where(CommitmentLink.id == link_id)
        raise
    # Only now, so that a failed send leaves the old link usable.
    await _void_others(commitment["id"], link_id, clock.now())
    return link_id


async def record_sent_link(viewer: Viewer, commitment_id: int, contact_id: int, *, at: datetime) -> str:
    """A link sent at `at` by other means than this application's mail (the demo, an import): checked and written
    as `send_link` writes it, the older links voided. Returns the token, which is stored nowhere."""
    commitment = await sendable_commitment(viewer, commitment_id)
    contact = await _recipient(commitment, contact_id)
    link_id, token, _ = await _issue(viewer, commitment_id, contact, at)
    await _void_others(commitment_id, link_id, at)
    return token


# --- the page behind the link -------------------------------------------------------------------------------


async def usable_link(token: str, *, at: datetime | None = None) -> dict:
    """The link for a token, if it may still be answered (at `at`, by default now); else LinkProblem (404 unknown,
    410 the others). The valid link is the permission."""
    if not _TOKEN_SHAPE.fullmatch(token or ""):
        raise LinkProblem("inconnu", status_code=404)
    link = (
        await CommitmentLink.select(
            CommitmentLink.id,
            CommitmentLink.commitment,
            CommitmentLink.contact,
            CommitmentLink.expires_at,
            CommitmentLink.used_at,
            CommitmentLink.voided_at,
            CommitmentLink.created_by.full_name.as_alias("sender_name"),
            CommitmentLink.commitment.territory.name.as_alias("territory_name"),
            CommitmentLink.commitment.state.as_alias("state"),
            CommitmentLink.commitment.action.confidential.as_alias("confidential"),
            CommitmentLink.contact.full_name.as_alias("contact_name"),
            CommitmentLink.contact.erased_at.as_alias("contact_erased_at"),
        )
        .where(CommitmentLink.token_hash == token_hash(token))
        .first()
    )
    if link is None or link["confidential"] or link["contact_erased_at"] is not None:
        raise LinkProblem("inconnu", status_code=404)
    where = {"territory_name": link["territory_name"], "sender_name": link["sender_name"] or ""}
    if link["used_at"] is not None:
        raise LinkProblem("utilise", status_code=410, **where)
    if link["voided_at"] is not None:
        raise LinkProblem("remplace", status_code=410, **where)
    if clock.aware(link["expires_at"]) <= clock.aware(at or clock.now()):
        raise LinkProblem("expire", status_code=410, **where)
    if link["state"] != "propose":
        raise LinkProblem("sans_objet", status_code=410, **where)
    return link


async def open_link(token: str) -> dict:
    """What the GET shows: the commitment as it stands now. Reads only."""
    link = await usable_link(token)
    # The valid link is the permission: it was checked by usable_link and is bound to this one commitment.
    commitment = await service.load_commitment(link["commitment"])
    commitment["amount_text"] = amount_text(commitment["amount"], commitment["amount_unit"])
    return {
        "link": {**link, "contact_label": contact_label(link["contact_name"], link["contact_erased_at"])},
        "commitment": commitment,
    }


async def answer_link(token: str, answer: StateChangeInput, *, at: datetime | None = None) -> Change:
    """The POST: confirm, or decline with a reason (`forms.read_link_answer`). The version the partner read is
    checked, so that nobody confirms a text changed since they opened the page. `at` backdates it (demo)."""
    link = await usable_link(token, at=at)
    return await lifecycle.change_commitment_state(
        ANONYMOUS,
        link["commitment"],
        answer.status,
        answer.comment,
        answer.version,
        link=lifecycle.LinkUse(link_id=link["id"], contact_id=link["contact"], commitment_id=link["commitment"]),
        at=at,
    )
