"""The ADGCF's pages: /pilotage, /pilotage/actions, /pilotage/relances. HTTP only; figures in service.py."""
from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

from jinja2 import Environment
from jinja2.filters import do_truncate

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from markupsafe import Markup, escape

from tracker.core.permissions import ROLE_LABELS, Viewer
from tracker.agreements.states import AGREEMENT_STATE_LABELS
from tracker.partners.kinds import SECTOR_LABELS
from tracker.core.errors import InvalidInput
from tracker.review import codir, service
from tracker.review.forms import read_meeting
from tracker.review.queries import (
    SORTS,
    read_action_search,
    read_dashboard_filters,
    read_follow_up_query,
    read_pack_query,
)
from tracker.review.charts import bar_chart, line_chart
from tracker.roadmaps.markup import due, status_badge
from tracker.roadmaps.statuses import MODULE_TITLES, STATUS_LABELS
from tracker.territories.reference import KIND_LABELS, departements, regions
from tracker.core import french
from tracker.core.markup import text
from tracker.core.http import redirect, render

STATUS_COLOURS = ["#4b5563", "#1d4e89", "#7a5c00", "#8a1c1c", "#2e7d32", "#6b6b6b"]


def _url(path: str, query: dict[str, str]) -> str:
    return path + (f"?{urlencode(query)}" if query else "")


_NO_AGREEMENT = '<span class="muted">Aucun</span>'
_NEVER = '<span class="muted">Jamais</span>'


def dashboard_row(row: dict) -> Markup:
    """One territory's row of the dashboard: its 14 cells in one f-string over escaped values (in Jinja, 100 rows ×
    20 expressions were half of /pilotage's time). The markup is the one the template wrote. The counts are the
    integers `service.dashboard` made (written as they are: an integer needs no escaping); every text is escaped."""
    kind = text(KIND_LABELS.get(row["kind"], row["kind"]))
    place = f", {text(row['departement'])}" if row["departement"] else ""
    by_status = row["by_status"]
    statuses = "".join([f'<td class="num">{int(by_status[code])}</td>' for code in STATUS_LABELS])
    commitments = row["commitments"]
    agreements = ", ".join([
        f"{text(n)} {text(str(AGREEMENT_STATE_LABELS.get(state, state)).lower())}"
        for state, n in row["agreements"].items()]) or _NO_AGREEMENT
    updated = row["last_update"]
    update = (f'{text(french.date_fr(updated))} <span class="muted">({text(french.relative_fr(updated))})</span>'
              if updated else _NEVER)
    return Markup(
        f'<tr>\n        <th scope="row"><a href="/territoires/{text(row["siren"])}">{text(row["name"])}</a><br>'
        f'<span class="muted">{kind}{place}</span></th>\n'
        f'        <td class="num">{int(row["total"])}</td>\n{statuses}'
        f'        <td class="num">{int(round(row["share_done"] * 100, 0))}&nbsp;%</td>\n'
        f'        <td class="num">{int(row["overdue"])}</td>\n'
        f'        <td class="num">{text(commitments.get("confirme", 0))}&nbsp;/ '
        f'{text(commitments.get("propose", 0))}</td>\n'
        f'        <td>{agreements}</td>\n        <td>{update}</td>\n      </tr>')


def _option_list(items) -> tuple[tuple[object, str, str], ...]:
    """Per code: the `<option>` as the filter form's loop wrote it, not chosen and chosen."""
    return tuple((code, f'<option value="{text(code)}" >{text(label)}</option>',
                  f'<option value="{text(code)}" selected>{text(label)}</option>') for code, label in items)


@cache
def _filter_option_lists() -> dict[str, tuple[tuple[object, str, str], ...]]:
    """The dashboard's filter lists (18 régions, 101 départements, the kinds, the modules), made once per process:
    in Jinja their ~130 options were ~400 escaped expressions per request. Labels as the template wrote them
    (« code – name », a module's title through Jinja's `truncate(40)` with its default leeway)."""
    return {
        "region": _option_list(regions().items()),
        "departement": _option_list((code, f"{code} – {d[0]}") for code, d in departements().items()),
        "kind": _option_list(KIND_LABELS.items()),
        "module": _option_list((m, f"{m} – {do_truncate(Environment(), t, 40)}") for m, t in MODULE_TITLES.items()),
    }


