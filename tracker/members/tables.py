from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.partners.tables import PartnerContact
from tracker.territories.tables import Territory


class Invitation(Table):
    """An emailed link that creates an account (or adds a role to it). Only the SHA-256 of the 256-bit token is kept.

    `role`: lecteur | editeur | referent (with a territory), contact (with `partner_contact`: a partner's contact
    gets an account), reviewer | admin (ADGCF, no territory). Life cycle (tracker.members.invitations): en_attente →
    acceptee | revoquee | remplacee (re-sent: a new invitation, new token). Expired: `expires_at` passed, still
    « en attente » but refused (shown « expirée »)."""

    email = Varchar(length=254, index=True)  # lower-case
    full_name = Varchar(length=120, default="")
    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=True, default=None, index=True)
    role = Varchar(length=10)
    partner_contact = ForeignKey(PartnerContact, on_delete=OnDelete.cascade, null=True, default=None)
    token_hash = Varchar(length=64, unique=True)
    state = Varchar(length=12, default="en_attente")
    version = Integer(default=1)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class MembershipEvent(Table):
    """One grant, change of role or removal in a territory. Append-only: database triggers refuse UPDATE and DELETE,
    and the application's PostgreSQL role may not run them. `role_before` '' for a grant, `role_after` '' for a
    removal; `acting_as` 'administrateur' when an administrator acted without being référent of the territory."""

    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False, index=True)
    user = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    role_before = Varchar(length=10, default="")
    role_after = Varchar(length=10, default="")
    actor = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    acting_as = Varchar(length=20, default="")
    created_at = Timestamptz()
