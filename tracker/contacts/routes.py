"""Partners' contacts. HTTP only: the rules live in service.py and core/permissions.py."""
from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tracker.contacts import forms
from tracker.contacts import service as contacts
from tracker.core.errors import Conflict, InvalidInput, NotFound
from tracker.core.http import local_path, parse_id, redirect, render
from tracker.core.permissions import Viewer

NO_STORE = {"Cache-Control": "no-store"}


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
    partner = await contacts.partner_for_contacts(viewer, parse_id(partner_id))
    back = local_path(retour, "")
    return render(request, "partners/contact_form.html", _contact_context(partner, None, back=back))


@post("/partenaires/{partner_id:str}/contacts/nouveau", name="contact_create")
async def contact_create(request: Request, viewer: NamedDependency[Viewer], partner_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(partner_id)
    partner = await contacts.partner_for_contacts(viewer, ident)  # who may, before what was sent
    data = await request.form()
    back = local_path(str(data.get("retour", "")), f"/partenaires/{ident}#contacts")
    try:
        await contacts.add_contact(viewer, ident, forms.read_contact(data))
    except InvalidInput as error:
        context = _contact_context(partner, None, dict(data), error, back=str(data.get("retour", "")))
        return render(request, "partners/contact_form.html", context, status_code=error.status_code)
    return redirect(back, flash="contact_ajoute")


@get("/contacts/{contact_id:str}/modifier", name="contact_edit")
async def contact_edit(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template:
    contact = await contacts.managed_contact(viewer, parse_id(contact_id))
    if contact["erased_at"] is not None:
        raise NotFound(contacts.NOT_FOUND)
    return render(request, "partners/contact_form.html", _contact_context(contact["partner_obj"], contact))


@post("/contacts/{contact_id:str}/modifier", name="contact_update")
async def contact_update(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(contact_id)
    await contacts.managed_contact(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        values, version = forms.read_rectification(data)
        contact = await contacts.update_contact(viewer, ident, values, version)
    except (InvalidInput, Conflict) as error:
        contact = await contacts.managed_contact(viewer, ident)
        context = _contact_context(contact["partner_obj"], contact, dict(data), error)
        return render(request, "partners/contact_form.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{contact['partner']}#contacts", flash="contact_modifie")


@get("/contacts/{contact_id:str}/export", name="contact_export")
async def contact_export(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Response:
    ident = parse_id(contact_id)
    await contacts.managed_contact(viewer, ident)  # who may, before what was asked
    format = forms.read_export_format(request.query_params)
    data = await contacts.export_data(viewer, ident)
    if format == "csv":
        body, media, ext = contacts.export_csv(data), "text/csv", "csv"  # Litestar adds the charset
    else:
        body, media, ext = contacts.export_json(data), "application/json; charset=utf-8", "json"
    return Response(
        content=body,
        media_type=media,
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="contact-{ident}.{ext}"'},
    )


@get("/contacts/{contact_id:str}/effacer", name="contact_erase_page")
async def contact_erase_page(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template:
    contact = await contacts.managed_contact(viewer, parse_id(contact_id))
    if contact["erased_at"] is not None:
        raise NotFound(contacts.NOT_FOUND)
    return render(request, "partners/contact_erase.html", {"contact": contact, "partner": contact["partner_obj"]})


@post("/contacts/{contact_id:str}/effacer", name="contact_erase")
async def contact_erase(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Template | Redirect:
    ident = parse_id(contact_id)
    await contacts.managed_contact(viewer, ident)  # who may, before what was sent
    data = await request.form()
    try:
        contact = await contacts.erase_contact(viewer, ident, forms.read_erasure(data))
    except (InvalidInput, Conflict) as error:
        contact = await contacts.managed_contact(viewer, ident)
        context = {"contact": contact, "partner": contact["partner_obj"], "error": error.message,
                   "errors": error.errors}
        return render(request, "partners/contact_erase.html", context, status_code=error.status_code)
    return redirect(f"/partenaires/{contact['partner']}#contacts", flash="contact_efface")


@post("/contacts/{contact_id:str}/compte", name="contact_account")
async def contact_account(request: Request, viewer: NamedDependency[Viewer], contact_id: FromPath[str]) -> Redirect:
    ident = parse_id(contact_id)
    await contacts.managed_contact(viewer, ident)  # who may, before what was sent
    operation = forms.read_account_operation(await request.form())
    contact = await contacts.set_account(viewer, ident, operation)
    flash = "contact_delie" if operation == "delier" else "contact_relie"
    return redirect(f"/partenaires/{contact['partner']}#contacts", flash=flash)



ROUTES = [
    contact_new,
    contact_create,
    contact_edit,
    contact_update,
    contact_export,
    contact_erase_page,
    contact_erase,
    contact_account,
]
