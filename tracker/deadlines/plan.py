"""Which reminder mails are due today, and writing each one down (its unique key) before anything is sent.

Four kinds of mail:

- `echeances`: one mail a day at most per person, listing the deadlines (items.py) that reach a reminder step for
  them: 30 and 7 days before (the territory's settings), then every week while late. A step of a deadline is
  reminded once per person (ReminderItem's unique key), whatever day the run catches it.
- `engagements`: a proposed commitment whose signed link, sent by the territory, is still unanswered after 7 days:
  one reminder per link, to the contact it was sent to, with a fresh link.
- `codir`: each week, to the members of every territory with a roadmap, its CODIR pack (when there is something to
  say), unless the territory turned it off.
- `reseau`: each month, to the ADGCF's reviewers, the « à relancer » lists.

Nothing goes to a deactivated account, an erased contact, or someone who turned that kind of mail off."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tracker.accounts.tables import Membership, User
from tracker.commitments.tables import CommitmentLink
from tracker.core.db import write_transaction
from tracker.core.permissions import EDITING_ROLES, Viewer
from tracker.deadlines.forms import TerritorySettings
from tracker.deadlines.items import Deadline, Scope, load
from tracker.deadlines.lifecycle import REMINDER
from tracker.deadlines.preferences import Recipient, preferences_of, wants
from tracker.deadlines.settings import DEFAULTS, settings_of
from tracker.deadlines.tables import Reminder, ReminderItem
from tracker.lifecycle import record_created
from tracker.partners.tables import PartnerContact
from tracker.review import codir
from tracker.roadmaps.tables import Roadmap
from tracker.territories.tables import Territory

UNANSWERED_DAYS = 7
CODIR_WINDOW_DAYS = 7  # the weekly digest tells the last 7 days…
CODIR_AHEAD_DAYS = 30  # …and what is due in the next 30


@dataclass(frozen=True)
class PlannedItem:
    key: str
    subject: str
    subject_id: int
    due_on: date | None
    step: str
    title: str = ""


@dataclass
class Planned:
    """One mail to write down: its unique key, its recipient, what it speaks of."""

    key: str
    kind: str
    recipient: Recipient
    period: str
    territory_id: int | None = None
    items: list[PlannedItem] = field(default_factory=list)
    summary: str = ""


def step_for(deadline: Deadline, rules: TerritorySettings, today: date) -> str | None:
    """The reminder step a deadline is at today under a territory's rules, or None: « avant-30 » from 30 days
    before, « avant-7 » from 7 days before, « retard-N » in the N-th week (from 0) after the date."""
    days_left = (deadline.due - today).days
    if days_left < 0:
        return f"retard-{(-days_left - 1) // 7}" if deadline.can_be_late and rules.overdue_weekly else None
    for days in sorted(d for d in (rules.first_days, rules.second_days) if d):
        if days_left <= days:
            return f"avant-{days}"
    return None


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- recipients ----------------------------------------------------------------------------------------------


async def editors_of(territory_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """The active éditeurs and référents of each territory."""
    found: dict[int, list[Recipient]] = {}
    for row in await Membership.select(
        Membership.territory, Membership.user, Membership.user.email.as_alias("email"),
        Membership.user.full_name.as_alias("name"),
    ).where(
        Membership.territory.is_in(sorted(set(territory_ids)) or [0]) & Membership.role.is_in(sorted(EDITING_ROLES))
        & Membership.user.is_active.eq(True)
    ).order_by(Membership.user):
        found.setdefault(row["territory"], []).append(
            Recipient(ref=f"u{row['user']}", email=row["email"], name=row["name"], user_id=row["user"]))
    return found


def _contact_recipient(row: dict) -> Recipient | None:
    """A contact with an account is reached as that user (their own preferences); never a deactivated account."""
    if row["account"] is not None:
        if not row["account_active"]:
            return None
        return Recipient(ref=f"u{row['account']}", email=row["account_email"], name=row["account_name"],
                         user_id=row["account"])
    return Recipient(ref=f"c{row['id']}", email=row["email"], name=row["full_name"], contact_id=row["id"])


def _contacts_query(where):
    return PartnerContact.select(
        PartnerContact.id, PartnerContact.partner, PartnerContact.full_name, PartnerContact.email,
        PartnerContact.account, PartnerContact.account.is_active.as_alias("account_active"),
        PartnerContact.account.email.as_alias("account_email"),
        PartnerContact.account.full_name.as_alias("account_name"),
    ).where(where & PartnerContact.erased_at.is_null() & PartnerContact.email.is_not_null()).order_by(PartnerContact.id)


async def contacts_of(partner_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """The reachable contacts of each partner (not erased, with an address, account active if any)."""
    found: dict[int, list[Recipient]] = {}
    for row in await _contacts_query(PartnerContact.partner.is_in(sorted(set(partner_ids)) or [0])):
        recipient = _contact_recipient(row)
        if recipient is not None:
            found.setdefault(row["partner"], []).append(recipient)
    return found


async def _keep_wanted(planned: list[Planned], kind: str) -> list[Planned]:
    preferences = await preferences_of(sorted({p.recipient.ref for p in planned}))
    return [p for p in planned if wants(preferences[p.recipient.ref], kind)]


async def _existing(model, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found |= {r["key"] for r in await model.select(model.key).where(model.key.is_in(chunk))}
    return found


# --- the four kinds -----------------------------------------------------------------------------------------


async def deadline_reminders(today: date) -> list[Planned]:
    deadlines = [d for d in await load(Scope(territories=None)) if d.remind and d.still_ahead(today)]
    rules = await settings_of()
    editors = await editors_of({t for d in deadlines for t in d.reminded_editors_of})
    contacts = await contacts_of({p for d in deadlines for p in d.partners})
    by_person: dict[str, Planned] = {}
    seen: set[tuple[str, str]] = set()

    def add(recipient: Recipient, deadline: Deadline, step: str | None) -> None:
        # Once per person; a pilot's commitment due with its action is said once, by the action.
        if step is None or (recipient.ref, deadline.uid_part) in seen or (
                recipient.ref, f"action-{deadline.action_id}", deadline.due) in seen:
            return
        seen.add((recipient.ref, deadline.uid_part))
        if deadline.kind == "action":
            seen.add((recipient.ref, deadline.uid_part, deadline.due))
        planned = by_person.setdefault(recipient.ref, Planned(
            key=f"echeances:{recipient.ref}:{today.isoformat()}", kind="echeances", recipient=recipient,
            period=today.isoformat()))
        planned.items.append(PlannedItem(
            key=f"{deadline.kind}:{deadline.id}:{deadline.due.isoformat()}:{step}:{recipient.ref}",
            subject=deadline.kind, subject_id=deadline.id, due_on=deadline.due, step=step, title=deadline.title))

    for deadline in deadlines:
        for territory_id in sorted(deadline.reminded_editors_of):
            step = step_for(deadline, rules.get(territory_id, DEFAULTS), today)
            for recipient in editors.get(territory_id, []):
                add(recipient, deadline, step)
        step = step_for(deadline, rules.get(deadline.territory_id, DEFAULTS), today)
        for partner_id in sorted(deadline.partners):
            for recipient in contacts.get(partner_id, []):
                add(recipient, deadline, step)
    known = await _existing(ReminderItem, [i.key for p in by_person.values() for i in p.items])
    planned = []
    for mail in by_person.values():
        mail.items = [i for i in mail.items if i.key not in known]
        if mail.items:
            mail.summary = f"{len(mail.items)} échéance(s) : " + " ; ".join(
                f"{i.title} ({i.due_on.isoformat()}, {i.step})" for i in mail.items)
            planned.append(mail)
    return await _keep_wanted(planned, "echeances")


async def commitment_reminders(today: date, now: datetime) -> list[Planned]:
    links = await CommitmentLink.select(
        CommitmentLink.id, CommitmentLink.commitment, CommitmentLink.contact, CommitmentLink.created_at,
        CommitmentLink.commitment.territory.as_alias("territory"),
        CommitmentLink.commitment.action.title.as_alias("title"),
    ).where(
        CommitmentLink.created_by.is_not_null() & (CommitmentLink.commitment.state == "propose")
        & CommitmentLink.commitment.action.confidential.eq(False)
    ).order_by(CommitmentLink.id)
    latest = {link["commitment"]: link for link in links}  # the last link a person sent, per commitment
    limit = now - timedelta(days=UNANSWERED_DAYS)
    due = [link for link in latest.values() if link["created_at"] <= limit]
    contacts = {row["id"]: row for row in await _contacts_query(
        PartnerContact.id.is_in(sorted({link["contact"] for link in due}) or [0]))}
    planned = []
    for link in due:
        row = contacts.get(link["contact"])
        recipient = _contact_recipient(row) if row else None
        if recipient is None:
            continue
        step = f"lien-{link['id']}"
        planned.append(Planned(
            key=f"engagements:{link['commitment']}:{step}", kind="engagements", recipient=recipient,
            period=today.isoformat(), territory_id=link["territory"],
            items=[PlannedItem(key=f"engagement:{link['commitment']}:{step}:{recipient.ref}", subject="engagement",
                               subject_id=link["commitment"], due_on=None, step=step, title=link["title"])],
            summary=f"Engagement sans réponse depuis {UNANSWERED_DAYS} jours : {link['title']}",
        ))
    known = await _existing(Reminder, [p.key for p in planned])
    return await _keep_wanted([p for p in planned if p.key not in known], "engagements")


async def codir_digests(today: date) -> list[Planned]:
    week = iso_week(today)
    with_roadmap = {r["territory"] for r in await Roadmap.select(Roadmap.territory)}
    rules = await settings_of(with_roadmap)
    territories = [t for t in with_roadmap if rules.get(t, DEFAULTS).codir_digest]
    members: dict[int, list[Recipient]] = {}
    for row in await Membership.select(
        Membership.territory, Membership.user, Membership.user.email.as_alias("email"),
        Membership.user.full_name.as_alias("name"),
    ).where(Membership.territory.is_in(sorted(territories) or [0]) & Membership.user.is_active.eq(True)).order_by(
        Membership.user
    ):
        members.setdefault(row["territory"], []).append(
            Recipient(ref=f"u{row['user']}", email=row["email"], name=row["name"], user_id=row["user"]))
    candidates = [
        Planned(key=f"codir:{tid}:{r.ref}:{week}", kind="codir", recipient=r, period=week, territory_id=tid)
        for tid in sorted(members) for r in members[tid]
    ]
    known = await _existing(Reminder, [p.key for p in candidates])
    candidates = [p for p in candidates if p.key not in known]
    sirens = {t["id"]: (t["siren"], t["name"]) for t in await Territory.select(
        Territory.id, Territory.siren, Territory.name).where(
        Territory.id.is_in(sorted({p.territory_id for p in candidates}) or [0]))}
    worth: dict[int, bool] = {}
    for tid in sorted({p.territory_id for p in candidates}):
        # Whether the pack says anything, as any member would read it.
        pack = await codir.meeting_pack(Viewer(roles={tid: "lecteur"}), sirens[tid][0],
                                        today - timedelta(days=CODIR_WINDOW_DAYS))
        worth[tid] = has_news(pack, today)
    planned = []
    for p in candidates:
        if worth[p.territory_id]:
            p.summary = f"Point hebdomadaire du CODIR de {sirens[p.territory_id][1]} ({p.period})"
            planned.append(p)
    return await _keep_wanted(planned, "codir")


def has_news(pack: dict, today: date) -> bool:
    return bool(pack["changes"] or pack["created"] or pack["notes"] or pack["partner_answers"]
                or pack["became_overdue"] or upcoming_in(pack, today))


def upcoming_in(pack: dict, today: date) -> list[dict]:
    """What the digest announces: the open actions due within CODIR_AHEAD_DAYS."""
    return [a for a in pack["upcoming"] if a["deadline"] <= today + timedelta(days=CODIR_AHEAD_DAYS)]


async def network_digests(today: date) -> list[Planned]:
    month = today.strftime("%Y-%m")
    reviewers = await User.select(User.id, User.email, User.full_name).where(
        User.is_reviewer.eq(True) & User.is_active.eq(True)).order_by(User.id)
    planned = [
        Planned(key=f"reseau:u{u['id']}:{month}", kind="reseau", period=month,
                recipient=Recipient(ref=f"u{u['id']}", email=u["email"], name=u["full_name"], user_id=u["id"]),
                summary=f"Synthèse mensuelle « à relancer » ({month})")
        for u in reviewers
    ]
    known = await _existing(Reminder, [p.key for p in planned])
    return await _keep_wanted([p for p in planned if p.key not in known], "reseau")


async def plan(today: date, now: datetime) -> list[Planned]:
    """Every mail due today that is not written down yet. Reads only."""
    return [
        *await deadline_reminders(today),
        *await commitment_reminders(today, now),
        *await codir_digests(today),
        *await network_digests(today),
    ]


# --- writing down ---------------------------------------------------------------------------------------------


class _NothingNew(Exception):
    """Every item was written down by another run meanwhile: the mail is not needed (rolled back)."""


async def write_down(planned: Planned, at: datetime) -> int | None:
    """Insert the mail and its items under their unique keys, in one transaction, before any sending; with its
    history entry. Returns its id, or None when another run already wrote it (nothing written then)."""
    recipient = planned.recipient
    try:
        async with write_transaction():
            inserted = await Reminder.insert(Reminder(
                key=planned.key, kind=planned.kind, user=recipient.user_id, contact=recipient.contact_id,
                territory=planned.territory_id, period=planned.period, state=REMINDER.initial, attempts=0,
                last_error="", version=1, created_at=at, updated_at=at,
            )).on_conflict(target=Reminder.key, action="DO NOTHING").returning(Reminder.id)
            if not inserted:
                return None
            reminder_id = inserted[0]["id"]
            if planned.items:
                rows = await ReminderItem.insert(*[
                    ReminderItem(reminder=reminder_id, key=i.key, subject=i.subject, subject_id=i.subject_id,
                                 due_on=i.due_on, step=i.step)
                    for i in planned.items
                ]).on_conflict(target=ReminderItem.key, action="DO NOTHING").returning(ReminderItem.id)
                if not rows:
                    raise _NothingNew
            await record_created(REMINDER, reminder_id, planned.territory_id, None, comment=planned.summary[:2000],
                                 at=at)
    except _NothingNew:
        return None
    return reminder_id
