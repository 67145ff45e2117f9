"""The network review's figures, kept rather than recomputed by every request (issue 15, item 2).

Three tables (review/tables.py): `territory_figures` (per territory and audience: counts by status and module, last
update, commitments by state and partner's sector, agreements by state), `realised_month` (per territory,
audience and month: entries into « réalisée » minus entries out of it) and `realised_network` (per audience and
month: `realised_month` summed over the network, the curve of /pilotage without filters). Audiences: `tout` (every action: what
administrators, and a territory's own members, count) and `public` (confidential actions left out: what ADGCF
reviewers count).

One function computes them, `compute`, from the base tables and the history, for some territories or all of them.
`refresh` rewrites the rows of a few territories with it, inside the write transaction of each change: the kernel
calls `on_change` (registered by `install`, from the app factory and the command line) for every change of an
action, a commitment or an agreement, and the writers outside the kernel call `lifecycle.touched`. `rebuild`
(`python -m tracker recalculer-indicateurs`) rewrites them all. A territory's row is recomputed whole (a territory
holds a few dozen actions), except for the commonest change, a status change between two open statuses, which moves
two counts and the last update by one UPDATE (`_move`; the tests compare the kept rows with a rebuild after bursts
of such changes, and `recalculer-indicateurs` rewrites whatever might have drifted). The network's months move by the difference between a
territory's months as kept and as recomputed, in the same transaction (on PostgreSQL an upsert that adds to the
row: concurrent writers of one month queue on its row lock and each adds to what the previous one committed), so
they stay the sum of the territories' months; the tests compare them with a rebuild.

« En retard » changes with the date, with no write. Each row keeps it as of the day it was counted (`overdue`,
`overdue_on`) with the earliest deadline still ahead that day among the territory's open actions (`next_deadline`):
the count holds until that deadline passes, since only a change (which recomputes the row) or a passing deadline can
move it. Its part with no note for SILENT_DAYS (« à relancer »: `silent`) holds also until the oldest recent note
among those actions ages past SILENT_DAYS (`silent_until`). The pages read the kept counts while they hold and count
the others at read time from the partial index `action_open_territory` (`overdue_sql`, `silent_sql`); `quotidien`
recounts the rows a deadline or a note has overtaken (`refresh_stale_overdue`). A status change between two open
statuses leaves them as they are (`_move`)."""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tracker.core import clock
from tracker.core.db import fetch, is_sqlite, write_transaction
from tracker.lifecycle import Touched, observe
from tracker.review.tables import RealisedMonth, RealisedNetwork, TerritoryFigures
from tracker.roadmaps.service import rewrite_last_notes
from tracker.roadmaps.statuses import CLOSED, MODULE_TITLES, STATUS_LABELS

EVERY = "tout"  # every action: administrators, and a territory's members for their own territory
PUBLIC = "public"  # confidential actions left out: ADGCF reviewers
AUDIENCES = (EVERY, PUBLIC)
# The kernel's subjects whose changes move the figures (a partner's sector: its commitments' figures).
SUBJECTS = ("action", "commitment", "agreement", "partner")
LOCK_SPACE = 15  # PostgreSQL advisory locks (LOCK_SPACE, territory id); (LOCK_SPACE, 0) is the whole table's
BATCH = 400
REALISED = "realisee"  # entering or leaving it moves a month of the curve
SILENT_DAYS = 30  # « à relancer »: an overdue action with no note for that long is silent
# Word for word the condition of the partial indexes `action_open_deadline` and `action_open_territory`, so that the
# planners use them.
OPEN = '"status" NOT IN (' + ", ".join(f"'{code}'" for code in sorted(CLOSED)) + ")"


