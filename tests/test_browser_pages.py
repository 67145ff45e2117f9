"""Every page type, as every role sees it, in a real browser: axe-core finds no WCAG 2.0/2.1 A or AA violation, and
the Nu HTML Checker (vnu) finds no error in the HTML the server sent. One crawl per session (pages visited once,
axe run in each), then one Java process checks every page. A last test shows both checks catch a broken page."""
from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import vnu
from tests.live_server import GRAND_ANGOULEME, LiveServer

pytestmark = pytest.mark.anyio

AXE_VERSION = "4.14.1"
AXE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
}"""

# GET routes that are not HTML pages (files, feeds, the API) or that the crawl cannot reach, each with its reason.
# (/_banc/: the benchmark's ceiling route, which tests/test_bench.py adds to the session's app.)
NOT_PAGES = re.compile(r"^/(api|static|_banc)/|^/healthz$|\.(csv|xlsx|ics)$|/export(\.[a-z]+)?$|^/calendrier/")
NOT_CRAWLED = {
    "/feuilles-de-route/{roadmap_id:str}/import/{token:str}": "the preview of a file just sent: "
                                                              "tests/test_imports.py",
}


def html_routes(app) -> set[str]:
    return {route.path for route in app.routes if "GET" in getattr(route, "methods", ())
            and not NOT_PAGES.search(route.path) and route.path not in NOT_CRAWLED}


def route_pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/?]+", re.escape(path)) + r"(\?.*)?$")


LINK = re.compile(r"https?://[^/\s]+(/e/[A-Za-z0-9_-]+)")
INVITATION = re.compile(r"https?://[^/\s]+(/invitation/[A-Za-z0-9_-]+)")
ROLES = ["anonyme", "lecteur", "editeur", "referent", "partenaire", "revue", "admin"]
FIXTURE_ROLE = {"anonyme": None, "lecteur": "reader", "editeur": "editor", "referent": "referent",
                "partenaire": "partner", "revue": "reviewer", "admin": "admin"}


def pages_for(server: LiveServer, routes: set[str]) -> dict[str, list[tuple[str, int | None]]]:
    """{role: [(address, expected status, None: any but a 5xx)]}: every page type a person of that role meets,
    errors included. Every page of the app without a parameter that is listed nowhere here is visited too (as an
    administrator, then as an anonymous visitor), so that a new page is checked from its first day."""
    ga = GRAND_ANGOULEME

    def title(table: str, column: str, value: str) -> int:
        return server.one(f"SELECT id FROM {table} WHERE {column} = ?", value)

    roadmap = server.one("SELECT r.id FROM roadmap r JOIN territory t ON t.id = r.territory WHERE t.siren = ?", ga)
    action = title("action", "title", "Créer un guichet unique pour les associations")  # commitments, sub-actions
    blocked = title("action", "title", "Convention de portage de repas avec les bénévoles")  # history with comments
    partner = title("partner", "name", "Solidarité Angoumois")
    signing = server.one("SELECT id FROM agreement WHERE state = 'a_signer'")  # Grand Angoulême – Charente Limousine
    in_force = server.one("SELECT id FROM agreement WHERE state = 'en_vigueur'")  # with an amendment
    obligation = server.one("SELECT id FROM obligation WHERE agreement = ? ORDER BY id", signing)
    commitment = server.one("SELECT id FROM commitment WHERE action = ? ORDER BY id", action)  # any state
    contact = server.one("SELECT id FROM partner_contact WHERE partner = ? ORDER BY id", partner)

    reading = [
        ("/", 200), ("/territoires", 200), (f"/territoires/{ga}", 200), (f"/territoires/{ga}/echeances", 200),
        (f"/territoires/{ga}/point-codir", 200), (f"/feuilles-de-route/{roadmap}", 200),
        (f"/feuilles-de-route/{roadmap}?statut=en_cours&module=1", 200), (f"/actions/{action}", 200),
        (f"/actions/{blocked}", 200), ("/partenaires", 200), (f"/partenaires/{partner}", 200), ("/contrats", 200),
        (f"/contrats/{signing}", 200), (f"/obligations/{obligation}", 200), ("/compte/echeances", 200),
        ("/compte/jetons", 200), ("/page-qui-n-existe-pas", 404),
    ]
    editing = [
        ("/echeances", 200), (f"/actions/{action}/modifier", 200), (f"/feuilles-de-route/{roadmap}/actions/nouvelle", 200),
        (f"/actions/{action}/engagements/nouveau", 200), (f"/engagements/{commitment}/envoyer", 200),
        (f"/engagements/{commitment}/modifier", 200), (f"/feuilles-de-route/{roadmap}/import", 200),
    ]
    # The lecteur sees every reading page; the other roles the pages that differ for them (their header, their
    # forms), with the roadmap, an action and home again, so that each role's own controls are checked.
    common = [("/", 200), (f"/feuilles-de-route/{roadmap}", 200), (f"/actions/{action}", 200)]
    # The signed link the demo sent (opening it records nothing; the crawl runs before the journeys use it).
    sent = [LINK.search(mail.get_body(("plain",)).get_content()) for mail in server.outbox()]
    links = [(found.group(1), 200) for found in sent if found][:1]
    assert links, "la démonstration n’a envoyé aucun lien signé"
    # The invitation the demo left pending (opening it changes nothing), and the refusals of unknown links.
    invited = [INVITATION.search(mail.get_body(("plain",)).get_content()) for mail in server.outbox()]
    links += [(found.group(1), 200) for found in invited if found][:1]
    assert len(links) == 2, "la démonstration n’a envoyé aucune invitation"
    links += [("/invitation/" + "A" * 43, 404), ("/mot-de-passe/" + "A" * 43, None)]
    pages = {
        "anonyme": links + [("/connexion", 200), ("/", 200), ("/connexion?suivant=/pilotage", 200),
                    ("/e/lien-inconnu-ou-expire-0000000000000000000000", 404), ("/page-qui-n-existe-pas", 404)],
        "lecteur": reading + [("/echeances", 200), (f"/actions/{action}/modifier", 403)],
        "editeur": common + editing,
        "referent": common + [
            (f"/territoires/{ga}", 200), (f"/territoires/{ga}/rappels", 200),
            (f"/partenaires/{partner}/contacts/nouveau", 200), (f"/contacts/{contact}/modifier", 200),
            (f"/contacts/{contact}/effacer", 200), ("/partenaires/nouveau", 200),
            (f"/partenaires/{partner}/modifier", 200), (f"/contrats/{signing}", 200),
            (f"/contrats/{signing}/parties", 200), ("/contrats/nouveau", 200), ("/pilotage", 403),
            (f"/territoires/{ga}/membres", 200), (f"/territoires/{ga}/modifier", 403),
        ],
        "partenaire": [("/", 200), ("/engagements", 200), ("/echeances", 200), ("/partenaires", 200),
                       (f"/partenaires/{partner}", 200), ("/compte/echeances", 200), ("/compte/jetons", 200),
                       (f"/feuilles-de-route/{roadmap}", 404)],
        "revue": common + [
            ("/pilotage", 200), ("/pilotage?typologie=rural", 200), ("/pilotage/actions", 200),
            ("/pilotage/actions?statut=bloquee", 200), ("/pilotage/relances", 200), ("/territoires", 200),
            (f"/territoires/{ga}/point-codir", 200), (f"/contrats/{in_force}", 200),
            (f"/contrats/{in_force}/avenants/1", 200), (f"/actions/{action}/modifier", 403),
        ],
        "admin": common + [("/pilotage", 200), ("/rappels", 200), ("/ateliers/nouveau", 200),
                           ("/territoires/nouveau", 200), (f"/contrats/{signing}", 200),
                           (f"/territoires/{ga}/rappels", 200), (f"/territoires/{ga}/membres", 200),
                           (f"/territoires/{ga}/modifier", 200),
                           # Forms of an agreement being drafted: the demo's are past that, they answer an error page.
                           (f"/contrats/{signing}/modifier", None), (f"/contrats/{signing}/enregistrer", None),
                           (f"/contrats/{signing}/obligations/nouvelle", None),
                           (f"/obligations/{obligation}/modifier", None),
                           (f"/contrats/{in_force}/avenants/nouveau", None),
                           ("/rappels/arret/tout/jeton-inconnu-000000000000000000000000", None)],
    }
    listed = {address for addresses in pages.values() for address, _ in addresses}
    for path in sorted(routes):
        if "{" not in path and path not in listed:
            pages["admin"].append((path, None))
            pages["anonyme"].append((path, None))
    return pages


@dataclass
class Crawl:
    folder: Path
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # file name: (role, address)
    axe: dict[str, dict[str, list]] = field(default_factory=dict)  # role: {address: violations}
    problems: dict[str, list[str]] = field(default_factory=dict)  # role: [unexpected status…]
    timings: list = field(default_factory=list)
    routes: set[str] = field(default_factory=set)
    pages: dict = field(default_factory=dict)


async def _axe(page) -> list[dict]:
    await page.add_script_tag(path=str(AXE))
    return await page.evaluate(AXE_RUN, AXE_TAGS)


@pytest.fixture(scope="session")
async def crawl(chromium, live_server, sessions, session_app):
    folder = Path(tempfile.mkdtemp(prefix="suivi-pages-"))
    found = Crawl(folder=folder)
    turns = asyncio.Semaphore(2)  # two roles at once: Chromium's renderers then use both cores

    async def visit(role: str, addresses: list[tuple[str, int]]) -> None:
        async with turns:
            fixture_role = FIXTURE_ROLE[role]
            options = {"storage_state": await sessions(fixture_role)} if fixture_role else {}
            # The page's CSP (script-src 'self') would refuse axe's inline script: bypassed for the crawl only.
            context = await chromium.new_context(base_url=live_server.url, locale="fr-FR", bypass_csp=True,
                                                 **options)
            page = await context.new_page()
            found.axe[role], found.problems[role] = {}, []
            for number, (address, expected) in enumerate(addresses):
                started = time.monotonic()
                response = await page.goto(address)
                if (response.status >= 500) if expected is None else (response.status != expected):
                    found.problems[role].append(f"{address} : {response.status} au lieu de {expected}")
                name = f"{role}-{number:02d}.html"
                (folder / name).write_bytes(await response.body())
                found.files[name] = (role, address)
                loaded = time.monotonic()
                found.axe[role][address] = await _axe(page)
                found.timings.append((address, loaded - started, time.monotonic() - loaded))
            await context.close()

    found.routes = html_routes(session_app)
    found.pages = pages_for(live_server, found.routes)
    await asyncio.gather(*(visit(role, addresses) for role, addresses in found.pages.items()))
    yield found
    if os.environ.get("SUIVI_CRAWL_TIMINGS"):
        for address, load, check in found.timings:
            print(f"{load:6.2f} {check:6.2f} {address}")
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


BROKEN_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Page cassée</title></head>
<body><main><h1>Page cassée</h1>
<form action="/x" method="post"><input type="text" name="nom"><p frobnicate="oui">Texte</p>
<button type="submit">Envoyer</button></form></main></body></html>
"""


