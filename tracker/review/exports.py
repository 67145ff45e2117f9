"""Downloads of the review lists (dashboard, cross-territory actions, « à relancer », CODIR pack), as XLSX or CSV,
with the same filters and permissions as the pages. Each list is one function producing (file name, columns, rows);
`both_formats` makes its .xlsx and .csv routes."""
from __future__ import annotations

from tracker.core import clock
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import arrow
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from tracker.core.permissions import ROLE_LABELS, Viewer
from tracker.agreements.states import AGREEMENT_STATE_LABELS
from tracker.exports.writer import Column, export_response
from tracker.partners.kinds import SECTOR_LABELS
from tracker.review import codir, service
from tracker.review.queries import (
    ActionSearch,
    read_action_search,
    read_dashboard_filters,
    read_follow_up_query,
    read_pack_query,
)
from tracker.roadmaps.statuses import STATUS_LABELS, is_overdue
from tracker.roadmaps.tables import Action
from tracker.territories.reference import KIND_LABELS, departement_name, region_name

Producer = Callable[..., Awaitable[tuple[str, list[Column], Iterable[Any] | AsyncIterable[Any]]]]


def _stamp() -> str:
    return arrow.get(clock.now()).to("Europe/Paris").format("DD-MM-YYYY")


async def dashboard_rows(request: Request, viewer: Viewer) -> tuple[str, list[Column], list[Any]]:
    service.require_reviewer(viewer)
    board = await service.dashboard(viewer, read_dashboard_filters(request.query_params), every_row=True)
    columns = [
        Column("Territoire", width=40), Column("SIREN"), Column("Type"), Column("Département"), Column("Région"),
        Column("Actions", "integer"),
        *[Column(label, "integer") for label in STATUS_LABELS.values()],
        Column("Part réalisée (%)", "integer"), Column("En retard", "integer"),
        Column("Engagements confirmés", "integer"), Column("Engagements proposés", "integer"),
        Column("Contrats", width=30), Column("Dernière mise à jour", "datetime"),
    ]
    rows = [
        [
            r["name"], r["siren"], KIND_LABELS.get(r["kind"], r["kind"]), departement_name(r["departement"]),
            region_name(r["region"]), r["total"], *[r["by_status"][code] for code in STATUS_LABELS],
            round(r["share_done"] * 100), r["overdue"], r["commitments"].get("confirme", 0),
            r["commitments"].get("propose", 0),
            ", ".join(f"{n} {AGREEMENT_STATE_LABELS.get(s, s).lower()}" for s, n in r["agreements"].items()),
            r["last_update"],
        ]
        for r in board["rows"]
    ]
    return f"Pilotage du réseau – {_stamp()}", columns, rows


ACTION_BATCH = 500  # actions read from the database at a time by the cross-territory export


async def _actions_in_batches(viewer: Viewer, search: ActionSearch) -> AsyncIterator[dict]:
    """The actions of the cross-territory list, in the page's order (deadline, then number; actions without a
    deadline last, on both databases), read `ACTION_BATCH` at a time by keyset pagination: each query starts
    after the last row of the one before (an index range on `deadline`), so no query reads the rows already sent,
    and memory holds one batch whatever the size of the network."""
    today = clock.today()
    where = service._search_condition(viewer, search, today)
    columns = service.ACTION_LIST_COLUMNS
    last: dict | None = None
    while True:  # actions with a deadline, by (deadline, id)
        after = Action.deadline.is_not_null()
        if last is not None:
            after = (Action.deadline >= last["deadline"]) & (
                (Action.deadline > last["deadline"]) | (Action.id > last["id"]))
        rows = await Action.select(*columns).where(where & after).order_by(
            Action.deadline, Action.id).limit(ACTION_BATCH)
        for row in rows:
            row["overdue"] = is_overdue(row["status"], row["deadline"], today)
            yield row
        if len(rows) < ACTION_BATCH:
            break
        last = rows[-1]
    last_id = 0
    while True:  # then those without one, by id
        rows = await Action.select(*columns).where(
            where & Action.deadline.is_null() & (Action.id > last_id)).order_by(Action.id).limit(ACTION_BATCH)
        for row in rows:
            row["overdue"] = False
            yield row
        if len(rows) < ACTION_BATCH:
            break
        last_id = rows[-1]["id"]


async def actions_rows(request: Request, viewer: Viewer) -> tuple[str, list[Column], AsyncIterable[Any]]:
    service.require_reviewer(viewer)
    search = read_action_search(request.query_params)
    columns = [
        Column("Action", width=50), Column("Territoire", width=35), Column("SIREN"), Column("Pilote", width=30),
        Column("Secteur du pilote"), Column("Module", "integer"), Column("Statut"), Column("En retard"),
        Column("Échéance", "date"), Column("Dernière mise à jour", "datetime"),
    ]

    async def rows() -> AsyncIterator[list[Any]]:
        async for a in _actions_in_batches(viewer, search):
            yield [
                a["title"], a["territory_name"], a["siren"], a["pilot_name"] or "",
                SECTOR_LABELS.get(a["pilot_sector"] or "", ""), a["module"], STATUS_LABELS[a["status"]],
                "Oui" if a["overdue"] else "Non", a["deadline"], a["updated_at"],
            ]

    return f"Actions du réseau – {_stamp()}", columns, rows()


