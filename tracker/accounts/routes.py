"""Sign in and sign out."""
from __future__ import annotations

import logging

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from tracker.accounts import service, throttle
from tracker.accounts.devices import summarise
from tracker.accounts.forms import read_name, read_new_password, read_password_change, read_reset_request, read_sign_in
from tracker.core.permissions import Viewer
from tracker.accounts.service import (
    SESSION_COOKIE,
    authenticate,
    close_session,
    normalise_email,
    open_session,
    plausible_email,
)
from tracker.core import audit
from tracker.core.config import settings
from tracker.core.errors import InvalidInput
from tracker.core.http import local_path, redirect, render
from tracker.mail.sender import MailNotSent, send_mail

log = logging.getLogger("tracker.accounts")


def client_address(request: Request) -> str:
    """The client's IP address (uvicorn puts the proxy's X-Forwarded-For there when it trusts the proxy)."""
    return request.client.host if request.client else "inconnue"


def _logged_email(email: str) -> str:
    """What the audit log says of the address typed: never anything that is not an address (a password typed in
    the wrong field, say)."""
    email = normalise_email(email)
    return email if plausible_email(email) else "(adresse invalide)"


def french_wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}\u00a0seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes}\u00a0minute{'s' if minutes > 1 else ''}"


@get("/connexion", name="login")
async def login_form(request: Request, viewer: NamedDependency[Viewer], suivant: FromQuery[str | None] = None) -> Template:
    return render(request, "accounts/login.html", {"next": local_path(suivant, "/"), "email": ""})


@post("/connexion", name="login_post")
async def login(request: Request) -> Template | Redirect:
    sign_in = read_sign_in(await request.form())
    context = {"next": sign_in.next_path, "email": sign_in.email}
    address = client_address(request)
    attempt = throttle.Attempt(email=sign_in.email, address=address)
    wait = await throttle.wait_seconds(attempt)
    if wait:  # no password is hashed while the wait runs
        audit.record("connexion_ralentie", compte=_logged_email(sign_in.email), adresse_ip=address, attente=wait)
        context["error"] = (
            f"Trop de tentatives de connexion ont échoué depuis votre adresse. Réessayez dans {french_wait(wait)}, "
            "ou demandez à votre référent de réinitialiser votre mot de passe."
        )
        response = render(request, "accounts/login.html", context, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    user = await authenticate(sign_in.email, sign_in.password) if sign_in.complete else None
    if user is None:
        await throttle.record_failure(attempt)
        audit.record("connexion_refusee", compte=_logged_email(sign_in.email), adresse_ip=address)
        context["error"] = "Adresse électronique ou mot de passe incorrect."
        return render(request, "accounts/login.html", context, status_code=401)
    await throttle.record_success(attempt)
    audit.record("connexion_reussie", utilisateur=user.id, compte=user.email, adresse_ip=address)
    old_token = request.cookies.get(SESSION_COOKIE)
    await close_session(old_token)
    return _signed_in(request, await open_session(user, device=summarise(request.headers.get("user-agent"))),
                      sign_in.next_path, "connecte")


def _signed_in(request: Request, token: str, path: str, flash: str) -> Redirect:
    """Go to `path` with the new session's cookie."""
    response = redirect(path, flash=flash)
    response.set_cookie(
        Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
            path="/",
            max_age=settings.session_absolute_hours * 3600,
        )
    )
    return response


@post("/deconnexion", name="logout")
async def logout(request: Request) -> Redirect:
    if request.cookies.get(SESSION_COOKIE):
        audit.record("deconnexion", adresse_ip=client_address(request))
    await close_session(request.cookies.get(SESSION_COOKIE))
    response = redirect("/connexion", flash="deconnecte")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- Forgotten password (reached without a session) ---------------------------------------------------------------

RESET_SENT = (
    "Si un compte actif correspond à cette adresse, un message vient d’y être envoyé avec un lien pour choisir un "
    "nouveau mot de passe. Ce lien vaut une heure et ne sert qu’une fois. Rien reçu d’ici quelques minutes ? Vérifiez "
    "le dossier des indésirables, ou demandez de l’aide au référent de votre territoire ou à l’ADGCF."
)
LINK_INVALID = (
    "Ce lien n’est pas ou plus valable : il a déjà servi, un lien plus récent l’a remplacé, ou l’heure pendant "
    "laquelle il valait est passée. Demandez-en un nouveau."
)


async def _reset_in_background(email: str) -> None:
    """After the answer has gone (a background task), whatever the address: look the account up, and for an active
    one make the link and send it. The answer's content and time are thus the same for any address."""
    found = await service.new_reset_link(email)
    if found is None:
        return
    user, token = found
    link = f"{settings.base_url.rstrip('/')}/mot-de-passe/{token}"
    try:
        await send_mail(to=user["email"], subject="Choisir un nouveau mot de passe", template="mot_de_passe_oublie",
                        context={"full_name": user["full_name"], "link": link, "hours": 1})
    except MailNotSent:
        log.error("lien de réinitialisation non envoyé (compte %s)", user["id"])


