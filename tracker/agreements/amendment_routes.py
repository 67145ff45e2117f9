"""Amendment (avenant) pages: /contrats/{id}/avenants/{numéro}. HTTP only, as routes.py: who may act first (so that a
refused person gets 403/404 whatever they posted), then what was sent read into a typed value (forms.py), then the
service (amendments.py)."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.agreements import amendments, forms, obligations
from tracker.agreements.amendments import AMENDMENT, TRANSITION_LABELS
from tracker.agreements.lifecycle import NotNow
from tracker.agreements.states import AMENDMENT_OPEN, CHANGE_KINDS
from tracker.core import clock
from tracker.core.errors import Conflict, InvalidInput
from tracker.core.forms import read_state_change
from tracker.core.http import parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.history.service import entries_for

AMENDMENT_TEMPLATE = "agreements/amendment.html"
NEW_TEMPLATE = "agreements/amendment_new.html"
SHOWN_IN_PAGE = (InvalidInput, Conflict, NotNow)


def _path(agreement_id: int, number: int) -> str:
    return f"/contrats/{agreement_id}/avenants/{number}"


async def _context(viewer: Viewer, agreement_id: int, number: int, editing: int | None = None) -> dict:
    amendment = await amendments.amendment_for(viewer, agreement_id, number)
    agreement = amendment["agreement_row"]
    state = amendment["state"]
    can_edit = viewer.can_edit_agreement(agreement["party_territories"])
    for party in amendment["parties"]:
        party["can_deliberate"] = (viewer.can_edit_territory(party["territory"]) and state in AMENDMENT_OPEN
                                   and not party["signed_at"])
        party["can_sign"] = viewer.can_sign_for(party["territory"]) and state == "a_signer" and not party["signed_at"]
    drafted = can_edit and state == "brouillon"
    followed = await amendments.followed_obligations(agreement_id) if drafted else []
    changed = {c["obligation"] for c in amendment["changes"]}
    choices = await obligations.obligation_form_choices(agreement) if drafted else {}
    return {
        "amendment": amendment,
        "agreement": agreement,
        "before": await amendments.terms_before(amendment),
        "history": await entries_for(AMENDMENT.subject, amendment["id"]),
        "can_edit": can_edit,
        "drafted": drafted,
        "transitions": [{"state": to, "label": TRANSITION_LABELS.get((state, to), to),
                         "comment": AMENDMENT.transition(state, to).needs_comment("editor")}
                        for to in AMENDMENT.targets(state)] if can_edit else [],
        "followed": [o for o in followed if o["id"] not in changed],
        "editing": next((o for o in followed if o["id"] == editing and o["id"] not in changed), None),
        "choices": choices,
        "change_kinds": CHANGE_KINDS,
        "today": clock.today(),
        "error": None,
        "error_target": None,
        "submitted": {},
    }


async def _page(request: Request, viewer: Viewer, agreement_id: int, number: int, editing: int | None = None,
                **extra) -> Template:
    context = await _context(viewer, agreement_id, number, editing)
    context.update(extra)
    status = extra["error"].status_code if extra.get("error") else 200
    return render(request, AMENDMENT_TEMPLATE, context, status_code=status)


# --- creating ------------------------------------------------------------------------------------------------


@get("/contrats/{agreement_id:str}/avenants/nouveau", name="amendment_new")
async def amendment_new(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template:
    agreement = await amendments.amending_agreement(viewer, parse_id(agreement_id))
    return render(request, NEW_TEMPLATE, {"agreement": agreement, "values": {}, "errors": {}, "error": None})


@post("/contrats/{agreement_id:str}/avenants/nouveau", name="amendment_create")
async def amendment_create(request: Request, viewer: NamedDependency[Viewer],
                           agreement_id: FromPath[str]) -> Template | Redirect:
    """Fields: title, purpose, new_ends_on, in_force_on."""
    ident = parse_id(agreement_id)
    agreement = await amendments.amending_agreement(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        number = await amendments.create_amendment(viewer, ident, forms.read_amendment(data)[0])
    except (InvalidInput, NotNow) as error:
        context = {"agreement": agreement, "values": dict(data), "errors": error.errors, "error": error.message}
        return render(request, NEW_TEMPLATE, context, status_code=error.status_code)
    return redirect(_path(ident, number), flash="avenant_cree")


# --- the amendment's page and its draft ----------------------------------------------------------------------


@get("/contrats/{agreement_id:str}/avenants/{number:str}", name="amendment")
async def amendment_page(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                         number: FromPath[str]) -> Template:
    """`modifier=<obligation>` opens the form that writes an obligation's new text."""
    ident, n = parse_id(agreement_id), parse_id(number)
    await amendments.amendment_for(viewer, ident, n)  # who may read, before what was asked
    context = await _context(viewer, ident, n, forms.read_amendment_query(request.query_params))
    return render(request, AMENDMENT_TEMPLATE, context)