async def follow_up_rows(request: Request, viewer: Viewer) -> tuple[str, list[Column], list[Any]]:
    service.require_reviewer(viewer)
    days = read_follow_up_query(request.query_params).idle_days
    data = await service.follow_ups(viewer, days, limit=None)

    def people(territory_id: int) -> str:
        return ", ".join(f"{p['name']} <{p['email']}> ({ROLE_LABELS.get(p['role'], p['role']).lower()})"
                         for p in data["contacts"].get(territory_id, []))

    # « Date »: the last sign of life (update, answer, note); « Échéance »: the deadline an overdue action missed.
    columns = [Column("Motif", width=30), Column("Territoire", width=35), Column("Objet", width=45),
               Column("Date", "datetime"), Column("Échéance", "date"), Column("À contacter", width=60)]
    rows: list[list[Any]] = []
    for r in data["idle"]:
        rows.append([f"Sans mise à jour depuis {days} jour{'s' if days > 1 else ''}", r["name"], "", r["last_update"],
                     None, people(r["id"])])
    for c in data["unanswered"]:
        contacts = (", ".join(f"{p['full_name']} <{p['email']}>" for p in data["partner_contacts"].get(c["partner_id"], []))
                    if data["shows_partner_contacts"] else people(c["territory"]))
        rows.append(["Engagement sans réponse", c["territory_name"], f"{c['partner_name']} – {c['action_title']}",
                     c["updated_at"], None, contacts])
    for a in data["silent"]:
        rows.append(["En retard sans note depuis 30 jours", a["territory_name"], a["title"], a["last_note"],
                     a["deadline"], people(a["territory_id"])])
    return f"À relancer – {_stamp()}", columns, rows


async def codir_rows(request: Request, viewer: Viewer, siren: str) -> tuple[str, list[Column], list[Any]]:
    pack = await codir.meeting_pack(viewer, siren, read_pack_query(request.query_params).since)
    # « Date »: when it happened; « Échéance »: the action's deadline, a date cell of its own (never inside a text).
    columns = [Column("Rubrique", width=28), Column("Date", "datetime"), Column("Action", width=50),
               Column("Échéance", "date"), Column("Détail", width=45), Column("Par", width=25)]
    rows: list[list[Any]] = []
    for c in pack["changes"]:
        detail = f"{STATUS_LABELS[c['from_value']]} → {STATUS_LABELS[c['to_value']]}"
        if c["comment"]:
            detail += f" : {c['comment']}"
        rows.append(["Changement de statut", c["created_at"], c["title"], None, detail, c["actor_name"] or "Système"])
    for c in pack["created"]:
        rows.append(["Nouvelle action", c["created_at"], c["title"], None, "", c["actor_name"] or "Système"])
    for a in pack["partner_answers"]:
        verb = "a confirmé" if a["to_value"] == "confirme" else "a décliné"
        rows.append(["Réponse d’un partenaire", a["created_at"], a["title"], None, f"{a['partner_name']} {verb}", ""])
    for n in pack["notes"]:
        rows.append(["Note de suivi", n["created_at"], n["title"], None, n["body"], n["author_name"]])
    for rubric, key in (("Passée en retard", "became_overdue"), ("Bloquée", "blocked"),
                        ("Prochaine échéance", "upcoming")):
        for a in pack[key]:
            pilot = f"Pilote : {a['pilot_name']}" if a["pilot_name"] else ""
            rows.append([rubric, None, a["title"], a["deadline"], pilot, ""])
    name = f"Point CODIR {pack['territory']['name']} depuis le {pack['since'].strftime('%d-%m-%Y')}"
    return name, columns, rows


def _handler(fmt: str, producer: Producer, with_siren: bool):
    """A route handler for one format; the format is bound here, never read from the request."""
    if with_siren:
        async def handler(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Stream:
            filename, columns, rows = await producer(request, viewer, siren)
            return await export_response(fmt, filename, columns, rows)
        return handler

    async def plain(request: Request, viewer: NamedDependency[Viewer]) -> Stream:
        filename, columns, rows = await producer(request, viewer)
        return await export_response(fmt, filename, columns, rows)
    return plain


def both_formats(path: str, name: str, producer: Producer, with_siren: bool = False) -> list:
    """The .xlsx and .csv routes of one list."""
    return [
        get(f"{path}.{fmt}", name=f"{name}_{fmt}", include_in_schema=False)(_handler(fmt, producer, with_siren))
        for fmt in ("xlsx", "csv")
    ]


ROUTES = [
    *both_formats("/pilotage/export", "review_dashboard_export", dashboard_rows),
    *both_formats("/pilotage/actions/export", "review_actions_export", actions_rows),
    *both_formats("/pilotage/relances/export", "review_follow_ups_export", follow_up_rows),
    *both_formats("/territoires/{siren:str}/point-codir/export", "codir_pack_export", codir_rows, with_siren=True),
]