def instant(value: datetime | str | None) -> datetime | None:
    """A timestamp as read back from an aggregate: text on SQLite (Piccolo writes UTC as `str(datetime)`), a datetime
    on PostgreSQL. `datetime.fromisoformat`, never `arrow.get` (115 µs a call against 0.4 µs)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _in(column: str, ids: Sequence[int] | None) -> str:
    """`AND column IN (…)` for some territories (integers only are written), nothing for all of them."""
    if ids is None:
        return ""
    return f" AND {column} IN ({','.join(str(int(i)) for i in ids) or '0'})"


def _month_sql() -> str:
    return "substr(h.created_at, 1, 7)" if is_sqlite() else "to_char(h.created_at AT TIME ZONE 'UTC', 'YYYY-MM')"


def _empty(territory: int, audience: str, today: date) -> dict:
    return {"territory": territory, "audience": audience, "total": 0, **{f"s_{s}": 0 for s in STATUS_LABELS},
            **{f"m_{m}": 0 for m in MODULE_TITLES}, "last_update": None, "commitments": {},
            "commitment_sectors": {}, "agreements": {}, "overdue": 0, "overdue_on": today, "next_deadline": None,
            "silent": 0, "silent_until": None}


def _audiences(confidential: Any) -> tuple[str, ...]:
    return (EVERY,) if confidential else AUDIENCES


async def compute(territory_ids: Sequence[int] | None = None, *, kept_months: dict | None = None
                  ) -> tuple[list[dict], list[dict], list[dict]]:
    """The rows of the three tables, rebuilt from the base tables and the history, for `territory_ids` (None: the
    whole network), in one statement of six grouped queries whatever their number. A territory gets rows only when
    it has an action, a commitment or an agreement; a month only when its delta is not zero; the network's months
    are these months summed by audience (those of `territory_ids` alone when given), without the zero sums. Rows
    come sorted.
    `kept_months`: a dict that the same statement fills with the months kept now for these territories
    ((territory, audience, month) → delta), so that `refresh` writes only the months that moved."""
    figures: dict[tuple[int, str], dict] = {}
    today, cutoff = clock.today(), clock.now() - timedelta(days=SILENT_DAYS)

    def row(territory: int, audience: str) -> dict:
        key = (territory, audience)
        if key not in figures:
            for a in AUDIENCES:  # both audiences or none: a territory whose actions are all confidential has both
                figures.setdefault((territory, a), _empty(territory, a, today))
        return figures[key]

    def later(target: dict, value: Any) -> None:
        value = instant(value)
        if value is not None and (target["last_update"] is None or value > target["last_update"]):
            target["last_update"] = value

    # One statement (a change pays one round trip, not five), one shape of row: what it counts (`kind`), the
    # territory, the action's confidential flag, two keys, a count and a time.
    month, false = _month_sql(), "0" if is_sqlite() else "false"
    deltas: dict[tuple[int, str, str], int] = {}
    for g in await fetch(
        "SELECT 'action' AS kind, territory, confidential, status AS k1, CAST(module AS TEXT) AS k2, COUNT(*) AS n, "
        f"MAX(updated_at) AS at FROM action WHERE 1 = 1{_in('territory', territory_ids)} "
        "GROUP BY territory, confidential, status, module "
        # « En retard » today and the earliest deadline still ahead (until which that count holds); of those, the
        # silent ones (no note for SILENT_DAYS) and the oldest recent note (until whose thirtieth day that holds).
        "UNION ALL SELECT 'open', territory, confidential, CAST(MIN(CASE WHEN deadline >= {} THEN deadline END) AS TEXT), "
        "CAST(SUM(CASE WHEN deadline < {} AND (last_note_at IS NULL OR last_note_at < {}) THEN 1 ELSE 0 END) AS TEXT), "
        "SUM(CASE WHEN deadline < {} THEN 1 ELSE 0 END), MIN(CASE WHEN deadline < {} AND last_note_at >= {} "
        f"THEN last_note_at END) FROM action WHERE {OPEN} AND deadline IS NOT NULL{_in('territory', territory_ids)} "
        "GROUP BY territory, confidential "
        "UNION ALL SELECT 'note', a.territory, a.confidential, NULL, NULL, 0, MAX(n.created_at) "
        f"FROM action_note n JOIN action a ON a.id = n.action WHERE 1 = 1{_in('a.territory', territory_ids)} "
        "GROUP BY a.territory, a.confidential "
        "UNION ALL SELECT 'commitment', c.territory, a.confidential, c.state, p.sector, COUNT(*), NULL "
        "FROM commitment c JOIN action a ON a.id = c.action LEFT JOIN partner p ON p.id = c.partner "
        f"WHERE 1 = 1{_in('c.territory', territory_ids)} GROUP BY c.territory, a.confidential, c.state, p.sector "
        f"UNION ALL SELECT 'agreement', ap.territory, {false}, ag.state, NULL, COUNT(*), NULL "
        f"FROM agreement_party ap JOIN agreement ag ON ag.id = ap.agreement WHERE 1 = 1{_in('ap.territory', territory_ids)} "
        "GROUP BY ap.territory, ag.state "
        f"UNION ALL SELECT 'month', h.territory, a.confidential, {month}, NULL, "
        "SUM(CASE WHEN h.to_value = 'realisee' THEN 1 ELSE 0 END) - "
        "SUM(CASE WHEN h.from_value = 'realisee' THEN 1 ELSE 0 END), NULL "
        "FROM history_entry h JOIN action a ON a.id = h.subject_id "
        "WHERE h.subject_type = 'action' AND (h.to_value = 'realisee' OR h.from_value = 'realisee') "
        f"AND h.territory IS NOT NULL{_in('h.territory', territory_ids)} "
        f"GROUP BY h.territory, a.confidential, {month}"
        + ("" if kept_months is None else
           " UNION ALL SELECT 'kept', territory, NULL, month, audience, delta, NULL FROM realised_month "
           f"WHERE 1 = 1{_in('territory', territory_ids)}"),
        today, today, cutoff, today, today, cutoff,
    ):
        kind, territory, n = g["kind"], int(g["territory"]), int(g["n"])
        if kind == "kept":
            kept_months[(territory, g["k2"], g["k1"])] = n
            continue
        if kind == "month":
            for audience in _audiences(g["confidential"]):
                key = (territory, audience, g["k1"])
                deltas[key] = deltas.get(key, 0) + n
            continue
        for audience in AUDIENCES if kind == "agreement" else _audiences(g["confidential"]):
            target = row(territory, audience)
            if kind == "action":
                target["total"] += n
                if f"s_{g['k1']}" in target:
                    target[f"s_{g['k1']}"] += n
                if g["k2"] is not None and f"m_{int(g['k2'])}" in target:
                    target[f"m_{int(g['k2'])}"] += n
                later(target, g["at"])
            elif kind == "open":
                target["overdue"] += n
                ahead = None if g["k1"] is None else date.fromisoformat(str(g["k1"])[:10])
                if ahead is not None and (target["next_deadline"] is None or ahead < target["next_deadline"]):
                    target["next_deadline"] = ahead
                target["silent"] += int(g["k2"])
                recent = instant(g["at"])
                if recent is not None:
                    until = recent.astimezone(timezone.utc) + timedelta(days=SILENT_DAYS)
                    if target["silent_until"] is None or until < target["silent_until"]:
                        target["silent_until"] = until
            elif kind == "note":
                later(target, g["at"])
            elif kind == "commitment":
                target["commitments"][g["k1"]] = target["commitments"].get(g["k1"], 0) + n
                sector = g["k2"] or ""
                target["commitment_sectors"][sector] = target["commitment_sectors"].get(sector, 0) + n
            else:
                target["agreements"][g["k1"]] = n
    months = [{"territory": t, "audience": a, "month": m, "delta": d}
              for (t, a, m), d in sorted(deltas.items()) if d]
    return [figures[key] for key in sorted(figures)], months, _network(months)


def _network(months: list[dict]) -> list[dict]:
    """The months summed over their territories, per audience and month, sorted; no row for a zero sum."""
    sums: dict[tuple[str, str], int] = {}
    for m in months:
        key = (m["audience"], m["month"])
        sums[key] = sums.get(key, 0) + m["delta"]
    return [{"audience": a, "month": m, "delta": d} for (a, m), d in sorted(sums.items()) if d]


_FIGURE_COLUMNS = ("territory", "audience", "total", *[f"s_{s}" for s in STATUS_LABELS],
                   *[f"m_{m}" for m in MODULE_TITLES], "last_update", "commitments", "commitment_sectors", "agreements",
                   "overdue", "overdue_on", "next_deadline", "silent", "silent_until")
_JSON = ("commitments", "commitment_sectors", "agreements")


def _values(row: dict) -> list:
    return [json.dumps(row[c], sort_keys=True) if c in _JSON else row[c] for c in _FIGURE_COLUMNS]


def _insert_figures(count: int, *, upsert: bool) -> str:
    """One INSERT of `count` rows of territory_figures; `upsert`: a row already kept for its territory and audience
    is rewritten whole (ON CONFLICT on territory_figures_uniq, on both databases)."""
    row = "(" + ", ".join("{}" for _ in _FIGURE_COLUMNS) + ")"
    sql = (f"INSERT INTO territory_figures ({', '.join(_FIGURE_COLUMNS)}) VALUES "
           + ", ".join(row for _ in range(count)))
    if upsert:
        sql += " ON CONFLICT (territory, audience) DO UPDATE SET " + ", ".join(
            f"{c} = excluded.{c}" for c in _FIGURE_COLUMNS[2:])
    return sql


def _insert_months(count: int, *, upsert: bool) -> str:
    sql = "INSERT INTO realised_month (territory, audience, month, delta) VALUES " + ", ".join(
        "({}, {}, {}, {})" for _ in range(count))
    if upsert:
        sql += " ON CONFLICT (territory, audience, month) DO UPDATE SET delta = excluded.delta"
    return sql


def _insert_network(count: int) -> str:
    """Months added to the network's: a new month inserted, a kept one moved by `delta` (on PostgreSQL the
    conflicting row is locked and re-read, so that concurrent additions all count)."""
    return ("INSERT INTO realised_network (audience, month, delta) VALUES " + ", ".join("({}, {}, {})" for _ in range(count))
            + " ON CONFLICT (audience, month) DO UPDATE SET delta = realised_network.delta + excluded.delta")


async def _write_all(figures: list[dict], months: list[dict], network: list[dict]) -> None:
    """The three tables emptied and written again (a rebuild), a few hundred rows per statement."""
    await fetch("DELETE FROM territory_figures")
    await fetch("DELETE FROM realised_month")
    await fetch("DELETE FROM realised_network")
    for start in range(0, len(network), BATCH):
        rows = network[start:start + BATCH]
        await fetch("INSERT INTO realised_network (audience, month, delta) VALUES "
                    + ", ".join("({}, {}, {})" for _ in rows), *[v for n in rows for v in (n["audience"], n["month"], n["delta"])])
    for start in range(0, len(figures), BATCH):
        rows = figures[start:start + BATCH]
        await fetch(_insert_figures(len(rows), upsert=False), *[v for r in rows for v in _values(r)])
    for start in range(0, len(months), BATCH):
        rows = months[start:start + BATCH]
        await fetch(_insert_months(len(rows), upsert=False),
                    *[v for m in rows for v in (m["territory"], m["audience"], m["month"], m["delta"])])


async def _write(figures: list[dict], months: list[dict], territory_ids: Sequence[int],
                 kept_months: dict[tuple[int, str, str], int]) -> None:
    """The rows of a few territories: their figures upserted in one statement (deleted for a territory left with
    nothing to count), and only the months that moved (usually none: a change that neither enters nor leaves
    « réalisée » moves no month), the network's months by the same differences."""
    for start in range(0, len(figures), BATCH):
        rows = figures[start:start + BATCH]
        await fetch(_insert_figures(len(rows), upsert=True), *[v for r in rows for v in _values(r)])
    empty = sorted(set(territory_ids) - {r["territory"] for r in figures})
    if empty:
        await fetch(f"DELETE FROM territory_figures WHERE 1 = 1{_in('territory', empty)}")
    wanted = {(m["territory"], m["audience"], m["month"]): m["delta"] for m in months}
    moved = [key + (delta,) for key, delta in sorted(wanted.items()) if kept_months.get(key) != delta]
    gone = [key for key in sorted(kept_months) if key not in wanted]
    for start in range(0, len(moved), BATCH):
        rows = moved[start:start + BATCH]
        await fetch(_insert_months(len(rows), upsert=True), *[v for m in rows for v in m])
    for start in range(0, len(gone), BATCH):
        keys = gone[start:start + BATCH]
        await fetch("DELETE FROM realised_month WHERE " + " OR ".join(
            "(territory = {} AND audience = {} AND month = {})" for _ in keys), *[v for k in keys for v in k])
    differences: dict[tuple[str, str], int] = {}
    for territory, audience, month, delta in moved:
        key = (audience, month)
        differences[key] = differences.get(key, 0) + delta - kept_months.get((territory, audience, month), 0)
    for territory, audience, month in gone:
        key = (audience, month)
        differences[key] = differences.get(key, 0) - kept_months[(territory, audience, month)]
    added = [key + (d,) for key, d in sorted(differences.items()) if d]
    for start in range(0, len(added), BATCH):
        rows = added[start:start + BATCH]
        await fetch(_insert_network(len(rows)), *[v for row in rows for v in row])
        await fetch("DELETE FROM realised_network WHERE delta = 0 AND (" + " OR ".join(
            "(audience = {} AND month = {})" for _ in rows) + ")", *[v for row in rows for v in row[:2]])


