"""« Mes échéances », a territory's deadlines and reminder settings, a person's reminder mails and calendars, the
administrators' view of the reminders; and, without a session, the calendar feeds and the stop links.
HTTP only: the rules are in items.py, service.py, feeds.py, preferences.py, settings.py, plan.py and send.py."""
from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from tracker.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tracker.core.forms import read_state_change
from tracker.core.guards import administrators_only
from tracker.core.http import parse_id, redirect, render
from tracker.core.permissions import Viewer
from tracker.deadlines import admin, feeds, forms, preferences, queries, service, settings
from tracker.deadlines.lifecycle import change_reminder_state
from tracker.partners.tables import Partner
from tracker.territories.service import territory_for
from tracker.territories.tables import Territory

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
ACCOUNT_TEMPLATE = "deadlines/account.html"


@get("/echeances", name="my_deadlines")
async def my_deadlines(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    page = await service.my_page(viewer, queries.read_filters(request.query_params))
    return render(request, "deadlines/mine.html", {"page": page}, blocks=["results"])


@get("/territoires/{siren:str}/echeances", name="territory_deadlines")
async def territory_deadlines(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template:
    page = await service.territory_page(viewer, siren, queries.read_filters(request.query_params))
    return render(request, "deadlines/territory.html", {"page": page}, blocks=["results"])


# --- the person's reminder mails and calendars ----------------------------------------------------------------


async def _account_context(viewer: Viewer, **extra) -> dict:
    ref = preferences.ref_of(user_id=viewer.user_id)
    territories = await Territory.select(Territory.siren, Territory.name).where(
        Territory.id.is_in(sorted(viewer.roles) or [0])).order_by(Territory.name)
    partners = await Partner.select(Partner.id, Partner.name).where(
        Partner.id.is_in(sorted(viewer.partner_ids) or [0])).order_by(Partner.name)
    context = {
        "preferences": (await preferences.preferences_of([ref]))[ref],
        "kinds": forms.MAIL_KINDS,
        "feeds": await feeds.feeds_of(viewer),
        "territories": territories,
        "partners": partners,
        "new_feed": None,
    }
    context.update(extra)
    return context


@get("/compte/echeances", name="my_reminders")
async def my_reminders(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    response = render(request, ACCOUNT_TEMPLATE, await _account_context(viewer))
    response.headers.update(PRIVATE)
    return response


@post("/compte/echeances", name="my_reminders_save")
async def my_reminders_save(request: Request, viewer: NamedDependency[Viewer]) -> Redirect:
    values = forms.read_preferences(await request.form())
    await preferences.save_preferences(preferences.ref_of(user_id=viewer.user_id), values)
    return redirect("/compte/echeances", flash="rappels_preferences")


@post("/compte/calendriers", name="feed_create")
async def feed_create(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    """The new address is in this response only (never in a redirect, a cookie or a log); it is not stored."""
    wanted = forms.read_feed_request(await request.form())
    token, feed_id = await feeds.create_feed(viewer, wanted)
    new_feed = {"id": feed_id, "url": feeds.feed_url(token), "webcal": feeds.subscribe_url(token)}
    response = render(request, ACCOUNT_TEMPLATE, await _account_context(viewer, new_feed=new_feed), status_code=201)
    response.headers.update(PRIVATE)
    return response


@post("/compte/calendriers/{feed_id:str}/revoquer", name="feed_revoke")
async def feed_revoke(viewer: NamedDependency[Viewer], feed_id: FromPath[str]) -> Redirect:
    await feeds.revoke_feed(viewer, parse_id(feed_id))
    return redirect("/compte/echeances", flash="calendrier_revoque")


# --- a territory's reminder settings ------------------------------------------------------------------------------


async def _settings_context(viewer: Viewer, siren: str, **extra) -> dict:
    territory = await territory_for(viewer, siren)
    values, version = await settings.settings_for(territory["id"])
    return {"territory": territory, "values": values, "version": version,
            "can_manage": viewer.can_manage_territory(territory["id"]), "errors": {}, "max_days": forms.MAX_DAYS_BEFORE,
            **extra}


@get("/territoires/{siren:str}/rappels", name="territory_reminders")
async def territory_reminders(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template:
    return render(request, "deadlines/settings.html", await _settings_context(viewer, siren))


@post("/territoires/{siren:str}/rappels", name="territory_reminders_save")
async def territory_reminders_save(request: Request, viewer: NamedDependency[Viewer],
                                   siren: FromPath[str]) -> Template | Redirect:
    territory = await territory_for(viewer, siren)
    if not viewer.can_manage_territory(territory["id"]):  # who may, before what was sent
        raise Forbidden(settings.REFUSED)
    data = await request.form()
    try:
        values, version = forms.read_territory_settings(data)
        await settings.save_settings(viewer, territory["id"], values, version)
    except (InvalidInput, Conflict) as error:
        context = await _settings_context(viewer, siren, errors=error.errors, error=error.message,
                                          submitted={k: str(v)[:10] for k, v in data.items()})
        return render(request, "deadlines/settings.html", context, status_code=error.status_code)
    return redirect(f"/territoires/{siren}/rappels", flash="rappels_territoire")


# --- administrators: what was sent, what failed ---------------------------------------------------------------

ADMIN_REFUSAL = {"refusal": "Le suivi des rappels envoyés est réservé aux administrateurs."}


@get("/rappels", name="reminders_admin", guards=[administrators_only], opt=ADMIN_REFUSAL)
async def reminders_admin(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    return render(request, "deadlines/admin.html", {"board": await admin.board()})


@post("/rappels/{reminder_id:str}/etat", name="reminder_state", guards=[administrators_only], opt=ADMIN_REFUSAL)
async def reminder_state(request: Request, viewer: NamedDependency[Viewer], reminder_id: FromPath[str]) -> Redirect:
    ident = parse_id(reminder_id)
    change = read_state_change(await request.form())
    await change_reminder_state(viewer, ident, change.status, change.comment, change.version)
    return redirect("/rappels", flash="rappel_etat")


ROUTES = [
    my_deadlines, territory_deadlines, my_reminders, my_reminders_save, feed_create, feed_revoke,
    territory_reminders, territory_reminders_save, reminders_admin, reminder_state,
]


# --- without a session: the token or the signed stop link is the permission ------------------------------------


@get("/calendrier/{name:str}", name="calendar_feed")
async def calendar_feed(name: FromPath[str]) -> Response:
    """/calendrier/{token}.ics for calendar programs; anything else, a revoked or unknown token, is a 404."""
    if not name.endswith(".ics"):
        raise NotFound(feeds.NOT_FOUND)
    body = await feeds.calendar(name.removesuffix(".ics"))
    return Response(content=body, media_type="text/calendar", headers={  # charset added by Litestar
        "Content-Disposition": 'inline; filename="echeances.ics"', "Cache-Control": "private, max-age=300",
        "X-Robots-Tag": "noindex",
    })


@get("/rappels/arret/{kind:str}/{token:str}", name="reminders_stop_page")
async def reminders_stop_page(request: Request, kind: FromPath[str], token: FromPath[str]) -> Template:
    """Shows what the link stops and asks for a POST: link checkers and previews change nothing."""
    preferences.read_stop_token(kind, token)
    response = render(request, "deadlines/stop.html", {"kind": kind, "label": forms.MAIL_KINDS[kind],
                                                        "action": request.url.path, "done": None})
    response.headers.update(PRIVATE)
    return response


# Mail programs POST the one-click stop (RFC 8058) with no CSRF token: the signed address is the only permission.
@post("/rappels/arret/{kind:str}/{token:str}", name="reminders_stop", opt={"exclude_from_csrf": True})
async def reminders_stop(request: Request, kind: FromPath[str], token: FromPath[str]) -> Template:
    """The stop itself: from the page's button, or one click in the mail program (RFC 8058: no CSRF token)."""
    ref = preferences.read_stop_token(kind, token)
    everything = forms.read_stop(await request.form())
    await preferences.stop(ref, list(forms.MAIL_KINDS) if everything else [kind])
    response = render(request, "deadlines/stop.html", {
        "kind": kind, "label": forms.MAIL_KINDS[kind], "action": request.url.path,
        "done": "tout" if everything else kind})
    response.headers.update(PRIVATE)
    return response


PUBLIC_ROUTES = [calendar_feed, reminders_stop_page, reminders_stop]
