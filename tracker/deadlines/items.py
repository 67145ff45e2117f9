"""What is due, and for whom: the one rule that « Mes échéances », the territory's list, the calendar feeds and the
reminders all read.

A deadline is an action's deadline, a commitment's (its own date, else its action's), an obligation's of an agreement
in force, an agreement's review date or end date. Who follows it:

- `editors_of`: the territories whose éditeurs and référents follow it (an action's or a commitment's territory, an
  obligation's owner party, every party for a review or an end date);
- `partners`: the partners whose contacts follow it: a commitment's partner, an action's pilot when that partner is
  committed to the action (its contacts may then read it); never for a confidential action, never for an agreement
  (partners do not read agreements).

Loading is a fixed number of queries, whatever the number of deadlines."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tracker.agreements.states import AGREEMENT_STATE_LABELS, EXPIRABLE, FOLLOW_UP
from tracker.agreements.tables import Agreement, AgreementParty, AgreementReview, Obligation
from tracker.commitments.states import STATE_LABELS as COMMITMENT_STATE_LABELS
from tracker.commitments.tables import Commitment
from tracker.core.db import in_list
from tracker.core.permissions import Viewer
from tracker.roadmaps.statuses import CLOSED, STATUS_LABELS
from tracker.roadmaps.tables import Action

KIND_LABELS = {
    "action": "Actions",
    "engagement": "Engagements des partenaires",
    "obligation": "Obligations des contrats",
    "revue": "Revues de contrat",
    "fin": "Fins de contrat",
}
KIND_SINGULAR = {
    "action": "Action",
    "engagement": "Engagement",
    "obligation": "Obligation de contrat",
    "revue": "Revue de contrat",
    "fin": "Fin de contrat",
}
OPEN_COMMITMENTS = frozenset({"propose", "confirme"})
LATE_LABEL = "En retard"


@dataclass(frozen=True)
class Deadline:
    kind: str  # action, engagement, obligation, revue, fin
    id: int  # the object's id (an action, a commitment, an obligation, a review, an agreement)
    title: str
    context: str  # where it belongs: the territory, the agreement
    due: date
    state: str
    state_label: str
    open: bool  # still to be done (or, for a review or an end, still ahead of a contract in force)
    cancelled: bool  # no longer due: a calendar shows it cancelled
    can_be_late: bool  # actions, commitments, obligations; not a review or an end date
    remind: bool  # reminders are sent for it (a proposed commitment gets its own reminder with a signed link)
    path: str
    territory_id: int
    territory_name: str
    confidential: bool
    editors_of: frozenset[int]
    partners: frozenset[int]
    parties: frozenset[int] = frozenset()  # an agreement's party territories (who may read it)
    action_id: int | None = None  # the action, for an action or a commitment
    version: int = 1
    updated_at: datetime | None = None

    @property
    def reminded_editors_of(self) -> frozenset[int]:
        """The territories whose éditeurs get reminders of it: not a commitment's, which is the partner's to keep
        (its territory's éditeurs are reminded of the action itself)."""
        return frozenset() if self.kind == "engagement" else self.editors_of

    @property
    def uid_part(self) -> str:
        """Stable per object: a calendar updates the event rather than adding a second one."""
        return f"{self.kind}-{self.id}"

    def is_late(self, today: date) -> bool:
        """« En retard » is derived, never stored: passed and still to be done."""
        return self.open and self.can_be_late and self.due < today

    def status_text(self, today: date) -> str:
        return LATE_LABEL if self.is_late(today) else self.state_label

    def still_ahead(self, today: date) -> bool:
        """What a list of deadlines shows: what is still to be done, late ones included."""
        return self.open and (self.due >= today or self.can_be_late)

    def readable_by(self, viewer: Viewer) -> bool:
        """The product's permission rules (tracker.core.permissions), applied to the object behind the deadline."""
        if self.kind in ("action", "engagement"):
            return viewer.can_read_action(self.territory_id, self.confidential, self.partners)
        return viewer.can_read_agreement(self.parties)

    def concerns(self, viewer: Viewer) -> bool:
        """« Mes échéances »: what this person edits (their territories' éditeurs and référents) or their
        organisation takes part in (a partner's contacts)."""
        editable = set(viewer.editable_territories())
        return bool(self.editors_of & editable) or bool(self.partners & viewer.partner_ids)


@dataclass(frozen=True)
class Scope:
    """Which deadlines to load: those of these territories (None: every territory) and of these partners."""

    territories: frozenset[int] | None = frozenset()
    partners: frozenset[int] = frozenset()
    include_closed: bool = False  # calendars keep closed ones, marked cancelled
    kinds: frozenset[str] = field(default_factory=lambda: frozenset(KIND_LABELS))


def _ids(values: Iterable[int]) -> list[int]:
    return sorted(values) or [0]


# The queries are SQL through Piccolo's `raw` (parameters bound; the same rows and types as the selects they
# replaced): building those selects, with their joins, cost more than running them (issue 15). A condition is a pair
# (SQL, arguments); None means « no condition ».
Condition = tuple[str, list] | None


def _in(column: str, values: Iterable) -> tuple[str, list]:
    values = list(values)
    return f"{column} IN " + in_list(values), values


def _by_territory(column: str, scope: Scope) -> Condition:
    return None if scope.territories is None else _in(column, _ids(scope.territories))


def _either(*conditions: Condition) -> Condition:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return "(" + " OR ".join(sql for sql, _ in present) + ")", [a for _, args in present for a in args]


def _where(*conditions: Condition) -> tuple[str, list]:
    present = [c for c in conditions if c is not None]
    return " AND ".join(sql for sql, _ in present), [a for _, args in present for a in args]


async def load(scope: Scope) -> list[Deadline]:
    """Every deadline in the scope, soonest first. Reads only."""
    found: list[Deadline] = []
    if "action" in scope.kinds:
        found += await _actions(scope)
    if "engagement" in scope.kinds:
        found += await _commitments(scope)
    if "obligation" in scope.kinds:
        found += await _obligations(scope)
    if "revue" in scope.kinds or "fin" in scope.kinds:
        found += await _agreement_dates(scope)
    found.sort(key=lambda d: (d.due, d.kind, d.id))
    return found


async def _actions(scope: Scope) -> list[Deadline]:
    base = ("a.deadline IS NOT NULL", [])
    open_only = _in("a.status NOT", sorted(CLOSED)) if not scope.include_closed else None
    by_pilot = _where(_in("a.pilot", _ids(scope.partners)), ("a.confidential = {}", [False])) if scope.partners else None
    if scope.territories is not None and not scope.territories and by_pilot is None:
        return []
    who = _either(_by_territory("a.territory", scope), by_pilot) if scope.territories is not None else None
    where, args = _where(base, open_only, who)
    rows = await Action.raw(
        "SELECT a.id, a.title, a.deadline, a.status, a.territory, a.confidential, a.pilot, a.version, a.updated_at, "
        "t.name AS territory_name FROM action a LEFT JOIN territory t ON t.id = a.territory WHERE " + where,
        *args,
    )
    # A pilot's contacts follow the action when their organisation is committed to it (then they may read it).
    committed = {
        (c["action"], c["partner"])
        for c in await Commitment.raw(
            "SELECT action, partner FROM commitment WHERE action IN "
            f"(SELECT a.id FROM action a WHERE {where} AND a.pilot IS NOT NULL)",
            *args,
        )
    } if rows else set()
    return [
        Deadline(
            kind="action", id=r["id"], title=r["title"], context=r["territory_name"], due=r["deadline"],
            state=r["status"], state_label=STATUS_LABELS.get(r["status"], r["status"]),
            open=r["status"] not in CLOSED, cancelled=r["status"] in CLOSED, can_be_late=True,
            remind=r["status"] not in CLOSED, path=f"/actions/{r['id']}", territory_id=r["territory"],
            territory_name=r["territory_name"], confidential=r["confidential"],
            editors_of=frozenset({r["territory"]}),
            partners=frozenset({r["pilot"]}) if (
                r["pilot"] and not r["confidential"] and (r["id"], r["pilot"]) in committed) else frozenset(),
            action_id=r["id"], version=r["version"], updated_at=r["updated_at"],
        )
        for r in rows
    ]


async def _commitments(scope: Scope) -> list[Deadline]:
    base = ("(c.due_on IS NOT NULL OR a.deadline IS NOT NULL)", [])
    open_only = _in("c.state", sorted(OPEN_COMMITMENTS)) if not scope.include_closed else None
    by_partner = _where(
        _in("c.partner", _ids(scope.partners)), ("a.confidential = {}", [False])
    ) if scope.partners else None
    if scope.territories is not None and not scope.territories and by_partner is None:
        return []
    who = _either(_by_territory("c.territory", scope), by_partner) if scope.territories is not None else None
    where, args = _where(base, open_only, who)
    rows = await Commitment.raw(
        "SELECT c.id, c.action, c.due_on, c.state, c.territory, c.partner, c.version, c.updated_at, "
        "a.title AS action_title, a.deadline AS action_deadline, a.confidential AS confidential, "
        "p.name AS partner_name, t.name AS territory_name FROM commitment c LEFT JOIN action a ON a.id = c.action "
        "LEFT JOIN partner p ON p.id = c.partner LEFT JOIN territory t ON t.id = c.territory WHERE " + where,
        *args,
    )
    return [
        Deadline(
            kind="engagement", id=r["id"], title=f"Engagement de {r['partner_name']} : {r['action_title']}",
            context=r["territory_name"], due=r["due_on"] or r["action_deadline"], state=r["state"],
            state_label=COMMITMENT_STATE_LABELS.get(r["state"], r["state"]),
            open=r["state"] in OPEN_COMMITMENTS, cancelled=r["state"] not in OPEN_COMMITMENTS, can_be_late=True,
            remind=r["state"] == "confirme", path=f"/actions/{r['action']}#engagement-{r['id']}",
            territory_id=r["territory"], territory_name=r["territory_name"], confidential=r["confidential"],
            editors_of=frozenset({r["territory"]}),
            partners=frozenset() if r["confidential"] else frozenset({r["partner"]}),
            action_id=r["action"], version=r["version"], updated_at=r["updated_at"],
        )
        for r in rows
    ]


async def _parties(agreement_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    ids = sorted(set(agreement_ids))
    if not ids:
        return {}
    parties: dict[int, set[int]] = {}
    condition, args = _in("agreement", ids)
    for row in await AgreementParty.raw("SELECT agreement, territory FROM agreement_party WHERE " + condition, *args):
        parties.setdefault(row["agreement"], set()).add(row["territory"])
    return {k: frozenset(v) for k, v in parties.items()}


async def _obligations(scope: Scope) -> list[Deadline]:
    if scope.territories is not None and not scope.territories:
        return []  # obligations are followed by their owner's éditeurs, never by partners' contacts
    if scope.include_closed:
        states = _where(("o.deadline IS NOT NULL", []), _in("g.state", sorted(FOLLOW_UP)))
    else:
        states = _where(("o.deadline IS NOT NULL", []), _in("g.state", sorted(EXPIRABLE)),
                        _in("o.status NOT", sorted(CLOSED)),
                        ("o.ended_by IS NULL", []))  # ended by an amendment: no longer due
    where, args = _where(states, _by_territory("op.territory", scope))
    rows = await Obligation.raw(
        "SELECT o.id, o.title, o.deadline, o.status, o.agreement, o.ended_on, o.version, o.updated_at, "
        "g.title AS agreement_title, g.state AS agreement_state, op.territory AS territory, t.name AS territory_name "
        "FROM obligation o LEFT JOIN agreement g ON g.id = o.agreement LEFT JOIN agreement_party op ON op.id = o.owner "
        "LEFT JOIN territory t ON t.id = op.territory WHERE " + where,
        *args,
    )
    parties = await _parties(r["agreement"] for r in rows)
    found = []
    for r in rows:
        open_ = r["agreement_state"] in EXPIRABLE and r["status"] not in CLOSED and r["ended_on"] is None
        found.append(Deadline(
            kind="obligation", id=r["id"], title=r["title"],
            context=f"Contrat « {r['agreement_title']} » — apport de {r['territory_name']}", due=r["deadline"],
            state=r["status"], state_label=STATUS_LABELS.get(r["status"], r["status"]), open=open_,
            cancelled=r["status"] in CLOSED or r["agreement_state"] == "resilie" or r["ended_on"] is not None,
            can_be_late=True, remind=open_,
            path=f"/contrats/{r['agreement']}#obligation-{r['id']}", territory_id=r["territory"],
            territory_name=r["territory_name"], confidential=False, editors_of=frozenset({r["territory"]}),
            partners=frozenset(), parties=parties.get(r["agreement"], frozenset()),
            version=r["version"], updated_at=r["updated_at"],
        ))
    return found


async def _agreement_dates(scope: Scope) -> list[Deadline]:
    if scope.territories is not None and not scope.territories:
        return []
    states = _in("g.state", sorted(FOLLOW_UP if scope.include_closed else EXPIRABLE))
    in_scope = None
    if scope.territories is not None:
        parties_sql, parties_args = _in("territory", _ids(scope.territories))
        in_scope = (f"g.id IN (SELECT agreement FROM agreement_party WHERE {parties_sql})", parties_args)
    where, args = _where(states, in_scope)
    agreements = await Agreement.raw(
        "SELECT g.id, g.title, g.state, g.ends_on, g.territory, g.version, g.updated_at, t.name AS territory_name "
        "FROM agreement g LEFT JOIN territory t ON t.id = g.territory WHERE " + where,
        *args,
    )
    by_id = {a["id"]: a for a in agreements}
    parties = await _parties(by_id)
    found = []
    for a in agreements:
        if "fin" not in scope.kinds or a["ends_on"] is None:
            continue
        found.append(_agreement_deadline(a, parties, "fin", a["id"], f"Fin du contrat « {a['title']} »", a["ends_on"],
                                         a["version"], a["updated_at"]))
    if "revue" in scope.kinds and by_id:
        condition, args = _in("agreement", sorted(by_id))
        for review in await AgreementReview.raw(
            "SELECT id, agreement, review_on, title FROM agreement_review WHERE " + condition, *args
        ):
            a = by_id[review["agreement"]]
            title = f"{review['title'] or 'Revue'} du contrat « {a['title']} »"
            found.append(_agreement_deadline(a, parties, "revue", review["id"], title, review["review_on"],
                                             a["version"], a["updated_at"]))
    return found


def _agreement_deadline(a: dict, parties: dict, kind: str, ident: int, title: str, due: date, version: int,
                        updated_at: datetime | None) -> Deadline:
    party_ids = parties.get(a["id"], frozenset())
    open_ = a["state"] in EXPIRABLE
    return Deadline(
        kind=kind, id=ident, title=title, context=f"Contrat « {a['title']} »", due=due, state=a["state"],
        state_label=AGREEMENT_STATE_LABELS.get(a["state"], a["state"]), open=open_,
        cancelled=a["state"] == "resilie", can_be_late=False, remind=open_, path=f"/contrats/{a['id']}",
        territory_id=a["territory"], territory_name=a["territory_name"], confidential=False, editors_of=party_ids,
        partners=frozenset(), parties=party_ids, version=version, updated_at=updated_at,
    )


# --- groups of « Mes échéances » ------------------------------------------------------------------------------

GROUP_TITLES = {
    "retard": "En retard",
    "semaine": "Cette semaine",
    "semaine_prochaine": "La semaine prochaine",
    "mois": "Ce mois-ci",
    "plus_tard": "Plus tard",
}


def group_of(deadline: Deadline, today: date) -> str:
    """Overdue; this week (to Sunday); next week (Monday to Sunday); the rest of this month; later."""
    if deadline.due < today:
        return "retard"
    end_of_week = today + timedelta(days=6 - today.weekday())
    if deadline.due <= end_of_week:
        return "semaine"
    if deadline.due <= end_of_week + timedelta(days=7):
        return "semaine_prochaine"
    if (deadline.due.year, deadline.due.month) == (today.year, today.month):
        return "mois"
    return "plus_tard"
