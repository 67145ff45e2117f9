"""The home page: it sends each person to their own work."""
from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from tracker.core.permissions import Viewer
from tracker.core.config import settings
from tracker.core.http import redirect, render
from tracker.roadmaps.service import roadmaps_of
from tracker.territories.tables import Territory


@get("/", name="home")
async def home(request: Request, viewer: NamedDependency[Viewer]) -> Redirect | Template:
    if not viewer.is_authenticated:
        return redirect("/connexion")
    if viewer.has_no_role():
        # Signed in but nothing to see yet: say so, and whom to ask, instead of an empty list.
        return render(request, "no_role.html", {"contact": settings.adgcf_contact_email})
    if viewer.sees_all_territories:
        return redirect("/pilotage")
    if viewer.partner_ids and not viewer.roles:
        return redirect("/engagements")
    if len(viewer.roles) == 1 and not viewer.sees_all_territories:
        (territory_id,) = viewer.roles
        territory = await Territory.select(Territory.siren).where(Territory.id == territory_id).first()
        roadmaps = await roadmaps_of(territory_id)
        if len(roadmaps) == 1:
            return redirect(f"/feuilles-de-route/{roadmaps[0]['id']}")
        return redirect(f"/territoires/{territory['siren']}")
    return redirect("/territoires")


# Reached without a session (it sends anonymous visitors to /connexion).
PUBLIC_ROUTES = [home]
