from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.partners.tables import Partner, PartnerContact
from tracker.territories.tables import Territory


class CalendarFeed(Table):
    """A secret calendar address (/calendrier/{token}.ics) of one person: their own deadlines, a territory's or a
    partner's. Only the SHA-256 of the token is kept; revoked feeds stay (revoked_at) and answer 404."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    scope = Varchar(length=12)  # personne, territoire, partenaire
    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=True, default=None)
    partner = ForeignKey(Partner, on_delete=OnDelete.cascade, null=True, default=None)
    token_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class ReminderSettings(Table, tablename="reminder_settings"):
    """A territory's reminder rules, changed by its référents. No row: the defaults (30 and 7 days, weekly while
    overdue, weekly CODIR digest)."""

    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False, unique=True)
    first_days = Integer(default=30)  # 0: no first reminder
    second_days = Integer(default=7)  # 0: no second reminder
    overdue_weekly = Boolean(default=True)
    codir_digest = Boolean(default=True)
    version = Integer(default=1)
    updated_at = Timestamptz()
    updated_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)


class ReminderPreference(Table):
    """Which reminder mails one person wants: a user (signed-in people) or a partner's contact without an account.
    No row: every kind. Unique per user and per contact."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=True, default=None, unique=True)
    contact = ForeignKey(PartnerContact, on_delete=OnDelete.cascade, null=True, default=None, unique=True)
    deadlines = Boolean(default=True)  # échéances: 30 and 7 days before, weekly while overdue
    commitments = Boolean(default=True)  # engagements sans réponse: a fresh signed link
    codir = Boolean(default=True)  # weekly CODIR digest
    network = Boolean(default=True)  # monthly « à relancer » digest of the ADGCF
    updated_at = Timestamptz()


class Reminder(Table):
    """One reminder mail. Its `key` (unique) is written before the mail is sent, so that no run, however many run
    at once, sends it twice. Its state changes only through tracker.deadlines.lifecycle (history subject
    "reminder"): a_envoyer → en_envoi → envoye | echec (retried) | interrompu; annule."""

    key = Varchar(length=160, unique=True)
    kind = Varchar(length=12, index=True)  # echeances, engagements, codir, reseau
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=True, default=None, index=True)
    contact = ForeignKey(PartnerContact, on_delete=OnDelete.cascade, null=True, default=None, index=True)
    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=True, default=None)
    period = Varchar(length=10)  # 2026-11-27 (day), 2026-W48 (week), 2026-11 (month)
    state = Varchar(length=12, default="a_envoyer", index=True)
    attempts = Integer(default=0)
    last_error = Text()
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)


class ReminderItem(Table):
    """One deadline a reminder mail speaks of. Its `key` (unique) is the reminder step of that deadline for that
    person (« action 12, due 2026-12-01, 7 days before, user 5 »): a step is planned once, whatever the day."""

    reminder = ForeignKey(Reminder, on_delete=OnDelete.cascade, null=False, index=True)
    key = Varchar(length=160, unique=True)
    subject = Varchar(length=12)  # action, engagement, obligation, revue, fin
    subject_id = Integer()
    due_on = Date(null=True, default=None)
    step = Varchar(length=16)  # avant-30, avant-7, retard-3; lien-12 (the signed link a relance follows)
