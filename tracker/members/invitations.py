"""Invitations: an emailed link that creates an account with a role, or adds the role to the account the address
already has (then no link: the role is given at once and the person is told by email).

The link is /invitation/{token}: 32 bytes from `secrets` (256 bits), only its SHA-256 kept, single use, valid
`INVITATION_DAYS` days, revocable and re-sendable (re-sending makes a new token, the older one is voided). GET
shows the form and changes nothing; POST (with the CSRF token) sets the password, accepts the invitation through the
kernel (the grant in the same transaction) and the route opens a session.

Who invites: a territory's référents and administrators, to the territory (lecteur, éditeur, référent), or a
contact of one of its partners (who then answers for their organisation); administrators alone, to the ADGCF
(chargé de mission, administrateur), without territory.

The life cycle, declared once for the kernel: en_attente → acceptee (invitee) | revoquee (sender's side) |
remplacee (re-sent, taken by `resend` only). Expiry is not a state: an invitation past `expires_at` is refused
and listed as « expirée »."""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tracker import lifecycle
from tracker.accounts.passwords import hash_password
from tracker.accounts.service import create_user
from tracker.accounts.tables import User
from tracker.auth.separation import check_contact_address
from tracker.core import audit, clock
from tracker.core.config import settings
from tracker.core.db import write_transaction
from tracker.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.french import date_fr, typo
from tracker.core.permissions import ANONYMOUS, Viewer
from tracker.lifecycle import ADMINISTRATOR, Actor, Machine, Step, Transition
from tracker.mail import MailNotSent, send_mail
from tracker.members import service as members
from tracker.members.forms import ADGCF_ROLES, ALL_ROLE_LABELS, CONTACT_ROLE, AcceptInput, InvitationInput
from tracker.members.tables import Invitation
from tracker.partners.tables import PartnerContact, PartnerTerritory
from tracker.territories.tables import Territory

log = logging.getLogger("tracker.members")
INVITATION_DAYS = 7
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
STATE_LABELS = {"en_attente": "En attente", "acceptee": "Acceptée", "revoquee": "Révoquée",
                "remplacee": "Remplacée par un nouvel envoi"}
NOT_FOUND = "Cette invitation n’existe pas ou ne vous est pas accessible."
SENDERS_ONLY = "Seuls les référents du territoire et les administrateurs gèrent ses invitations."
ADGCF_ONLY = "Seul un administrateur invite un chargé de mission ou un administrateur de l’ADGCF."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{settings.base_url}/invitation/{token}"


@dataclass(frozen=True)
class Acceptance:
    """What the kernel's `side` and `after` receive when the invitee accepts: their account."""

    user_id: int


