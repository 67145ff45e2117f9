from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.partners.tables import Partner
from tracker.territories.tables import Territory


class Workshop(Table):
    """An ADGCF travelling workshop held by a host territory on one or two of the four modules."""

    host = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False)
    held_on = Date()
    module_primary = Integer()
    module_secondary = Integer(null=True, default=None)
    participants = Integer(default=0)
    experts = Text()
    created_at = Timestamptz()


class Roadmap(Table):
    """What a workshop produced for its host."""

    workshop = ForeignKey(Workshop, on_delete=OnDelete.restrict, null=False, unique=True)
    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False, index=True)
    title = Varchar(length=200)
    adopted_on = Date(null=True, default=None)
    horizon = Date(null=True, default=None)
    created_at = Timestamptz()


class Axis(Table, tablename="roadmap_axis"):
    roadmap = ForeignKey(Roadmap, on_delete=OnDelete.cascade, null=False, index=True)
    position = Integer(default=0)
    title = Varchar(length=200)


class Action(Table):
    roadmap = ForeignKey(Roadmap, on_delete=OnDelete.restrict, null=False, index=True)
    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False, index=True)
    axis = ForeignKey(Axis, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    parent = ForeignKey("self", on_delete=OnDelete.restrict, null=True, default=None, index=True)
    title = Varchar(length=200)
    description = Text()
    module = Integer(null=True, default=None)
    pilot = ForeignKey(Partner, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    start_on = Date(null=True, default=None)
    deadline = Date(null=True, default=None, index=True)
    status = Varchar(length=12, default="a_venir", index=True)
    priority = Varchar(length=8, default="normale")
    confidential = Boolean(default=False)
    # Optimistic locking: a form carries the version it was read at; a stale one is refused.
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # When its newest follow-up note was written (None: never): kept by `roadmaps.service.add_note`, the only
    # writer of notes, and rewritten by `recalculer-indicateurs`; « à relancer » reads it from the partial index
    # `action_open_deadline` instead of probing the notes of every overdue action (issue 15).
    last_note_at = Timestamptz(null=True, default=None)


class ActionNote(Table):
    """Note de suivi: dated and authored, never edited."""

    action = ForeignKey(Action, on_delete=OnDelete.restrict, null=False, index=True)
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    body = Text()
    created_at = Timestamptz()
