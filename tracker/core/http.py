"""HTTP helpers every route uses: render a page or one of its blocks for htmx, redirect with a flash message,
read path ids, follow only local return paths."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from tracker.core.errors import NotFound

FLASH_COOKIE = "suivi_flash"
# Flash messages are codes, never free text, so nothing a user typed is ever echoed through a cookie.
FLASH_MESSAGES = {
    "connecte": "Vous êtes connecté.",
    "deconnecte": "Vous êtes déconnecté.",
    "statut": "Le statut de l’action a été enregistré.",
    "action_creee": "L’action a été créée.",
    "action_modifiee": "L’action a été modifiée.",
    "note": "La note de suivi a été ajoutée.",
    "atelier": "L’atelier et sa feuille de route ont été enregistrés.",
    "territoire": "Le territoire a été ajouté.",
    "territoire_modifie": "Le territoire a été modifié.",
    # mon compte, comptes
    "mot_de_passe_reinitialise": "Votre mot de passe a été changé ; toutes vos autres sessions ont été fermées.",
    "mot_de_passe_change": "Votre mot de passe a été changé ; vos autres sessions ont été fermées.",
    "nom_modifie": "Votre nom a été modifié.",
    "session_terminee": "La session a été fermée.",
    "session_inconnue": "Cette session était déjà fermée.",
    "compte_desactive": "Le compte a été désactivé : ses sessions, liens et jetons ne valent plus rien.",
    "compte_reactive": "Le compte a été réactivé : la personne peut se reconnecter.",
    "codir": "La réunion de CODIR a été enregistrée : le prochain point partira de cette date.",
    # contrats de réciprocité
    "contrat_cree": "Le contrat a été créé. Ajoutez maintenant les autres parties.",
    "contrat_modifie": "Le contrat a été modifié.",
    "contrat_etat": "L’état du contrat a été enregistré.",
    "partie_ajoutee": "La partie a été ajoutée au contrat.",
    "partie_retiree": "La partie a été retirée du contrat.",
    "deliberation": "La délibération a été enregistrée.",
    "signature": "La signature a été enregistrée.",
    "obligation_creee": "L’obligation a été inscrite au contrat.",
    "obligation_modifiee": "L’obligation a été modifiée.",
    "obligation_supprimee": "L’obligation a été retirée du projet de contrat.",
    "obligation_statut": "Le statut de l’obligation a été enregistré.",
    "action_liee": "L’action a été liée au contrat.",
    "action_deliee": "L’action n’est plus liée au contrat.",
    "revue_ajoutee": "La date de revue a été ajoutée.",
    "revue_supprimee": "La date de revue a été supprimée.",
    "contrat_enregistre": "Le contrat a été enregistré tel qu’il a été signé ; l’historique garde ses dates réelles.",
    "document_modifie": "Les références du document signé ont été enregistrées.",
    "avenant_cree": "L’avenant a été créé : inscrivez ce qu’il change, puis soumettez-le à la signature.",
    "avenant_modifie": "L’avenant a été modifié.",
    "avenant_etat": "L’état de l’avenant a été enregistré.",
    "avenant_changement": "Le changement a été inscrit à l’avenant.",
    "avenant_changement_retire": "Le changement a été retiré de l’avenant.",
    "avenant_en_vigueur": "Toutes les parties ont signé : l’avenant a pris effet.",
    # partenaires et engagements
    "partenaire_cree": "Le partenaire a été ajouté à l’annuaire.",
    "partenaire_modifie": "Le partenaire a été modifié.",
    "partenaire_rattache": "Le partenaire a été rattaché à votre territoire.",
    "rattachement_demande": "Votre demande de rattachement a été envoyée : le partenaire apparaîtra dans votre annuaire quand un des territoires avec lesquels il travaille l’aura acceptée.",
    "rattachement_accepte": "La demande est acceptée : le territoire travaille désormais avec ce partenaire.",
    "rattachement_refuse": "La demande de rattachement est refusée.",
    "contact_ajoute": "Le contact a été ajouté.",
    "contact_modifie": "Les données du contact ont été rectifiées.",
    "contact_efface": "Les données personnelles du contact ont été effacées ; l’historique indique désormais « contact supprimé ».",
    "contact_relie": "Le contact est relié à son compte : il répond à ses engagements une fois connecté.",
    "contact_delie": "Le contact n’est plus relié à un compte.",
    "engagement_cree": "L’engagement a été enregistré. Envoyez-le au partenaire pour qu’il le confirme.",
    "engagement_modifie": "L’engagement a été modifié.",
    "engagement_a_reconfirmer": "L’engagement a été modifié : il redevient « Proposé » et le partenaire doit le confirmer à nouveau. Envoyez-lui un nouveau lien.",
    "engagement_etat": "L’état de l’engagement a été enregistré.",
    "engagement_confirme": "Merci : votre engagement est confirmé.",
    "engagement_decline": "Votre réponse est enregistrée : l’engagement est décliné.",
    "engagement_commentaire": "Le commentaire a été ajouté.",
    "lien_envoye": "Le lien a été envoyé au contact choisi. Il est valable 14 jours et ne sert qu’une fois ; tout lien envoyé avant pour cet engagement est annulé.",
    # imports de tableurs
    "import_fait": "L’import est enregistré : son bilan figure en bas de la page, dans « Imports ».",
    # jetons d’accès à l’API
    "jeton_revoque": "Le jeton a été révoqué : il ne donne plus accès à l’API.",
    # échéances, rappels et calendriers
    "rappels_preferences": "Vos choix de courriels ont été enregistrés.",
    "calendrier_revoque": "L’adresse du calendrier a été révoquée : les agendas abonnés ne la liront plus.",
    "rappels_territoire": "Les rappels du territoire ont été enregistrés.",
    "rappel_etat": "La décision sur le rappel a été enregistrée.",
    # membres et invitations
    "membres_invitation": "L’invitation a été envoyée par courriel. Le lien est valable 7 jours et ne sert qu’une fois.",
    "membres_role_ajoute": "Cette adresse avait déjà un compte : le rôle lui est donné, et la personne est prévenue par courriel.",
    "membres_role": "Le rôle a été modifié.",
    "membres_retrait": "La personne n’est plus membre du territoire.",
    "invitation_revoquee": "L’invitation a été révoquée : son lien ne fonctionne plus.",
    "invitation_renvoyee": "Une nouvelle invitation a été envoyée ; le lien précédent ne fonctionne plus.",
    "invitation_acceptee": "L’invitation est acceptée : connectez-vous avec votre mot de passe habituel.",
    "bienvenue": "Bienvenue : votre compte est créé et vous êtes connecté.",
}
MAX_ID = 2_147_483_647


def parse_id(value: str) -> int:
    """Path ids: anything but a positive 32-bit integer is simply not found."""
    if not value.isascii() or not value.isdigit() or len(value) > 10 or not 0 < int(value) <= MAX_ID:
        raise NotFound("Cette page n’existe pas.")
    return int(value)


def local_path(value: str | None, default: str) -> str:
    """Only same-site paths are followed after a form (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value and len(value) < 2000:
        return value
    return default


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    blocks: list[str] | None = None,
    status_code: int = 200,
    push_url: str | None = None,
) -> Template:
    """The whole page, or, for an htmx request naming `blocks`, only those blocks of the same template
    (with `push_url`, the address htmx puts in the browser's bar and history)."""
    context = dict(context or {})
    if request.state.get("viewer") is not None:  # else the template's global: the anonymous viewer
        context.setdefault("viewer", request.state["viewer"])
    flash_code = request.cookies.get(FLASH_COOKIE)
    context.setdefault("flash", FLASH_MESSAGES.get(flash_code or ""))
    # On back/forward htmx asks for the whole page again (history restore): never a fragment then.
    restoring = request.headers.get("hx-history-restore-request") == "true"
    if blocks and is_htmx(request) and not restoring:
        response: Template = HTMXBlockTemplate(
            template_name=template, block_names=blocks, context=context, status_code=status_code, push_url=push_url
        )
    else:
        response = Template(template_name=template, context=context, status_code=status_code)
    if flash_code:
        response.delete_cookie(FLASH_COOKIE)
    return response


def redirect(path: str, flash: str | None = None, query: dict[str, str] | None = None) -> Redirect:
    if query:
        path = f"{path}?{urlencode(query)}"
    response = Redirect(path=path, status_code=303)
    if flash:
        response.set_cookie(Cookie(key=FLASH_COOKIE, value=flash, max_age=60, httponly=True, samesite="lax"))
    return response
