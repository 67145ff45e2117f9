from piccolo.columns import Bytea, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User
from tracker.roadmaps.tables import Roadmap
from tracker.territories.tables import Territory


class PendingImport(Table, tablename="pending_import"):
    """An uploaded file waiting for its preview to be confirmed. The commit reads these bytes, never a file the
    browser sends again; the row is found by the SHA-256 of a random token that only its uploader's page holds,
    and is deleted once imported or after a few hours."""

    token_hash = Varchar(length=64, unique=True)
    roadmap = ForeignKey(Roadmap, on_delete=OnDelete.cascade, null=False, index=True)
    author = ForeignKey(User, on_delete=OnDelete.cascade, null=False)
    file_name = Varchar(length=200)
    content = Bytea()
    content_sha256 = Varchar(length=64)
    created_at = Timestamptz(index=True)


class RoadmapImport(Table, tablename="roadmap_import"):
    """An import that was written, kept on its roadmap: who, when, which file (its name, and its SHA-256 by which
    a second import of the same file is recognised) and what it did."""

    roadmap = ForeignKey(Roadmap, on_delete=OnDelete.restrict, null=False, index=True)
    territory = ForeignKey(Territory, on_delete=OnDelete.restrict, null=False)
    author = ForeignKey(User, on_delete=OnDelete.restrict, null=False)
    file_name = Varchar(length=200)
    content_sha256 = Varchar(length=64, index=True)
    lines = Integer(default=0)  # lines read in the file
    created_actions = Integer(default=0)
    updated_actions = Integer(default=0)  # lines of an export whose status, deadline or comment were taken back
    conflicts = Integer(default=0)  # lines not applied: their action changed in the app since the export
    created_partners = Integer(default=0)
    created_axes = Integer(default=0)
    created_at = Timestamptz()
