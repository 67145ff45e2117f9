"""The ADGCF's network review: one row per territory with a roadmap, charts, a cross-territory action list and
the « à relancer » lists. Every figure is computed by a fixed number of grouped queries, whatever the number of
territories or actions (no query per row)."""
from __future__ import annotations

import json
from datetime import date, timedelta

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from tracker.core import clock, french

from tracker.core.permissions import Viewer
from tracker.core.db import fetch, in_list, is_sqlite, name_contains
from tracker.core.errors import Forbidden
from tracker.partners.kinds import SECTOR_LABELS
from tracker.partners.tables import PartnerContact
from tracker.roadmaps.statuses import MODULE_TITLES, STATUS_LABELS, is_overdue
from tracker.roadmaps.tables import Action
from tracker.territories.reference import EPCI_KINDS, KIND_LABELS, OTHER_KINDS
from tracker.review import figures
from tracker.review.queries import IDLE_DAYS, ActionSearch, DashboardFilters
from tracker.review.tables import RealisedMonth, RealisedNetwork, TerritoryFigures


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
    return WhereRaw(f'"action".{figures.OPEN} AND "action"."deadline" < {{}}', today)


# --- dashboard ----------------------------------------------------------------------------------------------
# Filtering, sorting, totals and pagination happen in SQL over the kept figures (`territory_figures`) joined to the
# territories; Python builds dicts for the rows shown only (100). Every value a request brings is bound with `{}`
# (the filters were validated by queries.py); the SQL text holds only constants and integers.

# The order of Python's `str.lower()` and code points, as both databases say it: ASCII letters lowered (SQLite's
# `lower`, PostgreSQL's under the "C" collation), compared byte by byte. (Differs from `str.lower()` only between
# two names that differ by the case of an accented capital; none in the national list.)
_NAME_KEY = {True: "lower(t.name)", False: 'lower(t.name COLLATE "C")'}
_FIGURE_NAMES = ("total", *[f"s_{code}" for code in STATUS_LABELS], *[f"m_{m}" for m in MODULE_TITLES])


def _territories_where(filters: DashboardFilters) -> tuple[str, list]:
    """SQL on `t` (territory): the territories with a roadmap that pass the filters, and its arguments. The
    module and the year may come from different roadmaps of the territory (as « its modules », « its years »)."""
    # EXISTS rather than IN: SQLite then walks `territory_name_key` in the page's order and stops at its 100th
    # territory (0.07 ms) where IN (a list built first) made it sort the 1,255 (0.5 ms). PostgreSQL: the same semi-join.
    where, args = ["EXISTS (SELECT 1 FROM roadmap r WHERE r.territory = t.id)"], []
    if filters.module:
        where.append("t.id IN (SELECT r.territory FROM roadmap r JOIN workshop w ON w.id = r.workshop "
                     "WHERE w.module_primary = {} OR w.module_secondary = {})")
        args += [filters.module, filters.module]
    if filters.year:
        where.append("t.id IN (SELECT r.territory FROM roadmap r JOIN workshop w ON w.id = r.workshop "
                     "WHERE w.held_on >= {} AND w.held_on < {})")
        args += [date(filters.year, 1, 1), date(filters.year + 1, 1, 1)]
    for column, value in (("region", filters.region), ("departement", filters.departement), ("kind", filters.kind)):
        if value:
            where.append(f"t.{column} = {{}}")
            args.append(value)
    return " AND ".join(where), args


def _sort_keys(filters: DashboardFilters, sqlite: bool) -> list[str]:
    """The dashboard's sort keys before the name: the chosen column (a territory without a figures row counts zero
    actions and no update; « jamais » is the oldest update; « en retard » is the page's column `late`)."""
    return {
        "territoire": [_NAME_KEY[sqlite]],
        "actions": ["COALESCE(f.total, 0)"],
        "realise": ["CASE WHEN f.total > 0 THEN CAST(f.s_realisee AS DOUBLE PRECISION) / f.total ELSE 0.0 END"],
        "retard": ["late"],
        "bloquees": ["COALESCE(f.s_bloquee, 0)"],
        "maj": ["CASE WHEN f.last_update IS NULL THEN 0 ELSE 1 END", "f.last_update"],
    }[filters.sort]


