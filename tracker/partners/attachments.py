"""Attaching a territory to a partner already in the directory is a request (`PartnerAttachment`) that one of the
partner's current territories accepts (its référents, or an administrator). Until then the asking territory sees
nothing of the partner — neither its page nor its contacts — and manages none of them.

A référent may ask only about a partner they can read, or one this application offered them as a duplicate of the
partner they were creating (`candidate_proof`, signed): any other id answers 404 whether it exists or not, so that
ids cannot be enumerated.

The request's life cycle, declared once for the kernel: demande → acceptée (the territory is attached, in the same
transaction) | refusée."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from tracker import lifecycle
from tracker.auth.separation import check_attachment
from tracker.accounts.tables import Membership
from tracker.core import audit, clock, signing
from tracker.core.config import settings
from tracker.core.french import typo
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.permissions import Viewer
from tracker.lifecycle import Actor, Machine, Step, Transition
from tracker.mail import MailNotSent, send_mail
from tracker.partners.tables import Partner, PartnerAttachment, PartnerTerritory
from tracker.territories.tables import Territory

log = logging.getLogger("tracker.partners")
NOT_FOUND = "Ce partenaire n’existe pas ou ne vous est pas accessible."
REQUEST_NOT_FOUND = "Cette demande de rattachement n’existe pas ou ne vous est pas accessible."
STATE_LABELS = {"demande": "En attente", "accepte": "Acceptée", "refuse": "Refusée"}
KEEPERS_ONLY = "Seuls les référents des territoires de ce partenaire et les administrateurs répondent aux demandes."
_PROOF = "candidat-rattachement"


def candidate_proof(viewer: Viewer, partner_id: int) -> str:
    """Given with a partner offered to this person as a duplicate: lets them ask to work with it."""
    return signing.sign(_PROOF, viewer.user_id, partner_id)


async def _territory_ids(partner_id: int) -> list[int]:
    rows = await PartnerTerritory.select(PartnerTerritory.territory).where(PartnerTerritory.partner == partner_id)
    return [r["territory"] for r in rows]


async def _load(request_id: int) -> dict | None:
    row = await PartnerAttachment.select(
        PartnerAttachment.id, PartnerAttachment.partner, PartnerAttachment.territory, PartnerAttachment.state,
        PartnerAttachment.version,
    ).where(PartnerAttachment.id == request_id).first()
    if row is not None:
        row["partner_territories"] = await _territory_ids(row["partner"])
    return row


async def _side(viewer: Viewer, row: dict, _: Any) -> Actor:
    if not viewer.can_read_partner(row["partner"], row["partner_territories"]):
        raise NotFound(REQUEST_NOT_FOUND)
    if not viewer.can_manage_partner(row["partner_territories"]):
        raise Forbidden(KEEPERS_ONLY)
    return Actor("keeper", viewer.user_id)


async def _attach(step: Step) -> None:
    """On acceptance, in the same transaction: the territory starts working with the partner, unless one of its
    members is a contact of the partner (then nothing is written)."""
    if step.transition.target != "accepte":
        return
    partner_id, territory_id = step.row["partner"], step.row["territory"]
    await check_attachment(partner_id, territory_id)
    if not await PartnerTerritory.exists().where(
        (PartnerTerritory.partner == partner_id) & (PartnerTerritory.territory == territory_id)
    ):
        await PartnerTerritory.insert(PartnerTerritory(partner=partner_id, territory=territory_id))


ATTACHMENT = Machine(
    subject="rattachement",
    table=PartnerAttachment,
    state=PartnerAttachment.state,
    labels=STATE_LABELS,
    initial="demande",
    transitions=(
        Transition("demande", "accepte", by=frozenset({"keeper"}), refused=KEEPERS_ONLY),
        Transition("demande", "refuse", by=frozenset({"keeper"}), refused=KEEPERS_ONLY),
    ),
    load=_load,
    side=_side,
    not_found=REQUEST_NOT_FOUND,
    a="Une demande de rattachement",
    the="La demande de rattachement",
    this="Cette demande de rattachement",
    feminine=True,
    after=_attach,
)


async def requestable_partner(viewer: Viewer, partner_id: int, proof: str) -> list[int]:
    """The partner's current territories, if this person may ask to work with it: they can read it, or it was
    offered to them as a duplicate. NotFound otherwise, whether the partner exists or not."""
    if not viewer.can_create_partners():
        raise Forbidden("Seuls les référents rattachent un partenaire à leur territoire.")
    exists = await Partner.exists().where(Partner.id == partner_id)
    territories = await _territory_ids(partner_id) if exists else []
    offered = signing.verify(proof, _PROOF, viewer.user_id, partner_id)
    if not exists or not (viewer.can_read_partner(partner_id, territories) or offered):
        raise NotFound(NOT_FOUND)
    return territories


async def request_attachment(viewer: Viewer, partner_id: int, territory_id: int, proof: str = "", *,
                             at: datetime | None = None) -> bool:
    """Ask for `territory_id` (one whose directory this person keeps) to work with the partner. Attached at once
    when this person already keeps the partner (référent of one of its territories, or an administrator); else a
    request that the partner's territories answer. Returns True when attached at once."""
    territories = await requestable_partner(viewer, partner_id, proof)
    if territory_id not in viewer.managed_territories():
        raise InvalidInput(GENERIC, errors={"territoire": "« Territoire » : valeur inconnue, choisissez dans la liste."})
    if territory_id in territories:
        raise InvalidInput("Ce partenaire travaille déjà avec ce territoire.", errors={"territoire": "Déjà rattaché."})
    attached = await _attach_or_request(viewer, partner_id, territory_id, territories, at=at)
    if attached is None:
        raise InvalidInput("Une demande de rattachement de ce territoire attend déjà la réponse des territoires "
                           "de ce partenaire.", errors={"territoire": "Demande déjà envoyée."})
    if not attached and at is None:
        await tell_keepers(viewer, partner_id, territory_id, territories)
    return attached


