"""The pages public bodies must publish (« Accessibilité », « Données personnelles », « Mentions légales »): public,
linked from the footer of every page type, with the publisher's details from the configuration."""
from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from tests.factories import EMAILS
from tracker.core import config

pytestmark = pytest.mark.anyio

LEGAL = {
    "/accessibilite": "Déclaration d’accessibilité",
    "/donnees-personnelles": "Données personnelles",
    "/mentions-legales": "Mentions légales",
}
ROUTES_COVERED = {("GET", path) for path in LEGAL}


def footer(html: str) -> str:
    found = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S)
    assert found, "pied de page absent"
    return found.group(1)


async def test_the_legal_pages_are_public(client, world):
    for path, heading in LEGAL.items():
        response = await client.get(path)
        assert response.status_code == 200, path
        assert f"<h1>{heading}</h1>" in response.text
        assert f'href="{path}" aria-current="page"' in footer(response.text)
    # A signed-in person reads the same pages (with the site's navigation).
    await client.login(EMAILS["ga_reader"])
    assert (await client.get("/mentions-legales")).status_code == 200


async def test_every_page_type_links_them_from_its_footer(make_client, world):
    anonymous = await make_client()
    pages = {anonymous: ["/connexion", "/page-qui-n-existe-pas", "/accessibilite"]}
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    pages[editor] = ["/territoires", "/territoires/200071827", f"/feuilles-de-route/{world.ga_roadmap}",
                     f"/actions/{world.upcoming}", "/contrats", "/partenaires", "/echeances",
                     f"/actions/{world.upcoming}/modifier"]
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    pages[reviewer] = ["/pilotage", "/pilotage/actions", "/pilotage/relances", "/territoires/200071827/point-codir"]
    for client, paths in pages.items():
        for path in paths:
            response = await client.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            links = footer(response.text)
            assert 'aria-label="Informations légales"' in links
            for legal in LEGAL:
                assert f'href="{legal}"' in links, (path, legal)
            assert "Accessibilité\u00a0: partiellement conforme" in links, path


async def test_the_accessibility_declaration_says_its_state_date_and_how_to_report(client, world):
    page = (await client.get("/accessibilite")).text
    assert "<strong>partiellement conforme</strong>" in page and "RGAA" in page
    declared = config.publisher.accessibility_declared_on
    assert f'<time datetime="{declared.isoformat()}">' in page
    assert 'href="mailto:contact@adgcf.example.org?subject=' in page  # how to report a problem
    assert "Défenseur des droits" in page


async def test_the_personal_data_page_is_a_register_entry_with_rights_and_how_to_exercise_them(client, world):
    page = (await client.get("/donnees-personnelles")).text
    for heading in ("Responsable du traitement", "Finalités", "Base légale", "Durées de conservation", "Vos droits",
                    "Exercer vos droits"):
        assert f">{heading}</h2>" in page, heading
    assert "120&nbsp;minutes sans activité" in page  # from the session settings, not a copy
    assert "CNIL" in page and "mailto:contact@adgcf.example.org" in page


async def test_the_publishers_details_come_from_the_configuration(client, world, monkeypatch):
    monkeypatch.setenv("PUBLISHER_NAME", "Association Exemple")
    monkeypatch.setenv("PUBLISHER_ADDRESS", "1 rue de l’Exemple, 75000 Paris")
    monkeypatch.setenv("PUBLISHER_EMAIL", "bonjour@exemple.invalid")
    monkeypatch.setenv("PUBLICATION_DIRECTOR", "Camille Directrice")
    monkeypatch.setenv("HOSTING_NAME", "Hébergeur <Exemple>")
    monkeypatch.setenv("PRIVACY_EMAIL", "dpo@exemple.invalid")
    monkeypatch.setenv("ACCESSIBILITY_DECLARED_ON", "2027-03-15")
    publisher = config.load_publisher()
    assert publisher.accessibility_email == "bonjour@exemple.invalid"  # falls back on the publisher's address
    monkeypatch.setattr(config, "publisher", publisher)
    notice = (await client.get("/mentions-legales")).text
    for shown in ("Association Exemple", "1 rue de l’Exemple, 75000 Paris", "Camille Directrice",
                  "Hébergeur &lt;Exemple&gt;", 'href="mailto:bonjour@exemple.invalid"'):
        assert shown in notice, shown
    assert "mailto:dpo@exemple.invalid" in (await client.get("/donnees-personnelles")).text
    declaration = (await client.get("/accessibilite")).text
    assert '<time datetime="2027-03-15">15 mars 2027</time>' in declaration
    assert "mailto:bonjour@exemple.invalid" in declaration


def test_a_malformed_declaration_date_stops_the_start(monkeypatch):
    monkeypatch.setenv("ACCESSIBILITY_DECLARED_ON", "15/03/2027")
    with pytest.raises(SystemExit, match="AAAA-MM-JJ"):
        config.load_publisher()
    monkeypatch.delenv("ACCESSIBILITY_DECLARED_ON")
    assert config.load_publisher().accessibility_declared_on == date.fromisoformat(config.DEFAULT_ACCESSIBILITY_DATE)
    assert dataclasses.is_dataclass(config.publisher)
