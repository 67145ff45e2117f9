"""What the Nu HTML Checker asked of the pages (tests/test_browser_pages.py checks every page in a browser, on SQLite
only): these HTTP tests keep each fix on both databases, where the timestamps come back from the driver."""
import re

import pytest

from tests.factories import AGREEMENT_EMAILS, EMAILS, build_agreement_world

pytestmark = pytest.mark.anyio

TIME_ATTR = re.compile(r'<time datetime="([^"]*)"')


async def test_time_elements_give_moments_to_the_second_in_utc_and_days_as_dates(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/feuilles-de-route/{world.ga_roadmap}", f"/actions/{world.upcoming}/statut",
                                   {"status": "en_cours"})
    assert response.status_code == 303
    page = (await client.get(f"/actions/{world.upcoming}")).text
    values = TIME_ATTR.findall(page)
    moments = [v for v in values if "T" in v]
    assert moments, "l’historique devrait dater le changement"
    for value in moments:  # HTML allows at most three digits of fraction: none, and the zone as Z
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value), value
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d", v) for v in values)  # the deadline, a day


async def test_the_roadmap_count_of_shown_actions_is_a_status_outside_the_heading(client, world):
    await client.login(EMAILS["ga_reader"])
    page = (await client.get(f"/feuilles-de-route/{world.ga_roadmap}?statut=a_venir")).text
    heading = re.search(r'<h2 id="actions-titre">(.*?)</h2>', page, re.S).group(1)
    assert "role=" not in heading
    assert re.search(r'<p class="muted" role="status">\d+ actions? affichées? \(filtrées\)</p>', page)


async def test_the_required_lead_territory_select_starts_with_an_empty_choice_even_when_there_is_one(client, world):
    await build_agreement_world(world)
    await client.login(AGREEMENT_EMAILS["cl_referent"])  # référent of one territory: the only lead
    page = (await client.get("/contrats/nouveau")).text
    select = re.search(r'<select id="territory" name="territory" required[^>]*>(.*?)</select>', page, re.S).group(1)
    options = re.findall(r"<option[^>]*>[^<]*</option>", select)
    assert options[0] == '<option value="">— Choisir —</option>'
    assert len(options) == 2 and "selected" in options[1]  # the one territory stays chosen
