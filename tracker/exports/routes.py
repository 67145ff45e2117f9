"""Download routes: a roadmap's actions (with the page's filters), an action's history and an agreement's balance
(theme by theme), as XLSX or CSV.
Signed-in users only (session cookie), the same permissions as the pages they come from."""
from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from tracker.core.permissions import Viewer
from tracker.exports.agreements import BALANCE_COLUMNS, agreement_export
from tracker.exports.roadmaps import HISTORY_COLUMNS, ROADMAP_COLUMNS, history_export, roadmap_export
from tracker.exports.writer import export_response
from tracker.core.http import parse_id
from tracker.roadmaps.queries import read_action_filters
from tracker.roadmaps.service import roadmap_for


async def _roadmap(request: Request, viewer: Viewer, roadmap_id: str, fmt: str) -> Stream:
    roadmap = await roadmap_for(viewer, parse_id(roadmap_id))  # a roadmap one may not read is not found, whatever asked
    name, rows = await roadmap_export(viewer, roadmap, read_action_filters(request.query_params))
    return await export_response(fmt, name, ROADMAP_COLUMNS, rows, sheet="Actions")


@get("/feuilles-de-route/{roadmap_id:str}/export.xlsx", name="roadmap_export_xlsx")
async def roadmap_xlsx(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Stream:
    return await _roadmap(request, viewer, roadmap_id, "xlsx")


@get("/feuilles-de-route/{roadmap_id:str}/export.csv", name="roadmap_export_csv")
async def roadmap_csv(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Stream:
    return await _roadmap(request, viewer, roadmap_id, "csv")


async def _history(viewer: Viewer, action_id: str, fmt: str) -> Stream:
    name, rows = await history_export(viewer, parse_id(action_id))
    return await export_response(fmt, name, HISTORY_COLUMNS, rows, sheet="Historique")


@get("/actions/{action_id:str}/historique.xlsx", name="action_history_xlsx")
async def history_xlsx(viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Stream:
    return await _history(viewer, action_id, "xlsx")


@get("/actions/{action_id:str}/historique.csv", name="action_history_csv")
async def history_csv(viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Stream:
    return await _history(viewer, action_id, "csv")


async def _agreement(viewer: Viewer, agreement_id: str, fmt: str) -> Stream:
    name, rows = await agreement_export(viewer, parse_id(agreement_id))
    return await export_response(fmt, name, BALANCE_COLUMNS, rows, sheet="Bilan")


@get("/contrats/{agreement_id:str}/export.xlsx", name="agreement_export_xlsx")
async def agreement_xlsx(viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Stream:
    return await _agreement(viewer, agreement_id, "xlsx")


@get("/contrats/{agreement_id:str}/export.csv", name="agreement_export_csv")
async def agreement_csv(viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Stream:
    return await _agreement(viewer, agreement_id, "csv")


ROUTES = [roadmap_xlsx, roadmap_csv, history_xlsx, history_csv, agreement_xlsx, agreement_csv]
