"""The one Piccolo app: every table of every domain, migrations in the top-level migrations/ folder."""
from piccolo.conf.apps import AppConfig

from tracker.accounts.tables import Membership, PasswordReset, User, UserSession
from tracker.agreements.tables import (
    Agreement,
    AgreementAction,
    AgreementAmendment,
    AgreementParty,
    AgreementReview,
    AgreementTheme,
    AmendmentChange,
    AmendmentParty,
    Obligation,
)
from tracker.api.tables import ApiToken
from tracker.commitments.tables import Commitment, CommitmentComment, CommitmentLink
from tracker.core.config import ROOT
from tracker.deadlines.tables import CalendarFeed, Reminder, ReminderItem, ReminderPreference, ReminderSettings
from tracker.history.tables import HistoryEntry
from tracker.members.tables import Invitation, MembershipEvent
from tracker.imports.tables import PendingImport, RoadmapImport
from tracker.partners.tables import Partner, PartnerAttachment, PartnerContact, PartnerTerritory
from tracker.review.tables import CodirMeeting, RealisedMonth, RealisedNetwork, TerritoryFigures
from tracker.roadmaps.tables import Action, ActionNote, Axis, Roadmap, Workshop
from tracker.territories.tables import Territory

TABLES = [
    Territory,
    User,
    Membership,
    UserSession,
    PasswordReset,
    Partner,
    PartnerTerritory,
    Workshop,
    Roadmap,
    Axis,
    Action,
    ActionNote,
    HistoryEntry,
    CodirMeeting,
    TerritoryFigures,
    RealisedMonth,
    RealisedNetwork,
    # contrats de réciprocité
    Agreement,
    AgreementTheme,
    AgreementParty,
    Obligation,
    AgreementAction,
    AgreementReview,
    AgreementAmendment,
    AmendmentParty,
    AmendmentChange,
    # partenaires et engagements
    PartnerContact,
    PartnerAttachment,
    Commitment,
    CommitmentLink,
    CommitmentComment,
    # jetons d’accès à l’API
    ApiToken,
    # imports de tableurs
    PendingImport,
    RoadmapImport,
    # échéances: calendriers et rappels
    CalendarFeed,
    ReminderSettings,
    ReminderPreference,
    Reminder,
    ReminderItem,
    # membres : invitations et historique des rôles
    Invitation,
    MembershipEvent,
]

APP_CONFIG = AppConfig(
    app_name="tracker",
    migrations_folder_path=str(ROOT / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