async def _lock(*keys: int, shared: int | None = None) -> None:
    """PostgreSQL: concurrent transactions refreshing one territory take turns, each computing after the previous
    one committed (READ COMMITTED: every statement after the lock sees it): one statement takes the locks of
    `keys`, in their order, after the shared lock `shared` when given. SQLite's write transaction is already
    exclusive."""
    if is_sqlite():
        return
    calls = ([f"pg_advisory_xact_lock_shared({LOCK_SPACE}, {int(shared)})"] if shared is not None else []) + [
        f"pg_advisory_xact_lock({LOCK_SPACE}, {int(key)})" for key in keys]
    # One function per column, evaluated left to right: the order every transaction takes them in.
    await fetch("SELECT " + ", ".join(f"{call} AS l{i}" for i, call in enumerate(calls)))


async def refresh(territory_ids: Iterable[int | None]) -> None:
    """Recompute the rows of these territories from the base tables. Call inside the write transaction of the
    change (the kernel's observers do)."""
    ids = sorted({int(t) for t in territory_ids if t is not None})
    if not ids:
        return
    await _lock(*ids, shared=0)  # always in the same order: no two transactions wait for each other
    await _recompute(ids)


async def _recompute(ids: Sequence[int]) -> None:
    """`refresh` once the territories' locks are held."""
    kept_months: dict[tuple[int, str, str], int] = {}
    figures, months, _ = await compute(ids, kept_months=kept_months)
    await _write(figures, months, ids, kept_months)


