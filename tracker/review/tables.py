from piccolo.columns import Date, ForeignKey, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.territories.tables import Territory


class CodirMeeting(Table):
    """A CODIR meeting date recorded by a référent: the default start of the next meeting pack."""

    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False, index=True)
    held_on = Date()
    recorded_by = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz()
