from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.partners.tables import Partner, PartnerContact
from tracker.roadmaps.tables import Action
from tracker.territories.tables import Territory


class Commitment(Table):
    """Engagement: a partner's part in an action. Its state changes only through commitments.lifecycle."""

    action = ForeignKey(Action, on_delete=OnDelete.restrict, null=False, index=True)
    # The action's territory, copied so that permission checks and history need no join.
    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False, index=True)
    partner = ForeignKey(Partner, on_delete=OnDelete.restrict, null=False, index=True)
    role = Varchar(length=12)  # pilote, copilote, contributeur, financeur
    description = Text()  # what is committed
    amount = Integer(null=True, default=None)
    amount_unit = Varchar(length=6)  # '' (no amount), euros, jours
    due_on = Date(null=True, default=None)  # the commitment's own deadline, else the action's
    state = Varchar(length=10, default="propose", index=True)
    version = Integer(default=1)
    confirmed_at = Timestamptz(null=True, default=None)
    confirmed_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    confirmed_by_contact = ForeignKey(PartnerContact, on_delete=OnDelete.restrict, null=True, default=None)
    # The signed link the confirmation came through (NULL when the contact answered signed in): a commitment_link id.
    # No foreign key: commitment_link already references commitment (a cycle), and links are never deleted.
    confirmed_link = Integer(null=True, default=None)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CommitmentLink(Table):
    """A signed link sent by email: bound to one commitment and one contact, single use, expiring.
    Only the SHA-256 of the token is stored; the token itself exists only in the email."""

    commitment = ForeignKey(Commitment, on_delete=OnDelete.restrict, null=False, index=True)
    contact = ForeignKey(PartnerContact, on_delete=OnDelete.restrict, null=False, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    sent_to = Varchar(length=254, null=True, default=None)  # the contact's address when the link was sent
    created_by = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    voided_at = Timestamptz(null=True, default=None)  # a newer link was sent, or the contact was erased


class CommitmentComment(Table):
    """A comment on a commitment by the partner or the territory's editors. Not a change of state."""

    commitment = ForeignKey(Commitment, on_delete=OnDelete.restrict, null=False, index=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    # Set when the author wrote as the partner's contact: the name shown is then the contact's.
    author_contact = ForeignKey(PartnerContact, on_delete=OnDelete.restrict, null=True, default=None)
    body = Text()
    created_at = Timestamptz()
