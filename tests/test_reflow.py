"""Phones and zoom (WCAG 1.4.10, reflow at 320 CSS px): a wide table never makes the page scroll sideways, it
scrolls inside its own region, which a keyboard reaches and a screen reader names. (The widths themselves are
measured in a real browser: see tests/reflow_measure.py.) And the roadmap's header reads as a sentence."""
from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest

from tests.factories import EMAILS
from tracker.roadmaps.tables import Action, Roadmap

pytestmark = pytest.mark.anyio

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Regions(HTMLParser):
    """Each <table> with the attributes of its enclosing elements; every id of the page and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.tables: list[list[dict]] = []
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.tables.append([a for t, a in self.stack if t == "div"])
        if tag in VOID:
            return
        self.stack.append((tag, attrs))
        if attrs.get("id"):
            self.texts[attrs["id"]] = []

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        for _, attrs in self.stack:
            if attrs.get("id") in self.texts:
                self.texts[attrs["id"]].append(data)


def unlabelled_tables(html: str) -> tuple[list[str], int]:
    page = _Regions()
    page.feed(html)
    problems = []
    for number, divs in enumerate(page.tables, start=1):
        region = next((d for d in reversed(divs) if "table-scroll" in d.get("class", "").split()), None)
        if region is None:
            problems.append(f"tableau {number} hors d’une région défilante")
            continue
        label = region.get("aria-labelledby", "")
        if region.get("role") != "region" or region.get("tabindex") != "0":
            problems.append(f"tableau {number} : région sans role=region ou tabindex=0")
        elif not "".join(page.texts.get(label, [])).strip():
            problems.append(f"tableau {number} : aria-labelledby={label!r} ne nomme aucun texte de la page")
    return problems, len(page.tables)


PAGES = {
    "ga_editor": ["/territoires", "/territoires/200071827", "/feuilles-de-route/{roadmap}", "/actions/{action}",
                  "/partenaires", "/partenaires/{pilot}", "/echeances", "/territoires/200071827/echeances",
                  "/contrats", "/feuilles-de-route/{roadmap}/import", "/compte/echeances", "/compte/jetons",
                  "/territoires/200071827/point-codir"],
    "reviewer": ["/pilotage", "/pilotage/actions", "/pilotage/relances"],
    "admin": ["/rappels"],
}
MUST_HAVE_TABLES = {"/feuilles-de-route/{roadmap}", "/pilotage", "/pilotage/actions", "/territoires",
                    "/partenaires", "/echeances", "/feuilles-de-route/{roadmap}/import"}


async def test_every_table_scrolls_in_its_own_labelled_region(make_client, world):
    checked = 0
    for person, paths in PAGES.items():
        client = await make_client()
        await client.login(EMAILS[person])
        for template in paths:
            path = template.format(roadmap=world.ga_roadmap, action=world.overdue, pilot=world.ga_pilot)
            response = await client.get(path)
            assert response.status_code == 200, (person, path)
            problems, count = unlabelled_tables(response.text)
            assert not problems, (path, problems)
            if template in MUST_HAVE_TABLES:
                assert count, f"{path} : aucun tableau, le test ne vérifierait rien"
            checked += count
    assert checked >= len(MUST_HAVE_TABLES)


def test_the_check_catches_a_bare_table_and_a_label_naming_nothing():
    assert unlabelled_tables('<h2 id="t">Titre</h2><table><tr><td>1</td></tr></table>')[0]
    assert unlabelled_tables('<div class="table-scroll" role="region" aria-labelledby="absent" tabindex="0">'
                             '<table><tr><td>1</td></tr></table></div>')[0]
    assert not unlabelled_tables('<h2 id="t">Titre</h2><div class="table-scroll" role="region" aria-labelledby="t" '
                                 'tabindex="0"><table><tr><td>1</td></tr></table></div>')[0]


async def test_the_roadmap_page_separates_its_words(client, world):
    """The template engine trims the line break after a block tag: « 2026.Horizon », « ConfidentiellePriorité »."""
    await Roadmap.update({Roadmap.adopted_on: date(2026, 4, 17), Roadmap.horizon: date(2028, 12, 31)}).where(
        Roadmap.id == world.ga_roadmap)
    await Action.update({Action.priority: "haute"}).where(Action.id == world.secret)
    await client.login(EMAILS["ga_editor"])
    page = (await client.get(f"/feuilles-de-route/{world.ga_roadmap}")).text
    text = re.sub(r"\s+", " ", page)
    assert "Adoptée le 17 avril 2026. Horizon&nbsp;: 31 décembre 2028." in text
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "Audit confidentiel de la DSP Confidentielle Priorité haute Module 1" in words
    assert "Ajouter une action Importer un tableur" in words
