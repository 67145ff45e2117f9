"""Commitments: what the pages read, recording a new commitment, comments. State changes are in lifecycle.py."""
from __future__ import annotations

from datetime import date, datetime

from tracker.commitments import lifecycle
from tracker.commitments.forms import NewCommitment
from tracker.commitments.queries import commitment_columns, committed_partners, enrich
from tracker.commitments.states import GROUPS
from tracker.commitments.tables import Commitment, CommitmentComment
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.permissions import Viewer
from tracker.lifecycle import record_created
from tracker.partners.tables import PartnerContact
from tracker.roadmaps import service as roadmaps

CONFIDENTIAL_REFUSED = (
    "Une action confidentielle n’est pas visible des partenaires : ils ne pourraient ni lire ni confirmer "
    "leur engagement. Retirez d’abord le caractère confidentiel de l’action."
)


async def load_commitment(commitment_id: int) -> dict:
    """One commitment with its action's title and territory, WITHOUT permission check: callers check first."""
    row = await Commitment.select(*commitment_columns()).where(Commitment.id == commitment_id).first()
    if row is None:
        raise NotFound(lifecycle.NOT_FOUND)
    return row


async def commitment_for(viewer: Viewer, commitment_id: int) -> dict:
    """One commitment with its action's title and territory; 404 unless the viewer may read it."""
    row = await load_commitment(commitment_id)
    if not lifecycle.readable(viewer, {**row, "confidential": row["action_confidential"]}):
        raise NotFound(lifecycle.NOT_FOUND)
    return row


async def readable_action(viewer: Viewer, action_id: int) -> dict:
    """An action as its reader may see it: a territory's member, the ADGCF, or a partner's contact whose
    organisation is committed to it (then `partner_view` is true). NotFound otherwise."""
    committed = await committed_partners(action_id, viewer.partner_ids) if viewer.partner_ids else set()
    return await roadmaps.action_for(viewer, action_id, committed=committed)


HISTORY_FORBIDDEN = "L’historique de cette action est réservé aux membres du territoire et à l’ADGCF."


async def action_with_history(viewer: Viewer, action_id: int) -> dict:
    """The action (NotFound when not readable) when its history may be read: as on the action page, not by a
    partner's contact who reads the action only through their organisation's commitment (`partner_view`)."""
    action = await readable_action(viewer, action_id)
    if action.get("partner_view"):
        raise Forbidden(HISTORY_FORBIDDEN)
    return action


async def partner_choices(territory_id: int) -> list[dict]:
    return await roadmaps.partners_of(territory_id)


