"""The « Jetons d’accès » page (signed-in users manage their own API tokens) and the /api/v1 router."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.core.permissions import Viewer
from tracker.api import forms, tokens
from tracker.api.v1.wiring import router as api_router
from tracker.core.config import settings
from tracker.core.errors import InvalidInput
from tracker.core.http import parse_id, redirect, render

TEMPLATE = "api/tokens.html"
NO_STORE = {"Cache-Control": "no-store"}


async def _context(viewer: Viewer, **extra) -> dict:
    context = {
        "tokens": await tokens.tokens_of(viewer),
        "values": {"name": "", "expires_on": forms.default_expiry().isoformat()},
        "errors": {},
        "latest_expiry": forms.latest_expiry(),
        "max_active": tokens.MAX_ACTIVE,
        "new_token": None,
        "api_base": settings.base_url + "/api/v1",
    }
    context.update(extra)
    return context


@get("/compte/jetons", name="api_tokens")
async def tokens_page(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    response = render(request, TEMPLATE, await _context(viewer))
    response.headers.update(NO_STORE)
    return response


@post("/compte/jetons", name="api_token_create")
async def token_create(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    """The new token is in this response only (never in a redirect, a cookie or a log); it is not stored."""
    data = await request.form()
    try:
        token, token_id = await tokens.create_token(viewer, forms.read_token(data))
    except InvalidInput as error:
        values = {"name": str(data.get("name", ""))[:200], "expires_on": str(data.get("expires_on", ""))[:20]}
        context = await _context(viewer, values=values, errors=error.errors, error=error.message)
        response = render(request, TEMPLATE, context, status_code=error.status_code)
    else:
        context = await _context(viewer, new_token=token, new_token_id=token_id)
        response = render(request, TEMPLATE, context, status_code=201)
    response.headers.update(NO_STORE)
    return response


@post("/compte/jetons/{token_id:str}/revoquer", name="api_token_revoke")
async def token_revoke(viewer: NamedDependency[Viewer], token_id: FromPath[str]) -> Redirect:
    await tokens.revoke_token(viewer, parse_id(token_id))
    return redirect("/compte/jetons", flash="jeton_revoque")


ROUTES = [tokens_page, token_create, token_revoke]
# Bearer tokens, not sessions: the router checks them itself.
PUBLIC_ROUTES = [api_router]