@get("/mot-de-passe-oublie", name="password_forgotten")
async def password_forgotten(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    return render(request, "accounts/forgotten.html", {"email": ""})


@post("/mot-de-passe-oublie", name="password_forgotten_post")
async def password_forgotten_post(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    """The same page whatever the address; asking too often from one address for one account waits, as the
    sign-in does (counted whether the account exists or not)."""
    email = read_reset_request(await request.form())
    address = client_address(request)
    attempt = throttle.Attempt(email=email, address="mot-de-passe-oublie:" + address)
    wait = await throttle.wait_seconds(attempt)
    if wait:
        audit.record("reinitialisation_ralentie", compte=_logged_email(email), adresse_ip=address, attente=wait)
        response = render(request, "accounts/forgotten.html", {"email": email, "error": (
            f"Trop de demandes depuis votre adresse. Réessayez dans {french_wait(wait)}.")}, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    await throttle.record_failure(attempt)
    response = render(request, "accounts/forgotten.html", {"email": "", "sent": RESET_SENT})
    response.background = BackgroundTask(_reset_in_background, email)
    return response


@get("/mot-de-passe/{token:str}", name="password_reset")
async def password_reset(request: Request, viewer: NamedDependency[Viewer], token: FromPath[str]) -> Template:
    """Shows the form; changes nothing (a mail program or a proxy may open the link)."""
    account = await service.reset_link_account(token)
    if account is None:
        return _private(render(request, "accounts/reset.html", {"invalid": LINK_INVALID}, status_code=404))
    return _private(render(request, "accounts/reset.html", {"account": account, "token": token}))


def _private(response: Template) -> Template:
    """A page whose address holds a secret: kept by no cache, and sent as the referrer of no request."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@post("/mot-de-passe/{token:str}", name="password_reset_post")
async def password_reset_post(request: Request, viewer: NamedDependency[Viewer], token: FromPath[str]
                              ) -> Template | Redirect:
    new, confirmation = read_new_password(await request.form())
    try:
        user = await service.reset_password(token, new, confirmation)
    except InvalidInput as error:
        account = await service.reset_link_account(token)
        return _private(render(request, "accounts/reset.html", {
            "account": account, "token": token, "error": error.message, "errors": error.errors},
            status_code=error.status_code))
    if user is None:
        return _private(render(request, "accounts/reset.html", {"invalid": LINK_INVALID}, status_code=404))
    audit.record("connexion_reussie", utilisateur=user.id, compte=user.email, adresse_ip=client_address(request),
                 par="lien de réinitialisation")
    await close_session(request.cookies.get(SESSION_COOKIE))
    token = await open_session(user, device=summarise(request.headers.get("user-agent")))
    return _signed_in(request, token, "/", "mot_de_passe_reinitialise")


# --- My account (signed in) -----------------------------------------------------------------------------------------


async def _account_context(viewer: Viewer, **more) -> dict:
    return {"sessions": await service.sessions_of(viewer.user_id), "name": viewer.full_name, "errors": {}} | more


@get("/compte", name="my_account")
async def my_account(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    return render(request, "accounts/account.html", await _account_context(viewer))


@post("/compte/nom", name="my_account_name")
async def my_account_name(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    try:
        name = read_name(await request.form())
    except InvalidInput as error:
        context = await _account_context(viewer, name_error=error.message, errors=error.errors)
        return render(request, "accounts/account.html", context, status_code=error.status_code)
    await service.rename(viewer.user_id, name)
    return redirect("/compte", flash="nom_modifie")


@post("/compte/mot-de-passe", name="my_account_password")
async def my_account_password(request: Request, viewer: NamedDependency[Viewer]) -> Template | Redirect:
    """A wrong current password counts as a failed sign-in of this account from this address (same waits)."""
    change = read_password_change(await request.form())
    attempt = throttle.Attempt(email=viewer.email, address=client_address(request))
    wait = await throttle.wait_seconds(attempt)
    if wait:
        message = f"Trop de tentatives ont échoué. Réessayez dans {french_wait(wait)}."
        context = await _account_context(viewer, password_error=message, errors={})
        response = render(request, "accounts/account.html", context, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        await service.change_password(viewer.user_id, viewer.session_id, *change)
    except InvalidInput as error:
        if "current_password" in error.errors:
            await throttle.record_failure(attempt)
        context = await _account_context(viewer, password_error=error.message, errors=error.errors)
        return render(request, "accounts/account.html", context, status_code=error.status_code)
    return redirect("/compte", flash="mot_de_passe_change")


@post("/compte/sessions/{session_id:str}/fin", name="my_account_end_session")
async def my_account_end_session(request: Request, viewer: NamedDependency[Viewer], session_id: FromPath[str]
                                 ) -> Redirect:
    """End one of one's own sessions (another's, or no session at all: nothing happens, the same answer as an ended
    one)."""
    number = int(session_id) if session_id.isascii() and session_id.isdigit() and len(session_id) < 10 else None
    ended = number is not None and await service.end_session(viewer.user_id, number)
    if ended:
        audit.record("session_terminee", utilisateur=viewer.user_id, session=number)
    if ended and number == viewer.session_id:
        response = redirect("/connexion", flash="deconnecte")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return redirect("/compte", flash="session_terminee" if ended else "session_inconnue")


# Reached without a session.
PUBLIC_ROUTES = [login_form, login, logout, password_forgotten, password_forgotten_post, password_reset,
                 password_reset_post]
# Behind the signed-in guard.
ROUTES = [my_account, my_account_name, my_account_password, my_account_end_session]