async def tell_keepers(viewer: Viewer, partner_id: int, territory_id: int, territories: list[int]) -> int:
    """A message to the référents of the partner's territories, who answer the request on the partner's page.
    A message that cannot be sent is logged: the request stands, on the page. Returns how many were sent."""
    keepers = await Membership.select(Membership.user.email.as_alias("email"),
                                      Membership.user.full_name.as_alias("name")).where(
        Membership.territory.is_in(territories or [0]) & (Membership.role == "referent")
        & Membership.user.is_active.eq(True))
    partner = await Partner.select(Partner.name).where(Partner.id == partner_id).first()
    asking = await Territory.select(Territory.name).where(Territory.id == territory_id).first()
    sent = 0
    for email in sorted({k["email"] for k in keepers}):
        context = {"partner_name": partner["name"], "territory_name": asking["name"],
                   "asked_by": viewer.full_name or viewer.email,
                   "url": f"{settings.base_url}/partenaires/{partner_id}#rattachements"}
        try:
            await send_mail(to=email, subject=typo(f"Demande de rattachement : {partner['name']}"),
                            template="demande_rattachement", context=context)
            sent += 1
        except MailNotSent:
            log.error("demande de rattachement %s → %s : message non envoyé", territory_id, partner_id)
    return sent


async def _attach_or_request(viewer: Viewer, partner_id: int, territory_id: int, territories: list[int], *,
                             at: datetime | None) -> bool | None:
    """True: attached at once (this person keeps the partner); False: a request written; None: one was pending."""
    await check_attachment(partner_id, territory_id)
    now = at or clock.now()
    async with write_transaction():
        if viewer.can_manage_partner(territories):
            await PartnerTerritory.insert(PartnerTerritory(partner=partner_id, territory=territory_id))
            return True
        if await PartnerAttachment.exists().where(
            (PartnerAttachment.partner == partner_id) & (PartnerAttachment.territory == territory_id)
            & (PartnerAttachment.state == "demande")
        ):
            return None
        row = PartnerAttachment(partner=partner_id, territory=territory_id, state=ATTACHMENT.initial, version=1,
                                requested_by=viewer.user_id, created_at=now, updated_at=now)
        await row.save()
        await lifecycle.record_created(ATTACHMENT, row.id, territory_id, viewer,
                                       comment="Demande de rattachement au partenaire", at=now)
    return False


async def attach_matched(viewer: Viewer, partner_id: int, territory_id: int) -> bool:
    """For a partner this application itself matched for `territory_id` (a spreadsheet import names it by its
    identifier or its name): attached at once when this person keeps the partner, else a request to its territories
    (once: an earlier pending request is kept). True when the partner now works with the territory."""
    territories = await _territory_ids(partner_id)
    if territory_id in territories:
        return True
    return bool(await _attach_or_request(viewer, partner_id, territory_id, territories, at=None))


async def answer(viewer: Viewer, request_id: int, target: str, comment: str | None, version: int | None):
    """Accept or refuse a request (the partner's référents, administrators): `lifecycle.apply(ATTACHMENT…)`."""
    change = await lifecycle.apply(ATTACHMENT, viewer, request_id, target, comment, version)
    audit.record("rattachement_" + change.target, utilisateur=viewer.user_id, demande=request_id)
    return change


async def answerable_request(viewer: Viewer, request_id: int) -> dict:
    """The request, if this person may answer it (NotFound / Forbidden otherwise)."""
    row = await _load(request_id)
    if row is None:
        raise NotFound(REQUEST_NOT_FOUND)
    await _side(viewer, row, None)
    return row


async def pending_for(partner_id: int) -> list[dict]:
    """The requests waiting for the partner's territories, oldest first."""
    return await PartnerAttachment.select(
        PartnerAttachment.id, PartnerAttachment.version, PartnerAttachment.created_at,
        PartnerAttachment.territory.name.as_alias("territory_name"),
        PartnerAttachment.requested_by.full_name.as_alias("requested_by_name"),
    ).where((PartnerAttachment.partner == partner_id) & (PartnerAttachment.state == "demande")).order_by(
        PartnerAttachment.id
    )

