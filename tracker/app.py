"""Wiring: routes, plugins, middleware, error pages. Built once by create_app()."""
from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import Litestar, Request, Response, Router, get
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.htmx import HTMXPlugin
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from piccolo.querystring import QueryString

from tracker.accounts.routes import PUBLIC_ROUTES as ACCOUNT_PUBLIC_ROUTES
from tracker.accounts.routes import ROUTES as ACCOUNT_ROUTES
from tracker.agreements.routes import ROUTES as AGREEMENT_ROUTES
from tracker.api.errors import api_error, is_api
from tracker.api.routes import PUBLIC_ROUTES as API_PUBLIC_ROUTES
from tracker.api.routes import ROUTES as API_TOKEN_ROUTES
from tracker.api.v1.wiring import openapi_config
from tracker.api.limits import rate_limit_store
from tracker.auth.csrf import SessionBoundCSRF
from tracker.auth.guards import provide_viewer, signed_in
from tracker.commitments.routes import PUBLIC_ROUTES as COMMITMENT_PUBLIC_ROUTES
from tracker.commitments.routes import ROUTES as COMMITMENT_ROUTES
from tracker.contacts.routes import ROUTES as CONTACT_ROUTES
from tracker.core.config import ROOT, settings
from tracker.core.db import close_pool, engine, start_pool
from tracker.core.errors import DomainError, NotAuthenticated
from tracker.core.headers import security_headers
from tracker.core.http import is_htmx, render
from tracker.deadlines.routes import PUBLIC_ROUTES as DEADLINE_PUBLIC_ROUTES
from tracker.deadlines.routes import ROUTES as DEADLINE_ROUTES
from tracker.exports.routes import ROUTES as EXPORT_ROUTES
from tracker.imports.routes import ROUTES as IMPORT_ROUTES
from tracker.members.routes import PUBLIC_ROUTES as MEMBER_PUBLIC_ROUTES
from tracker.members.routes import ROUTES as MEMBER_ROUTES
from tracker.partners.routes import ROUTES as PARTNER_ROUTES
from tracker.review.exports import ROUTES as REVIEW_EXPORT_ROUTES
from tracker.review.routes import ROUTES as REVIEW_ROUTES
from tracker.roadmaps.routes import ROUTES as ROADMAP_ROUTES
from tracker.territories.routes import ROUTES as TERRITORY_ROUTES
from tracker.web.account_admin import ROUTES as ACCOUNT_ADMIN_ROUTES
from tracker.web.action_pages import ROUTES as ACTION_PAGE_ROUTES
from tracker.web.home import PUBLIC_ROUTES as HOME_ROUTES
from tracker.web.legal_pages import PUBLIC_ROUTES as LEGAL_ROUTES
from tracker.web.partner_pages import ROUTES as PARTNER_PAGE_ROUTES
from tracker.web.templating import template_config
from tracker.web.territory_pages import ROUTES as TERRITORY_PAGE_ROUTES
from tracker.review import figures as review_figures

log = logging.getLogger("tracker")

MAX_BODY_BYTES = 1024 * 1024

STATUS_TEXT = {
    400: ("Requête invalide", "La requête n’a pas pu être comprise : vérifiez l’adresse ou le formulaire."),
    401: ("Connexion requise", "Connectez-vous pour accéder à cette page."),
    403: ("Accès refusé", "Vous n’avez pas les droits nécessaires pour cette action."),
    404: ("Page introuvable", "Cette page n’existe pas ou ne vous est pas accessible."),
    405: ("Méthode non autorisée", "Cette adresse ne s’utilise pas ainsi : revenez à la page précédente."),
    409: ("Modification concurrente", "Quelqu’un d’autre a modifié cet élément : rechargez la page."),
    413: ("Envoi trop volumineux", "Les données envoyées dépassent la taille autorisée (1 Mo)."),
    422: ("Saisie à corriger", "Le formulaire contient des erreurs."),
    429: ("Trop de requêtes", "Trop de requêtes en peu de temps : patientez quelques minutes."),
    500: ("Erreur du serveur", "Une erreur inattendue s’est produite. Elle a été enregistrée ; réessayez plus tard."),
}
CSRF_MESSAGE = (
    "Le formulaire a expiré ou n’a pas été envoyé depuis ce site (jeton de sécurité absent ou invalide). "
    "Rechargez la page et recommencez."
)


