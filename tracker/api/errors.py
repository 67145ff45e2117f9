"""API errors: JSON with a French message and the right status, never an HTML page, never a 500 for bad input.

    {"erreur": {"statut": 404, "titre": "Introuvable", "message": "…", "champs": {}}}
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, TooManyRequestsException, ValidationException

from tracker.api.tokens import TokenRefused
from tracker.core.errors import DomainError

log = logging.getLogger("tracker.api")

API_PREFIX = "/api/"
REALM = "Suivi des feuilles de route"

STATUS_TEXT = {
    400: ("Requête invalide", "Paramètre de requête invalide : vérifiez l’adresse appelée."),
    401: ("Authentification requise", "Envoyez un jeton d’accès valide dans l’en-tête Authorization."),
    403: ("Accès refusé", "Votre compte n’a pas les droits nécessaires."),
    404: ("Introuvable", "Cette ressource n’existe pas ou ne vous est pas accessible."),
    405: ("Méthode non autorisée", "L’API est en lecture seule : seule la méthode GET est acceptée."),
    409: ("Conflit", "La ressource a été modifiée entre-temps."),
    413: ("Requête trop volumineuse", "La requête dépasse la taille autorisée."),
    422: ("Requête invalide", "Paramètre de requête invalide."),
    429: ("Trop de requêtes", "Trop de requêtes en peu de temps : patientez quelques minutes."),
    500: ("Erreur du serveur", "Une erreur inattendue s’est produite. Elle a été enregistrée ; réessayez plus tard."),
}


@dataclass
class Erreur:
    statut: int
    titre: str
    message: str
    champs: dict[str, str] = field(default_factory=dict)


@dataclass
class ReponseErreur:
    """Every error of the API: `erreur.message` is meant for people, `erreur.champs` names the bad parameters."""

    erreur: Erreur


def api_error(
    status_code: int,
    message: str | None = None,
    *,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    title, default = STATUS_TEXT.get(status_code, STATUS_TEXT[500 if status_code >= 500 else 400])
    body = {"erreur": {"statut": status_code, "titre": title, "message": message or default, "champs": fields or {}}}
    headers = {"Cache-Control": "no-store", **(headers or {})}
    return Response(content=body, status_code=status_code, headers=headers, media_type="application/json")


def on_token_refused(_: Request, exc: TokenRefused) -> Response:
    challenge = f'Bearer realm="{REALM}"'
    if exc.presented:
        challenge += ', error="invalid_token"'
    return api_error(401, exc.message, headers={"WWW-Authenticate": challenge})


def on_domain_error(_: Request, exc: DomainError) -> Response:
    # Bad query parameters come as BadQuery (400); anything else keeps its code (404 for what is not readable).
    return api_error(exc.status_code, exc.message, fields=exc.errors)


def on_http_exception(_: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ValidationException):
        return api_error(400)
    if isinstance(exc, TooManyRequestsException):
        headers = dict(exc.headers or {})
        reset = next((v for k, v in headers.items() if k.lower() == "ratelimit-reset"), "60")
        headers["Retry-After"] = str(max(1, int(reset)))
        return api_error(429, "Trop de requêtes pour ce jeton : attendez la fin de la minute en cours (voir "
                              "l’en-tête Retry-After).", headers=headers)
    return api_error(exc.status_code)


def on_server_error(request: Request, exc: Exception) -> Response:
    log.exception("erreur non gérée sur %s %s", request.method, request.url.path, exc_info=exc)
    return api_error(500)


EXCEPTION_HANDLERS = {
    TokenRefused: on_token_refused,
    DomainError: on_domain_error,
    NotFoundException: on_http_exception,
    ValidationException: on_http_exception,
    HTTPException: on_http_exception,
    Exception: on_server_error,
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)
