"""A partner's contacts: personal data under the RGPD. The purpose is stated on the form; a contact's data can be
rectified, exported (JSON or CSV) and erased. Erasure blanks the person in place and keeps the row, so that history
entries, which reference the contact by id, then read « contact supprimé »."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import arrow
from piccolo.columns import Column

from tracker import lifecycle
from tracker.accounts.tables import Membership, User, UserSession
from tracker.auth.separation import check_contact_address
from tracker.commitments.tables import CommitmentComment, CommitmentLink
from tracker.contacts.forms import ContactInput
from tracker.core import audit, clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.permissions import Viewer
from tracker.history.service import ERASED_CONTACT
from tracker.history.tables import HistoryEntry
from tracker.partners.service import partner_for
from tracker.partners.tables import PartnerContact

NOT_FOUND = "Ce contact n’existe pas ou ne vous est pas accessible."
CONTACT = lifecycle.Versioned(subject="partner_contact", table=PartnerContact, this="Ce contact", feminine=False)
PURPOSE = (
    "Ces coordonnées servent uniquement à demander au partenaire de confirmer ses engagements (par un lien envoyé "
    "par courriel) et à le tenir informé du suivi de la feuille de route. Elles sont visibles des éditeurs et "
    "référents des territoires avec lesquels il travaille, des administrateurs et des autres contacts de la même "
    "organisation ; elles ne sont transmises à personne d’autre. La personne peut à tout moment obtenir ses données "
    "(export) ou leur effacement auprès du référent du territoire. Prévenez-la de cet enregistrement."
)


async def contact_for(viewer: Viewer, contact_id: int) -> dict:
    """A contact with its partner; 404 if the partner is not readable, 403 if its contacts are not shown to you."""
    contact = await PartnerContact.select().where(PartnerContact.id == contact_id).first()
    if contact is None:
        raise NotFound(NOT_FOUND)
    try:
        partner = await partner_for(viewer, contact["partner"])
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    if not viewer.can_see_contacts(partner["id"], partner["territory_ids"]):
        raise Forbidden("Les coordonnées des contacts ne sont visibles que des éditeurs et référents du territoire.")
    contact["partner_name"] = partner["name"]
    contact["partner_obj"] = partner
    return contact


async def managed_contact(viewer: Viewer, contact_id: int) -> dict:
    """Rectify, export, erase, link an account: référents of the partner's territories and administrators."""
    contact = await contact_for(viewer, contact_id)
    if not viewer.can_manage_partner(contact["partner_obj"]["territory_ids"]):
        raise Forbidden("Seuls les référents des territoires de ce partenaire et les administrateurs gèrent les "
                        "données personnelles de ses contacts.")
    return contact


async def _check_address(partner_id: int, email: str, contact_id: int | None) -> None:
    """One contact per address at a partner."""
    where = (PartnerContact.partner == partner_id) & (PartnerContact.email == email)
    if contact_id:
        where &= PartnerContact.id != contact_id
    if await PartnerContact.exists().where(where):
        raise InvalidInput(GENERIC, errors={"email": "Ce partenaire a déjà un contact avec cette adresse électronique."})


def _columns(values: ContactInput) -> dict[Column, Any]:
    return {
        PartnerContact.full_name: values.full_name,
        PartnerContact.email: values.email,
        PartnerContact.function: values.function,
    }


async def partner_for_contacts(viewer: Viewer, partner_id: int) -> dict:
    """The partner, if this person may add contacts to it (NotFound / Forbidden otherwise)."""
    partner = await partner_for(viewer, partner_id)
    if not viewer.can_add_contacts(partner["territory_ids"]):
        raise Forbidden("Seuls les éditeurs et référents des territoires de ce partenaire ajoutent des contacts.")
    return partner


