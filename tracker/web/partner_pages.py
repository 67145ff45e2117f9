"""A partner's page (its contacts, its commitments) and its edit, composed above partners and commitments."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.accounts.tables import User
from tracker.commitments.service import has_open_commitments, partner_commitments
from tracker.core.errors import Conflict, InvalidInput
from tracker.core.http import parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.partners import attachments, service
from tracker.partners.forms import read_partner_edit
from tracker.partners.routes import form_context


@get("/partenaires/{partner_id:str}", name="partner")
async def partner_page(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template:
    partner = await service.partner_for(viewer, parse_id(partner_id))
    shown_contacts = []
    with_account: set[str] = set()
    if viewer.can_see_contacts(partner["id"], partner["territory_ids"]):
        shown_contacts = await service.contacts_of(partner["id"])
        emails = [c["email"] for c in shown_contacts if c["email"]]
        if emails:
            with_account = {u["email"] for u in await User.select(User.email).where(
                User.email.is_in(emails) & User.is_active.eq(True))}
    can_manage = viewer.can_manage_partner(partner["territory_ids"])
    return render(request, "partners/detail.html", {
        "partner": partner,
        "attachment_requests": await attachments.pending_for(partner["id"]) if can_manage else [],
        "contacts": shown_contacts,
        "with_account": with_account,
        "can_manage": can_manage,
        "can_add_contacts": viewer.can_add_contacts(partner["territory_ids"]),
        "commitments": await partner_commitments(viewer, partner["id"]),
    })


@post("/partenaires/{partner_id:str}/modifier", name="partner_update")
async def partner_update(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(partner_id)
    await service.editable_partner(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        values, version = read_partner_edit(data)
        await service.update_partner(viewer, ident, values, version, open_commitments=has_open_commitments)
    except (InvalidInput, Conflict) as error:
        partner = await service.partner_for(viewer, ident)
        context = await form_context(viewer, partner, dict(data), error)
        return render(request, "partners/form.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{ident}", flash="partenaire_modifie")



ROUTES = [partner_page, partner_update]
