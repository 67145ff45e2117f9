"""The one way a Viewer is built: from a user id, whatever the channel (session cookie, API token)."""
from __future__ import annotations

from tracker.core.permissions import ANONYMOUS, Viewer
from tracker.accounts.service import session_user
from tracker.accounts.tables import Membership
from tracker.partners.tables import PartnerContact


async def viewer_for_user(user: dict, *, session_id: int | None = None) -> Viewer:
    """`user` holds user_id, email, full_name, is_admin and is_reviewer, as read by the caller together with its
    session or token; the roles and the organisations this person speaks for are read here, now."""
    memberships = await Membership.select(Membership.territory, Membership.role).where(
        Membership.user == user["user_id"]
    )
    # The organisations this person speaks for, as a partner's contact (an erased contact speaks for no one).
    contacts = await PartnerContact.select(PartnerContact.partner).where(
        (PartnerContact.account == user["user_id"]) & PartnerContact.erased_at.is_null()
    )
    return Viewer(
        user_id=user["user_id"],
        email=user["email"],
        full_name=user["full_name"],
        is_admin=user["is_admin"],
        is_reviewer=user["is_reviewer"],
        roles={m["territory"]: m["role"] for m in memberships},
        partner_ids=frozenset(c["partner"] for c in contacts),
        session_id=session_id,
    )


async def viewer_for_session(token: str | None) -> Viewer:
    """The Viewer of a session cookie, or ANONYMOUS when the session is not (or no longer) valid."""
    user = await session_user(token)
    if user is None:
        return ANONYMOUS
    return await viewer_for_user(user, session_id=user["id"])
