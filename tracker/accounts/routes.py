"""Sign in and sign out."""
from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from tracker.accounts import throttle
from tracker.accounts.forms import read_sign_in
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
from tracker.core.http import local_path, redirect, render


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
    token = await open_session(user)
    response = redirect(sign_in.next_path, flash="connecte")
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


# Reached without a session.
PUBLIC_ROUTES = [login_form, login, logout]