def _order(keys: list[str], filters: DashboardFilters, sqlite: bool) -> str:
    """ORDER BY: the keys in the chosen direction, then the name ascending (as a stable sort after one by name
    would leave it), then the id (two territories may share a name)."""
    direction = " DESC" if filters.descending else ""
    tail = [] if filters.sort == "territoire" else [_NAME_KEY[sqlite]]
    return ", ".join([*(k + direction for k in keys), *tail, "t.id"])


async def dashboard(viewer: Viewer, filters: DashboardFilters, *, every_row: bool = False) -> dict:
    """The page of territories `filters.page` (every row with `every_row`: the download), and the totals of all
    the territories that pass the filters. Three queries whatever the size of the network."""
    require_reviewer(viewer)
    today = clock.today()
    sqlite = is_sqlite()
    where, args = _territories_where(filters)
    audience = figures.audience_condition(viewer.is_admin, viewer.roles, "f")
    joined = f"territory t LEFT JOIN territory_figures f ON f.territory = t.id AND {audience}"
    scope = viewer.actions_scope_sql("a.territory", "a.confidential", sqlite=sqlite)
    # « En retard » of each territory: its kept count while the day it was counted holds, else counted from the
    # partial index of its open deadlines (review/figures.py). Three arguments: today.
    overdue_of, overdue_args = figures.overdue_sql("t.id", scope), [today] * 3

    # Totals: the kept figures summed. Without filters, every territory that holds an action or a commitment is on
    # the dashboard (an action belongs to a roadmap of its territory: `action.roadmap` is required and restricts the
    # roadmap's removal; a commitment to an action) and has its kept rows, so the figures are summed without naming
    # the territories, and only the count reads the roadmaps.
    sums = ", ".join(f"CAST(COALESCE(SUM(f.{n}), 0) AS INTEGER) AS {n}" for n in _FIGURE_NAMES)
    if filters.active:
        totals_row = (await TerritoryFigures.raw(
            f"SELECT CAST(COUNT(*) AS INTEGER) AS territories, {sums}, "
            f"CAST(COALESCE(SUM({overdue_of}), 0) AS INTEGER) AS overdue FROM {joined} WHERE {where}",
            *overdue_args, *args,
        ))[0]
    else:
        totals_row = (await TerritoryFigures.raw(
            "SELECT (SELECT CAST(COUNT(DISTINCT r.territory) AS INTEGER) FROM roadmap r) AS territories, "
            f"{sums}, CAST(COALESCE(SUM({figures.overdue_sql('f.territory', scope)}), 0) AS INTEGER) AS overdue "
            f"FROM territory_figures f WHERE {audience}",
            *overdue_args,
        ))[0]
    count = int(totals_row["territories"])
    pages = max(1, -(-count // DASHBOARD_PAGE))

    # The rows shown, sorted and cut in SQL and read in one pass: « en retard » is the kept count but for a row whose
    # day has passed, so that it costs no more to compute for every row than for the shown ones.
    # The cut written in as integers: a prepared statement then gets PostgreSQL's generic plan (planned once per
    # connection instead of at each request: 0.4 ms of its 0.8).
    cut = "" if every_row else f" LIMIT {int(DASHBOARD_PAGE)} OFFSET {int((filters.page - 1) * DASHBOARD_PAGE)}"
    columns = ", ".join(f"CAST(COALESCE(f.{n}, 0) AS INTEGER) AS {n}" for n in _FIGURE_NAMES)
    rows = await TerritoryFigures.raw(
        f"SELECT CAST(t.id AS INTEGER) AS id, t.siren, t.name, t.kind, t.departement, t.region, {columns}, "
        f"f.last_update AS last_update, f.commitments AS commitments, f.agreements AS agreements, "
        f"{overdue_of} AS late FROM {joined} WHERE {where} "
        f"ORDER BY {_order(_sort_keys(filters, sqlite), filters, sqlite)}{cut}",
        *overdue_args, *args,
    )
    for row in rows:
        row["by_status"] = {code: row.pop(f"s_{code}") for code in STATUS_LABELS}
        row["blocked"] = row["by_status"]["bloquee"]
        row["share_done"] = row["by_status"]["realisee"] / row["total"] if row["total"] else 0.0
        row["last_update"] = figures.instant(row["last_update"])
        row["commitments"] = _counts(row["commitments"] or "{}")
        row["agreements"] = _counts(row["agreements"] or "{}")
        row["overdue"] = int(row.pop("late"))

    by_sector = dict.fromkeys(SECTOR_LABELS, 0)
    sectors = (_sector_sums(sqlite, joined, where) if filters.active
               else _sector_sums(sqlite, "territory_figures f", audience))
    for g in await TerritoryFigures.raw(sectors, *(args if filters.active else [])):
        if g["sector"] in by_sector:
            by_sector[g["sector"]] = int(g["n"])
    by_module = {m: int(totals_row[f"m_{m}"]) for m in MODULE_TITLES}
    by_module[None] = int(totals_row["total"]) - sum(by_module.values())
    totals = {
        "by_status": {code: int(totals_row[f"s_{code}"]) for code in STATUS_LABELS},
        "overdue": int(totals_row["overdue"]),
        "by_module": by_module,
        "by_sector": by_sector,
    }
    totals["total"] = sum(totals["by_status"].values())
    return {
        "rows": rows,
        "count": count,
        "page": min(filters.page, pages),
        "pages": pages,
        "totals": totals,
    }


def _sector_sums(sqlite: bool, source: str, where: str) -> str:
    """SQL: the kept commitments by partner's sector (a JSON object per row of `f`), summed over the rows of
    `source` that pass `where`."""
    if sqlite:
        each, value = "json_each(f.commitment_sectors) j", "j.value"
    else:
        each, value = "json_each_text(f.commitment_sectors::json) j", "CAST(j.value AS INTEGER)"
    return (f"SELECT j.key AS sector, CAST(SUM({value}) AS INTEGER) AS n FROM {source} CROSS JOIN {each} "
            f"WHERE {where} AND length(f.commitment_sectors) > 2 GROUP BY j.key")  # not "{}"


def _counts(text: str) -> dict:
    """A kept JSON object of counts (most territories have none: no parsing for them)."""
    return {} if text == "{}" else json.loads(text)


async def realised_by_month(viewer: Viewer, filters: DashboardFilters | None = None,
                            months: int = 12) -> list[tuple[str, int]]:
    """How many actions were réalisées at each month end (months cut in UTC): the kept monthly deltas of the
    territories (review/figures.py: entries into `realisee` minus entries out of it, from the history), summed
    over the network (or over the territories that pass the dashboard's `filters`, when some are set) and
    accumulated. Over the whole network for one audience (an administrator, a reviewer who is no territory's
    member), the sums are kept too (`realised_network`): ~24 rows read instead of ~15,000 summed."""
    whole = filters is None or not filters.active
    if whole and (viewer.is_admin or not viewer.roles):
        rows = await RealisedNetwork.raw(
            "SELECT month, CAST(delta AS INTEGER) AS delta FROM realised_network WHERE audience = {} ORDER BY month",
            figures.EVERY if viewer.is_admin else figures.PUBLIC)
    else:
        where, args = figures.audience_condition(viewer.is_admin, viewer.roles), []
        if not whole:
            territories, args = _territories_where(filters)
            where += f" AND territory IN (SELECT t.id FROM territory t WHERE {territories})"
        rows = await RealisedMonth.raw(
            f"SELECT month, CAST(SUM(delta) AS INTEGER) AS delta FROM realised_month WHERE {where} "
            "GROUP BY month ORDER BY month", *args
        )
    deltas = {row["month"]: int(row["delta"]) for row in rows}
    now = clock.now()  # UTC: the months are cut in UTC
    last = now.year * 12 + now.month - 1
    shown = [divmod(last - i, 12) for i in range(months - 1, -1, -1)]  # (year, month - 1), oldest first
    first = f"{shown[0][0]:04d}-{shown[0][1] + 1:02d}"
    running = sum(v for k, v in deltas.items() if k < first)
    points = []
    for year, month0 in shown:
        running += deltas.get(f"{year:04d}-{month0 + 1:02d}", 0)
        points.append((french.month_year_short(year, month0 + 1), running))
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
    by_status = dict.fromkeys(STATUS_LABELS, 0)
    if search == ActionSearch(page=search.page):
        # No filter: the viewer's actions are exactly what the kept figures count for them (the audiences are the
        # rule of `actions_scope`, kept in the transaction of every change), 2,510 rows instead of 39,000.
        sums = ", ".join(f"CAST(COALESCE(SUM(s_{code}), 0) AS INTEGER) AS s_{code}" for code in STATUS_LABELS)
        kept = (await TerritoryFigures.raw(f"SELECT {sums} FROM territory_figures "
                                           f"WHERE {figures.audience_condition(viewer.is_admin, viewer.roles)}"))[0]
        by_status = {code: int(kept[f"s_{code}"]) for code in STATUS_LABELS}
    else:
        for g in await Action.select(Action.status, Count(Action.id).as_alias("n")).where(where).group_by(
                Action.status):
            by_status[g["status"]] = g["n"]
    total = sum(by_status.values())
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
    """Who to contact in each territory: its référents first, then its éditeurs, by name (sorted here rather than in
    SQL, whose collation differs between the two databases). Raw SQL: the Piccolo select with its join cost ten
    times the statement at network scale (100 territories, ~400 people). Two statements, the memberships then
    their people by primary key: joined in one, PostgreSQL's planner read all 5,000 accounts for a hash join
    (1.6 ms of its CPU against 0.5)."""
    if not territory_ids:
        return {}
    # CAST: a computed column skips Piccolo's converter of INTEGER columns on SQLite (int(Decimal(text)) per row)
    members = await fetch(
        'SELECT CAST(territory AS INTEGER) AS territory, role, CAST("user" AS INTEGER) AS person FROM membership '
        f"WHERE territory IN {in_list(territory_ids)} AND role IN ('referent', 'editeur')", *territory_ids)
    people = sorted({m["person"] for m in members})
    found = {p["id"]: p for p in await fetch(
        f"SELECT CAST(id AS INTEGER) AS id, full_name, email FROM app_user WHERE id IN {in_list(people)} "
        "AND is_active = {}", *people, True)} if people else {}
    rows = [{"territory": m["territory"], "role": m["role"], "name": found[m["person"]]["full_name"],
             "email": found[m["person"]]["email"]} for m in members if m["person"] in found]
    by_territory: dict[int, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["role"] != "referent", r["name"])):
        by_territory.setdefault(row["territory"], []).append(row)
    return by_territory


async def follow_ups(viewer: Viewer, idle_days: int = IDLE_DAYS, limit: int | None = 100) -> dict:
    """The three lists of « à relancer », each chosen in SQL and holding at most `limit` rows (None: all, the
    download); `idle_total`, `unanswered_total` and `silent_total` say how many there are."""
    require_reviewer(viewer)
    now = clock.now()
    sqlite = is_sqlite()
    # Territories with a roadmap whose last update (as this viewer counts it) is older than `idle_days`, or that
    # never had one: the oldest silence first (never first of all), then by name. The territories with a roadmap
    # EXCEPT those updated since, then joined for those alone (the join ran for every territory with a roadmap,
    # 1,255 at network scale, most of them updated recently).
    cut = " LIMIT {}" if limit else ""
    idle = await fetch(
        "SELECT CAST(t.id AS INTEGER) AS id, t.siren, t.name, f.last_update AS last_update, "
        "CAST(COUNT(*) OVER () AS INTEGER) AS n "
        "FROM (SELECT r.territory AS id FROM roadmap r EXCEPT SELECT g.territory FROM territory_figures g "
        f"WHERE {figures.audience_condition(viewer.is_admin, viewer.roles, 'g')} AND g.last_update >= {{}}) i "
        "JOIN territory t ON t.id = i.id LEFT JOIN territory_figures f ON f.territory = t.id AND "
        f"{figures.audience_condition(viewer.is_admin, viewer.roles, 'f')} "
        f"ORDER BY CASE WHEN f.last_update IS NULL THEN 0 ELSE 1 END, f.last_update, {_NAME_KEY[sqlite]}, t.id{cut}",
        now - timedelta(days=idle_days), *([limit] if limit else []),
    )
    idle_total = int(idle[0]["n"]) if idle else 0
    for row in idle:
        row["last_update"] = figures.instant(row["last_update"])

    today = clock.today()
    # Overdue actions with no note in the last SILENT_DAYS: the `limit` most overdue picked from the partial index
    # `action_open_deadline`, which holds each action's newest note (`last_note_at`), then joined for those rows
    # alone; their count, the territories' kept counts summed (counted where one no longer holds: review/figures.py),
    # in the same statement.
    scope = viewer.actions_scope_sql("a.territory", "a.confidential", sqlite=sqlite)
    indexed = " INDEXED BY action_open_deadline" if sqlite else ""
    cutoff = now - timedelta(days=figures.SILENT_DAYS)
    silent = await Action.raw(
        f"WITH s AS (SELECT a.id FROM action a{indexed} WHERE a.{figures.OPEN} AND a.deadline < {{}} AND {scope} "
        f"AND (a.last_note_at IS NULL OR a.last_note_at < {{}}) ORDER BY a.deadline, a.id{cut}) "
        "SELECT CAST(a.id AS INTEGER) AS id, a.title, a.status, a.deadline, "
        "CAST(a.territory AS INTEGER) AS territory_id, t.name AS territory_name, p.name AS pilot_name, "
        "a.last_note_at AS last_note, "
        f"(SELECT CAST(COALESCE(SUM({figures.silent_sql('f.territory', scope)}), 0) AS INTEGER) "
        # NOT INDEXED: SQLite built an automatic index of the 2,510 rows for this subquery at each request (0.7 ms).
        f"FROM territory_figures f{' NOT INDEXED' if sqlite else ''} "
        f"WHERE {figures.audience_condition(viewer.is_admin, viewer.roles, 'f')}) AS total "
        "FROM s JOIN action a ON a.id = s.id JOIN territory t ON t.id = a.territory "
        "LEFT JOIN partner p ON p.id = a.pilot ORDER BY a.deadline, a.id",
        today, cutoff, *([limit] if limit else []), today, today, now, today, cutoff,
    )
    silent_total = int(silent[0]["total"]) if silent else 0
    for a in silent:
        a["last_note"] = figures.instant(a["last_note"])
    # Proposed commitments unanswered for UNANSWERED_DAYS, the oldest first, read from the partial index
    # `commitment_proposed` (the state written in the text, so that SQLite can use it); raw SQL: the Piccolo select
    # with its three joins cost more to build than to run.
    unanswered_from = "FROM commitment c JOIN action a ON a.id = c.action"
    unanswered_where = ("WHERE c.state = 'propose' AND c.updated_at < {} AND "
                        + viewer.actions_scope_sql("c.territory", "a.confidential", sqlite=sqlite))
    unanswered_before = now - timedelta(days=UNANSWERED_DAYS)
    unanswered = await fetch(
        "SELECT CAST(c.id AS INTEGER) AS id, c.role, c.updated_at, CAST(c.territory AS INTEGER) AS territory, "
        "t.name AS territory_name, CAST(p.id AS INTEGER) AS partner_id, p.name AS partner_name, "
        "CAST(a.id AS INTEGER) AS action_id, a.title AS action_title "
        f"{unanswered_from} JOIN territory t ON t.id = c.territory JOIN partner p ON p.id = c.partner "
        f"{unanswered_where} ORDER BY c.updated_at, c.id{cut}", unanswered_before, *([limit] if limit else []))
    unanswered_total = len(unanswered)
    if limit and unanswered_total == limit:  # perhaps more: counted
        unanswered_total = int((await fetch(f"SELECT CAST(COUNT(*) AS INTEGER) AS n {unanswered_from} "
                                            f"{unanswered_where}", unanswered_before))[0]["n"])
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
    return {"idle": idle, "idle_total": idle_total, "idle_days": idle_days, "silent": silent, "contacts": contacts,
            "silent_total": silent_total,
            "unanswered": unanswered, "unanswered_total": unanswered_total, "unanswered_days": UNANSWERED_DAYS, "partner_contacts": partner_contacts,
            "shows_partner_contacts": viewer.is_admin,
            "kinds": {**{k: KIND_LABELS[k] for k in EPCI_KINDS}, **{k: KIND_LABELS[k] for k in OTHER_KINDS}}}



