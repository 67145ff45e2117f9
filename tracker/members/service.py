"""The members of a territory: who they are, change a role, remove someone, and the append-only history of these
grants, changes and removals (`MembershipEvent`, written only here, in the transaction of the change).

Who may: the territory's référents and administrators (`Viewer.can_manage_territory`); lecteurs and éditeurs are
refused (403), people outside the territory see a 404. The last référent of a territory is removed or demoted only
by an administrator. Every grant goes through `tracker.auth.separation.grant_membership` (a member of a territory
is never the contact of one of its partners)."""
from __future__ import annotations

from tracker.accounts.tables import Membership, User
from tracker.auth.separation import grant_membership
from tracker.core import audit, clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.permissions import Viewer
from tracker.lifecycle import ADMINISTRATOR
from tracker.members.tables import MembershipEvent
from tracker.territories.service import territory_for

MANAGERS_ONLY = "Seuls les référents du territoire et les administrateurs gèrent ses membres."
LAST_REFERENT = (
    "C’est le dernier référent du territoire : sans lui, personne ne pourrait plus inviter ni gérer les membres. "
    "Nommez d’abord un autre référent ; seul un administrateur de l’ADGCF peut retirer le dernier."
)
NOT_A_MEMBER = "Cette personne n’est pas membre de ce territoire."


async def managed_territory(viewer: Viewer, siren: str) -> dict:
    """The territory, if this person manages its members: 404 when they cannot read it, 403 when they only read
    or edit it (lecteur, éditeur, chargé de mission)."""
    territory = await territory_for(viewer, siren)
    if not viewer.can_manage_territory(territory["id"]):
        raise Forbidden(MANAGERS_ONLY)
    return territory


def acting_as(viewer: Viewer, territory_id: int) -> str:
    return ADMINISTRATOR if viewer.acts_as_admin(territory_id) else ""


async def record_event(territory_id: int, user_id: int, before: str, after: str, actor_id: int | None,
                       acting: str) -> None:
    """One entry of the membership history. Call inside the write transaction of the change it records."""
    await MembershipEvent.insert(MembershipEvent(territory=territory_id, user=user_id, role_before=before,
                                                 role_after=after, actor=actor_id, acting_as=acting,
                                                 created_at=clock.now()))


async def current_role(user_id: int, territory_id: int) -> str:
    row = await Membership.select(Membership.role).where(
        (Membership.user == user_id) & (Membership.territory == territory_id)).first()
    return row["role"] if row else ""


async def grant(user_id: int, territory_id: int, role: str, actor_id: int | None, acting: str) -> None:
    """Give (or change) a role, checked by `grant_membership`, with its history entry, in one transaction."""
    async with write_transaction():
        before = await current_role(user_id, territory_id)
        if before == role:
            return
        await grant_membership(user_id, territory_id, role)
        await record_event(territory_id, user_id, before, role, actor_id, acting)


async def _referents(territory_id: int) -> int:
    return await Membership.count().where((Membership.territory == territory_id) & (Membership.role == "referent"))


async def _check_last_referent(viewer: Viewer, territory_id: int, before: str, after: str) -> None:
    if before == "referent" and after != "referent" and not viewer.is_admin and await _referents(territory_id) <= 1:
        raise Forbidden(LAST_REFERENT)


async def change_role(viewer: Viewer, territory: dict, user_id: int, role: str) -> None:
    territory_id = territory["id"]
    if not viewer.can_manage_territory(territory_id):
        raise Forbidden(MANAGERS_ONLY)
    async with write_transaction():
        before = await current_role(user_id, territory_id)
        if not before:
            raise NotFound(NOT_A_MEMBER)
        if before == role:
            raise InvalidInput("Cette personne a déjà ce rôle.", errors={"role": "Inchangé."})
        await _check_last_referent(viewer, territory_id, before, role)
        await grant_membership(user_id, territory_id, role)
        await record_event(territory_id, user_id, before, role, viewer.user_id, acting_as(viewer, territory_id))
    audit.record("role_modifie", compte=user_id, territoire=territory_id, role=role, par=viewer.user_id)


async def remove_member(viewer: Viewer, territory: dict, user_id: int) -> None:
    territory_id = territory["id"]
    if not viewer.can_manage_territory(territory_id):
        raise Forbidden(MANAGERS_ONLY)
    async with write_transaction():
        before = await current_role(user_id, territory_id)
        if not before:
            raise NotFound(NOT_A_MEMBER)
        await _check_last_referent(viewer, territory_id, before, "")
        await Membership.delete().where((Membership.user == user_id) & (Membership.territory == territory_id))
        await record_event(territory_id, user_id, before, "", viewer.user_id, acting_as(viewer, territory_id))
    audit.record("membre_retire", compte=user_id, territoire=territory_id, par=viewer.user_id)


async def members_of(territory_id: int) -> list[dict]:
    rows = await Membership.select(
        Membership.user.as_alias("user_id"), Membership.role, Membership.user.full_name.as_alias("name"),
        Membership.user.email.as_alias("email"), Membership.user.is_active.as_alias("is_active"),
    ).where(Membership.territory == territory_id).order_by(Membership.user.full_name)
    referents = sum(1 for r in rows if r["role"] == "referent")
    for row in rows:
        row["last_referent"] = row["role"] == "referent" and referents == 1
    return rows


async def events_of(territory_id: int) -> list[dict]:
    """The membership history of a territory, newest first."""
    return await MembershipEvent.select(
        MembershipEvent.id, MembershipEvent.role_before, MembershipEvent.role_after, MembershipEvent.acting_as,
        MembershipEvent.created_at, MembershipEvent.user.full_name.as_alias("member"),
        MembershipEvent.user.email.as_alias("member_email"), MembershipEvent.actor.full_name.as_alias("actor_name"),
    ).where(MembershipEvent.territory == territory_id).order_by(MembershipEvent.id, ascending=False)


async def user_by_email(email: str) -> dict | None:
    return await User.select(User.id, User.email, User.full_name, User.is_admin, User.is_reviewer,
                             User.is_active).where(User.email == email).first()
