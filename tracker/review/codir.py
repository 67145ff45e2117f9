"""The CODIR meeting pack: what changed in a territory since a date (by default its last recorded CODIR meeting),
what became overdue, what is blocked, what is due next."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from tracker.core import clock

from tracker.core.permissions import Viewer
from tracker.commitments.tables import Commitment
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden
from tracker.history.tables import HistoryEntry
from tracker.review.forms import MeetingInput
from tracker.review.tables import CodirMeeting
from tracker.roadmaps.statuses import CLOSED
from tracker.roadmaps.tables import Action, ActionNote
from tracker.territories.service import territory_for

DEFAULT_DAYS = 30
UPCOMING_DAYS = 60


async def last_meeting(territory_id: int) -> date | None:
    row = (
        await CodirMeeting.select(CodirMeeting.held_on)
        .where(CodirMeeting.territory == territory_id)
        .order_by(CodirMeeting.held_on, ascending=False)
        .first()
    )
    return row["held_on"] if row else None


async def meeting_pack(viewer: Viewer, siren: str, since: date | None) -> dict:
    """`since` (read by `queries.read_pack_query`): None starts from the last recorded meeting, else 30 days ago."""
    territory = await territory_for(viewer, siren)
    tid = territory["id"]
    meeting = await last_meeting(tid)
    origin = "paramètre" if since else ("réunion" if meeting else "défaut")
    since = since or meeting or clock.today() - timedelta(days=DEFAULT_DAYS)
    start = datetime.combine(since, time.min, tzinfo=clock.PARIS).astimezone(timezone.utc)  # from midnight, Paris
    today = clock.today()

    actions = await Action.select(
        Action.id, Action.title, Action.status, Action.deadline, Action.confidential, Action.roadmap,
        Action.pilot.name.as_alias("pilot_name"),
    ).where((Action.territory == tid) & viewer.actions_scope(Action.territory, Action.confidential))
    by_id = {a["id"]: a for a in actions}

    entries = await HistoryEntry.select(
        HistoryEntry.subject_id, HistoryEntry.from_value, HistoryEntry.to_value, HistoryEntry.comment,
        HistoryEntry.created_at, HistoryEntry.actor.full_name.as_alias("actor_name"),
    ).where(
        (HistoryEntry.territory == tid) & (HistoryEntry.subject_type == "action") & (HistoryEntry.created_at >= start)
    ).order_by(HistoryEntry.created_at)
    changes, created = [], []
    for entry in entries:
        action = by_id.get(entry["subject_id"])
        if action is None:
            continue
        entry["title"] = action["title"]
        (changes if entry["from_value"] else created).append(entry)

    # The notes of the actions above, found through the index on `action_note.action` (not by a join on the
    # territory, which the planner may answer by reading every note of the network).
    notes = await ActionNote.select(
        ActionNote.action, ActionNote.body, ActionNote.created_at,
        ActionNote.author.full_name.as_alias("author_name"),
    ).where(ActionNote.action.is_in(list(by_id) or [0]) & (ActionNote.created_at >= start)).order_by(
        ActionNote.created_at)
    for note in notes:
        note["title"] = by_id[note["action"]]["title"]

    # Commitments the partners confirmed or declined since the date (on actions this viewer may see).
    answers = await HistoryEntry.select(
        HistoryEntry.subject_id, HistoryEntry.to_value, HistoryEntry.comment, HistoryEntry.created_at,
    ).where(
        (HistoryEntry.territory == tid) & (HistoryEntry.subject_type == "commitment")
        & HistoryEntry.to_value.is_in(["confirme", "decline"]) & (HistoryEntry.created_at >= start)
    ).order_by(HistoryEntry.created_at)
    commitments = {
        c["id"]: c
        for c in (await Commitment.select(
            Commitment.id, Commitment.action, Commitment.partner.name.as_alias("partner_name"), Commitment.role,
        ).where(Commitment.id.is_in([a["subject_id"] for a in answers])) if answers else [])
    }
    partner_answers = []
    for answer in answers:
        commitment = commitments.get(answer["subject_id"])
        if commitment and commitment["action"] in by_id:
            partner_answers.append({**answer, **commitment, "title": by_id[commitment["action"]]["title"]})

    open_actions = [a for a in actions if a["status"] not in CLOSED]
    became_overdue = sorted(
        (a for a in open_actions if a["deadline"] and since <= a["deadline"] < today), key=lambda a: a["deadline"]
    )
    blocked = [a for a in actions if a["status"] == "bloquee"]
    upcoming = sorted(
        (a for a in open_actions if a["deadline"] and today <= a["deadline"] <= today + timedelta(days=UPCOMING_DAYS)),
        key=lambda a: a["deadline"],
    )
    return {
        "territory": territory,
        "since": since,
        "origin": origin,
        "last_meeting": meeting,
        "changes": changes,
        "created": created,
        "notes": notes,
        "partner_answers": partner_answers,
        "became_overdue": became_overdue,
        "blocked": blocked,
        "upcoming": upcoming,
        "upcoming_days": UPCOMING_DAYS,
        "can_record": viewer.can_manage_territory(tid),
    }


async def recordable_territory(viewer: Viewer, siren: str) -> dict:
    """The territory, if this person may record its CODIR meetings (NotFound / Forbidden otherwise)."""
    territory = await territory_for(viewer, siren)
    if not viewer.can_manage_territory(territory["id"]):
        raise Forbidden("Seuls les référents du territoire enregistrent les réunions de CODIR.")
    return territory


async def record_meeting(viewer: Viewer, siren: str, values: MeetingInput) -> date:
    territory = await recordable_territory(viewer, siren)
    async with write_transaction():
        await CodirMeeting.insert(
            CodirMeeting(territory=territory["id"], held_on=values.held_on, recorded_by=viewer.user_id,
                         created_at=clock.now())
        )
    return values.held_on
