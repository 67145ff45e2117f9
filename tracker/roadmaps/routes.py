"""Roadmap and action pages. HTTP only: every rule lives in service.py and lifecycle.py."""
from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tracker.accounts.permissions import Viewer
from tracker.errors import Conflict, DomainError, Forbidden, InvalidInput
from tracker.agreements.service import agreements_of_action
from tracker.history.service import entries_for
from tracker.roadmaps import service
from tracker.roadmaps.lifecycle import change_action_status
from tracker.roadmaps.statuses import MODULE_TITLES
from tracker.web.forms import FormReader
from tracker.web.pages import (
    is_htmx,
    local_path,
    parse_id,
    redirect,
    render,
    require_user,
)

ROADMAP_TEMPLATE = "roadmaps/roadmap.html"
ACTION_TEMPLATE = "roadmaps/action.html"


async def _roadmap_context(request: Request, viewer: NamedDependency[Viewer], roadmap_id: int) -> dict:
    roadmap = await service.roadmap_for(viewer, roadmap_id)
    filters = service.parse_action_filters(request.query_params)
    return {
        "roadmap": roadmap,
        "filters": filters,
        "actions": await service.list_actions(viewer, roadmap, filters),
        "counts": await service.status_counts(viewer, roadmap),
        "axes": await service.axes_of(roadmap_id),
        "pilots": await service.partners_of(roadmap["territory"]),
        "can_edit": viewer.can_edit_territory(roadmap["territory"]),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


@get("/feuilles-de-route/{roadmap_id:str}", name="roadmap")
async def roadmap_page(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template:
    require_user(viewer)
    ident = parse_id(roadmap_id)
    context = await _roadmap_context(request, viewer, ident)
    query = urlencode(context["filters"].query())
    # The bookmarkable address of this view: only the filters in use, in a stable order.
    canonical = f"/feuilles-de-route/{ident}" + (f"?{query}" if query else "")
    return render(request, ROADMAP_TEMPLATE, context, blocks=["actions_region"], push_url=canonical)


async def _action_context(viewer: Viewer, action_id: int) -> dict:
    action = await service.action_for(viewer, action_id)
    internal = not action["partner_view"]  # a partner's contact sees neither notes nor history nor agreements
    context = {
        "action": action,
        "notes": await service.notes_of(action_id) if internal else [],
        "history": await entries_for("action", action_id) if internal else [],
        "can_edit": viewer.can_edit_territory(action["territory"]),
        "can_comment": viewer.can_comment_action(action["territory"]),
    }
    if internal:
        context["agreements"] = await agreements_of_action(viewer, action_id)
    return context


@get("/actions/{action_id:str}", name="action")
async def action_page(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template:
    require_user(viewer)
    return render(request, ACTION_TEMPLATE, await _action_context(viewer, parse_id(action_id)))


@post("/actions/{action_id:str}/statut", name="action_status")
async def action_status(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template | Redirect:
    """Fields: status, comment, version; optional `retour` (where to go back) and `contexte` (feuille|action)."""
    require_user(viewer)
    ident = parse_id(action_id)
    data = await request.form()
    form = FormReader(data)
    version = form.integer("version", "Version", minimum=0)
    back = local_path(form.raw("retour"), f"/actions/{ident}")
    from_roadmap = form.raw("contexte") == "feuille"
    error: DomainError | None = None
    try:
        if form.errors:
            raise InvalidInput("Version invalide : rechargez la page.", errors=form.errors)
        await change_action_status(viewer, ident, form.raw("status"), form.raw("comment"), version)
    except DomainError as caught:
        if caught.status_code == 404 or not (is_htmx(request) or caught.status_code in (409, 422)):
            raise
        error = caught
    if not is_htmx(request) and error is None:
        return redirect(back, flash="statut")
    if from_roadmap and is_htmx(request):
        action = await service.action_for(viewer, ident)
        roadmap = await service.roadmap_for(viewer, action["roadmap"])
        rows = await service.list_actions(viewer, roadmap, service.ActionFilters(), only_id=ident)
        context = {
            "roadmap": roadmap,
            "action": rows[0],
            "counts": await service.status_counts(viewer, roadmap),
            "can_edit": viewer.can_edit_territory(roadmap["territory"]),
            "here": back,
            "oob": True,
            "row_error": error,
            "row_saved": error is None,
            "submitted": {"status": form.raw("status"), "comment": form.raw("comment")},
        }
        blocks = ["action_row"] if error else ["action_row", "counters"]
        return render(
            request, ROADMAP_TEMPLATE, context, blocks=blocks, status_code=error.status_code if error else 200
        )
    context = await _action_context(viewer, ident)
    context.update(
        status_error=error,
        status_saved=error is None,
        oob=True,
        submitted={"status": form.raw("status"), "comment": form.raw("comment")},
    )
    return render(
        request,
        ACTION_TEMPLATE,
        context,
        blocks=["status_panel", "history"],
        status_code=error.status_code if error else 200,
    )


@post("/actions/{action_id:str}/notes", name="action_note")
async def action_note(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template | Redirect:
    require_user(viewer)
    ident = parse_id(action_id)
    data = await request.form()
    try:
        await service.add_note(viewer, ident, data)
    except InvalidInput as error:
        context = await _action_context(viewer, ident)
        context.update(note_error=error, note_body=str(data.get("body", ""))[:5000])
        return render(request, ACTION_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/actions/{ident}#notes", flash="note")


async def _form_context(viewer: NamedDependency[Viewer], roadmap: dict, action: dict | None) -> dict:
    choices = await service.action_form_choices(roadmap, action["id"] if action else None)
    return {"roadmap": roadmap, "action": action, "modules": MODULE_TITLES, **choices, "errors": {}, "values": {}}


@get("/feuilles-de-route/{roadmap_id:str}/actions/nouvelle", name="action_new")
async def action_new(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template:
    require_user(viewer)
    roadmap = await service.roadmap_for(viewer, parse_id(roadmap_id))
    if not viewer.can_edit_territory(roadmap["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’ajouter des actions à cette feuille de route.")
    return render(request, "roadmaps/action_form.html", await _form_context(viewer, roadmap, None))


@post("/feuilles-de-route/{roadmap_id:str}/actions/nouvelle", name="action_create")
async def action_create(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template | Redirect:
    require_user(viewer)
    ident = parse_id(roadmap_id)
    data = await request.form()
    try:
        new_id = await service.create_action(viewer, ident, data)
    except InvalidInput as error:
        roadmap = await service.roadmap_for(viewer, ident)
        context = await _form_context(viewer, roadmap, None)
        context.update(errors=error.errors, error=error.message, values=dict(data))
        return render(request, "roadmaps/action_form.html", context, status_code=error.status_code)
    return redirect(f"/actions/{new_id}", flash="action_creee")


@get("/actions/{action_id:str}/modifier", name="action_edit")
async def action_edit(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template:
    require_user(viewer)
    action = await service.action_for(viewer, parse_id(action_id))
    if not viewer.can_edit_territory(action["territory"]):
        raise Forbidden("Votre rôle ne permet pas de modifier les actions de ce territoire.")
    roadmap = await service.roadmap_for(viewer, action["roadmap"])
    return render(request, "roadmaps/action_form.html", await _form_context(viewer, roadmap, action))


@post("/actions/{action_id:str}/modifier", name="action_update")
async def action_update(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template | Redirect:
    require_user(viewer)
    ident = parse_id(action_id)
    data = await request.form()
    try:
        await service.update_action(viewer, ident, data)
    except (InvalidInput, Conflict) as error:
        action = await service.action_for(viewer, ident)
        roadmap = await service.roadmap_for(viewer, action["roadmap"])
        context = await _form_context(viewer, roadmap, action)
        context.update(errors=error.errors, error=error.message, values=dict(data))
        return render(request, "roadmaps/action_form.html", context, status_code=error.status_code)
    return redirect(f"/actions/{ident}", flash="action_modifiee")


@get("/ateliers/nouveau", name="workshop_new")
async def workshop_new(request: Request, viewer: NamedDependency[Viewer], territoire: FromQuery[str | None] = None) -> Template:
    require_user(viewer)
    if not viewer.can_manage_workshops():
        raise Forbidden("Seuls les administrateurs enregistrent les ateliers.")
    values = {"host": territoire or ""}
    return render(request, "roadmaps/workshop_form.html", {"values": values, "errors": {}, "modules": MODULE_TITLES})


@post("/ateliers/nouveau", name="workshop_create")
async def workshop_create(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    require_user(viewer)
    data = await request.form()
    try:
        roadmap_id = await service.create_workshop(viewer, data)
    except InvalidInput as error:
        context = {"values": dict(data), "errors": error.errors, "error": error.message, "modules": MODULE_TITLES}
        return render(request, "roadmaps/workshop_form.html", context, status_code=error.status_code)
    return redirect(f"/feuilles-de-route/{roadmap_id}", flash="atelier")


ROUTES = [
    roadmap_page,
    action_page,
    action_status,
    action_note,
    action_new,
    action_create,
    action_edit,
    action_update,
    workshop_new,
    workshop_create,
]
