from piccolo.columns import ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.accounts.tables import User


class ApiToken(Table, tablename="api_token"):
    """A personal access token for the JSON API. The token itself is shown once; only its SHA-256 is kept.
    Revoked tokens stay (revoked_at set) so their owner sees what existed and when it stopped."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=80)
    token_hash = Varchar(length=64, unique=True, index=True)
    hint = Varchar(length=12)  # the token's first characters (« sfr_AbCd »), to recognise it in the list
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