@pytest.fixture(scope="session")
def vnu_errors(crawl):
    """vnu over every crawled page and the broken page, in one Java process."""
    (crawl.folder / "page-cassee.html").write_text(BROKEN_PAGE, encoding="utf-8")
    return vnu.check(sorted(crawl.folder.glob("*.html")))


def _describe_axe(violations: dict[str, list]) -> str:
    lines = []
    for address, found in violations.items():
        for v in found:
            lines.append(f"{address} : {v['id']} ({v['impact']}) {v['help']} → {', '.join(v['nodes'])}")
    return "\n".join(lines)


@pytest.mark.parametrize("role", ROLES)
async def test_pages_answer_as_expected_and_axe_finds_no_wcag_violation(crawl, role):
    assert not crawl.problems[role], "\n".join(crawl.problems[role])
    assert len(crawl.axe[role]) >= 5  # the crawl did visit this role's pages
    failing = {address: found for address, found in crawl.axe[role].items() if found}
    assert not failing, "axe-core " + AXE_VERSION + " :\n" + _describe_axe(failing)


@pytest.mark.parametrize("role", ROLES)
async def test_pages_are_valid_html_for_the_nu_checker(crawl, vnu_errors, role):
    files = [name for name, (owner, _) in crawl.files.items() if owner == role]
    assert files
    lines = []
    for name in files:
        for message in vnu_errors.get(name, []):
            lines.append(f"{crawl.files[name][1]} l.{message.get('lastLine')} : {message.get('message')} "
                         f"« {message.get('extract', '').strip()[:120]} »")
    assert not lines, f"vnu {vnu.VNU_VERSION} :\n" + "\n".join(lines)


async def test_every_html_page_of_the_app_is_crawled(crawl):
    addresses = [address for found in crawl.pages.values() for address, _ in found]
    missing = sorted(path for path in crawl.routes if not any(route_pattern(path).match(a) for a in addresses))
    assert not missing, ("pages jamais contrôlées par axe et vnu : ajoutez-les à pages_for() (ou, si ce n’est pas une "
                         "page, à NOT_PAGES / NOT_CRAWLED avec la raison) : " + ", ".join(missing))


async def test_both_checks_report_a_page_with_an_unlabelled_input_and_an_invalid_attribute(chromium, vnu_errors):
    context = await chromium.new_context(bypass_csp=True)
    page = await context.new_page()
    await page.set_content(BROKEN_PAGE)
    violations = await _axe(page)
    await context.close()
    assert [v["id"] for v in violations] == ["label"]  # the unlabelled input
    messages = [m["message"] for m in vnu_errors["page-cassee.html"]]
    assert any(re.search(r"Attribute .frobnicate. not allowed", m) for m in messages), messages
