"""A partner's word must be the partner's (DESIGN.md §2): the address of a member of a territory (any role) is
never the address of a contact of a partner of that territory, nor is a member's account linked to such a contact.
Otherwise a member could confirm their own territory's commitments in the partner's name.

Checked when a contact is added or its address rectified (`check_contact_address`), when a partner starts working
with a territory (`check_attachment`) and when a membership is granted (`grant_membership`, the one way to grant
one). Above accounts and the partners' tables, which it reads."""
from __future__ import annotations

from tracker.accounts import service as accounts
from tracker.accounts.tables import Membership, User
from tracker.core import audit
from tracker.core.errors import InvalidInput
from tracker.core.forms import GENERIC
from tracker.partners.tables import Partner, PartnerContact, PartnerTerritory
from tracker.territories.tables import Territory

CONTACT_IS_MEMBER = (
    "Cette adresse est celle d’un membre du territoire « {territory} » : un membre d’un territoire ne peut pas être "
    "le contact d’un de ses partenaires, car il confirmerait lui-même les engagements pris envers son territoire. "
    "Saisissez l’adresse d’une personne de l’organisation partenaire."
)
MEMBER_IS_CONTACT = (
    "Cette personne est contact du partenaire « {partner} », qui travaille avec le territoire « {territory} » : elle "
    "ne peut pas en être membre, car elle confirmerait au nom du partenaire les engagements pris envers son propre "
    "territoire. Effacez d’abord ce contact ou donnez-en un autre au partenaire."
)
ATTACHMENT_REFUSED = (
    "Le territoire « {territory} » ne peut pas travailler avec « {partner} » : un de ses membres est contact de ce "
    "partenaire ({email}). Un membre d’un territoire ne peut pas confirmer les engagements pris envers son "
    "territoire : ce contact doit d’abord être effacé ou remplacé."
)


async def _territory_name(territory_id: int) -> str:
    row = await Territory.select(Territory.name).where(Territory.id == territory_id).first()
    return row["name"] if row else ""


async def check_contact_address(partner_id: int, email: str, *, errors_key: str = "email") -> None:
    """InvalidInput when `email` (lower-case) is the address of a member of a territory the partner works with."""
    territories = PartnerTerritory.select(PartnerTerritory.territory).where(PartnerTerritory.partner == partner_id)
    row = await Membership.select(Membership.territory).where(
        (Membership.user.email == email) & Membership.territory.is_in(territories)
    ).first()
    if row is not None:
        message = CONTACT_IS_MEMBER.format(territory=await _territory_name(row["territory"]))
        raise InvalidInput(GENERIC, errors={errors_key: message})


async def check_attachment(partner_id: int, territory_id: int) -> None:
    """InvalidInput when a member of the territory is (by address or by account) a contact of the partner."""
    members = Membership.select(Membership.user).where(Membership.territory == territory_id)
    member_emails = User.select(User.email).where(User.id.is_in(members))
    clash = await PartnerContact.select(PartnerContact.email, PartnerContact.partner.name.as_alias("partner")).where(
        (PartnerContact.partner == partner_id)
        & PartnerContact.erased_at.is_null()
        & (PartnerContact.email.is_in(member_emails) | PartnerContact.account.is_in(members))
    ).first()
    if clash is not None:
        message = ATTACHMENT_REFUSED.format(territory=await _territory_name(territory_id), partner=clash["partner"],
                                            email=clash["email"] or "compte relié")
        raise InvalidInput(message, errors={"territoire": message})


async def check_new_member(user_id: int, territory_id: int) -> None:
    """InvalidInput when the person is (by address or by account) a contact of a partner of the territory."""
    user = await User.select(User.email).where(User.id == user_id).first()
    if user is None:
        raise InvalidInput("Ce compte n’existe pas.")
    partners = PartnerTerritory.select(PartnerTerritory.partner).where(PartnerTerritory.territory == territory_id)
    clash = await PartnerContact.select(PartnerContact.partner).where(
        PartnerContact.partner.is_in(partners)
        & PartnerContact.erased_at.is_null()
        & ((PartnerContact.email == user["email"]) | (PartnerContact.account == user_id))
    ).first()
    if clash is not None:
        partner = await Partner.select(Partner.name).where(Partner.id == clash["partner"]).first()
        message = MEMBER_IS_CONTACT.format(partner=partner["name"], territory=await _territory_name(territory_id))
        raise InvalidInput(message, errors={"role": message})


async def grant_membership(user_id: int, territory_id: int, role: str) -> None:
    """Give a person a role in a territory, unless they are a contact of one of its partners. The one way to grant
    a membership (invitations, account administration, the demo)."""
    await check_new_member(user_id, territory_id)
    await accounts.write_membership(user_id, territory_id, role)
    audit.record("role_attribue", compte=user_id, territoire=territory_id, role=role)