def _movable(change: Touched) -> bool:
    """An action's status change that moves its territory's counts by one and nothing else: not into or out of
    « réalisée » (that moves a month of the curve: recomputed), and with what the move needs known."""
    if change.subject != "action" or change.moved is None or change.territory_id is None:
        return False
    source, target = change.moved
    return (source in STATUS_LABELS and target in STATUS_LABELS and source != target and REALISED not in (source, target)
            and change.at is not None and change.confidential is not None)


async def _move(change: Touched) -> bool:
    """One status change applied to the kept rows of its territory (both audiences, or « tout » alone for a
    confidential action) in one UPDATE: a status count down, another up, the last update later. False when a row
    is missing (the territory is then recomputed)."""
    source, target = change.moved
    audiences = _audiences(change.confidential)
    at = instant(change.at).astimezone(timezone.utc)
    rows = await fetch(
        f"UPDATE territory_figures SET s_{source} = s_{source} - 1, s_{target} = s_{target} + 1, "
        "last_update = CASE WHEN last_update IS NULL OR last_update < {} THEN {} ELSE last_update END "
        f"WHERE territory = {{}} AND audience IN ({', '.join('{}' for _ in audiences)}) RETURNING audience",
        at, at, change.territory_id, *audiences)
    return len(rows) == len(audiences)


