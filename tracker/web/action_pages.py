"""The roadmap and action pages, composed from several domains (actions, their partners' commitments, the
agreements they serve), and the forms posted from them, which answer with a block of the same page for htmx."""
from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.agreements.linked_actions import agreements_of_action
from tracker.commitments import lifecycle as commitment_lifecycle
from tracker.commitments import service as commitments
from tracker.commitments import queries as commitment_queries
from tracker.commitments.forms import read_comment
from tracker.commitments.states import GROUP_LABELS
from tracker.core.errors import Conflict, DomainError, InvalidInput
from tracker.core.forms import FormReader, StateChangeInput, read_state_change
from tracker.core.http import is_htmx, local_path, parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.history.service import count_for, entries_for
from tracker.imports.service import imports_of
from tracker.roadmaps import service
from tracker.roadmaps.forms import read_note
from tracker.roadmaps.lifecycle import change_action_status
from tracker.roadmaps.queries import ActionFilters, read_action_filters
from tracker.web.queries import read_whole_history

ROADMAP_TEMPLATE = "roadmaps/roadmap.html"
ACTION_TEMPLATE = "roadmaps/action.html"


async def roadmap_rows(viewer: Viewer, roadmap: dict, filters: ActionFilters, only_id: int | None = None):
    """The roadmap's rows, each with how many partners confirmed their commitment (one aggregated query)."""
    rows = await service.list_actions(viewer, roadmap, filters, only_id=only_id)
    counts = await commitment_queries.confirmed_counts(row["id"] for row in rows)
    for row in rows:
        row["commitments"] = counts[row["id"]]
    return rows


