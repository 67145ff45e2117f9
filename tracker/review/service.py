"""The ADGCF's network review: one row per territory with a roadmap, charts, a cross-territory action list and
the « à relancer » lists. Every figure is computed by a fixed number of grouped queries, whatever the number of
territories or actions (no query per row)."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import arrow
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count, Max

from tracker.core import clock

from tracker.core.permissions import Viewer
from tracker.accounts.tables import Membership
from tracker.commitments.tables import Commitment
from tracker.core.db import is_sqlite, name_contains
from tracker.core.errors import Forbidden
from tracker.partners.kinds import SECTOR_LABELS
from tracker.partners.tables import PartnerContact
from tracker.roadmaps.statuses import CLOSED, MODULE_TITLES, STATUS_LABELS, is_overdue
from tracker.roadmaps.tables import Action, ActionNote, Roadmap
from tracker.territories.reference import EPCI_KINDS, KIND_LABELS, OTHER_KINDS
from tracker.review import figures
from tracker.review.queries import IDLE_DAYS, ActionSearch, DashboardFilters
from tracker.review.tables import RealisedMonth, TerritoryFigures


PAGE_SIZE = 50
UNANSWERED_DAYS = 14  # a proposed commitment unanswered for longer is to be chased
DASHBOARD_PAGE = 100  # territories per page of the dashboard (the network has 1,255)


def require_reviewer(viewer: Viewer) -> None:
    if not viewer.sees_all_territories:
        raise Forbidden("Le pilotage du réseau est réservé aux chargés de mission de l’ADGCF et aux administrateurs.")


def _visible_actions(viewer: Viewer):
    """ADGCF reviewers do not see confidential actions, so they are not counted for them either."""
    return viewer.actions_scope(Action.territory, Action.confidential)


def _overdue(today: date):
    """Open and past its deadline, written as the partial index `action_open_deadline` says it (literal statuses,
    in its order), so that the planners read that index."""
    return WhereRaw(f'"action".{_OPEN} AND "action"."deadline" < {{}}', today)


# --- dashboard ----------------------------------------------------------------------------------------------


def _matches(row: dict, filters: DashboardFilters) -> bool:
    return (
        (not filters.region or row["region"] == filters.region)
        and (not filters.departement or row["departement"] == filters.departement)
        and (not filters.kind or row["kind"] == filters.kind)
        and (not filters.module or filters.module in row["modules"])
        and (not filters.year or filters.year in row["years"])
    )


async def dashboard(viewer: Viewer, filters: DashboardFilters) -> dict:
    require_reviewer(viewer)
    today = clock.today()
    roadmaps = await Roadmap.select(
        Roadmap.id,
        Roadmap.territory.id.as_alias("territory_id"),
        Roadmap.territory.siren.as_alias("siren"),
        Roadmap.territory.name.as_alias("name"),
        Roadmap.territory.kind.as_alias("kind"),
        Roadmap.territory.departement.as_alias("departement"),
        Roadmap.territory.region.as_alias("region"),
        Roadmap.workshop.held_on.as_alias("held_on"),
        Roadmap.workshop.module_primary.as_alias("module_primary"),
        Roadmap.workshop.module_secondary.as_alias("module_secondary"),
    )
    territories: dict[int, dict] = {}
    for r in roadmaps:
        row = territories.setdefault(r["territory_id"], {
            "id": r["territory_id"], "siren": r["siren"], "name": r["name"], "kind": r["kind"],
            "departement": r["departement"], "region": r["region"], "modules": set(), "years": set(),
            "roadmaps": 0, "by_status": dict.fromkeys(STATUS_LABELS, 0), "total": 0, "overdue": 0,
            "last_update": None, "by_module": {}, "commitments": {}, "commitment_sectors": {}, "agreements": {},
        })
        row["roadmaps"] += 1
        row["modules"].update(m for m in (r["module_primary"], r["module_secondary"]) if m)
        row["years"].add(r["held_on"].year)
    # The kept figures (review/figures.py), as this viewer counts them; « en retard » from the index, today.
    for g in await TerritoryFigures.raw(
        f"SELECT {_FIGURE_COLUMNS} FROM territory_figures "
        f"WHERE {figures.audience_condition(viewer.is_admin, viewer.roles)}"
    ):
        row = territories.get(g["territory"])
        if row is None:
            continue
        row["commitments"] = _counts(g["commitments"])
        row["commitment_sectors"] = _counts(g["commitment_sectors"])
        row["agreements"] = _counts(g["agreements"])
        row["last_update"] = figures.instant(g["last_update"])
        if not g["total"]:
            continue  # no action this viewer counts (as before: no figure by module)
        row["by_status"] = {code: int(g[f"s_{code}"]) for code in STATUS_LABELS}
        row["by_module"] = {m: int(g[f"m_{m}"]) for m in MODULE_TITLES}
        row["by_module"][None] = int(g["total"]) - sum(row["by_module"].values())
    for g in await overdue_by_territory(viewer, today):
        row = territories.get(g["territory"])
        if row is not None:
            row["overdue"] = int(g["n"])

    rows = [row for row in territories.values() if _matches(row, filters)]
    for row in rows:
        row["total"] = sum(row["by_status"].values())
        row["share_done"] = row["by_status"]["realisee"] / row["total"] if row["total"] else 0.0
        row["blocked"] = row["by_status"]["bloquee"]
    keys = {
        "territoire": lambda r: r["name"].lower(),
        "actions": lambda r: r["total"],
        "realise": lambda r: r["share_done"],
        "retard": lambda r: r["overdue"],
        "bloquees": lambda r: r["blocked"],
        "maj": lambda r: r["last_update"] or _NEVER,
    }
    rows.sort(key=lambda r: r["name"].lower())
    rows.sort(key=keys[filters.sort], reverse=filters.descending)
    totals = {
        "by_status": {code: sum(r["by_status"][code] for r in rows) for code in STATUS_LABELS},
        "overdue": sum(r["overdue"] for r in rows),
        "by_module": {m: sum(r["by_module"].get(m, 0) for r in rows) for m in (*MODULE_TITLES, None)},
        "by_sector": {code: sum(r["commitment_sectors"].get(code, 0) for r in rows) for code in SECTOR_LABELS},
    }
    totals["total"] = sum(totals["by_status"].values())
    pages = max(1, -(-len(rows) // DASHBOARD_PAGE))
    shown = rows[(filters.page - 1) * DASHBOARD_PAGE : filters.page * DASHBOARD_PAGE]
    return {
        "rows": shown,
        "all_rows": rows,
        "count": len(rows),
        "page": min(filters.page, pages),
        "pages": pages,
        "totals": totals,
        "territory_ids": [r["id"] for r in rows],
        "all": len(rows) == len(territories),
    }


# Integers read as expressions (CAST): Piccolo's SQLite engine would otherwise pass each value of an INTEGER column
# through a Python converter (16,000 calls for the network's 1,255 rows, most of the query's time).
_FIGURE_COLUMNS = ", ".join(
    [*[f"CAST({name} AS INTEGER) AS {name}" for name in ("territory", "total", *[f"s_{code}" for code in STATUS_LABELS],
                                                         *[f"m_{m}" for m in MODULE_TITLES])],
     "last_update", "commitments", "commitment_sectors", "agreements"])
_NEVER = datetime.min.replace(tzinfo=timezone.utc)
# Word for word the condition of the partial index `action_open_deadline`, so that the planners use it.
_OPEN = '"status" NOT IN (' + ", ".join(f"'{code}'" for code in sorted(CLOSED)) + ")"


def _counts(text: str) -> dict:
    """A kept JSON object of counts (most territories have none: no parsing for them)."""
    return {} if text == "{}" else json.loads(text)


async def overdue_by_territory(viewer: Viewer, today: date) -> list[dict]:
    """Per territory, the open actions whose deadline has passed, as this viewer counts them: never kept (it changes
    with the date, with no write), counted now from the partial index on open actions' deadline."""
    sqlite = is_sqlite()
    scope = viewer.actions_scope_sql("territory", "confidential", sqlite=sqlite)
    # SQLite's planner prefers a full scan of another index that gives the rows in territory order (2.5 times
    # slower on the national data set): told which index to read. PostgreSQL chooses by itself.
    indexed = " INDEXED BY action_open_deadline" if sqlite else ""
    return await Action.raw(
        f"SELECT CAST(territory AS INTEGER) AS territory, COUNT(*) AS n FROM action{indexed} WHERE {_OPEN} AND deadline < {{}} AND {scope} "
        "GROUP BY territory",
        today,
    )