async def rebuild() -> dict:
    """The three tables rewritten from the base tables and the history, in one transaction (`recalculer-indicateurs`,
    the end of the demo load and of the bench's data set). Returns what it wrote and how long it took."""
    started = time.perf_counter()
    async with write_transaction():
        await _lock(0)
        notes = await rewrite_last_notes()  # each action's newest note, kept beside it for « à relancer »
        figures, months, network = await compute(None)
        await _write_all(figures, months, network)
    return {"territoires": len({r["territory"] for r in figures}), "lignes": len(figures), "mois": len(months),
            "notes_corrigees": notes, "secondes": round(time.perf_counter() - started, 2)}


async def kept() -> tuple[list[dict], list[dict], list[dict]]:
    """The three tables as they are, in `compute`'s shape and order (what the tests compare with a rebuild)."""
    figures = await TerritoryFigures.select(*[c for c in TerritoryFigures._meta.columns if c._meta.name != "id"])
    for row in figures:
        for name in ("commitments", "commitment_sectors", "agreements"):
            row[name] = json.loads(row[name])
    months = await RealisedMonth.select(RealisedMonth.territory, RealisedMonth.audience, RealisedMonth.month,
                                        RealisedMonth.delta)
    network = await RealisedNetwork.select(RealisedNetwork.audience, RealisedNetwork.month, RealisedNetwork.delta)
    return (sorted(figures, key=lambda r: (r["territory"], r["audience"])),
            sorted(months, key=lambda r: (r["territory"], r["audience"], r["month"])),
            sorted(network, key=lambda r: (r["audience"], r["month"])))