async def add_contact(viewer: Viewer, partner_id: int, values: ContactInput, *, at: datetime | None = None) -> int:
    """A new contact of the partner; `at` backdates it (demo, import)."""
    await partner_for_contacts(viewer, partner_id)
    await _check_address(partner_id, values.email, None)
    now = at or clock.now()
    async with write_transaction():
        await check_contact_address(partner_id, values.email)  # never a member of one of the partner's territories
        contact = PartnerContact(partner=partner_id, version=1, created_at=now, updated_at=now,
                                 created_by=viewer.user_id)
        for column, value in _columns(values).items():
            setattr(contact, column._meta.name, value)
        await contact.save()
    return contact.id


async def update_contact(viewer: Viewer, contact_id: int, values: ContactInput, version: int | None) -> dict:
    """Rectification (RGPD art. 16)."""
    contact = await managed_contact(viewer, contact_id)
    if contact["erased_at"] is not None:
        raise InvalidInput("Ce contact a été effacé : ses données ne se modifient plus.")
    await _check_address(contact["partner"], values.email, contact_id)
    async with write_transaction():
        await check_contact_address(contact["partner"], values.email)
        # An erasure meanwhile changed the version: the edit is refused as a conflict.
        await lifecycle.save_edit(CONTACT, contact_id, version, _columns(values))
    return contact


async def erase_contact(viewer: Viewer, contact_id: int, version: int | None) -> dict:
    """Erasure (RGPD art. 17): name, address and function blanked, the account link cut, pending links voided.
    History entries keep the contact's id and now read « contact supprimé ». An account that existed only for this
    contact is closed and anonymised; an account with other roles (a DGS who is also a référent) is kept."""
    contact = await managed_contact(viewer, contact_id)
    if contact["erased_at"] is not None:
        raise InvalidInput("Ce contact est déjà effacé.")
    now = clock.now()
    async with write_transaction():
        await lifecycle.save_edit(CONTACT, contact_id, version, {
            PartnerContact.full_name: "",
            PartnerContact.email: None,
            PartnerContact.function: "",
            PartnerContact.account: None,
            PartnerContact.erased_at: now,
        }, at=now)
        await CommitmentLink.update({CommitmentLink.voided_at: now}).where(
            (CommitmentLink.contact == contact_id) & CommitmentLink.used_at.is_null()
            & CommitmentLink.voided_at.is_null()
        )
        # The address each link went to is the person's too: not kept once erased.
        await CommitmentLink.update({CommitmentLink.sent_to: None}).where(CommitmentLink.contact == contact_id)
        account = contact["account"]
        if account is not None:
            other_roles = (
                await Membership.exists().where(Membership.user == account)
                or await PartnerContact.exists().where(
                    (PartnerContact.account == account) & PartnerContact.erased_at.is_null()
                )
                or await User.exists().where((User.id == account) & (User.is_admin.eq(True) | User.is_reviewer.eq(True)))
            )
            if not other_roles:
                await User.update({
                    User.email: f"compte-efface-{account}@invalid",
                    User.full_name: ERASED_CONTACT,
                    User.password_hash: "!",
                    User.is_active: False,
                }).where(User.id == account)
                await UserSession.delete().where(UserSession.user == account)
    audit.record("contact_efface", utilisateur=viewer.user_id, contact=contact_id, partenaire=contact["partner"])
    return contact


async def set_account(viewer: Viewer, contact_id: int, operation: str) -> dict:
    """Link the contact to the existing account with the same address (so that they answer signed in, on
    /engagements), or unlink it (`operation`: « relier » or « delier »). Accounts themselves are created by the
    administrators."""
    contact = await managed_contact(viewer, contact_id)
    if contact["erased_at"] is not None:
        raise InvalidInput("Ce contact a été effacé.")
    if operation == "delier":
        async with write_transaction():
            await PartnerContact.update({PartnerContact.account: None}).where(PartnerContact.id == contact_id)
        return contact
    user = await User.select(User.id).where((User.email == contact["email"]) & User.is_active.eq(True)).first()
    if user is None:
        raise InvalidInput(
            "Aucun compte actif n’utilise cette adresse. Demandez à un administrateur de créer le compte "
            "(python -m tracker create-user), puis reliez-le ici.",
            errors={"operation": "Aucun compte pour cette adresse."},
        )
    async with write_transaction():
        await PartnerContact.update({PartnerContact.account: user["id"]}).where(PartnerContact.id == contact_id)
    return contact


