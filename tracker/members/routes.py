"""Members and invitations. HTTP only: the rules live in service.py and invitations.py."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.accounts.service import SESSION_COOKIE, close_session, open_session
from tracker.auth.guards import administrators
from tracker.core.config import settings
from tracker.core.errors import InvalidInput
from tracker.core.http import parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.members import forms, invitations
from tracker.members import service as members
from tracker.territories.tables import Territory

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


async def _members_context(viewer: Viewer, territory: dict) -> dict:
    return {
        "territory": territory,
        "members": await members.members_of(territory["id"]),
        "invitations": await invitations.pending(territory["id"]),
        "events": await members.events_of(territory["id"]),
        "contacts": await invitations.invitable_contacts(territory["id"]),
        "roles": forms.TERRITORY_ROLES,
        "role_labels": forms.ALL_ROLE_LABELS,
        "is_admin": viewer.is_admin,
        "values": {},
        "errors": {},
        "error": None,
    }


def _members_page(request: Request, context: dict, status_code: int = 200) -> Template:
    response = render(request, "members/territory.html", context, status_code=status_code)
    response.headers.update(PRIVATE)
    return response


@get("/territoires/{siren:str}/membres", name="territory_members")
async def territory_members(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template:
    territory = await members.managed_territory(viewer, siren)
    return _members_page(request, await _members_context(viewer, territory))


@post("/territoires/{siren:str}/invitations", name="territory_invite")
async def territory_invite(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template | Redirect:
    territory = await members.managed_territory(viewer, siren)
    data = await request.form()
    try:
        role = str(data.get("role", ""))
        if role in forms.ADGCF_ROLES:  # only administrators, and never in a territory: refused by the rules
            invitations.check_may_invite(viewer, territory["id"], role)
        outcome = await invitations.invite(viewer, territory["id"], forms.read_invitation(data, forms.TERRITORY_ROLES))
    except InvalidInput as error:
        context = await _members_context(viewer, territory)
        context.update(values=dict(data), errors=error.errors, error=error.message)
        return _members_page(request, context, status_code=error.status_code)
    return redirect(f"/territoires/{siren}/membres", flash=f"membres_{outcome}")


@post("/territoires/{siren:str}/invitations/contact", name="territory_invite_contact")
async def territory_invite_contact(request: Request, viewer: NamedDependency[Viewer],
                                   siren: FromPath[str]) -> Template | Redirect:
    territory = await members.managed_territory(viewer, siren)
    data = await request.form()
    try:
        contacts = {c["id"] for c in await invitations.invitable_contacts(territory["id"])}
        outcome = await invitations.invite_contact(viewer, territory["id"],
                                                   forms.read_contact_invitation(data, contacts))
    except InvalidInput as error:
        context = await _members_context(viewer, territory)
        context.update(errors=error.errors, error=error.message)
        return _members_page(request, context, status_code=error.status_code)
    return redirect(f"/territoires/{siren}/membres", flash=f"membres_{outcome}")


@post("/territoires/{siren:str}/membres/{user_id:str}/role", name="member_role")
async def member_role(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str],
                      user_id: FromPath[str]) -> Template | Redirect:
    territory = await members.managed_territory(viewer, siren)
    ident = parse_id(user_id)
    try:
        await members.change_role(viewer, territory, ident, forms.read_role(await request.form()))
    except InvalidInput as error:
        context = await _members_context(viewer, territory)
        context.update(error=error.message)
        return _members_page(request, context, status_code=error.status_code)
    return redirect(f"/territoires/{siren}/membres", flash="membres_role")


@post("/territoires/{siren:str}/membres/{user_id:str}/retrait", name="member_remove")
async def member_remove(viewer: NamedDependency[Viewer], siren: FromPath[str], user_id: FromPath[str]) -> Redirect:
    territory = await members.managed_territory(viewer, siren)
    await members.remove_member(viewer, territory, parse_id(user_id))
    return redirect(f"/territoires/{siren}/membres", flash="membres_retrait")


async def _back(row: dict) -> str:
    if row["territory"] is None:
        return "/admin/invitations"
    territory = await Territory.select(Territory.siren).where(Territory.id == row["territory"]).first()
    return f"/territoires/{territory['siren']}/membres"


@post("/invitations/{invitation_id:str}/revocation", name="invitation_revoke")
async def invitation_revoke(viewer: NamedDependency[Viewer], invitation_id: FromPath[str]) -> Redirect:
    row = await invitations.revoke(viewer, parse_id(invitation_id))
    return redirect(await _back(row), flash="invitation_revoquee")


@post("/invitations/{invitation_id:str}/renvoi", name="invitation_resend")
async def invitation_resend(viewer: NamedDependency[Viewer], invitation_id: FromPath[str]) -> Redirect:
    row = await invitations.resend(viewer, parse_id(invitation_id))
    return redirect(await _back(row), flash="invitation_renvoyee")


async def _adgcf_context(values: dict | None = None, error: InvalidInput | None = None) -> dict:
    return {"invitations": await invitations.pending(None), "roles": forms.ADGCF_ROLES, "values": values or {},
            "errors": error.errors if error else {}, "error": error.message if error else None}


@get("/admin/invitations", name="adgcf_invitations", guards=[administrators])
async def adgcf_invitations(request: Request) -> Template:
    return render(request, "members/adgcf.html", await _adgcf_context())


@post("/admin/invitations", name="adgcf_invite", guards=[administrators])
async def adgcf_invite(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    data = await request.form()
    try:
        outcome = await invitations.invite(viewer, None, forms.read_invitation(data, forms.ADGCF_ROLES))
    except InvalidInput as error:
        return render(request, "members/adgcf.html", await _adgcf_context(dict(data), error),
                      status_code=error.status_code)
    return redirect("/admin/invitations", flash=f"membres_{outcome}")


# --- the link: no session needed, the token is the permission -------------------------------------------------


def _problem_page(request: Request, problem: invitations.InvitationProblem) -> Template:
    response = render(request, "members/problem.html", {"kind": problem.kind, "contact": settings.adgcf_contact_email},
                      status_code=problem.status_code)
    response.headers.update(PRIVATE)
    return response


def _accept_page(request: Request, token: str, invitation: dict, error: InvalidInput | None = None,
                 values: dict | None = None) -> Template:
    context = {"invitation": invitation, "token": token, "errors": error.errors if error else {},
               "error": error.message if error else None, "values": values or {}}
    response = render(request, "members/accept.html", context, status_code=error.status_code if error else 200)
    response.headers.update(PRIVATE)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@get("/invitation/{token:str}", name="invitation")
async def invitation_page(request: Request, token: FromPath[str]) -> Template:
    """Shows the invitation and the password form. Changes nothing: only the POST accepts."""
    try:
        invitation = await invitations.invitation_for_token(token)
    except invitations.InvitationProblem as problem:
        return _problem_page(request, problem)
    return _accept_page(request, token, invitation)


@post("/invitation/{token:str}", name="invitation_accept")
async def invitation_accept(request: Request, token: FromPath[str]) -> Template | Redirect:
    try:
        invitation = await invitations.invitation_for_token(token)  # the link is the permission: checked first
    except invitations.InvitationProblem as problem:
        return _problem_page(request, problem)
    data = await request.form()
    try:
        answer = forms.read_acceptance(data, needs_password=not invitation["has_account"])
        row, user = await invitations.accept(token, answer)
    except invitations.InvitationProblem as problem:
        return _problem_page(request, problem)
    except InvalidInput as error:
        values = {"nom": str(data.get("nom", ""))[:120]}
        return _accept_page(request, token, invitation, error, values)
    target = invitations.landing(row)
    if user is None:  # an existing account: signed in with its own password
        return redirect(f"/connexion?suivant={target}", flash="invitation_acceptee")
    await close_session(request.cookies.get(SESSION_COOKIE))
    response = redirect(target, flash="bienvenue")
    response.set_cookie(Cookie(key=SESSION_COOKIE, value=await open_session(user), httponly=True,
                               secure=settings.secure_cookies, samesite="lax", path="/",
                               max_age=settings.session_absolute_hours * 3600))
    return response


ROUTES = [territory_members, territory_invite, territory_invite_contact, member_role, member_remove,
          invitation_revoke, invitation_resend, adgcf_invitations, adgcf_invite]
# The invitation link answers whoever holds it: no session needed.
PUBLIC_ROUTES = [invitation_page, invitation_accept]