async def _roadmap_context(request: Request, viewer: NamedDependency[Viewer], roadmap_id: int) -> dict:
    roadmap = await service.roadmap_for(viewer, roadmap_id)
    filters = read_action_filters(request.query_params)
    rows = await roadmap_rows(viewer, roadmap, filters)
    return {
        "roadmap": roadmap,
        "filters": filters,
        "actions": rows,
        # Unfiltered, the rows are the whole roadmap as this viewer sees it: counted from them, no second query.
        "counts": await service.status_counts(viewer, roadmap) if filters.active else service.counts_of(rows),
        "axes": await service.axes_of(roadmap_id),
        "pilots": await service.partners_of(roadmap["territory"]),
        "can_edit": viewer.can_edit_territory(roadmap["territory"]),
        "can_import": viewer.can_import_roadmap(roadmap["territory"]),
        "imports": await imports_of(roadmap_id),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


@get("/feuilles-de-route/{roadmap_id:str}", name="roadmap")
async def roadmap_page(request: Request, viewer: NamedDependency[Viewer], roadmap_id: FromPath[str]) -> Template:
    ident = parse_id(roadmap_id)
    context = await _roadmap_context(request, viewer, ident)
    query = urlencode(context["filters"].query())
    # The bookmarkable address of this view: only the filters in use, in a stable order.
    canonical = f"/feuilles-de-route/{ident}" + (f"?{query}" if query else "")
    return render(request, ROADMAP_TEMPLATE, context, blocks=["actions_region"], push_url=canonical)


HISTORY_SHOWN = 50  # the latest history entries on the action page; the whole history is one link away


async def _history(action_id: int, whole: bool) -> tuple[list[dict], int | None]:
    """The action page's history: the latest `HISTORY_SHOWN` entries, with the total when there are more (the page
    then links to `?historique=tout`, a plain link), or every entry. Issue 15: an action with hundreds of changes
    no longer renders them all at every reading; the exports (CSV, XLSX) and the API keep the whole history."""
    if whole:
        return await entries_for("action", action_id), None
    entries = await entries_for("action", action_id, limit=HISTORY_SHOWN + 1)
    if len(entries) <= HISTORY_SHOWN:
        return entries, None
    return entries[:HISTORY_SHOWN], await count_for("action", action_id)


async def _action_context(viewer: Viewer, action_id: int, *, whole_history: bool = False) -> dict:
    action = await commitments.readable_action(viewer, action_id)
    action["commitments"] = await commitment_queries.for_action(viewer, action)
    action["can_record_commitments"] = viewer.can_record_commitments(action["territory"])
    internal = not action["partner_view"]  # a partner's contact sees neither notes nor history nor agreements
    history, history_total = await _history(action_id, whole_history) if internal else ([], None)
    context = {
        "action": action,
        "notes": await service.notes_of(action_id) if internal else [],
        "history": history,
        "history_total": history_total,
        "can_edit": viewer.can_edit_territory(action["territory"]),
        "can_comment": viewer.can_comment_action(action["territory"]),
    }
    if internal:
        context["agreements"] = await agreements_of_action(viewer, action_id)
    return context


@get("/actions/{action_id:str}", name="action")
async def action_page(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template:
    ident = parse_id(action_id)
    whole = read_whole_history(request.query_params)
    return render(request, ACTION_TEMPLATE, await _action_context(viewer, ident, whole_history=whole))


@post("/actions/{action_id:str}/statut", name="action_status")
async def action_status(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template | Redirect:
    """Fields: status, comment, version; optional `retour` (where to go back) and `contexte` (feuille|action)."""
    ident = parse_id(action_id)
    data = await request.form()
    from_roadmap = data.get("contexte") == "feuille"
    error: DomainError | None = None
    change = StateChangeInput(status=str(data.get("status", ""))[:30], comment=str(data.get("comment", ""))[:2000],
                              version=None)
    try:
        change = read_state_change(data)
        await change_action_status(viewer, ident, change.status, change.comment, change.version)
    except DomainError as caught:
        if caught.status_code == 404 or not (is_htmx(request) or caught.status_code in (409, 422)):
            raise
        error = caught
    back = local_path(change.back, f"/actions/{ident}")
    if not is_htmx(request) and error is None:
        return redirect(back, flash="statut")
    submitted = {"status": change.status, "comment": change.comment}
    if from_roadmap and is_htmx(request):
        action = await service.action_for(viewer, ident)
        roadmap = await service.roadmap_for(viewer, action["roadmap"])
        rows = await roadmap_rows(viewer, roadmap, ActionFilters(), only_id=ident)
        context = {
            "roadmap": roadmap,
            "action": rows[0],
            "counts": await service.status_counts(viewer, roadmap),
            "can_edit": viewer.can_edit_territory(roadmap["territory"]),
            "here": back,
            "oob": True,
            "row_error": error,
            "row_saved": error is None,
            "submitted": submitted,
        }
        blocks = ["action_row"] if error else ["action_row", "counters"]
        return render(
            request, ROADMAP_TEMPLATE, context, blocks=blocks, status_code=error.status_code if error else 200
        )
    context = await _action_context(viewer, ident)
    context.update(status_error=error, status_saved=error is None, oob=True, submitted=submitted)
    return render(
        request,
        ACTION_TEMPLATE,
        context,
        blocks=["status_panel", "history"],
        status_code=error.status_code if error else 200,
    )


@post("/actions/{action_id:str}/notes", name="action_note")
async def action_note(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(action_id)
    await service.commentable_action(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        await service.add_note(viewer, ident, read_note(data))
    except InvalidInput as error:
        context = await _action_context(viewer, ident)
        context.update(note_error=error, note_body=str(data.get("body", ""))[:5000])
        return render(request, ACTION_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/actions/{ident}#notes", flash="note")


# --- answering: the partner's contact, or the territory's editors for « tenu » / « retiré » ------------------


async def _render_origin(request: Request, viewer: Viewer, origin: str, commitment_id: int, error: DomainError,
                         submitted: dict) -> Template:
    """Show the page the form came from again, with the error next to the commitment and what was typed."""
    problem = {"id": commitment_id, "error": error, "submitted": submitted}
    if origin == "action":
        commitment = await commitments.commitment_for(viewer, commitment_id)
        context = await _action_context(viewer, commitment["action"])
        context["commitment_problem"] = problem
        return render(request, ACTION_TEMPLATE, context, status_code=error.status_code)
    state = None
    context = {"mine": await commitments.my_commitments(viewer, state), "state": state, "commitment_problem": problem,
               "groups": GROUP_LABELS}
    return render(request, "commitments/mine.html", context, status_code=error.status_code)


@post("/engagements/{commitment_id:str}/etat", name="commitment_state")
async def commitment_state(request: Request, viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Template | Redirect:
    """Fields: status, comment, version; `retour` (where to go back), `contexte` (engagements | action)."""
    ident = parse_id(commitment_id)
    await commitments.answerable_commitment(viewer, ident)  # who may, before what was sent
    data = await request.form()
    origin = "action" if data.get("contexte") == "action" else "engagements"
    submitted = {"status": str(data.get("status", ""))[:30], "comment": str(data.get("comment", ""))[:2000]}
    try:
        change = read_state_change(data)
        await commitment_lifecycle.change_commitment_state(viewer, ident, change.status, change.comment, change.version)
    except (InvalidInput, Conflict) as error:
        return await _render_origin(request, viewer, origin, ident, error, submitted)
    flash = {"confirme": "engagement_confirme", "decline": "engagement_decline"}.get(change.status, "engagement_etat")
    return redirect(local_path(change.back, "/engagements"), flash=flash)


@post("/engagements/{commitment_id:str}/commentaires", name="commitment_comment")
async def commitment_comment(request: Request, viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(commitment_id)
    await commitments.commentable_commitment(viewer, ident)  # who may, before what was sent
    data = await request.form()
    form = FormReader(data)
    origin = "action" if form.raw("contexte") == "action" else "engagements"
    try:
        await commitments.add_comment(viewer, ident, read_comment(data))
    except InvalidInput as error:
        return await _render_origin(request, viewer, origin, ident, error, {"body": form.raw("body")[:2000]})
    return redirect(local_path(form.raw("retour"), "/engagements"), flash="engagement_commentaire")



ROUTES = [roadmap_page, action_page, action_status, action_note, commitment_state, commitment_comment]