@post("/contrats/{agreement_id:str}/avenants/{number:str}/modifier", name="amendment_update")
async def amendment_update(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                           number: FromPath[str]) -> Template | Redirect:
    """Fields: title, purpose, new_ends_on, in_force_on, version."""
    ident, n = parse_id(agreement_id), parse_id(number)
    await amendments.editable_amendment(viewer, ident, n)  # who may, before what was sent
    data = await request.form()
    try:
        await amendments.update_amendment(viewer, ident, n, *forms.read_amendment(data))
    except SHOWN_IN_PAGE as error:
        return await _page(request, viewer, ident, n, error=error, error_target="texte", submitted=dict(data))
    return redirect(_path(ident, n), flash="avenant_modifie")


@post("/contrats/{agreement_id:str}/avenants/{number:str}/changements", name="amendment_change_add")
async def amendment_change_add(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                               number: FromPath[str]) -> Template | Redirect:
    """Fields: kind (ajout, modification, fin); for « ajout » the obligation's fields (owner, theme, title,
    description, beneficiary, partner, deadline); else obligation, and title, description, deadline or reason."""
    ident, n = parse_id(agreement_id), parse_id(number)
    await amendments.editable_amendment(viewer, ident, n)  # who may, before what was sent
    data = await request.form()
    try:
        await amendments.add_change(viewer, ident, n, forms.read_amendment_change(data))
    except SHOWN_IN_PAGE as error:
        kind = str(data.get("kind", ""))
        target = "changement-" + (kind if kind in CHANGE_KINDS else "ajout")  # shown next to a form of the page
        sent = str(data.get("obligation", ""))
        editing = int(sent) if kind == "modification" and sent.isdigit() and len(sent) <= 10 else None
        return await _page(request, viewer, ident, n, editing, error=error, error_target=target,
                           submitted=dict(data))
    return redirect(_path(ident, n) + "#changements", flash="avenant_changement")


@post("/contrats/{agreement_id:str}/avenants/{number:str}/changements/{change_id:str}/retirer",
      name="amendment_change_remove")
async def amendment_change_remove(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                                  number: FromPath[str], change_id: FromPath[str]) -> Redirect:
    ident, n = parse_id(agreement_id), parse_id(number)
    await amendments.remove_change(viewer, ident, n, parse_id(change_id))
    return redirect(_path(ident, n) + "#changements", flash="avenant_changement_retire")


# --- state, deliberations, signatures ------------------------------------------------------------------------


@post("/contrats/{agreement_id:str}/avenants/{number:str}/etat", name="amendment_state")
async def amendment_state(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                          number: FromPath[str]) -> Template | Redirect:
    """Fields: status, comment, version."""
    ident, n = parse_id(agreement_id), parse_id(number)
    await amendments.editable_amendment(viewer, ident, n, drafted=False)  # who may, before what was sent
    data = await request.form()
    submitted = {"status": str(data.get("status", ""))[:30], "comment": str(data.get("comment", ""))[:2000]}
    try:
        change = read_state_change(data)
        await amendments.change_amendment_state(viewer, ident, n, change.status, change.comment, change.version)
    except SHOWN_IN_PAGE as error:
        return await _page(request, viewer, ident, n, error=error, error_target="etat", submitted=submitted)
    return redirect(_path(ident, n), flash="avenant_etat")


@post("/contrats/{agreement_id:str}/avenants/{number:str}/parties/{party_id:str}/deliberation",
      name="amendment_deliberation")
async def amendment_deliberation(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                                 number: FromPath[str], party_id: FromPath[str]) -> Template | Redirect:
    """Fields: deliberation_on, deliberation_ref, version."""
    ident, n, party = parse_id(agreement_id), parse_id(number), parse_id(party_id)
    data = await request.form()
    try:
        await amendments.deliberating_party(viewer, ident, n, party)  # who may, before what was sent
        await amendments.record_deliberation(viewer, ident, n, party, *forms.read_deliberation(data))
    except SHOWN_IN_PAGE as error:
        return await _page(request, viewer, ident, n, error=error, error_target=f"deliberation-{party}",
                           submitted=dict(data))
    return redirect(_path(ident, n) + f"#partie-{party}", flash="deliberation")


@post("/contrats/{agreement_id:str}/avenants/{number:str}/parties/{party_id:str}/signature",
      name="amendment_signature")
async def amendment_signature(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                              number: FromPath[str], party_id: FromPath[str]) -> Template | Redirect:
    """Fields: signed_on, version. Only the party's référents; the last signature makes the amendment take effect."""
    ident, n, party = parse_id(agreement_id), parse_id(number), parse_id(party_id)
    await amendments.signing_party(viewer, ident, n, party)  # who may, before what was sent
    data = await request.form()
    try:
        signature = forms.read_signature(data)
        change = await amendments.sign_amendment(viewer, ident, n, party, signature.signed_on, signature.version)
    except SHOWN_IN_PAGE as error:
        return await _page(request, viewer, ident, n, error=error, error_target=f"signature-{party}",
                           submitted=dict(data))
    flash = "avenant_en_vigueur" if change.target == "en_vigueur" else "signature"
    return redirect(_path(ident, n) + f"#partie-{party}", flash=flash)


ROUTES = [
    amendment_new,
    amendment_create,
    amendment_page,
    amendment_update,
    amendment_change_add,
    amendment_change_remove,
    amendment_state,
    amendment_deliberation,
    amendment_signature,
]