@get("/healthz", name="healthz")
async def healthz() -> Response:
    db = engine()
    try:
        await db.run_querystring(QueryString("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - the health check reports, it does not raise
        log.exception("health check: database unreachable")
        database = "indisponible"
    ok = database == "ok"
    return Response(
        content={"status": "ok" if ok else "erreur", "database": database, "engine": settings.engine_name},
        status_code=200 if ok else 503,
    )


def error_page(request: Request, status_code: int, message: str | None = None, title: str | None = None) -> Response:
    if is_api(request):  # /api/: JSON even when no API route matched (unknown path, method other than GET)
        return api_error(status_code)
    default_title, default_message = STATUS_TEXT.get(status_code, STATUS_TEXT[500 if status_code >= 500 else 400])
    context = {"title": title or default_title, "message": message or default_message, "status_code": status_code}
    if is_htmx(request):
        # Shown in the page's message area rather than inside whatever element was targeted.
        response = render(request, "errors/error.html", context, blocks=["error_message"], status_code=status_code)
        response.headers.update({"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"})
        return response
    return render(request, "errors/error.html", context, status_code=status_code)


def on_domain_error(request: Request, exc: DomainError) -> Response:
    return error_page(request, exc.status_code, exc.message, exc.title)


def on_not_authenticated(request: Request, _: NotAuthenticated) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/connexion" + (f"?suivant={quote(target)}" if request.method == "GET" else "")
    if is_htmx(request):
        return Response(content="", status_code=401, headers={"HX-Redirect": location})
    return Redirect(path=location, status_code=303)


def on_http_exception(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return error_page(request, 403, CSRF_MESSAGE, "Formulaire expiré")
    if isinstance(exc, ValidationException):
        return error_page(request, 400)
    if exc.status_code == 413:  # a route that takes larger bodies (the import) says its own limit
        return error_page(request, 413, request.route_handler.opt.get("too_large"))
    return error_page(request, exc.status_code)


def on_server_error(request: Request, exc: Exception) -> Response:
    # The path is the visitor's: escaped and masked by the log formatter (tracker.core.logs), repr'd here as well.
    log.exception("erreur non gérée sur %s %r", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


async def plain_static_paths(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A static file's name never holds a control character (F9: a NUL made the file lookup fail with a 500)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in connection.scope["path"]):
        raise NotFoundException()


async def on_startup() -> None:
    await start_pool()


async def on_shutdown() -> None:
    await close_pool()


SIGNED_IN_ROUTES = [
    *TERRITORY_PAGE_ROUTES,
    *TERRITORY_ROUTES,
    *ACTION_PAGE_ROUTES,
    *ROADMAP_ROUTES,
    *REVIEW_ROUTES,
    *REVIEW_EXPORT_ROUTES,
    *AGREEMENT_ROUTES,
    *EXPORT_ROUTES,
    *IMPORT_ROUTES,
    *API_TOKEN_ROUTES,
    *PARTNER_PAGE_ROUTES,
    *PARTNER_ROUTES,
    *CONTACT_ROUTES,
    *COMMITMENT_ROUTES,
    *DEADLINE_ROUTES,
    *ACCOUNT_ROUTES,
    *ACCOUNT_ADMIN_ROUTES,
    *MEMBER_ROUTES,
]


def create_app() -> Litestar:
    review_figures.install()  # the kernel keeps the review's figures in the transaction of every change
    return Litestar(
        route_handlers=[
            healthz,
            *HOME_ROUTES,
            *ACCOUNT_PUBLIC_ROUTES,
            *COMMITMENT_PUBLIC_ROUTES,
            *API_PUBLIC_ROUTES,
            *DEADLINE_PUBLIC_ROUTES,
            *MEMBER_PUBLIC_ROUTES,
            *LEGAL_ROUTES,  # the pages public bodies must publish: anyone reads them
            # Everything else needs a signed-in person: one guard for all of them, not a check per handler.
            Router(path="/", guards=[signed_in], route_handlers=SIGNED_IN_ROUTES),
            create_static_files_router(path="/static", directories=[ROOT / "tracker" / "static"], name="static",
                                       guards=[plain_static_paths]),
        ],
        dependencies={"viewer": Provide(provide_viewer)},
        plugins=[HTMXPlugin()],
        template_config=template_config(),
        # CSRF bound to the session (tracker.auth.csrf); the API ignores cookies: bearer tokens only.
        middleware=[DefineMiddleware(SessionBoundCSRF, secret=settings.secret_key, secure=settings.secure_cookies,
                                     exclude=("/healthz", "/static/", "/api/"))],
        stores={"rate_limit": rate_limit_store()},
        exception_handlers={
            DomainError: on_domain_error,
            NotAuthenticated: on_not_authenticated,
            NotFoundException: on_http_exception,
            MethodNotAllowedException: on_http_exception,
            HTTPException: on_http_exception,
            Exception: on_server_error,
        },
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        request_max_body_size=MAX_BODY_BYTES,
        before_send=[security_headers(https=settings.secure_cookies)],  # every response, errors and files included
        openapi_config=openapi_config(),  # the JSON API's schema only, at /api/v1/schema/openapi.json
        include_in_schema=False,  # HTML pages stay out of it; the /api/v1 router opts back in
        debug=settings.debug,
    )
