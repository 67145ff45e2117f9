"""Reciprocity agreement pages. HTTP only: each route first asks the service whether this person may act (so that
a refused person gets 403/404 whatever they posted), then reads what was sent into a typed value (forms.py), then
calls the service. Every rule lives in the services and lifecycle.py."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tracker.agreements import (
    amendment_routes,
    amendments,
    forms,
    linked_actions,
    obligations,
    parties,
    reading,
    recording,
    reviews,
    text,
)
from tracker.agreements.lifecycle import (
    AGREEMENT,
    NotNow,
    change_agreement_state,
    change_obligation_status,
    followable_obligation,
    sign_for_party,
)
from tracker.agreements.states import (
    AMENDABLE,
    AMENDMENT_OPEN,
    DELIBERATION,
    DRAFTING,
    FINAL,
    FOLLOW_UP,
    RECORDABLE,
    THEME_SUGGESTIONS,
    WITNESS_KINDS,
    transition_label,
)
from tracker.core import clock
from tracker.core.errors import Conflict, DomainError, InvalidInput
from tracker.core.forms import StateChangeInput, read_state_change
from tracker.core.http import is_htmx, parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.history.service import entries_for
from tracker.roadmaps.service import action_for
from tracker.territories.reference import regions
from tracker.territories.tables import Territory

LIST_TEMPLATE = "agreements/list.html"
AGREEMENT_TEMPLATE = "agreements/agreement.html"
FORM_TEMPLATE = "agreements/agreement_form.html"
PARTIES_TEMPLATE = "agreements/parties.html"
RECORD_TEMPLATE = "agreements/record.html"
OBLIGATION_TEMPLATE = "agreements/obligation.html"
OBLIGATION_FORM_TEMPLATE = "agreements/obligation_form.html"
# Errors a page shows next to the form that caused them (the others get the error page).
SHOWN_IN_PAGE = (InvalidInput, Conflict, NotNow)
MAY_NOT_CHANGE_STATE = "Votre rôle ne permet pas de changer l’état de ce contrat."
MAY_NOT_CHANGE_PARTIES = "Votre rôle ne permet pas de modifier les parties de ce contrat."


@get("/contrats", name="agreements")
async def agreements_page(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    """Filters: etat, theme, region, nature (a party's kind), page; `action` lists the agreements a (readable)
    action is linked to."""
    filters = forms.read_agreement_filters(request.query_params)
    # The agreements an action is linked to: only for those who may read that action.
    action = await action_for(viewer, filters.action) if filters.action else None
    context = {
        "listing": await reading.list_agreements(viewer, filters),
        "filters": filters,
        "action": action,
        "can_create": bool(viewer.editable_territories()),  # administrators start one from a territory's page
        "regions": regions(),
    }
    return render(request, LIST_TEMPLATE, context, blocks=["results"])


async def _agreement_context(viewer: Viewer, agreement_id: int) -> dict:
    agreement = await reading.agreement_for(viewer, agreement_id)
    state = agreement["state"]
    can_edit = viewer.can_edit_agreement(agreement["party_territories"])
    for party in agreement["signatories"]:
        witness = party["role"] != "partie"
        party["can_deliberate"] = (
            not witness and viewer.can_edit_territory(party["territory"]) and state in DELIBERATION
            and not party["signed_at"]
        )
        party["can_sign"] = viewer.can_sign_for(party["territory"]) and state == "a_signer" and not party["signed_at"]
        party["can_follow_up"] = viewer.can_edit_territory(party["territory"]) and state in FOLLOW_UP
    # « Échu » is offered by hand only once the end date has passed (the rule itself is in the lifecycle).
    transitions = [
        {"state": to, "label": transition_label(state, to),
         "comment": AGREEMENT.transition(state, to).needs_comment("editor")}
        for to in AGREEMENT.targets(state)
        if to != "echu" or agreement["end_passed"]
    ] if can_edit else []
    amendment_rows = await amendments.amendments_of(agreement_id)
    return {
        "agreement": agreement,
        "balance": await reading.balance_of(agreement),
        "amendments": amendment_rows,
        "can_amend": can_edit and state in AMENDABLE and not any(a["state"] in AMENDMENT_OPEN for a in amendment_rows),
        "can_record": state == "brouillon" and viewer.can_record_agreement(agreement["party_territories"]),
        "reviews": await reviews.reviews_of(agreement_id),
        "linked": await linked_actions.linked_actions(viewer, agreement),
        "candidates": await linked_actions.candidate_actions(viewer, agreement) if can_edit else [],
        "history": await reading.history_of(agreement_id),
        "can_edit": can_edit,
        "drafting": state in DRAFTING,
        "closed": state in FINAL,
        "transitions": transitions,
        "today": clock.today(),
        "error": None,
        "error_target": None,
        "submitted": {},
    }


async def _agreement_page(request: Request, viewer: Viewer, agreement_id: int, **extra) -> Template:
    """The agreement page, with a form's error shown next to that form (`error_target`)."""
    context = await _agreement_context(viewer, agreement_id)
    context.update(extra)
    status = extra["error"].status_code if extra.get("error") else 200
    return render(request, AGREEMENT_TEMPLATE, context, status_code=status)


@get("/contrats/{agreement_id:str}", name="agreement")
async def agreement_page(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template:
    return await _agreement_page(request, viewer, parse_id(agreement_id))


# --- creating and editing the text -------------------------------------------------------------------------


def _theme_form_rows(agreement: dict | None, values: dict) -> list[dict]:
    """The themes' rows of the text form: what was sent (a refused form), else the agreement's themes, then empty
    rows to add some."""
    if any(key.startswith("theme_") for key in values):
        rows = [{"id": values.get(f"theme_{n}_id", ""), "nom": values.get(f"theme_{n}_nom", ""),
                 "description": values.get(f"theme_{n}_description", ""), "rang": values.get(f"theme_{n}_rang", "")}
                for n in range(1, forms.THEME_ROWS + 1)]
        while len(rows) > forms.EMPTY_THEME_ROWS and not any(rows[-1].values()):
            rows.pop()
        return rows
    themes = agreement["theme_rows"] if agreement else []
    rows = [{"id": str(t["id"]), "nom": t["theme"], "description": t["description"], "rang": str(n)}
            for n, t in enumerate(themes, start=1)]
    blanks = min(forms.EMPTY_THEME_ROWS, forms.THEME_ROWS - len(rows))
    return rows + [{"id": "", "nom": "", "description": "", "rang": ""} for _ in range(blanks)]


def _form_context(agreement: dict | None, leads: list[dict], values: dict | None = None,
                  error: DomainError | None = None) -> dict:
    return {
        "agreement": agreement,
        "leads": leads,
        "theme_rows": _theme_form_rows(agreement, values or {}),
        "suggestions": THEME_SUGGESTIONS,
        "values": values or {},
        "errors": error.errors if error else {},
        "error": error.message if error else None,
    }


@get("/contrats/nouveau", name="agreement_new")
async def agreement_new(request: Request, viewer: NamedDependency[Viewer],
                        territoire: FromQuery[str | None] = None) -> Template:
    text.require_author(viewer)
    # An administrator starts one for the territory they came from (?territoire=SIREN, help desk).
    lead = await _territory_id_of(territoire) if territoire and viewer.is_admin else None
    return render(request, FORM_TEMPLATE, _form_context(None, await text.lead_choices(viewer, lead)))


async def _territory_id_of(siren: str) -> int | None:
    row = await Territory.select(Territory.id).where(Territory.siren == siren[:9]).first()
    return row["id"] if row else None


@post("/contrats/nouveau", name="agreement_create")
async def agreement_create(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    text.require_author(viewer)  # who may, before what was sent
    data = await request.form()
    try:
        new_id = await text.create_agreement(viewer, *forms.read_new_agreement(data))
    except InvalidInput as error:
        sent = str(data.get("territory", ""))
        lead = int(sent) if viewer.is_admin and sent.isascii() and sent.isdigit() and len(sent) < 10 else None
        context = _form_context(None, await text.lead_choices(viewer, lead), dict(data), error)
        return render(request, FORM_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/contrats/{new_id}/parties", flash="contrat_cree")


@get("/contrats/{agreement_id:str}/modifier", name="agreement_edit")
async def agreement_edit(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template:
    agreement = await reading.editable_agreement(viewer, parse_id(agreement_id), DRAFTING)
    return render(request, FORM_TEMPLATE, _form_context(agreement, []))


@post("/contrats/{agreement_id:str}/modifier", name="agreement_update")
async def agreement_update(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(agreement_id)
    agreement = await reading.editable_agreement(viewer, ident, DRAFTING)  # who may, before what was sent
    data = await request.form()
    try:
        await text.update_agreement(viewer, ident, *forms.read_agreement(data))
    except (InvalidInput, Conflict) as error:
        context = _form_context(agreement, [], dict(data), error)
        return render(request, FORM_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/contrats/{ident}", flash="contrat_modifie")


# --- state, parties, deliberations, signatures -------------------------------------------------------------


@post("/contrats/{agreement_id:str}/etat", name="agreement_state")
async def agreement_state(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template | Redirect:
    """Fields: status, comment, version."""
    ident = parse_id(agreement_id)
    await reading.editable_agreement(viewer, ident, refused=MAY_NOT_CHANGE_STATE)
    data = await request.form()
    submitted = {"status": str(data.get("status", ""))[:30], "comment": str(data.get("comment", ""))[:2000]}
    try:
        change = read_state_change(data)
        await change_agreement_state(viewer, ident, change.status, change.comment, change.version)
    except SHOWN_IN_PAGE as error:
        return await _agreement_page(request, viewer, ident, error=error, error_target="etat", submitted=submitted)
    return redirect(f"/contrats/{ident}", flash="contrat_etat")


@get("/contrats/{agreement_id:str}/parties", name="agreement_parties")
async def agreement_parties(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template:
    """Add or remove parties; `q` searches territories by name or SIREN."""
    agreement = await reading.editable_agreement(viewer, parse_id(agreement_id), refused=MAY_NOT_CHANGE_PARTIES)
    search = forms.read_party_search(request.query_params)
    return render(request, PARTIES_TEMPLATE, await _parties_context(agreement, search))


async def _parties_context(agreement: dict, search: str, error: DomainError | None = None) -> dict:
    drafting = agreement["state"] in DRAFTING
    return {
        "agreement": agreement,
        "q": search,
        "results": await parties.search_territories(agreement, search) if drafting else [],
        "drafting": drafting,
        "error": error,
        "witness_kinds": WITNESS_KINDS,
    }


@post("/contrats/{agreement_id:str}/parties", name="agreement_party_add")
async def agreement_party_add(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(agreement_id)
    await reading.editable_agreement(viewer, ident, DRAFTING)  # who may, before what was sent
    data = await request.form()
    try:
        await parties.add_party(viewer, ident, *forms.read_party(data))
    except InvalidInput as error:
        agreement = await reading.agreement_for(viewer, ident)
        context = await _parties_context(agreement, forms.kept_search(data), error)
        return render(request, PARTIES_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/contrats/{ident}/parties", flash="partie_ajoutee")


@post("/contrats/{agreement_id:str}/parties/{party_id:str}/retirer", name="agreement_party_remove")
async def agreement_party_remove(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                                 party_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(agreement_id)
    try:
        await parties.remove_party(viewer, ident, parse_id(party_id))
    except InvalidInput as error:
        agreement = await reading.agreement_for(viewer, ident)
        context = await _parties_context(agreement, "", error)
        return render(request, PARTIES_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/contrats/{ident}/parties", flash="partie_retiree")


@post("/contrats/{agreement_id:str}/parties/{party_id:str}/deliberation", name="agreement_deliberation")
async def agreement_deliberation(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                                 party_id: FromPath[str]) -> Template | Redirect:
    """Fields: deliberation_on, deliberation_ref, version."""
    ident, party = parse_id(agreement_id), parse_id(party_id)
    data = await request.form()
    try:
        await parties.deliberating_party(viewer, ident, party)  # who may, before what was sent
        await parties.record_deliberation(viewer, ident, party, *forms.read_deliberation(data))
    except SHOWN_IN_PAGE as error:
        return await _agreement_page(request, viewer, ident, error=error, error_target=f"deliberation-{party}",
                                     submitted=dict(data))
    return redirect(f"/contrats/{ident}#partie-{party}", flash="deliberation")


@post("/contrats/{agreement_id:str}/parties/{party_id:str}/signature", name="agreement_signature")
async def agreement_signature(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                              party_id: FromPath[str]) -> Template | Redirect:
    """Fields: signed_on, version. Only the party's référents."""
    ident, party = parse_id(agreement_id), parse_id(party_id)
    await parties.signing_party(viewer, ident, party)  # who may, before what was sent
    data = await request.form()
    try:
        signature = forms.read_signature(data)
        await sign_for_party(viewer, ident, party, signature.signed_on, signature.version)
    except SHOWN_IN_PAGE as error:
        return await _agreement_page(request, viewer, ident, error=error, error_target=f"signature-{party}",
                                     submitted=dict(data))
    return redirect(f"/contrats/{ident}#partie-{party}", flash="signature")


# --- recording after the fact, the signed document -----------------------------------------------------------


def _record_context(agreement: dict, values: dict | None = None, error: DomainError | None = None) -> dict:
    return {
        "agreement": agreement,
        "states": RECORDABLE,
        "values": values or {},
        "errors": error.errors if error else {},
        "error": error.message if error else None,
        "today": clock.today(),
    }


@get("/contrats/{agreement_id:str}/enregistrer", name="agreement_record_form")
async def agreement_record_form(request: Request, viewer: NamedDependency[Viewer],
                                agreement_id: FromPath[str]) -> Template:
    """A draft recorded as the agreement it already is (signed, in force, expired or terminated)."""
    agreement = await recording.recordable_agreement(viewer, parse_id(agreement_id))
    return render(request, RECORD_TEMPLATE, _record_context(agreement))


@post("/contrats/{agreement_id:str}/enregistrer", name="agreement_record")
async def agreement_record(request: Request, viewer: NamedDependency[Viewer],
                           agreement_id: FromPath[str]) -> Template | Redirect:
    """Fields: state, in_force_on, ends_on, terminated_on, reason, signing_place, document_ref, document_url,
    partie_<id>_deliberation_on, _deliberation_ref, _signed_on, version."""
    ident = parse_id(agreement_id)
    agreement = await recording.recordable_agreement(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        values, version = forms.read_recording(data, [p["id"] for p in agreement["signatories"]])
        await recording.record_signed_agreement(viewer, ident, values, version)
    except (InvalidInput, Conflict) as error:
        return render(request, RECORD_TEMPLATE, _record_context(agreement, dict(data), error),
                      status_code=error.status_code)
    return redirect(f"/contrats/{ident}", flash="contrat_enregistre")


@post("/contrats/{agreement_id:str}/document", name="agreement_document")
async def agreement_document(request: Request, viewer: NamedDependency[Viewer],
                             agreement_id: FromPath[str]) -> Template | Redirect:
    """Fields: signing_place, document_ref, document_url, version."""
    ident = parse_id(agreement_id)
    await reading.editable_agreement(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        await text.update_document(viewer, ident, *forms.read_document(data))
    except SHOWN_IN_PAGE as error:
        return await _agreement_page(request, viewer, ident, error=error, error_target="document",
                                     submitted=dict(data))
    return redirect(f"/contrats/{ident}#document", flash="document_modifie")


# --- linked actions and review dates -----------------------------------------------------------------------


@post("/contrats/{agreement_id:str}/actions", name="agreement_action_link")
async def agreement_action_link(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(agreement_id)
    data = await request.form()
    try:
        # who may, before what was sent
        await reading.editable_agreement(viewer, ident, reading.OPEN, reading.CLOSED_AGREEMENT)
        await linked_actions.link_action(viewer, ident, forms.read_linked_action(data))
    except SHOWN_IN_PAGE as error:
        return await _agreement_page(request, viewer, ident, error=error, error_target="actions", submitted=dict(data))
    return redirect(f"/contrats/{ident}#actions-liees", flash="action_liee")


@post("/contrats/{agreement_id:str}/actions/{action_id:str}/retirer", name="agreement_action_unlink")
async def agreement_action_unlink(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                                  action_id: FromPath[str]) -> Redirect:
    ident = parse_id(agreement_id)
    await linked_actions.unlink_action(viewer, ident, parse_id(action_id))
    return redirect(f"/contrats/{ident}#actions-liees", flash="action_deliee")


@post("/contrats/{agreement_id:str}/revues", name="agreement_review_add")
async def agreement_review_add(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template | Redirect:
    """Fields: review_on, review_title."""
    ident = parse_id(agreement_id)
    data = await request.form()
    try:
        # who may, before what was sent
        await reading.editable_agreement(viewer, ident, reading.OPEN, reading.CLOSED_AGREEMENT)
        await reviews.add_review(viewer, ident, forms.read_review(data))
    except SHOWN_IN_PAGE as error:
        return await _agreement_page(request, viewer, ident, error=error, error_target="revues", submitted=dict(data))
    return redirect(f"/contrats/{ident}#revues", flash="revue_ajoutee")


@post("/contrats/{agreement_id:str}/revues/{review_id:str}/supprimer", name="agreement_review_delete")
async def agreement_review_delete(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str],
                                  review_id: FromPath[str]) -> Redirect:
    ident = parse_id(agreement_id)
    await reviews.delete_review(viewer, ident, parse_id(review_id))
    return redirect(f"/contrats/{ident}#revues", flash="revue_supprimee")


# --- obligations -------------------------------------------------------------------------------------------


def _owner_of(values: dict, obligation: dict | None) -> int | None:
    """The party that brings, as the form stands (what was sent, else the obligation's), if it is a number."""
    sent = str(values.get("owner", ""))
    if sent.isascii() and sent.isdigit() and len(sent) <= 10:
        return int(sent)
    return obligation["owner"] if obligation else None


async def _obligation_form_context(agreement: dict, obligation: dict | None, values: dict | None = None,
                                   error: DomainError | None = None) -> dict:
    values = values or {}
    return {
        "agreement": agreement,
        "obligation": obligation,
        **await obligations.obligation_form_choices(agreement, _owner_of(values, obligation)),
        "values": values or {},
        "errors": error.errors if error else {},
        "error": error.message if error else None,
    }


@get("/contrats/{agreement_id:str}/obligations/nouvelle", name="obligation_new")
async def obligation_new(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template:
    """`partie` preselects the party that brings (« Ajouter ce qu’apporte X »); htmx asks for the « Au bénéfice de »
    field again (`owner`) when the party changes."""
    agreement = await reading.editable_agreement(viewer, parse_id(agreement_id), DRAFTING)
    values = forms.read_obligation_preset(request.query_params)
    return render(request, OBLIGATION_FORM_TEMPLATE, await _obligation_form_context(agreement, None, values),
                  blocks=["beneficiary_field"])


@post("/contrats/{agreement_id:str}/obligations/nouvelle", name="obligation_create")
async def obligation_create(request: Request, viewer: NamedDependency[Viewer], agreement_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(agreement_id)
    # who may, before what was sent
    agreement = await reading.editable_agreement(viewer, ident, DRAFTING, refused=obligations.MAY_NOT_ADD)
    data = await request.form()
    try:
        new_id = await obligations.create_obligation(viewer, ident, forms.read_obligation(data)[0])
    except InvalidInput as error:
        context = await _obligation_form_context(agreement, None, dict(data), error)
        return render(request, OBLIGATION_FORM_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/contrats/{ident}#obligation-{new_id}", flash="obligation_creee")


async def _obligation_context(viewer: Viewer, obligation_id: int) -> dict:
    obligation = await obligations.obligation_for(viewer, obligation_id)
    agreement = obligation["agreement_row"]
    return {
        "obligation": obligation,
        "agreement": agreement,
        "history": await entries_for("obligation", obligation_id),
        "can_follow_up": viewer.can_edit_territory(obligation["owner_territory"]) and agreement["state"] in FOLLOW_UP,
        "can_edit_text": viewer.can_edit_agreement(agreement["party_territories"]) and agreement["state"] in DRAFTING,
    }


@get("/obligations/{obligation_id:str}", name="obligation")
async def obligation_page(request: Request, viewer: NamedDependency[Viewer], obligation_id: FromPath[str]) -> Template:
    return render(request, OBLIGATION_TEMPLATE, await _obligation_context(viewer, parse_id(obligation_id)))


@post("/obligations/{obligation_id:str}/statut", name="obligation_status")
async def obligation_status(request: Request, viewer: NamedDependency[Viewer], obligation_id: FromPath[str]) -> Template | Redirect:
    """Fields: status, comment, version; `contexte` (contrat|obligation) says which page the form is on."""
    ident = parse_id(obligation_id)
    data = await request.form()
    from_agreement = data.get("contexte") == "contrat"
    change = StateChangeInput(status=str(data.get("status", ""))[:30], comment=str(data.get("comment", ""))[:2000],
                              version=None)
    error: DomainError | None = None
    try:
        await followable_obligation(viewer, ident)  # who may, before what was sent
        change = read_state_change(data)
        await change_obligation_status(viewer, ident, change.status, change.comment, change.version)
    except DomainError as caught:
        if caught.status_code == 404 or not (is_htmx(request) or caught.status_code in (409, 422)):
            raise
        error = caught
    submitted = {"status": change.status, "comment": change.comment}
    if not is_htmx(request) and error is None:
        obligation = await obligations.obligation_for(viewer, ident)
        back = f"/contrats/{obligation['agreement']}#obligation-{ident}" if from_agreement else f"/obligations/{ident}"
        return redirect(back, flash="obligation_statut")
    if from_agreement and is_htmx(request):
        obligation = await obligations.obligation_for(viewer, ident)
        context = await _agreement_context(viewer, obligation["agreement"])
        owner = next(p for p in context["agreement"]["parties"] if p["id"] == obligation["owner"])
        row = next(o for o in context["balance"]["by_party"][owner["id"]] if o["id"] == ident)
        group = next(g for g in context["balance"]["themes"] if g["key"] == row["theme_key"])
        cell = next(c for c in group["sides"] if c["party"]["id"] == owner["id"])
        context.update(o=row, party=owner, group=group, cell=cell, oob=True, row_error=error,
                       row_saved=error is None, submitted=submitted)
        blocks = ["obligation_item"] if error else ["obligation_item", "balance_summary", "theme_progress"]
        return render(request, AGREEMENT_TEMPLATE, context, blocks=blocks,
                      status_code=error.status_code if error else 200)
    context = await _obligation_context(viewer, ident)
    context.update(status_error=error, status_saved=error is None, oob=True, submitted=submitted)
    return render(request, OBLIGATION_TEMPLATE, context, blocks=["status_panel", "history"],
                  status_code=error.status_code if error else 200)


@get("/obligations/{obligation_id:str}/modifier", name="obligation_edit")
async def obligation_edit(request: Request, viewer: NamedDependency[Viewer], obligation_id: FromPath[str]) -> Template:
    obligation = await obligations.editable_obligation(viewer, parse_id(obligation_id))
    context = await _obligation_form_context(obligation["agreement_row"], obligation,
                                             forms.read_obligation_preset(request.query_params))
    return render(request, OBLIGATION_FORM_TEMPLATE, context, blocks=["beneficiary_field"])


@post("/obligations/{obligation_id:str}/modifier", name="obligation_update")
async def obligation_update(request: Request, viewer: NamedDependency[Viewer], obligation_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(obligation_id)
    obligation = await obligations.editable_obligation(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        agreement_id = await obligations.update_obligation(viewer, ident, *forms.read_obligation(data))
    except (InvalidInput, Conflict) as error:
        context = await _obligation_form_context(obligation["agreement_row"], obligation, dict(data), error)
        return render(request, OBLIGATION_FORM_TEMPLATE, context, status_code=error.status_code)
    return redirect(f"/contrats/{agreement_id}#obligation-{ident}", flash="obligation_modifiee")


@post("/obligations/{obligation_id:str}/supprimer", name="obligation_delete")
async def obligation_delete(request: Request, viewer: NamedDependency[Viewer], obligation_id: FromPath[str]) -> Redirect:
    ident = parse_id(obligation_id)
    await obligations.editable_obligation(viewer, ident)  # who may, before what was sent
    agreement_id = await obligations.delete_obligation(viewer, ident, forms.read_version(await request.form()))
    return redirect(f"/contrats/{agreement_id}#bilan", flash="obligation_supprimee")


ROUTES = [
    agreements_page,
    agreement_new,
    agreement_create,
    agreement_page,
    agreement_edit,
    agreement_update,
    agreement_state,
    agreement_parties,
    agreement_party_add,
    agreement_party_remove,
    agreement_deliberation,
    agreement_signature,
    agreement_action_link,
    agreement_action_unlink,
    agreement_review_add,
    agreement_review_delete,
    obligation_new,
    obligation_create,
    obligation_page,
    obligation_status,
    obligation_edit,
    obligation_update,
    obligation_delete,
    agreement_record_form,
    agreement_record,
    agreement_document,
    *amendment_routes.ROUTES,
]
