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
    open_session,
)
from tracker.core.config import settings
from tracker.core.http import local_path, redirect, render


@get("/connexion", name="login")
async def login_form(request: Request, viewer: NamedDependency[Viewer], suivant: FromQuery[str | None] = None) -> Template:
    return render(request, "accounts/login.html", {"next": local_path(suivant, "/"), "email": ""})


@post("/connexion", name="login_post")
async def login(request: Request) -> Template | Redirect:
    sign_in = read_sign_in(await request.form())
    context = {"next": sign_in.next_path, "email": sign_in.email}
    if await throttle.is_locked(sign_in.email):
        context["error"] = (
            "Trop de tentatives de connexion ont échoué pour cette adresse. Réessayez dans 15 minutes "
            "ou demandez à votre référent de réinitialiser votre mot de passe."
        )
        return render(request, "accounts/login.html", context, status_code=429)
    user = await authenticate(sign_in.email, sign_in.password) if sign_in.complete else None
    if user is None:
        await throttle.record_failure(sign_in.email)
        context["error"] = "Adresse électronique ou mot de passe incorrect."
        return render(request, "accounts/login.html", context, status_code=401)
    await throttle.clear(sign_in.email)
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
    await close_session(request.cookies.get(SESSION_COOKIE))
    response = redirect("/connexion", flash="deconnecte")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# Reached without a session.
PUBLIC_ROUTES = [login_form, login, logout]