async def realised_by_month(viewer: Viewer, territory_ids: list[int] | None, months: int = 12) -> list[tuple[str, int]]:
    """How many actions were réalisées at each month end (months cut in UTC): the kept monthly deltas of the
    territories (review/figures.py: entries into `realisee` minus entries out of it, from the history), summed
    over the network and accumulated."""
    where = figures.audience_condition(viewer.is_admin, viewer.roles)
    if territory_ids is not None:
        where += " AND territory IN (" + ",".join(str(int(t)) for t in territory_ids or [0]) + ")"
    rows = await RealisedMonth.raw(
        f"SELECT month, SUM(delta) AS delta FROM realised_month WHERE {where} GROUP BY month ORDER BY month"
    )
    deltas = {row["month"]: int(row["delta"]) for row in rows}
    end = arrow.get(clock.now()).floor("month")
    labels = [end.shift(months=-i) for i in range(months - 1, -1, -1)]
    first = labels[0].format("YYYY-MM")
    running = sum(v for k, v in deltas.items() if k < first)
    points = []
    for moment in labels:
        key = moment.format("YYYY-MM")
        running += deltas.get(key, 0)
        points.append((moment.format("MMM YYYY", locale="fr"), running))
    return points


# --- cross-territory action list ----------------------------------------------------------------------------


