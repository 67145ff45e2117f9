"""The import pages: upload (a multipart form, up to 5 MB on this route only), preview, commit, and the template to
download. HTTP only: every rule lives in service.py."""
from __future__ import annotations

import re

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from tracker.core.errors import Conflict, InvalidInput, NotFound
from tracker.core.http import parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.exports import export_response
from tracker.exports.writer import XLSX_MEDIA_TYPE, content_disposition
from tracker.imports import forms, service
from tracker.imports.columns import TEMPLATE_COLUMNS
from tracker.imports.files import MAX_FILE_BYTES, MAX_ROWS
from tracker.imports.plan import Plan
from tracker.imports.template import CSV_COLUMNS, TEMPLATE_NAME, template_xlsx
from tracker.partners.kinds import LEGAL_FORM_LABELS
from tracker.roadmaps import service as roadmaps

IMPORT_TEMPLATE = "imports/import.html"
PREVIEW_TEMPLATE = "imports/preview.html"
# The file, and the few form fields around it.
UPLOAD_BODY_MAX = MAX_FILE_BYTES + 256 * 1024
TOO_LARGE = "Le fichier dépasse 5 Mo : découpez-le en plusieurs fichiers ou allégez-le (images, feuilles inutiles)."
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def _token(value: str) -> str:
    if not _TOKEN.fullmatch(value):
        raise NotFound(service.EXPIRED)
    return value


async def _page(request: Request, roadmap: dict, *, status_code: int = 200, **extra) -> Template:
    context = {"roadmap": roadmap, "imports": await service.imports_of(roadmap["id"]), "columns": TEMPLATE_COLUMNS,
               "max_rows": MAX_ROWS, "errors": {}, **extra}
    return render(request, IMPORT_TEMPLATE, context, status_code=status_code)


def _preview(request: Request, plan: Plan, token: str | None, *, status_code: int = 200, **extra) -> Template:
    context = {"roadmap": plan.roadmap, "plan": plan, "token": token, "legal_forms": LEGAL_FORM_LABELS,
               "errors": {}, "values": {}, **extra}
    return render(request, PREVIEW_TEMPLATE, context, status_code=status_code)


@get("/feuilles-de-route/{roadmap_id:str}/import", name="import_page")
async def import_page(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template:
    roadmap, _ = await service.importable_roadmap(viewer, parse_id(roadmap_id))
    return await _page(request, roadmap)


@post("/feuilles-de-route/{roadmap_id:str}/import", name="import_upload", request_max_body_size=UPLOAD_BODY_MAX,
      opt={"too_large": TOO_LARGE})
async def import_upload(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(roadmap_id)
    roadmap, _ = await service.importable_roadmap(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        token = await service.receive(viewer, ident, await forms.read_upload(data))
    except service.PreviewRefused as refused:
        return _preview(request, refused.plan, None, status_code=refused.status_code, error=refused.message)
    except InvalidInput as error:
        return await _page(request, roadmap, status_code=error.status_code, error=error.message, errors=error.errors)
    return redirect(f"/feuilles-de-route/{ident}/import/{token}")


@get("/feuilles-de-route/{roadmap_id:str}/import/{token:str}", name="import_preview")
async def import_preview(
    request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str], token: FromPath[str]
) -> Template:
    ident, token = parse_id(roadmap_id), _token(token)
    return _preview(request, await service.preview(viewer, ident, token), token)


@post("/feuilles-de-route/{roadmap_id:str}/import/{token:str}", name="import_commit")
async def import_commit(
    request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str], token: FromPath[str]
) -> Template | Redirect:
    ident, token = parse_id(roadmap_id), _token(token)
    await service.importable_roadmap(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        await service.commit(viewer, ident, token, forms.read_commit(data))
    except service.PreviewRefused as refused:
        return _preview(request, refused.plan, token, status_code=refused.status_code, error=refused.message,
                        errors=refused.errors, values=dict(data))
    except (InvalidInput, Conflict) as error:
        plan = await service.preview(viewer, ident, token)
        return _preview(request, plan, token, status_code=error.status_code, error=error.message,
                        errors=error.errors, values=dict(data))
    return redirect(f"/feuilles-de-route/{ident}", flash="import_fait")


@get("/feuilles-de-route/{roadmap_id:str}/modele-import.xlsx", name="import_template_xlsx")
async def template_xlsx_download(viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Response:
    await roadmaps.roadmap_for(viewer, parse_id(roadmap_id))
    return Response(content=template_xlsx(), media_type=XLSX_MEDIA_TYPE, headers={
        "Content-Disposition": content_disposition(f"{TEMPLATE_NAME}.xlsx"), "Cache-Control": "no-store"})


@get("/feuilles-de-route/{roadmap_id:str}/modele-import.csv", name="import_template_csv")
async def template_csv_download(viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Stream:
    await roadmaps.roadmap_for(viewer, parse_id(roadmap_id))
    return await export_response("csv", TEMPLATE_NAME, CSV_COLUMNS, [])


ROUTES = [import_page, import_upload, import_preview, import_commit, template_xlsx_download, template_csv_download]
