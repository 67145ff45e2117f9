"""Role guards that handlers declare (`guards=[administrators_only]`). They read the Viewer that the router's
`signed_in` guard (tracker.auth.guards, which runs first) put on the request, so they import no domain."""
from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from tracker.core.errors import Forbidden


async def administrators_only(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    viewer = connection.state.get("viewer")
    if viewer is None or not viewer.is_admin:
        raise Forbidden(handler.opt.get("refusal", "Cette page est réservée aux administrateurs."))


async def adgcf_only(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The network review: ADGCF reviewers and administrators."""
    viewer = connection.state.get("viewer")
    if viewer is None or not viewer.sees_all_territories:
        raise Forbidden(
            "Le pilotage du réseau est réservé aux chargés de mission de l’ADGCF et aux administrateurs."
        )