def _search_condition(viewer: Viewer, search: ActionSearch, today: date):
    where = _visible_actions(viewer)
    if search.status:
        where &= Action.status == search.status
    if search.overdue:
        where &= _overdue(today)
    if search.module:
        where &= Action.module == search.module
    if search.sector:
        where &= Action.pilot.sector == search.sector
    if search.siren:
        where &= Action.territory.siren == search.siren
    if search.due_from:
        where &= Action.deadline >= search.due_from
    if search.due_to:
        where &= Action.deadline <= search.due_to
    if search.text:
        where &= name_contains(Action.title, search.text)
    return where


ACTION_LIST_COLUMNS = (
    Action.id,
    Action.title,
    Action.status,
    Action.module,
    Action.deadline,
    Action.updated_at,
    Action.roadmap,
    Action.territory.name.as_alias("territory_name"),
    Action.territory.siren.as_alias("siren"),
    Action.pilot.name.as_alias("pilot_name"),
    Action.pilot.sector.as_alias("pilot_sector"),
)


async def search_actions(viewer: Viewer, search: ActionSearch, *, paginate: bool = True) -> dict:
    require_reviewer(viewer)
    today = clock.today()
    where = _search_condition(viewer, search, today)
    total = await Action.count().where(where)
    by_status = dict.fromkeys(STATUS_LABELS, 0)
    for g in await Action.select(Action.status, Count(Action.id).as_alias("n")).where(where).group_by(Action.status):
        by_status[g["status"]] = g["n"]
    query = Action.select(*ACTION_LIST_COLUMNS).where(where).order_by(Action.deadline).order_by(Action.id)
    if paginate:
        query = query.limit(PAGE_SIZE).offset((search.page - 1) * PAGE_SIZE)
    rows = await query
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
    return {
        "rows": rows,
        "total": total,
        "by_status": by_status,
        "page": search.page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }


# --- à relancer ---------------------------------------------------------------------------------------------


