from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
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


class TerritoryFigures(Table, tablename="territory_figures"):
    """The network review's figures of one territory, as one audience sees them: `tout` (administrators: every
    action) or `public` (ADGCF reviewers: confidential actions left out). Written only by review/figures.py, inside
    the transaction of every change (the kernel's observers), rebuilt by `recalculer-indicateurs`. « En retard »
    changes with the date: kept as of `overdue_on`, and holding until `next_deadline` passes; its silent part also
    until `silent_until` (review/figures.py)."""

    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False)
    audience = Varchar(length=6)
    total = Integer(default=0)
    s_a_venir = Integer(default=0)
    s_en_cours = Integer(default=0)
    s_en_pause = Integer(default=0)
    s_bloquee = Integer(default=0)
    s_realisee = Integer(default=0)
    s_abandonnee = Integer(default=0)
    m_1 = Integer(default=0)
    m_2 = Integer(default=0)
    m_3 = Integer(default=0)
    m_4 = Integer(default=0)
    last_update = Timestamptz(null=True, default=None)  # the latest edit or status change of an action, or note
    commitments = Text(default="{}")  # JSON: state → count
    commitment_sectors = Text(default="{}")  # JSON: partner's sector → count
    agreements = Text(default="{}")  # JSON: agreement state → parties of this territory in that state
    overdue = Integer(default=0)  # open actions past their deadline on `overdue_on`
    overdue_on = Date(null=True, default=None)  # the day it was counted (NULL: never, count at read time)
    next_deadline = Date(null=True, default=None)  # the earliest open deadline on or after that day
    silent = Integer(default=0)  # of `overdue`, those with no note for 30 days (« à relancer »)
    silent_until = Timestamptz(null=True, default=None)  # when the oldest recent note of those ages past 30 days


class RealisedMonth(Table, tablename="realised_month"):
    """The monthly « réalisées » curve of one territory (months cut in UTC): entries into « réalisée » minus entries
    out of it that month, from the history. The network's curve is their sum, accumulated."""

    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False)
    audience = Varchar(length=6)
    month = Varchar(length=7)  # YYYY-MM
    delta = Integer(default=0)


class RealisedNetwork(Table, tablename="realised_network"):
    """The network's monthly « réalisées » curve per audience: `realised_month` summed over the territories (months
    whose sum is zero have no row). Written only by review/figures.py, in the same statements' transaction as the
    territories' months it sums (by the difference each write makes), rebuilt with them by `recalculer-indicateurs`:
    /pilotage without filters reads its ~24 rows instead of summing ~15,000."""

    audience = Varchar(length=6)
    month = Varchar(length=7)  # YYYY-MM
    delta = Integer(default=0)
