"""The Viewer of each request, loaded once, and the guards that routers and handlers declare instead of checking
by hand: signed in, administrator, ADGCF reviewer."""
from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from tracker.core.permissions import Viewer
from tracker.accounts.service import SESSION_COOKIE
from tracker.auth.viewer import viewer_for_session
from tracker.core.errors import Forbidden, NotAuthenticated


async def current_viewer(connection: ASGIConnection) -> Viewer:
    """Loaded once per request and kept on the request's state (guards and handlers share it)."""
    viewer = connection.state.get("viewer")
    if viewer is None:
        viewer = await viewer_for_session(connection.cookies.get(SESSION_COOKIE))
        connection.state["viewer"] = viewer
    return viewer


async def provide_viewer(request: ASGIConnection) -> Viewer:
    """The `viewer` dependency of every handler."""
    return await current_viewer(request)


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Every page but sign-in, signed links and health: anonymous visitors are sent to /connexion."""
    if not (await current_viewer(connection)).is_authenticated:
        raise NotAuthenticated()


async def administrators(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    await signed_in(connection, handler)
    if not (await current_viewer(connection)).is_admin:
        raise Forbidden(handler.opt.get("refusal", "Cette page est réservée aux administrateurs."))


async def reviewers(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The network review: ADGCF reviewers and administrators."""
    await signed_in(connection, handler)
    if not (await current_viewer(connection)).sees_all_territories:
        raise Forbidden("Cette page est réservée à l’ADGCF (chargés de mission et administrateurs).")