class InvitationProblem(DomainError):
    """Unknown (404), or used, revoked, replaced, expired (410). `kind` says which; nothing is changed."""

    def __init__(self, kind: str, *, status_code: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status_code = status_code


# --- the machine --------------------------------------------------------------------------------------------------


async def _load(invitation_id: int) -> dict | None:
    return await Invitation.select(
        Invitation.id, Invitation.territory, Invitation.state, Invitation.version, Invitation.role,
        Invitation.email, Invitation.full_name, Invitation.partner_contact, Invitation.created_by,
        Invitation.expires_at,
    ).where(Invitation.id == invitation_id).first()


async def _side(viewer: Viewer, row: dict, via: Any) -> Actor:
    if isinstance(via, Acceptance):
        return Actor("invitee", via.user_id)
    territory_id = row["territory"]
    if territory_id is None:
        if not viewer.is_admin:
            raise NotFound(NOT_FOUND)
    elif not viewer.can_read_territory(territory_id):
        raise NotFound(NOT_FOUND)
    elif not viewer.can_manage_territory(territory_id):
        raise Forbidden(SENDERS_ONLY)
    return Actor("sender", viewer.user_id)


def _values(step: Step) -> dict:
    target = step.transition.target
    if target == "acceptee":
        return {Invitation.accepted_at: step.at}
    return {Invitation.revoked_at: step.at}


async def _inviter_acting_as(row: dict) -> str:
    """'administrateur' when the person who invited is an administrator who is not référent of the territory."""
    if row["created_by"] is None or row["territory"] is None:
        return ""
    inviter = await User.select(User.is_admin).where(User.id == row["created_by"]).first()
    if not inviter or not inviter["is_admin"]:
        return ""
    role = await members.current_role(row["created_by"], row["territory"])
    return "" if role == "referent" else ADMINISTRATOR


async def give_role(user_id: int, row: dict, actor_id: int | None, acting: str) -> None:
    """What an invitation gives, to an account: a role in a territory, an ADGCF role, or a partner's contact linked
    to the account. Inside the caller's write transaction; InvalidInput (nothing written) when the rules refuse."""
    role = row["role"]
    if role in ADGCF_ROLES:
        column = User.is_admin if role == "admin" else User.is_reviewer
        await User.update({column: True}).where(User.id == user_id)
        audit.record("role_adgcf_attribue", compte=user_id, role=role, par=actor_id)
    elif role == CONTACT_ROLE:
        contact = await PartnerContact.select(PartnerContact.partner, PartnerContact.account,
                                              PartnerContact.erased_at).where(
            PartnerContact.id == row["partner_contact"]).first()
        if contact is None or contact["erased_at"] is not None:
            raise InvalidInput("Ce contact n’existe plus dans l’annuaire.")
        if contact["account"] not in (None, user_id):
            raise InvalidInput("Ce contact est déjà relié à un autre compte.")
        await check_contact_address(contact["partner"], row["email"])
        await PartnerContact.update({PartnerContact.account: user_id}).where(
            PartnerContact.id == row["partner_contact"])
        audit.record("contact_relie", compte=user_id, contact=row["partner_contact"], par=actor_id)
    else:
        await members.grant(user_id, row["territory"], role, actor_id, acting)


async def _accept(step: Step) -> None:
    """On acceptance, in the same transaction: the role is given (or nothing is written)."""
    if step.transition.target != "acceptee":
        return
    await give_role(step.via.user_id, step.row, step.row["created_by"], await _inviter_acting_as(step.row))


INVITATION = Machine(
    subject="invitation",
    table=Invitation,
    state=Invitation.state,
    labels=STATE_LABELS,
    initial="en_attente",
    transitions=(
        Transition("en_attente", "acceptee", by=frozenset({"invitee"}), internal=True),
        Transition("en_attente", "revoquee", by=frozenset({"sender"}), refused=SENDERS_ONLY),
        Transition("en_attente", "remplacee", by=frozenset({"sender"}), refused=SENDERS_ONLY, internal=True),
    ),
    load=_load,
    side=_side,
    not_found=NOT_FOUND,
    a="Une invitation",
    the="L’invitation",
    this="Cette invitation",
    feminine=True,
    values=_values,
    after=_accept,
)


# --- sending ------------------------------------------------------------------------------------------------------


async def _territory_name(territory_id: int | None) -> str:
    if territory_id is None:
        return "ADGCF"
    row = await Territory.select(Territory.name).where(Territory.id == territory_id).first()
    return row["name"] if row else ""


async def _partner_name(contact_id: int | None) -> str:
    if contact_id is None:
        return ""
    row = await PartnerContact.select(PartnerContact.partner.name.as_alias("name")).where(
        PartnerContact.id == contact_id).first()
    return row["name"] if row else ""


async def _mail_context(viewer: Viewer, row: dict) -> dict:
    return {
        "sender": viewer.full_name or viewer.email,
        "territory_name": await _territory_name(row["territory"]),
        "partner_name": await _partner_name(row.get("partner_contact")),
        "role": row["role"],
        "role_label": ALL_ROLE_LABELS.get(row["role"], row["role"]),
        "name": row.get("full_name") or "",
    }


async def _create(viewer: Viewer | None, values: dict) -> tuple[int, str]:
    """A new pending invitation (and its history entry); returns its id and token. Inside a write transaction.
    `viewer` None: made by the command line (`create-user --invitation`), by no one signed in."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    # An invitation sent again to the same address for the same place replaces the older one.
    same = (Invitation.email == values["email"]) & (Invitation.state == "en_attente")
    same &= (Invitation.territory == values["territory"]) if values["territory"] else Invitation.territory.is_null()
    for older in await Invitation.select(Invitation.id, Invitation.version).where(same):
        await lifecycle.apply(INVITATION, viewer or ANONYMOUS, older["id"], "remplacee",
                              "Nouvelle invitation envoyée.", older["version"],
                              via=None if viewer else lifecycle.SYSTEM)
    created = await Invitation.insert(Invitation(
        email=values["email"], full_name=values["full_name"], territory=values["territory"], role=values["role"],
        partner_contact=values.get("partner_contact"), token_hash=token_hash(token),
        created_by=viewer.user_id if viewer else None, created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )).returning(Invitation.id)
    ident = created[0]["id"]
    await lifecycle.record_created(INVITATION, ident, values["territory"], viewer)
    return ident, token


async def command_line_invitation(email: str, full_name: str, role: str) -> str:
    """`python -m tracker create-user EMAIL NAME --admin --invitation`: the first administrator's one-time link
    (an ADGCF role, no territory), printed instead of mailed. Returns the link."""
    if role not in ADGCF_ROLES:
        raise InvalidInput("Une invitation en ligne de commande est pour un administrateur ou un chargé de mission.")
    email = email.strip().lower()
    if await members.user_by_email(email) is not None:
        raise InvalidInput("Cette adresse a déjà un compte.")
    async with write_transaction():
        _, token = await _create(None, {"email": email, "full_name": full_name.strip()[:120], "territory": None,
                                        "role": role})
    audit.record("invitation_creee_en_ligne_de_commande", compte=email, role=role)
    return invitation_url(token)


async def _send_invitation(viewer: Viewer, row: dict, token: str) -> None:
    context = await _mail_context(viewer, row)
    context.update(url=invitation_url(token), expires=date_fr(clock.now() + timedelta(days=INVITATION_DAYS)),
                   days=INVITATION_DAYS)
    place = context["partner_name"] or context["territory_name"]
    await send_mail(to=row["email"], subject=typo(f"Invitation au suivi des feuilles de route : {place}"),
                    template="invitation", context=context)


async def _send_role_added(viewer: Viewer, row: dict) -> None:
    context = await _mail_context(viewer, row)
    context["url"] = settings.base_url + "/"
    place = context["partner_name"] or context["territory_name"]
    try:
        await send_mail(to=row["email"], subject=typo(f"Nouveau rôle dans le suivi des feuilles de route : {place}"),
                        template="role_ajoute", context=context)
    except MailNotSent:  # the role is given; the person will see it at their next sign-in
        log.error("rôle ajouté au compte %s : message non envoyé", row["email"])


def check_may_invite(viewer: Viewer, territory_id: int | None, role: str) -> None:
    if territory_id is None or role in ADGCF_ROLES:
        if not viewer.can_grant_adgcf_roles():
            raise Forbidden(ADGCF_ONLY)
        if territory_id is not None:
            raise InvalidInput("Un rôle de l’ADGCF ne se donne pas dans un territoire : invitez depuis la page "
                               "« Invitations ADGCF ».", errors={"role": "Rôle de l’ADGCF."})
    elif not viewer.can_manage_territory(territory_id):
        raise Forbidden(SENDERS_ONLY)


async def invite(viewer: Viewer, territory_id: int | None, invitation: InvitationInput) -> str:
    """Invite someone: « invitation » when a link was sent, « role_ajoute » when the address already had an account
    and the role was given at once. Forbidden / InvalidInput with nothing written."""
    check_may_invite(viewer, territory_id, invitation.role)
    row = {"email": invitation.email, "full_name": invitation.full_name, "territory": territory_id,
           "role": invitation.role, "partner_contact": invitation.partner_contact}
    existing = await members.user_by_email(invitation.email)
    if existing is not None:
        if not existing["is_active"]:
            raise InvalidInput(GENERIC, errors={"email": "Ce compte est désactivé : demandez à un administrateur de "
                                                         "le réactiver."})
        if territory_id is not None and invitation.role != CONTACT_ROLE and await members.current_role(
                existing["id"], territory_id):
            raise InvalidInput(GENERIC, errors={"email": "Cette personne est déjà membre du territoire : changez son "
                                                         "rôle dans la liste des membres."})
        async with write_transaction():
            await give_role(existing["id"], row, viewer.user_id, members.acting_as(viewer, territory_id)
                            if territory_id else "")
        await _send_role_added(viewer, row)
        return "role_ajoute"
    if invitation.role == CONTACT_ROLE:
        contact = await PartnerContact.select(PartnerContact.partner).where(
            PartnerContact.id == invitation.partner_contact).first()
        await check_contact_address(contact["partner"], invitation.email)
    elif territory_id is not None:
        await _check_not_a_contact(invitation.email, territory_id)
    async with write_transaction():
        _, token = await _create(viewer, row)
    audit.record("invitation_envoyee", compte=invitation.email, territoire=territory_id, role=invitation.role,
                 par=viewer.user_id)
    await _send_invitation(viewer, row, token)
    return "invitation"


async def _check_not_a_contact(email: str, territory_id: int) -> None:
    """Refused before sending: an address that is a contact of a partner of the territory (checked again on
    acceptance, by `grant_membership`)."""
    partners = PartnerTerritory.select(PartnerTerritory.partner).where(PartnerTerritory.territory == territory_id)
    clash = await PartnerContact.select(PartnerContact.partner.name.as_alias("partner")).where(
        PartnerContact.partner.is_in(partners) & PartnerContact.erased_at.is_null() & (PartnerContact.email == email)
    ).first()
    if clash:
        message = (f"Cette adresse est celle d’un contact du partenaire « {clash['partner']} », qui travaille avec ce "
                   "territoire : un contact d’un partenaire ne peut pas être membre du territoire.")
        raise InvalidInput(GENERIC, errors={"email": message})


async def invitable_contacts(territory_id: int) -> list[dict]:
    """Contacts of the territory's partners with an address and no account yet: they may be given one."""
    partners = PartnerTerritory.select(PartnerTerritory.partner).where(PartnerTerritory.territory == territory_id)
    return await PartnerContact.select(
        PartnerContact.id, PartnerContact.full_name, PartnerContact.email, PartnerContact.partner.name.as_alias("partner"),
    ).where(
        PartnerContact.partner.is_in(partners) & PartnerContact.erased_at.is_null() & PartnerContact.account.is_null()
        & PartnerContact.email.is_not_null()
    ).order_by(PartnerContact.partner.name).order_by(PartnerContact.full_name)


async def invite_contact(viewer: Viewer, territory_id: int, contact_id: int) -> str:
    contact = await PartnerContact.select(PartnerContact.email, PartnerContact.full_name).where(
        PartnerContact.id == contact_id).first()
    return await invite(viewer, territory_id, InvitationInput(email=contact["email"], full_name=contact["full_name"],
                                                              role=CONTACT_ROLE, partner_contact=contact_id))


async def _for_sender(viewer: Viewer, invitation_id: int) -> dict:
    row = await _load(invitation_id)
    if row is None:
        raise NotFound(NOT_FOUND)
    await _side(viewer, row, None)  # 404 / 403 before anything else
    return row


async def revoke(viewer: Viewer, invitation_id: int) -> dict:
    row = await _for_sender(viewer, invitation_id)
    await lifecycle.apply(INVITATION, viewer, invitation_id, "revoquee", "", row["version"])
    audit.record("invitation_revoquee", invitation=invitation_id, par=viewer.user_id)
    return row


async def revoke_sent_by(viewer: Viewer, sender_id: int) -> None:
    """When an administrator deactivates an account: every pending invitation it sent is revoked, by that
    administrator, through the machine (each revocation in the history)."""
    rows = await Invitation.select(Invitation.id, Invitation.version).where(
        (Invitation.created_by == sender_id) & (Invitation.state == "en_attente"))
    for row in rows:
        await lifecycle.apply(INVITATION, viewer, row["id"], "revoquee", "Compte de l’expéditeur désactivé.",
                              row["version"])
        audit.record("invitation_revoquee", invitation=row["id"], par=viewer.user_id)


async def resend(viewer: Viewer, invitation_id: int) -> dict:
    """A new link (new token, new expiry); the older one is voided (« remplacée »)."""
    row = await _for_sender(viewer, invitation_id)
    async with write_transaction():
        await lifecycle.apply(INVITATION, viewer, invitation_id, "remplacee", "Invitation envoyée à nouveau.",
                              row["version"])
        _, token = await _create(viewer, row)
    audit.record("invitation_renvoyee", invitation=invitation_id, par=viewer.user_id)
    await _send_invitation(viewer, row, token)
    return row


async def pending(territory_id: int | None) -> list[dict]:
    """Pending invitations of a territory (None: of the ADGCF), with who sent them, when, and their expiry."""
    where = (Invitation.state == "en_attente") & (
        Invitation.territory == territory_id if territory_id is not None else Invitation.territory.is_null())
    rows = await Invitation.select(
        Invitation.id, Invitation.email, Invitation.full_name, Invitation.role, Invitation.created_at,
        Invitation.expires_at, Invitation.created_by.full_name.as_alias("sender"),
        Invitation.partner_contact.partner.name.as_alias("partner"),
    ).where(where).order_by(Invitation.created_at, ascending=False)
    now = clock.now()
    for row in rows:
        row["expired"] = row["expires_at"] <= now
        row["role_label"] = ALL_ROLE_LABELS.get(row["role"], row["role"])
    return rows


# --- following the link -------------------------------------------------------------------------------------------


async def invitation_for_token(token: str) -> dict:
    """The pending invitation of a link, with what the page shows; InvitationProblem otherwise."""
    if not _TOKEN_SHAPE.fullmatch(token or ""):
        raise InvitationProblem("inconnu", status_code=404)
    row = await Invitation.select(
        Invitation.id, Invitation.email, Invitation.full_name, Invitation.role, Invitation.territory,
        Invitation.state, Invitation.version, Invitation.expires_at, Invitation.partner_contact,
        Invitation.created_by, Invitation.territory.name.as_alias("territory_name"),
        Invitation.territory.siren.as_alias("siren"), Invitation.created_by.full_name.as_alias("sender"),
        Invitation.partner_contact.partner.name.as_alias("partner"),
    ).where(Invitation.token_hash == token_hash(token)).first()
    if row is None:
        raise InvitationProblem("inconnu", status_code=404)
    if row["state"] == "acceptee":
        raise InvitationProblem("utilisee", status_code=410)
    if row["state"] in ("revoquee", "remplacee"):
        raise InvitationProblem(row["state"], status_code=410)
    if row["expires_at"] <= clock.now():
        raise InvitationProblem("expiree", status_code=410)
    row["role_label"] = ALL_ROLE_LABELS.get(row["role"], row["role"])
    row["has_account"] = await User.exists().where(User.email == row["email"])
    return row


def landing(row: dict) -> str:
    """Where the invitee goes once the invitation is accepted."""
    if row["role"] in ADGCF_ROLES:
        return "/pilotage"
    if row["role"] == CONTACT_ROLE:
        return "/engagements"
    return f"/territoires/{row['siren']}"


async def accept(token: str, answer: AcceptInput) -> tuple[dict, User | None]:
    """Accept the invitation of a link: the account is created with the chosen password (or, when the address has
    an account since, the role is added to it), and the role given, in one transaction. Returns the invitation and
    the new account (None when it existed: no session is opened without its password)."""
    row = await invitation_for_token(token)
    password_hash = await hash_password(answer.password) if not row["has_account"] else None
    async with write_transaction():
        existing = await members.user_by_email(row["email"])
        user: User | None = None
        if existing is None:
            if password_hash is None:  # the account was removed meanwhile: refuse rather than guess
                raise InvitationProblem("inconnu", status_code=404)
            user = await create_user(email=row["email"], full_name=answer.full_name or row["full_name"],
                                     password="", password_hash=password_hash)
            user_id = user.id
        else:
            if not existing["is_active"]:
                raise Forbidden("Ce compte est désactivé : demandez à un administrateur de le réactiver.")
            user_id = existing["id"]
        await lifecycle.apply(INVITATION, ANONYMOUS, row["id"], "acceptee", "", row["version"],
                              via=Acceptance(user_id))
    audit.record("invitation_acceptee", invitation=row["id"], compte=user_id)
    return row, user

