"""Who confirmed a commitment, and how: shown beside every confirmation and sent in copy to the partner's other
contacts, so that a confirmation made up by someone else is seen by the partner itself (DESIGN.md §2).

A confirmation says: who confirmed (the contact), through which channel (signed in to their account, or a signed
link), the address the link went to (or the account's address), who sent the link and who added that contact."""
from __future__ import annotations

import logging

from tracker.commitments.tables import Commitment, CommitmentLink
from tracker.core.db import in_list
from tracker.core.french import date_fr, typo
from tracker.history.service import contact_label
from tracker.mail import MailNotSent, send_mail
from tracker.partners.tables import PartnerContact

log = logging.getLogger("tracker.commitments")


async def confirmations(commitment_ids: list[int]) -> dict[int, dict]:
    """For each confirmed commitment among these: `who`, `channel` (« lien » or « compte »), `address`, `link_sender`,
    `added_by`, `contact`, `at`. Two queries whatever the number."""
    if not commitment_ids:
        return {}
    ids = list(commitment_ids)
    rows = await Commitment.raw(
        "SELECT c.id, c.confirmed_at, c.confirmed_link, c.confirmed_by_contact, u.full_name AS user_name, "
        "u.email AS user_email, pc.full_name AS contact_name, pc.erased_at AS contact_erased_at, cb.full_name AS added_by "
        "FROM commitment c LEFT JOIN app_user u ON u.id = c.confirmed_by "
        "LEFT JOIN partner_contact pc ON pc.id = c.confirmed_by_contact LEFT JOIN app_user cb ON cb.id = pc.created_by "
        "WHERE c.id IN " + in_list(ids) + " AND c.confirmed_at IS NOT NULL",
        *ids,
    )
    link_ids = [r["confirmed_link"] for r in rows if r["confirmed_link"]] or [0]
    links = {
        link["id"]: link
        for link in await CommitmentLink.raw(
            "SELECT l.id, l.sent_to, u.full_name AS sender FROM commitment_link l "
            "LEFT JOIN app_user u ON u.id = l.created_by WHERE l.id IN " + in_list(link_ids),
            *link_ids,
        )
    }
    found: dict[int, dict] = {}
    for row in rows:
        erased = row["contact_erased_at"] is not None
        link = links.get(row["confirmed_link"])
        by_link = row["confirmed_link"] is not None
        found[row["id"]] = {
            "at": row["confirmed_at"],
            "contact": row["confirmed_by_contact"],
            "who": contact_label(row["contact_name"], row["contact_erased_at"]) if row["confirmed_by_contact"]
            else (row["user_name"] or "inconnu"),
            "channel": "lien" if by_link else "compte",
            # Erased: the person's address is not kept anywhere any more.
            "address": None if erased else ((link or {}).get("sent_to") if by_link else row["user_email"]),
            "link_sender": (link or {}).get("sender"),
            "added_by": row["added_by"],
        }
    return found


def describe(confirmation: dict, *, with_address: bool = True) -> str:
    """The sentence shown and mailed: « Confirmé le … par X, par le lien envoyé à a@b (par Y) ; contact ajouté par Z. »"""
    parts = [f"Confirmé le {date_fr(confirmation['at'])} par {confirmation['who']}"]
    if confirmation["channel"] == "lien":
        channel = "par le lien signé envoyé"
        if with_address and confirmation["address"]:
            channel += f" à {confirmation['address']}"
        if confirmation["link_sender"]:
            channel += f" (lien envoyé par {confirmation['link_sender']})"
    else:
        channel = "connecté à son compte"
        if with_address and confirmation["address"]:
            channel += f" ({confirmation['address']})"
    added = confirmation["added_by"] or "une personne non enregistrée (contact antérieur à ce suivi)"
    return typo(f"{parts[0]}, {channel} ; contact ajouté par {added}.")


async def send_copies(commitment_id: int) -> int:
    """A copy of the confirmation to each of the partner's other contacts (not erased, with an address). A copy
    that cannot be sent is logged: the confirmation itself stands. Returns how many were sent."""
    row = await Commitment.select(
        Commitment.partner, Commitment.description, Commitment.partner.name.as_alias("partner_name"),
        Commitment.action.title.as_alias("action_title"), Commitment.territory.name.as_alias("territory_name"),
    ).where(Commitment.id == commitment_id).first()
    confirmation = (await confirmations([commitment_id])).get(commitment_id)
    if row is None or confirmation is None:
        return 0
    others = await PartnerContact.select(PartnerContact.full_name, PartnerContact.email).where(
        (PartnerContact.partner == row["partner"]) & PartnerContact.erased_at.is_null()
        & PartnerContact.email.is_not_null() & (PartnerContact.id != (confirmation["contact"] or 0))
    )
    sent = 0
    for other in others:
        context = {
            "contact_name": other["full_name"],
            "partner_name": row["partner_name"],
            "action_title": row["action_title"],
            "territory_name": row["territory_name"],
            "description": row["description"],
            "confirmation": describe(confirmation),
        }
        try:
            await send_mail(to=other["email"], subject=typo(f"Copie : engagement confirmé au nom de "
                                                            f"{row['partner_name']}"),
                            template="copie_confirmation", context=context)
            sent += 1
        except MailNotSent:
            log.error("copie de confirmation non envoyée (engagement %s, contact du partenaire %s)",
                      commitment_id, row["partner"])
    return sent

