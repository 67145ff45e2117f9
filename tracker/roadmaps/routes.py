"""Roadmap and action pages. HTTP only: every rule lives in service.py and lifecycle.py."""
from __future__ import annotations


from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tracker.core.permissions import Viewer
from tracker.core.errors import Conflict, Forbidden, InvalidInput
from tracker.roadmaps import forms, service
from tracker.roadmaps.statuses import MODULE_TITLES
from tracker.core.guards import administrators_only
from tracker.core.http import (
    parse_id,
    redirect,
    render,
)

WORKSHOPS_REFUSED = "Seuls les administrateurs enregistrent les ateliers."
ROADMAP_TEMPLATE = "roadmaps/roadmap.html"
ACTION_TEMPLATE = "roadmaps/action.html"


async def _form_context(viewer: NamedDependency[Viewer], roadmap: dict, action: dict | None) -> dict:
    choices = await service.action_form_choices(roadmap, action["id"] if action else None)
    return {"roadmap": roadmap, "action": action, "modules": MODULE_TITLES, **choices, "errors": {}, "values": {}}


@get("/feuilles-de-route/{roadmap_id:str}/actions/nouvelle", name="action_new")
async def action_new(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template:
    roadmap = await service.roadmap_for(viewer, parse_id(roadmap_id))
    if not viewer.can_edit_territory(roadmap["territory"]):
        raise Forbidden("Votre rôle ne permet pas d’ajouter des actions à cette feuille de route.")
    return render(request, "roadmaps/action_form.html", await _form_context(viewer, roadmap, None))


@post("/feuilles-de-route/{roadmap_id:str}/actions/nouvelle", name="action_create")
async def action_create(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(roadmap_id)
    roadmap = await service.editable_roadmap(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        new_id = await service.create_action(viewer, ident, forms.read_action(data)[0])
    except InvalidInput as error:
        context = await _form_context(viewer, roadmap, None)
        context.update(errors=error.errors, error=error.message, values=dict(data))
        return render(request, "roadmaps/action_form.html", context, status_code=error.status_code)
    return redirect(f"/actions/{new_id}", flash="action_creee")


@get("/actions/{action_id:str}/modifier", name="action_edit")
async def action_edit(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template:
    action = await service.editable_action(viewer, parse_id(action_id))
    roadmap = await service.roadmap_for(viewer, action["roadmap"])
    return render(request, "roadmaps/action_form.html", await _form_context(viewer, roadmap, action))


@post("/actions/{action_id:str}/modifier", name="action_update")
async def action_update(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(action_id)
    action = await service.editable_action(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        values, version = forms.read_action(data)
        await service.update_action(viewer, ident, values, version)
    except (InvalidInput, Conflict) as error:
        roadmap = await service.roadmap_for(viewer, action["roadmap"])
        context = await _form_context(viewer, roadmap, action)
        context.update(errors=error.errors, error=error.message, values=dict(data))
        return render(request, "roadmaps/action_form.html", context, status_code=error.status_code)
    return redirect(f"/actions/{ident}", flash="action_modifiee")


@get("/ateliers/nouveau", name="workshop_new", guards=[administrators_only], opt={"refusal": WORKSHOPS_REFUSED})
async def workshop_new(request: Request, viewer: NamedDependency[Viewer], territoire: FromQuery[str | None] = None) -> Template:
    values = {"host": territoire or ""}
    return render(request, "roadmaps/workshop_form.html", {"values": values, "errors": {}, "modules": MODULE_TITLES})


@post("/ateliers/nouveau", name="workshop_create", guards=[administrators_only], opt={"refusal": WORKSHOPS_REFUSED})
async def workshop_create(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    data = await request.form()
    try:
        roadmap_id = await service.create_workshop(viewer, forms.read_workshop(data))
    except InvalidInput as error:
        context = {"values": dict(data), "errors": error.errors, "error": error.message, "modules": MODULE_TITLES}
        return render(request, "roadmaps/workshop_form.html", context, status_code=error.status_code)
    return redirect(f"/feuilles-de-route/{roadmap_id}", flash="atelier")


ROUTES = [
    action_new,
    action_create,
    action_edit,
    action_update,
    workshop_new,
    workshop_create,
]
