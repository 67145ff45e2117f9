from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from tracker.territories.tables import Territory


class User(Table, tablename="app_user"):
    email = Varchar(length=254, unique=True, index=True)  # stored lower-case
    full_name = Varchar(length=120)
    password_hash = Varchar(length=255)
    is_admin = Boolean(default=False)
    is_reviewer = Boolean(default=False)  # chargé de mission ADGCF: reads everything, changes nothing but comments
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class Membership(Table):
    """A user's role in one territory: lecteur, editeur or referent. Unique per (user, territory)."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False)
    territory = ForeignKey(Territory, on_delete=OnDelete.cascade, null=False, index=True)
    role = Varchar(length=10)


class UserSession(Table):
    """Server-side session: the cookie holds a random token, the table only its SHA-256."""

    token_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()  # last use (written at most once a minute)
    expires_at = Timestamptz()
    device = Varchar(length=120, default="")  # « Firefox sur Linux », from the User-Agent at sign-in


class PasswordReset(Table):
    """A forgotten-password link: only the SHA-256 of its token, valid one hour, deleted when used, when a newer
    one is asked for and when the account is deactivated."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