def filter_options(name: str, chosen) -> Markup:
    """The `<option>`s of one of the dashboard's filters (`region`, `departement`, `kind`, `module`), `chosen`
    selected: the bytes of the loop the template wrote (tests/test_templates.py keeps it as the reference)."""
    return Markup("".join([on if code == chosen else off for code, off, on in _filter_option_lists()[name]]))


@get("/pilotage", name="review_dashboard")
async def review_dashboard(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    service.require_reviewer(viewer)
    filters = read_dashboard_filters(request.query_params)
    board = await service.dashboard(viewer, filters)
    totals = board["totals"]
    charts = {
        "status": bar_chart(
            "Répartition des actions par statut",
            [(label, totals["by_status"][code]) for code, label in STATUS_LABELS.items()],
            ("Statut", "Actions"),
            STATUS_COLOURS,
        ),
        "module": bar_chart(
            "Actions par module",
            [(f"Module {m}", totals["by_module"][m]) for m in MODULE_TITLES]
            + ([("Sans module", totals["by_module"][None])] if totals["by_module"][None] else []),
            ("Module", "Actions"),
        ),
        "sector": bar_chart(
            "Engagements par secteur du partenaire",
            [(label, totals["by_sector"][code]) for code, label in SECTOR_LABELS.items()],
            ("Secteur du partenaire", "Engagements"),
        ),
        "progress": line_chart(
            "Actions réalisées en fin de mois (12 derniers mois)",
            await service.realised_by_month(viewer, filters),  # kept monthly deltas: no cache needed
            ("Fin de mois", "Actions réalisées"),
        ),
    }
    context = {
        "board": board,
        "dashboard_row": dashboard_row,
        "filter_options": filter_options,
        "filters": filters,
        "charts": charts,
        "sorts": SORTS,
        "agreement_states": AGREEMENT_STATE_LABELS,
        "page_url": lambda page: _url("/pilotage", filters.query(page=page if page > 1 else None)),
        "export_url": lambda fmt: _url(f"/pilotage/export.{fmt}", filters.query(page=None)),
        "sort_url": lambda key: _url(
            "/pilotage",
            filters.query(tri=key if key != "territoire" else None, page=None,
                          ordre="desc" if key == filters.sort and not filters.descending else None),
        ),
    }
    return render(request, "review/dashboard.html", context, blocks=["dashboard_region"],
                  push_url=_url("/pilotage", filters.query()))


@get("/pilotage/actions", name="review_actions")
async def review_actions(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    service.require_reviewer(viewer)
    search = read_action_search(request.query_params)
    result = await service.search_actions(viewer, search)
    context = {
        "search": search,
        "result": result,
        "sectors": SECTOR_LABELS,
        "modules": MODULE_TITLES,
        "agreement_states": AGREEMENT_STATE_LABELS,
        "page_url": lambda page: _url("/pilotage/actions", search.query(page=page if page > 1 else None)),
        "export_url": lambda fmt: _url(f"/pilotage/actions/export.{fmt}", search.query(page=None)),
    }
    return render(request, "review/actions.html", context, blocks=["results"],
                  push_url=_url("/pilotage/actions", search.query()))


_NOBODY = Markup('<span class="muted">Aucun référent ni éditeur</span>')


def _who(contacts: dict[int, list[dict]]):
    """« À contacter » of a territory in the lists of « à relancer »: its référents and éditeurs as mail links. A
    function rather than a Jinja macro (a macro call builds a frame, a context and a caller: half of the page's
    rendering), f-strings over escaped values as in web/templating.py; once per territory."""
    made: dict[int, Markup] = {}
    roles: dict[str, str] = {}  # « (référent du territoire) », once per role

    def role(code: str) -> str:
        if code not in roles:
            roles[code] = f' <span class="muted">({escape(ROLE_LABELS.get(code, code).lower())})</span>'
        return roles[code]

    def who(territory_id: int) -> Markup:
        if territory_id not in made:
            people = contacts.get(territory_id)
            made[territory_id] = Markup(", ".join(
                f'<a href="mailto:{escape(p["email"])}">{escape(p["name"])}</a>{role(p["role"])}' for p in people
            )) if people else _NOBODY
        return made[territory_id]

    return who


# « À relancer »'s three lists: each row one f-string over escaped values, the list joined here (in Jinja, up to
# 3 × 100 rows of a dozen expressions each were half of the page's time). The markup is the template's, kept in
# tests/test_templates.py as the reference. The status badge and the deadline are roadmaps/markup.py's (as on every
# list of actions), made once per status and per deadline.
_NO_PARTNER_CONTACT = '<span class="muted">Aucun contact enregistré</span>'
_AT_THE_TERRITORY = ' <span class="muted">(les coordonnées des contacts du partenaire restent au territoire)</span>'


def _when(moment) -> str:
    """« 3 décembre 2026 <span class="muted">(il y a 2 mois)</span> »."""
    return f'{escape(french.date_fr(moment))} <span class="muted">({escape(french.relative_fr(moment))})</span>'


def idle_rows(rows: list[dict], who) -> Markup:
    return Markup("".join(
        f'<tr>\n      <th scope="row"><a href="/territoires/{escape(row["siren"])}">{escape(row["name"])}</a></th>\n'
        f'      <td>{_when(row["last_update"]) if row["last_update"] else "Jamais"}</td>\n'
        f'      <td>{who(row["id"])}</td></tr>' for row in rows))


def unanswered_rows(rows: list[dict], who, partner_contacts: dict[int, list[dict]] | None) -> Markup:
    """`partner_contacts`: the partners' contacts when the viewer may see them (an administrator), else None."""
    out = []
    for c in rows:
        if partner_contacts is None:
            contact = f"{who(c['territory'])}{_AT_THE_TERRITORY}"
        else:
            contact = ", ".join(f'<a href="mailto:{escape(p["email"])}">{escape(p["full_name"])}</a>'
                                for p in partner_contacts.get(c["partner_id"], [])) or _NO_PARTNER_CONTACT
        out.append(
            f'<tr>\n      <th scope="row">{escape(c["partner_name"])}</th>\n'
            f'      <td><a href="/actions/{escape(c["action_id"])}">{escape(c["action_title"])}</a> '
            f'<span class="muted">({escape(c["territory_name"])})</span></td>\n'
            f'      <td>{_when(c["updated_at"])}</td>\n      <td>{contact}</td></tr>')
    return Markup("".join(out))


def silent_rows(rows: list[dict], who) -> Markup:
    badges: dict = {}
    dues: dict = {}
    out = []
    for a in rows:
        status, deadline = a["status"], a["deadline"]
        badge = badges.get(status)
        if badge is None:
            badge = badges[status] = status_badge(status)
        shown = dues.get(deadline)
        if shown is None:
            shown = dues[deadline] = due(deadline, True)
        note = escape(french.date_fr(a["last_note"])) if a["last_note"] else "Aucune"
        pilot = f'<br><span class="muted">Pilote&nbsp;: {escape(a["pilot_name"])}</span>' if a["pilot_name"] else ""
        out.append(
            f'<tr>\n      <th scope="row"><a href="/actions/{escape(a["id"])}">{escape(a["title"])}</a> {badge}</th>\n'
            f'      <td>{escape(a["territory_name"])}</td>\n      <td>{shown}</td>\n      <td>{note}</td>\n'
            f'      <td>{who(a["territory_id"])}{pilot}</td></tr>')
    return Markup("".join(out))


@get("/pilotage/relances", name="review_follow_ups")
async def review_follow_ups(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    service.require_reviewer(viewer)
    query = read_follow_up_query(request.query_params)
    data = await service.follow_ups(viewer, query.idle_days)
    return render(request, "review/follow_ups.html", {
        "data": data, "who": _who(data["contacts"]),
        "idle_rows": idle_rows, "unanswered_rows": unanswered_rows, "silent_rows": silent_rows})


@get("/territoires/{siren:str}/point-codir", name="codir_pack")
async def codir_pack(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template:
    """Open to whoever may read the territory: its members, the ADGCF."""
    query = read_pack_query(request.query_params)
    pack = await codir.meeting_pack(viewer, siren, query.since)
    return render(request, "review/codir.html", {"pack": pack})


@post("/territoires/{siren:str}/point-codir/reunions", name="codir_meeting")
async def codir_meeting(request: Request, viewer: NamedDependency[Viewer], siren: FromPath[str]) -> Template | Redirect:
    await codir.recordable_territory(viewer, siren)  # who may, before what was sent
    data = await request.form()
    try:
        await codir.record_meeting(viewer, siren, read_meeting(data))
    except InvalidInput as error:
        pack = await codir.meeting_pack(viewer, siren, None)
        return render(request, "review/codir.html", {"pack": pack, "meeting_error": error},
                      status_code=error.status_code)
    return redirect(f"/territoires/{siren}/point-codir", flash="codir")  # the pack now starts from that date


ROUTES = [review_dashboard, review_actions, review_follow_ups, codir_pack, codir_meeting]