# The row `f`'s « en retard » still holds: counted on or before today, no open deadline passed since (two
# arguments: today, today). `stale_overdue` asks the opposite.
_HOLDS = "f.overdue_on <= {} AND (f.next_deadline IS NULL OR f.next_deadline >= {})"


def _counted(territory: str, scope: str, also: str = "") -> str:
    """SQL: a territory's open actions past their deadline as a viewer counts them, read from the partial index
    `action_open_territory` (one argument, today, then those of `also`, a further condition on them)."""
    indexed = " INDEXED BY action_open_territory" if is_sqlite() else ""
    return (f"(SELECT CAST(COUNT(*) AS INTEGER) FROM action a{indexed} WHERE a.territory = {territory} "
            f"AND a.{OPEN} AND a.deadline < {{}} AND {scope}{also})")


def overdue_sql(territory: str, scope: str) -> str:
    """SQL: a territory's « en retard » as a viewer counts it, for the row `f` of `territory_figures` that this viewer
    reads (LEFT JOINed: none counts too): the kept count while its day holds (counted on or before today, no open
    deadline passed since), else counted at read time. `territory`: the column that names the territory; `scope`:
    the viewer's condition on the actions `a` (the same actions as the row's audience). Three arguments: today,
    three times."""
    return f"(CASE WHEN {_HOLDS} THEN f.overdue ELSE {_counted(territory, scope)} END)"


def silent_sql(territory: str, scope: str) -> str:
    """SQL: as `overdue_sql`, the territory's overdue actions with no note for SILENT_DAYS (« à relancer »): kept
    while its day holds and no recent note has aged past SILENT_DAYS since. Five arguments: today, today, now,
    today, now − SILENT_DAYS."""
    counted = _counted(territory, scope, " AND (a.last_note_at IS NULL OR a.last_note_at < {})")
    holds = f"{_HOLDS} AND (f.silent_until IS NULL OR f.silent_until >= {{}})"
    return f"(CASE WHEN {holds} THEN f.silent ELSE {counted} END)"


