from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from tracker.core.errors import InvalidInput
from tracker.core.guards import administrators_only
from tracker.core.http import redirect, render
from tracker.core.permissions import Viewer
from tracker.territories.forms import read_other_body
from tracker.territories.reference import KIND_LABELS, OTHER_KINDS, departements, regions
from tracker.territories.service import REFUSED, create_other_body


def _other_body_context(values: dict | None = None, errors: dict | None = None) -> dict:
    return {
        "kinds": {k: KIND_LABELS[k] for k in OTHER_KINDS},
        "departements": departements(),
        "regions": regions(),
        "values": values or {},
        "errors": errors or {},
    }


@get("/territoires/nouveau", name="territory_new", guards=[administrators_only], opt={"refusal": REFUSED})
async def territory_new(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    return render(request, "territories/new.html", _other_body_context())


@post("/territoires/nouveau", name="territory_create", guards=[administrators_only], opt={"refusal": REFUSED})
async def territory_create(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    data = await request.form()
    try:
        siren = await create_other_body(viewer, read_other_body(data))
    except InvalidInput as error:
        context = _other_body_context(dict(data), error.errors) | {"error": error.message}
        return render(request, "territories/new.html", context, status_code=error.status_code)
    return redirect(f"/territoires/{siren}", flash="territoire")


ROUTES = [territory_new, territory_create]
