from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.core.errors import InvalidInput
from tracker.core.guards import administrators_only
from tracker.core.http import redirect, render
from tracker.core.permissions import Viewer
from tracker.territories.forms import read_other_body, read_territory
from tracker.territories.reference import KIND_LABELS, OTHER_KINDS, departements, regions
from tracker.territories.service import EDIT_REFUSED, REFUSED, create_other_body, territory_for, update_territory


def _other_body_context(values: dict | None = None, errors: dict | None = None, *, any_kind: bool = False) -> dict:
    return {
        "kinds": KIND_LABELS if any_kind else {k: KIND_LABELS[k] for k in OTHER_KINDS},
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


def _edit_values(territory: dict) -> dict:
    """The form as the territory stands: codes comma-separated, population the French way."""
    population = territory["population"]
    return territory | {
        "departements": ", ".join(c for c in (territory["departements"] or territory["departement"]).split(",") if c),
        "regions": ", ".join(c for c in (territory["regions"] or territory["region"]).split(",") if c),
        "population": "" if population is None else f"{population:,}".replace(",", "\u202f"),
    }


@get("/territoires/{siren:str}/modifier", name="territory_edit", guards=[administrators_only],
     opt={"refusal": EDIT_REFUSED})
async def territory_edit(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template:
    territory = await territory_for(viewer, siren)
    context = _other_body_context(_edit_values(territory), any_kind=True) | {"territory": territory}
    return render(request, "territories/edit.html", context)


@post("/territoires/{siren:str}/modifier", name="territory_update", guards=[administrators_only],
      opt={"refusal": EDIT_REFUSED})
async def territory_update(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]
                           ) -> Template | Redirect:
    territory = await territory_for(viewer, siren)
    data = await request.form()
    try:
        new_siren = await update_territory(viewer, siren, read_territory(data, any_kind=True))
    except InvalidInput as error:
        context = _other_body_context(dict(data), error.errors, any_kind=True) | {
            "error": error.message, "territory": territory}
        return render(request, "territories/edit.html", context, status_code=error.status_code)
    return redirect(f"/territoires/{new_siren}", flash="territoire_modifie")


ROUTES = [territory_new, territory_create, territory_edit, territory_update]
