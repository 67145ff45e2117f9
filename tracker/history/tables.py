from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.partners.tables import PartnerContact
from tracker.territories.tables import Territory


class HistoryEntry(Table):
    """One change of status or state. Append-only: database triggers refuse UPDATE and DELETE."""

    subject_type = Varchar(length=20)  # action, commitment, agreement, obligation
    subject_id = Integer(index=True)
    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    from_value = Varchar(length=20)  # '' when the object is created
    to_value = Varchar(length=20)
    actor = ForeignKey(User, on_delete=OnDelete.restrict, null=True, default=None)
    # The partner's contact who acted (signed in, or through a signed link when actor is NULL). A reference, never
    # a copy of their name: once the contact is erased, the entry reads « contact supprimé ».
    actor_contact = ForeignKey(PartnerContact, on_delete=OnDelete.restrict, null=True, default=None)
    comment = Text()
    # When the event happened. An event recorded afterwards (an agreement signed years ago, typed in today) keeps
    # its real date here and the time it was written in `recorded_at` (None: written when it happened).
    created_at = Timestamptz(index=True)
    recorded_at = Timestamptz(null=True, default=None)
    # 'administrateur' when an administrator acted on a territory with its référent's rights without being one of
    # its référents (help desk, issue 10): the history names them and says so. '' otherwise.
    acting_as = Varchar(length=20, default="")
