from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.accounts.permissions import Viewer
from tracker.accounts.tables import Membership
from tracker.errors import Forbidden, InvalidInput
from tracker.roadmaps.service import roadmaps_of
from tracker.territories.reference import (
    KIND_LABELS,
    OTHER_KINDS,
    departements,
    regions,
)
from tracker.territories.service import (
    create_other_body,
    territory_for,
    visible_territories,
)
from tracker.web.pages import redirect, render, require_user


@get("/territoires", name="territories")
async def territories(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    require_user(viewer)
    listing = await visible_territories(viewer, request.query_params)
    return render(request, "territories/list.html", {"listing": listing}, blocks=["results"])


def _other_body_context(values: dict | None = None, errors: dict | None = None) -> dict:
    return {
        "kinds": {k: KIND_LABELS[k] for k in OTHER_KINDS},
        "departements": departements(),
        "regions": regions(),
        "values": values or {},
        "errors": errors or {},
    }


@get("/territoires/nouveau", name="territory_new")
async def territory_new(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    require_user(viewer)
    if not viewer.can_manage_territories():
        raise Forbidden("Seuls les administrateurs ajoutent des territoires.")
    return render(request, "territories/new.html", _other_body_context())


@post("/territoires/nouveau", name="territory_create")
async def territory_create(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    require_user(viewer)
    data = await request.form()
    try:
        siren = await create_other_body(viewer, data)
    except InvalidInput as error:
        context = _other_body_context(dict(data), error.errors) | {"error": error.message}
        return render(request, "territories/new.html", context, status_code=error.status_code)
    return redirect(f"/territoires/{siren}", flash="territoire")


@get("/territoires/{siren:str}", name="territory")
async def territory(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template:
    require_user(viewer)
    found = await territory_for(viewer, siren)
    members = []
    if viewer.can_manage_territory(found["id"]):
        members = await Membership.select(
            Membership.role, Membership.user.full_name.as_alias("name"), Membership.user.email.as_alias("email")
        ).where(Membership.territory == found["id"])
    return render(
        request,
        "territories/detail.html",
        {"territory": found, "roadmaps": await roadmaps_of(found["id"]), "members": members},
    )


ROUTES = [territories, territory_new, territory_create, territory]
