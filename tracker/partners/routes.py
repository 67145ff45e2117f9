"""The partner directory. HTTP only: the rules live in service.py and core/permissions.py."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.core.errors import InvalidInput
from tracker.core.http import parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.core.forms import read_state_change
from tracker.partners import attachments, forms, service
from tracker.partners.kinds import LEGAL_FORMS, SECTOR_LABELS
from tracker.territories.tables import Territory

NO_STORE = {"Cache-Control": "no-store"}


@get("/partenaires", name="partners")
async def partners(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    listing = await service.directory(viewer, forms.read_directory_query(request.query_params))
    return render(request, "partners/list.html", {"listing": listing, "sectors": SECTOR_LABELS}, blocks=["results"])


async def form_context(viewer: Viewer, partner: dict | None, values: dict | None = None,
                        error: InvalidInput | None = None) -> dict:
    managed = viewer.managed_territories()
    managed_rows = (
        await Territory.select(Territory.id, Territory.name).where(Territory.id.is_in(managed)).order_by(Territory.name)
        if managed else []
    )
    return {
        "partner": partner,
        "values": values or {},
        "errors": error.errors if error else {},
        "error": error.message if error else None,
        # Each offered duplicate carries a proof that it was offered to this person: they may ask to work with it.
        "candidates": [{**c, "proof": attachments.candidate_proof(viewer, c["id"])}
                       for c in getattr(error, "candidates", [])],
        "by_name": getattr(error, "by_name", False),
        "territory_choices": await service.territory_choices(viewer, partner),
        "managed": managed_rows,
        "legal_forms": LEGAL_FORMS,
        "sectors": SECTOR_LABELS,
    }


@get("/partenaires/nouveau", name="partner_new")
async def partner_new(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    service.require_partner_creator(viewer)
    return render(request, "partners/form.html", await form_context(viewer, None))


@post("/partenaires/nouveau", name="partner_create")
async def partner_create(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    service.require_partner_creator(viewer)  # who may, before what was sent
    data = await request.form()
    try:
        partner_id = await service.create_partner(viewer, forms.read_partner(data))
    except InvalidInput as error:
        context = await form_context(viewer, None, dict(data), error)
        return render(request, "partners/form.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{partner_id}", flash="partenaire_cree")


@get("/partenaires/{partner_id:str}/modifier", name="partner_edit")
async def partner_edit(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template:
    partner = await service.editable_partner(viewer, parse_id(partner_id))
    return render(request, "partners/form.html", await form_context(viewer, partner))


@post("/partenaires/{partner_id:str}/rattacher", name="partner_attach")
async def partner_attach(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Redirect:
    """Ask for a territory to work with the partner: attached at once by someone who already keeps the partner,
    else a request its territories answer. An id one may not ask about is not found, whether it exists or not."""
    ident = parse_id(partner_id)
    service.require_partner_creator(viewer)  # who may, before what was sent
    attachment = forms.read_attachment(await request.form())
    if await attachments.request_attachment(viewer, ident, attachment.territory, attachment.proof):
        return redirect(f"/partenaires/{ident}", flash="partenaire_rattache")
    return redirect("/partenaires", flash="rattachement_demande")


@post("/rattachements/{request_id:str}/etat", name="attachment_answer")
async def attachment_answer(request: Request, viewer: NamedDependency[Viewer], request_id: FromPath[str]) -> Redirect:
    """Accept or refuse a request (status, comment, version): the partner's référents and administrators."""
    ident = parse_id(request_id)
    row = await attachments.answerable_request(viewer, ident)  # who may, before what was sent
    change = read_state_change(await request.form())
    await attachments.answer(viewer, ident, change.status, change.comment, change.version)
    flash = "rattachement_accepte" if change.status == "accepte" else "rattachement_refuse"
    return redirect(f"/partenaires/{row['partner']}#rattachements", flash=flash)


ROUTES = [partners, partner_new, partner_create, partner_edit, partner_attach, attachment_answer]