async def stale_overdue() -> list[int]:
    """The territories whose kept « en retard » or silent count no longer holds: a deadline passed since it was
    counted, a recent note has aged past SILENT_DAYS, or never counted (or counted on a later day: the clock went
    back)."""
    today = clock.today()
    return sorted(int(r["territory"]) for r in await fetch(
        "SELECT DISTINCT territory FROM territory_figures WHERE overdue_on IS NULL OR overdue_on > {} "
        "OR next_deadline < {} OR silent_until < {}", today, today, clock.now()))


async def refresh_stale_overdue() -> int:
    """The territories of `stale_overdue` recomputed, a few hundred per write transaction (`quotidien`). Returns
    how many."""
    ids = await stale_overdue()
    for start in range(0, len(ids), BATCH):
        async with write_transaction():
            await refresh(ids[start:start + BATCH])
    return len(ids)


# --- what changed → which territories ------------------------------------------------------------------------


async def _territories(changes: Sequence[Touched]) -> set[int]:
    """The territories whose figures a change moves: the action's or commitment's territory; for an agreement, the
    territory named by the change (its porteur, or a party just removed) and every party's; for a partner, the
    territories of its commitments."""
    from tracker.agreements.tables import AgreementParty
    from tracker.commitments.tables import Commitment
    from tracker.roadmaps.tables import Action

    found = {c.territory_id for c in changes if c.territory_id is not None}
    unknown: dict[str, list[int]] = {}
    for change in changes:
        if change.subject in ("agreement", "partner") and change.subject_id is not None:
            unknown.setdefault("agreement", []).append(change.subject_id)
        elif change.territory_id is None and change.subject_id is not None:
            unknown.setdefault(change.subject, []).append(change.subject_id)
    if unknown.get("action"):
        found |= {r["territory"] for r in await Action.select(Action.territory).where(
            Action.id.is_in(unknown["action"]))}
    if unknown.get("commitment"):
        found |= {r["territory"] for r in await Commitment.select(Commitment.territory).where(
            Commitment.id.is_in(unknown["commitment"]))}
    if unknown.get("partner"):
        found |= {r["territory"] for r in await Commitment.select(Commitment.territory).where(
            Commitment.partner.is_in(unknown["partner"]))}
    if unknown.get("agreement"):
        found |= {r["territory"] for r in await AgreementParty.select(AgreementParty.territory).where(
            AgreementParty.agreement.is_in(unknown["agreement"]))}
    return {t for t in found if t is not None}


async def on_change(changes: Sequence[Touched]) -> None:
    """The kernel's observer, in the change's transaction: a status change between two open statuses moves its
    territory's counts by one (one UPDATE instead of recomputing the territory: the status change's two
    statements of figures become one); any other change recomputes the territories it moved."""
    whole = await _territories([c for c in changes if not _movable(c)])
    moves = [c for c in changes if _movable(c) and c.territory_id not in whole]  # a recomputed one includes them
    ids = sorted(whole | {c.territory_id for c in moves})
    if not ids:
        return
    await _lock(*ids, shared=0)  # every territory at once, in one order, as `refresh` takes them
    for change in moves:
        if not await _move(change):
            whole.add(change.territory_id)
    if whole:
        await _recompute(sorted(whole))


def install() -> None:
    """Register the observer with the kernel (idempotent): the app factory and the command line call it."""
    for subject in SUBJECTS:
        observe(subject, on_change)


# --- reading --------------------------------------------------------------------------------------------------


def audience_condition(is_admin: bool, member_of: Iterable[int], table: str = "") -> str:
    """SQL: the rows a viewer counts. Administrators count every action; an ADGCF reviewer the non-confidential
    ones, and every action of a territory they are a member of (the rule of `Viewer.actions_scope`)."""
    prefix = f"{table}." if table else ""
    if is_admin:
        return f"{prefix}audience = '{EVERY}'"
    members = ",".join(str(int(t)) for t in sorted(member_of))
    if not members:
        return f"{prefix}audience = '{PUBLIC}'"
    return (f"(({prefix}audience = '{PUBLIC}' AND {prefix}territory NOT IN ({members})) "
            f"OR ({prefix}audience = '{EVERY}' AND {prefix}territory IN ({members})))")