async def recordable_action(viewer: Viewer, action_id: int) -> dict:
    """The action, if this person may record its partners' commitments (NotFound / Forbidden otherwise)."""
    action = await readable_action(viewer, action_id)
    if not viewer.can_record_commitments(action["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’enregistrer des engagements pour ce territoire.")
    return action


async def create_commitment(viewer: Viewer, action_id: int, new: NewCommitment, *, at: datetime | None = None) -> int:
    """Record a partner's commitment on an action, in state « proposé »; the partner then confirms or declines.
    `at` backdates it (demo, import)."""
    action = await recordable_action(viewer, action_id)
    if action["confidential"]:
        raise InvalidInput(CONFIDENTIAL_REFUSED, errors={"partner": CONFIDENTIAL_REFUSED})
    if new.partner not in {p["id"] for p in await partner_choices(action["territory"])}:
        raise InvalidInput(GENERIC, errors={"partner": "« Partenaire » : valeur inconnue, choisissez dans la liste."})
    now = at or clock.now()
    async with write_transaction():
        await lifecycle.check_role(action_id, new.partner, new.terms.role)
        commitment = Commitment(
            action=action_id,
            territory=action["territory"],
            partner=new.partner,
            state=lifecycle.COMMITMENT.initial,
            version=1,
            created_by=viewer.user_id,
            created_at=now,
            updated_at=now,
        )
        for column, value in lifecycle.terms_columns(new.terms).items():
            setattr(commitment, column._meta.name, value)
        await commitment.save()
        await record_created(lifecycle.COMMITMENT, commitment.id, action["territory"], viewer,
                             comment="Engagement proposé au partenaire", at=now)
    return commitment.id


async def commentable_commitment(viewer: Viewer, commitment_id: int) -> dict:
    """The commitment, if this person may comment it: the partner's contact or the territory's editors."""
    commitment = await commitment_for(viewer, commitment_id)
    if not viewer.acts_for_partner(commitment["partner"]) and not viewer.can_record_commitments(
        commitment["territory"]
    ):
        raise Forbidden("Seuls le partenaire et les éditeurs du territoire commentent un engagement.")
    return commitment


async def add_comment(viewer: Viewer, commitment_id: int, body: str, *, at: datetime | None = None) -> dict:
    """A comment by the partner's contact or the territory's editors; returns the commitment. Not a change of
    state: no history entry."""
    commitment = await commentable_commitment(viewer, commitment_id)
    as_partner = viewer.acts_for_partner(commitment["partner"])
    contact_id = await lifecycle.contact_id_for(viewer, commitment["partner"]) if as_partner else None
    async with write_transaction():
        await CommitmentComment.insert(
            CommitmentComment(
                commitment=commitment_id,
                author=viewer.user_id,
                author_contact=contact_id,
                body=body,
                created_at=at or clock.now(),
            )
        )
    return commitment


async def answerable_commitment(viewer: Viewer, commitment_id: int) -> dict:
    """The commitment, if this person may change its state in some way: the partner's contact, or the territory's
    editors (which transition each may take is the machine's). NotFound / Forbidden otherwise."""
    commitment = await commitment_for(viewer, commitment_id)
    if not viewer.acts_for_partner(commitment["partner"]) and not viewer.can_record_commitments(
        commitment["territory"]
    ):
        raise Forbidden("Votre rôle ne permet pas de changer l’état de cet engagement.")
    return commitment


async def contacts_to_send(commitment: dict) -> list[dict]:
    """The partner's contacts a signed link may be sent to (not erased, with an address)."""
    return (
        await PartnerContact.select(PartnerContact.id, PartnerContact.full_name, PartnerContact.function)
        .where(
            (PartnerContact.partner == commitment["partner"])
            & PartnerContact.erased_at.is_null()
            & PartnerContact.email.is_not_null()
        )
        .order_by(PartnerContact.full_name)
    )


# --- /engagements: the partner's contact's own list --------------------------------------------------------

async def my_commitments(viewer: Viewer, group: str | None) -> dict:
    """The commitments of the organisations this person is a contact of, across territories; never those on a
    confidential action. Grouped (to confirm, to fulfil, closed), soonest due first."""
    if not viewer.partner_ids:
        return {"groups": [], "total": 0}
    where = Commitment.partner.is_in(list(viewer.partner_ids)) & Commitment.action.confidential.eq(False)
    rows = await enrich(await Commitment.select(*commitment_columns()).where(where), with_links=False)
    far = date.max  # 9999-12-31: undated last
    rows.sort(key=lambda r: (r["due"] or far, r["id"]))
    groups = [
        {"code": code, "title": title, "rows": [r for r in rows if r["state"] in states]}
        for code, title, states in GROUPS
        if not group or group == code
    ]
    return {"groups": groups, "total": len(rows)}


async def partner_commitments(viewer: Viewer, partner_id: int) -> list[dict]:
    """On a partner's page: its commitments on the actions the viewer may read (the same rule as everywhere)."""
    rows = (
        await Commitment.select(*commitment_columns())
        .where(Commitment.partner == partner_id)
        .order_by(Commitment.id, ascending=False)
    )
    return [r for r in rows if viewer.can_read_action(r["territory"], r["action_confidential"], [r["partner"]])]


async def has_open_commitments(partner_id: int, territory_ids: set[int]) -> bool:
    """Whether the partner has commitments still proposed or confirmed on actions of these territories."""
    return await Commitment.exists().where(
        (Commitment.partner == partner_id)
        & Commitment.territory.is_in(sorted(territory_ids))
        & Commitment.state.is_in(["propose", "confirme"])
    )
