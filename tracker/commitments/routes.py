"""Commitments: recording and sending them (territory's editors), answering them (the partner, on /engagements or
through the signed link /e/{token}). HTTP only: rules in service.py, lifecycle.py and links.py."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.commitments import forms, lifecycle, links, service
from tracker.commitments.states import GROUP_LABELS, ROLE_LABELS, UNIT_LABELS
from tracker.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from tracker.core.forms import FormReader
from tracker.core.http import parse_id, redirect, render
from tracker.core.permissions import Viewer

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _form_context(action: dict, commitment: dict | None, partners: list[dict], values: dict | None = None,
                  error: DomainError | None = None) -> dict:
    return {
        "action": action,
        "commitment": commitment,
        "partners": partners,
        "roles": ROLE_LABELS,
        "units": UNIT_LABELS,
        "values": values or {},
        "errors": error.errors if error else {},
        "error": error.message if error else None,
    }


@get("/actions/{action_id:str}/engagements/nouveau", name="commitment_new")
async def commitment_new(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template:
    action = await service.recordable_action(viewer, parse_id(action_id))
    if action["confidential"]:
        raise Forbidden(service.CONFIDENTIAL_REFUSED)
    partners = await service.partner_choices(action["territory"])
    return render(request, "commitments/form.html", _form_context(action, None, partners))


@post("/actions/{action_id:str}/engagements/nouveau", name="commitment_create")
async def commitment_create(request: Request, viewer: NamedDependency[Viewer], action_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(action_id)
    action = await service.recordable_action(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        commitment_id = await service.create_commitment(viewer, ident, forms.read_new_commitment(data))
    except InvalidInput as error:
        partners = await service.partner_choices(action["territory"])
        context = _form_context(action, None, partners, dict(data), error)
        return render(request, "commitments/form.html", context, status_code=error.status_code)
    return redirect(f"/engagements/{commitment_id}/envoyer", flash="engagement_cree")


async def _editable(viewer: Viewer, commitment_id: int) -> tuple[dict, dict]:
    await lifecycle.editable_commitment(viewer, commitment_id)
    commitment = await service.commitment_for(viewer, commitment_id)
    action = await service.readable_action(viewer, commitment["action"])
    return commitment, action


@get("/engagements/{commitment_id:str}/modifier", name="commitment_edit")
async def commitment_edit(request: Request, viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Template:
    commitment, action = await _editable(viewer, parse_id(commitment_id))
    return render(request, "commitments/form.html", _form_context(action, commitment, []))


@post("/engagements/{commitment_id:str}/modifier", name="commitment_update")
async def commitment_update(request: Request, viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(commitment_id)
    await lifecycle.editable_commitment(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        back_to_proposed = await lifecycle.update_commitment(viewer, ident, forms.read_terms_edit(data))
    except (InvalidInput, Conflict) as error:
        commitment, action = await _editable(viewer, ident)
        context = _form_context(action, commitment, [], dict(data), error)
        return render(request, "commitments/form.html", context, status_code=error.status_code)
    if back_to_proposed:
        # The partner must see and confirm the new text: offer to send a new link at once.
        return redirect(f"/engagements/{ident}/envoyer", flash="engagement_a_reconfirmer")
    commitment = await service.commitment_for(viewer, ident)
    return redirect(f"/actions/{commitment['action']}#engagement-{ident}", flash="engagement_modifie")


@get("/engagements", name="my_commitments")
async def my_commitments(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    group = forms.read_group_filter(request.query_params)
    context = {"mine": await service.my_commitments(viewer, group), "state": group, "groups": GROUP_LABELS}
    return render(request, "commitments/mine.html", context)


# --- sending the signed link ------------------------------------------------------------------------------


async def _send_context(viewer: Viewer, commitment_id: int) -> dict:
    commitment = await links.sendable_commitment(viewer, commitment_id)
    commitment["amount_text"] = links.amount_text(commitment["amount"], commitment["amount_unit"])
    return {
        "commitment": commitment,
        "contacts": await service.contacts_to_send(commitment),
        "days": links.LINK_DAYS,
        "errors": {},
    }


@get("/engagements/{commitment_id:str}/envoyer", name="commitment_send_page")
async def commitment_send_page(request: Request, viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Template:
    return render(request, "commitments/send.html", await _send_context(viewer, parse_id(commitment_id)))


@post("/engagements/{commitment_id:str}/envoyer", name="commitment_send")
async def commitment_send(request: Request, viewer: NamedDependency[Viewer], commitment_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(commitment_id)
    commitment = await links.sendable_commitment(viewer, ident)  # who may, before what was sent
    try:
        await links.send_link(viewer, ident, forms.read_recipient(await request.form()))
    except InvalidInput as error:
        context = await _send_context(viewer, ident)
        context.update(error=error.message, errors=error.errors)
        return render(request, "commitments/send.html", context, status_code=error.status_code)
    return redirect(f"/actions/{commitment['action']}#engagement-{ident}", flash="lien_envoye")


# --- the signed link: no session needed, the token is the permission -------------------------------------------


def _problem_page(request: Request, problem: links.LinkProblem) -> Template:
    response = render(request, "commitments/link_problem.html", {"problem": problem},
                      status_code=problem.status_code)
    response.headers.update(PRIVATE)
    return response


def _link_page(request: Request, token: str, context: dict, status_code: int = 200) -> Template:
    response = render(request, "commitments/link.html", {**context, "token": token}, status_code=status_code)
    response.headers.update(PRIVATE)
    return response


@get("/e/{token:str}", name="signed_link")
async def signed_link(request: Request, token: FromPath[str]) -> Template:
    """Shows the commitment and the two answers. Changes nothing: only the POST answers."""
    try:
        context = await links.open_link(token)
    except links.LinkProblem as problem:
        return _problem_page(request, problem)
    return _link_page(request, token, context)


@post("/e/{token:str}", name="signed_link_answer")
async def signed_link_answer(request: Request, token: FromPath[str]) -> Template:
    try:
        await links.usable_link(token)  # the link is the permission: checked before what was sent
    except links.LinkProblem as problem:
        return _problem_page(request, problem)
    data = await request.form()
    try:
        change = await links.answer_link(token, forms.read_link_answer(data))
    except links.LinkProblem as problem:
        return _problem_page(request, problem)
    except lifecycle.LinkGone:
        return _problem_page(request, links.LinkProblem("utilise", status_code=410))
    except (InvalidInput, Conflict) as error:
        try:
            context = await links.open_link(token)
        except links.LinkProblem as problem:
            return _problem_page(request, problem)
        form = FormReader(data)
        context.update(error=error, submitted={"status": form.raw("status"), "comment": form.raw("comment")[:2000]})
        return _link_page(request, token, context, status_code=error.status_code)
    response = render(request, "commitments/link_done.html", {"state": change.target})
    response.headers.update(PRIVATE)
    return response


ROUTES = [
    commitment_new,
    commitment_create,
    commitment_edit,
    commitment_update,
    my_commitments,
    commitment_send_page,
    commitment_send,
]
# Signed links answer whoever holds them: no session needed.
PUBLIC_ROUTES = [signed_link, signed_link_answer]
