"""The /api/v1 router (the viewer is the bearer token's owner, JSON errors, no-store) and the OpenAPI configuration
(the API's schema only, at /api/v1/schema/openapi.json)."""
from __future__ import annotations

from litestar import Request, Router
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag

from tracker.api.errors import EXCEPTION_HANDLERS
from tracker.api.limits import RATE_LIMIT
from tracker.api.tokens import bearer_token, viewer_for_api_token
from tracker.api.v1 import agreements, commitments, roadmaps, territories
from tracker.core.permissions import Viewer

SECURITY_NAME = "jeton"


async def provide_api_viewer(request: Request) -> Viewer:
    """Only the bearer token counts: a session cookie sent along is ignored."""
    return await viewer_for_api_token(bearer_token(request.headers.get("authorization")))


HANDLERS = [*territories.HANDLERS, *roadmaps.HANDLERS, *commitments.HANDLERS, *agreements.HANDLERS]

router = Router(
    path="/api/v1",
    route_handlers=HANDLERS,
    dependencies={"viewer": Provide(provide_api_viewer)},
    exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
    include_in_schema=True,
    middleware=[RATE_LIMIT.middleware],
    response_headers=[ResponseHeader(name="Cache-Control", value="no-store")],
    security=[{SECURITY_NAME: []}],
)

OPENAPI_PATH = "/api/v1/schema"
DESCRIPTION = """API en lecture seule du suivi des feuilles de route issues des ateliers itinérants de l’ADGCF.

- **Authentification** : en-tête `Authorization: Bearer sfr_…`, un jeton d’accès personnel créé depuis la page
  « Jetons d’accès » du site (`/compte/jetons`). Les cookies de session sont ignorés.
- **Droits** : un jeton lit exactement ce que son propriétaire lit sur le site à cet instant (ses rôles actuels ;
  un compte désactivé ou un jeton révoqué ou expiré ne donne plus accès).
- **Champs** : noms en français, sans accents. Dates `AAAA-MM-JJ` ; horodatages ISO 8601 en UTC.
- **Pagination** : `?page=` (à partir de 1) et `?par_page=` (1 à 200, 50 par défaut) ; la réponse est
  `{"page", "par_page", "total", "pages", "donnees": [...]}`.
- **Erreurs** : `{"erreur": {"statut", "titre", "message", "champs"}}` — 401 sans jeton valide (avec
  `WWW-Authenticate: Bearer`), 404 pour ce qui n’existe pas ou n’est pas accessible, 400 pour un paramètre invalide.
"""


def openapi_config() -> OpenAPIConfig:
    """The schema of the API only (the HTML site is left out), as JSON at /api/v1/schema/openapi.json."""
    return OpenAPIConfig(
        title="Suivi des feuilles de route — API",
        version="1.0.0",
        description=DESCRIPTION,
        path=OPENAPI_PATH,
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                SECURITY_NAME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="Jeton d’accès personnel « sfr_… », créé depuis la page « Jetons d’accès ».",
                )
            }
        ),
        security=[{SECURITY_NAME: []}],
        tags=[
            Tag(name="Territoires"),
            Tag(name="Feuilles de route"),
            Tag(name="Actions"),
            Tag(name="Engagements"),
            Tag(name="Contrats"),
        ],
        use_handler_docstrings=False,
    )