async def account_exists_for(email: str | None) -> bool:
    if not email:
        return False
    return await User.exists().where((User.email == email) & User.is_active.eq(True))


# --- export (RGPD art. 15 and 20) -----------------------------------------------------------------------------


async def export_data(viewer: Viewer, contact_id: int) -> dict:
    """Everything held about the contact: identity, signed links sent, what they did, what they wrote."""
    contact = await managed_contact(viewer, contact_id)

    def when(value) -> str | None:
        return clock.aware(value).isoformat() if value else None

    links = await CommitmentLink.select(
        CommitmentLink.commitment, CommitmentLink.created_at, CommitmentLink.expires_at, CommitmentLink.used_at,
        CommitmentLink.voided_at,
    ).where(CommitmentLink.contact == contact_id).order_by(CommitmentLink.id)
    acts = await HistoryEntry.select(
        HistoryEntry.subject_type, HistoryEntry.subject_id, HistoryEntry.from_value, HistoryEntry.to_value,
        HistoryEntry.comment, HistoryEntry.created_at, HistoryEntry.actor,
    ).where(HistoryEntry.actor_contact == contact_id).order_by(HistoryEntry.id)
    comments = await CommitmentComment.select(
        CommitmentComment.commitment, CommitmentComment.body, CommitmentComment.created_at
    ).where(CommitmentComment.author_contact == contact_id).order_by(CommitmentComment.id)
    return {
        "finalite": PURPOSE,
        "exporte_le": arrow.get(clock.now()).isoformat(),
        "contact": {
            "id": contact["id"],
            "partenaire": contact["partner_name"],
            "nom": contact["full_name"] if contact["erased_at"] is None else ERASED_CONTACT,
            "adresse_electronique": contact["email"],
            "fonction": contact["function"],
            "compte_utilisateur_relie": contact["account"] is not None,
            "enregistre_le": when(contact["created_at"]),
            "modifie_le": when(contact["updated_at"]),
            "efface_le": when(contact["erased_at"]),
        },
        "liens_envoyes": [
            {"engagement": link["commitment"], "envoye_le": when(link["created_at"]),
             "expire_le": when(link["expires_at"]), "utilise_le": when(link["used_at"]),
             "remplace_le": when(link["voided_at"])}
            for link in links
        ],
        "actions_enregistrees": [
            {"objet": f"{a['subject_type']} {a['subject_id']}", "de": a["from_value"], "vers": a["to_value"],
             "commentaire": a["comment"], "le": when(a["created_at"]),
             "par": "lien signé" if a["actor"] is None else "compte connecté"}
            for a in acts
        ],
        "commentaires": [
            {"engagement": c["commitment"], "texte": c["body"], "le": when(c["created_at"])} for c in comments
        ],
    }


def export_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _cell(value: Any) -> str:
    """A spreadsheet never runs what a user typed: a leading = + - @ is neutralised (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(data: dict) -> bytes:
    """One line per fact: rubrique; champ; valeur — semicolons and a BOM, as French spreadsheets expect."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["rubrique", "champ", "valeur"])
    writer.writerow(["finalité", "", _cell(data["finalite"])])
    for key, value in data["contact"].items():
        writer.writerow(["contact", key, _cell(value)])
    for section in ("liens_envoyes", "actions_enregistrees", "commentaires"):
        for index, item in enumerate(data[section], start=1):
            for key, value in item.items():
                writer.writerow([f"{section} {index}", key, _cell(value)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