async def contacts_of(territory_ids: list[int]) -> dict[int, list[dict]]:
    """Who to contact in each territory: its référents first, then its éditeurs."""
    rows = await Membership.select(
        Membership.territory,
        Membership.role,
        Membership.user.full_name.as_alias("name"),
        Membership.user.email.as_alias("email"),
    ).where(
        Membership.territory.is_in(territory_ids or [0])
        & Membership.role.is_in(["referent", "editeur"])
        & Membership.user.is_active.eq(True)
    )
    by_territory: dict[int, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["role"] != "referent", r["name"])):
        by_territory.setdefault(row["territory"], []).append(row)
    return by_territory


async def follow_ups(viewer: Viewer, idle_days: int = IDLE_DAYS, limit: int | None = 100) -> dict:
    """The three lists of « à relancer »; the overdue-without-note list holds at most `limit` actions (None: all),
    `silent_total` says how many there are."""
    require_reviewer(viewer)
    board = await dashboard(viewer, DashboardFilters())
    now = clock.now()
    idle_since = now - timedelta(days=idle_days)
    idle = [r for r in board["all_rows"] if r["last_update"] is None or r["last_update"] < idle_since]
    idle.sort(key=lambda r: r["last_update"] or _NEVER)

    today = clock.today()
    note_limit = now - timedelta(days=30)
    # Overdue actions with no note in the last 30 days, chosen in SQL so that only `limit` rows come back.
    silent_where = _visible_actions(viewer) & _overdue(today) & Action.id.not_in(
        ActionNote.select(ActionNote.action).where(ActionNote.created_at >= note_limit)
    )
    silent_total = await Action.count().where(silent_where)
    query = Action.select(*ACTION_LIST_COLUMNS, Action.territory.id.as_alias("territory_id")).where(
        silent_where
    ).order_by(Action.deadline).order_by(Action.id)
    silent = await (query.limit(limit) if limit else query)
    last_notes = {
        g["action"]: figures.instant(g["at"])
        for g in await ActionNote.select(ActionNote.action, Max(ActionNote.created_at).as_alias("at")).where(
            ActionNote.action.is_in([a["id"] for a in silent] or [0])
        ).group_by(ActionNote.action)
    }
    for a in silent:
        a["last_note"] = last_notes.get(a["id"])
    unanswered = await Commitment.select(
        Commitment.id, Commitment.role, Commitment.updated_at, Commitment.territory,
        Commitment.territory.name.as_alias("territory_name"), Commitment.partner.id.as_alias("partner_id"),
        Commitment.partner.name.as_alias("partner_name"), Commitment.action.id.as_alias("action_id"),
        Commitment.action.title.as_alias("action_title"),
    ).where(
        (Commitment.state == "propose")
        & (Commitment.updated_at < now - timedelta(days=UNANSWERED_DAYS))
        & viewer.actions_scope(Commitment.territory, Commitment.action.confidential)
    ).order_by(Commitment.updated_at)
    # A partner's contacts are personal data shown only to those who write to them (Viewer.can_see_contacts): an
    # administrator here, never an ADGCF reviewer (F7), who goes through the territory's référents instead.
    partner_contacts: dict[int, list[dict]] = {}
    if viewer.is_admin:
        for c in await PartnerContact.select(PartnerContact.partner, PartnerContact.full_name,
                                             PartnerContact.email).where(
            PartnerContact.partner.is_in(list({u["partner_id"] for u in unanswered}) or [0])
            & PartnerContact.erased_at.is_null()
            & PartnerContact.email.is_not_null()
        ).order_by(PartnerContact.full_name):
            partner_contacts.setdefault(c["partner"], []).append(c)
    contacts = await contacts_of(list({r["id"] for r in idle} | {a["territory_id"] for a in silent}
                                      | {u["territory"] for u in unanswered}))
    return {"idle": idle, "idle_days": idle_days, "silent": silent, "contacts": contacts,
            "silent_total": silent_total,
            "unanswered": unanswered, "unanswered_days": UNANSWERED_DAYS, "partner_contacts": partner_contacts,
            "shows_partner_contacts": viewer.is_admin,
            "kinds": {**{k: KIND_LABELS[k] for k in EPCI_KINDS}, **{k: KIND_LABELS[k] for k in OTHER_KINDS}}}



