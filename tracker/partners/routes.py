"""Partner directory and contacts. HTTP only: the rules live in service.py, contacts.py and accounts/permissions.py."""
from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tracker.accounts.permissions import Viewer
from tracker.accounts.tables import User
from tracker.commitments.service import partner_commitments
from tracker.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.partners import contacts, service
from tracker.partners.kinds import LEGAL_FORMS, SECTOR_LABELS
from tracker.territories.tables import Territory
from tracker.web.pages import local_path, parse_id, redirect, render, require_user

NO_STORE = {"Cache-Control": "no-store"}


@get("/partenaires", name="partners")
async def partners(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    require_user(viewer)
    listing = await service.directory(viewer, request.query_params)
    return render(request, "partners/list.html", {"listing": listing, "sectors": SECTOR_LABELS}, blocks=["results"])


async def _form_context(viewer: Viewer, partner: dict | None, values: dict | None = None,
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
        "candidates": getattr(error, "candidates", []),
        "by_name": getattr(error, "by_name", False),
        "territory_choices": await service.territory_choices(viewer, partner),
        "managed": managed_rows,
        "legal_forms": LEGAL_FORMS,
        "sectors": SECTOR_LABELS,
    }


@get("/partenaires/nouveau", name="partner_new")
async def partner_new(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    require_user(viewer)
    if not viewer.can_create_partners():
        raise Forbidden("Seuls les référents des territoires et les administrateurs ajoutent des partenaires.")
    return render(request, "partners/form.html", await _form_context(viewer, None))


@post("/partenaires/nouveau", name="partner_create")
async def partner_create(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    require_user(viewer)
    data = await request.form()
    try:
        partner_id = await service.create_partner(viewer, data)
    except InvalidInput as error:
        context = await _form_context(viewer, None, dict(data), error)
        return render(request, "partners/form.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{partner_id}", flash="partenaire_cree")


@get("/partenaires/{partner_id:str}", name="partner")
async def partner_page(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template:
    require_user(viewer)
    partner = await service.partner_for(viewer, parse_id(partner_id))
    shown_contacts = []
    with_account: set[str] = set()
    if viewer.can_see_contacts(partner["id"], partner["territory_ids"]):
        shown_contacts = await service.contacts_of(partner["id"])
        emails = [c["email"] for c in shown_contacts if c["email"]]
        if emails:
            with_account = {u["email"] for u in await User.select(User.email).where(
                User.email.is_in(emails) & User.is_active.eq(True))}
    return render(request, "partners/detail.html", {
        "partner": partner,
        "contacts": shown_contacts,
        "with_account": with_account,
        "can_manage": viewer.can_manage_partner(partner["territory_ids"]),
        "can_add_contacts": viewer.can_add_contacts(partner["territory_ids"]),
        "commitments": await partner_commitments(viewer, partner["id"]),
    })


@get("/partenaires/{partner_id:str}/modifier", name="partner_edit")
async def partner_edit(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template:
    require_user(viewer)
    partner = await service.partner_for(viewer, parse_id(partner_id))
    if not viewer.can_manage_partner(partner["territory_ids"]):
        raise Forbidden("Seuls les référents des territoires de ce partenaire et les administrateurs le modifient.")
    return render(request, "partners/form.html", await _form_context(viewer, partner))


@post("/partenaires/{partner_id:str}/modifier", name="partner_update")
async def partner_update(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template | Redirect:
    require_user(viewer)
    ident = parse_id(partner_id)
    data = await request.form()
    try:
        await service.update_partner(viewer, ident, data)
    except (InvalidInput, Conflict) as error:
        partner = await service.partner_for(viewer, ident)
        context = await _form_context(viewer, partner, dict(data), error)
        return render(request, "partners/form.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{ident}", flash="partenaire_modifie")


@post("/partenaires/{partner_id:str}/rattacher", name="partner_attach")
async def partner_attach(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Redirect:
    require_user(viewer)
    ident = parse_id(partner_id)
    await service.attach_partner(viewer, ident, await request.form())
    return redirect(f"/partenaires/{ident}", flash="partenaire_rattache")


# --- contacts ---------------------------------------------------------------------------------------------


def _contact_context(partner: dict, contact: dict | None, values: dict | None = None,
                     error: InvalidInput | None = None, back: str = "") -> dict:
    return {
        "partner": partner,
        "contact": contact,
        "values": values or {},
        "errors": error.errors if error else {},
        "error": error.message if error else None,
        "purpose": contacts.PURPOSE,
        "back": back,
    }


@get("/partenaires/{partner_id:str}/contacts/nouveau", name="contact_new")
async def contact_new(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str],
                      retour: FromQuery[str | None] = None) -> Template:
    require_user(viewer)
    partner = await service.partner_for(viewer, parse_id(partner_id))
    if not viewer.can_add_contacts(partner["territory_ids"]):
        raise Forbidden("Seuls les éditeurs et référents des territoires de ce partenaire ajoutent des contacts.")
    back = local_path(retour, "")
    return render(request, "partners/contact_form.html", _contact_context(partner, None, back=back))


@post("/partenaires/{partner_id:str}/contacts/nouveau", name="contact_create")
async def contact_create(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template | Redirect:
    require_user(viewer)
    ident = parse_id(partner_id)
    data = await request.form()
    back = local_path(str(data.get("retour", "")), f"/partenaires/{ident}#contacts")
    try:
        await contacts.add_contact(viewer, ident, data)
    except InvalidInput as error:
        partner = await service.partner_for(viewer, ident)
        context = _contact_context(partner, None, dict(data), error, back=str(data.get("retour", "")))
        return render(request, "partners/contact_form.html", context, status_code=error.status_code)
    return redirect(back, flash="contact_ajoute")


@get("/contacts/{contact_id:str}/modifier", name="contact_edit")
async def contact_edit(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template:
    require_user(viewer)
    contact = await contacts.managed_contact(viewer, parse_id(contact_id))
    if contact["erased_at"] is not None:
        raise NotFound(contacts.NOT_FOUND)
    return render(request, "partners/contact_form.html", _contact_context(contact["partner_obj"], contact))


@post("/contacts/{contact_id:str}/modifier", name="contact_update")
async def contact_update(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template | Redirect:
    require_user(viewer)
    ident = parse_id(contact_id)
    data = await request.form()
    try:
        contact = await contacts.update_contact(viewer, ident, data)
    except (InvalidInput, Conflict) as error:
        contact = await contacts.managed_contact(viewer, ident)
        context = _contact_context(contact["partner_obj"], contact, dict(data), error)
        return render(request, "partners/contact_form.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{contact['partner']}#contacts", flash="contact_modifie")


@get("/contacts/{contact_id:str}/export", name="contact_export")
async def contact_export(viewer: NamedDependency[Viewer], contact_id: FromPath[str],
                         format: FromQuery[str | None] = None) -> Response:
    require_user(viewer)
    ident = parse_id(contact_id)
    data = await contacts.export_data(viewer, ident)
    if format not in (None, "json", "csv"):
        error = InvalidInput("Format d’export inconnu : choisissez JSON ou CSV.")
        error.status_code = 400
        raise error
    if format == "csv":
        body, media, ext = contacts.export_csv(data), "text/csv; charset=utf-8", "csv"
    else:
        body, media, ext = contacts.export_json(data), "application/json; charset=utf-8", "json"
    return Response(
        content=body,
        media_type=media,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="contact-{ident}.{ext}"'},
    )


@get("/contacts/{contact_id:str}/effacer", name="contact_erase_page")
async def contact_erase_page(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template:
    require_user(viewer)
    contact = await contacts.managed_contact(viewer, parse_id(contact_id))
    if contact["erased_at"] is not None:
        raise NotFound(contacts.NOT_FOUND)
    return render(request, "partners/contact_erase.html", {"contact": contact, "partner": contact["partner_obj"]})


@post("/contacts/{contact_id:str}/effacer", name="contact_erase")
async def contact_erase(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template | Redirect:
    require_user(viewer)
    ident = parse_id(contact_id)
    try:
        contact = await contacts.erase_contact(viewer, ident, await request.form())
    except (InvalidInput, Conflict) as error:
        contact = await contacts.managed_contact(viewer, ident)
        context = {"contact": contact, "partner": contact["partner_obj"], "error": error.message,
                   "errors": error.errors}
        return render(request, "partners/contact_erase.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{contact['partner']}#contacts", flash="contact_efface")


@post("/contacts/{contact_id:str}/compte", name="contact_account")
async def contact_account(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Redirect:
    require_user(viewer)
    data = await request.form()
    contact = await contacts.set_account(viewer, parse_id(contact_id), data)
    flash = "contact_delie" if data.get("operation") == "delier" else "contact_relie"
    return redirect(f"/partenaires/{contact['partner']}#contacts", flash=flash)


ROUTES = [
    partners,
    partner_new,
    partner_create,
    partner_page,
    partner_edit,
    partner_update,
    partner_attach,
    contact_new,
    contact_create,
    contact_edit,
    contact_update,
    contact_export,
    contact_erase_page,
    contact_erase,
    contact_account,
]
