"""« Mes échéances » shows each person exactly what they pilot or edit, in the right groups, with French dates; the same
list for a territory and for a partner's contact; filters by territory and kind; bad filters are a French 400."""
import html

import pytest

from tests.deadline_world import BOTH_EMAIL, NOON, build_dated_world, groups_on
from tests.factories import EMAILS
from tracker.core import clock

pytestmark = pytest.mark.anyio

ROUTES_COVERED = {("GET", "/echeances"), ("GET", "/territoires/{siren:str}/echeances")}
GA, VR = "200071827", "200068781"
GROUPS = ["retard", "semaine", "semaine_prochaine", "mois", "plus_tard"]


def expected_groups(dated, names) -> dict[str, list[str]]:
    """The groups worked out by hand in tests/deadline_world.py, for these names."""
    found = {code: [] for code in GROUPS}
    for name in names:
        found[dated.expected[name]].append(dated.ids[name])
    return found


def as_sets(groups: dict[str, list[str]]) -> dict[str, set[str]]:
    return {code: set(rows) for code, rows in groups.items()}


GA_EDITOR_SEES = [
    "Étude de faisabilité", "Réunion de lancement", "Diagnostic partagé", "Charte des associations", "Comité de suivi",
    "Plan de formation", "Bilan intermédiaire", "Évaluation finale", "Audit confidentiel du délégataire",
    "Portage de repas", "Engagement de Solidarité Angoumois", "Apport du Grand Angoulême", "Revue annuelle",
    "Fin du contrat",
]


async def test_an_editor_sees_exactly_their_territory_s_deadlines_in_the_right_groups(client, world):
    dated = await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    with clock.fixed_at(NOON):
        page = await client.get("/echeances")
    assert page.status_code == 200
    shown = groups_on(page.text)
    assert list(shown) == GROUPS
    assert as_sets(shown) == as_sets(expected_groups(dated, GA_EDITOR_SEES))
    # Soonest first within a group; the late one says so, with a French relative date.
    assert shown["semaine"][0] == dated.ids["Réunion de lancement"]
    assert shown["semaine"][-1] == dated.ids["Diagnostic partagé"]
    text = html.unescape(page.text)
    assert "20 octobre 2026" in text and "il y a 13 jours" in text and "En retard" in text
    assert "dans 6 jours" in text  # Sunday 8 November
    # Done, abandoned, other territories' and Charente Limousine's own deadlines are not theirs.
    for name in ("Carte des tiers-lieux", "Navette abandonnée", "Apport de Charente Limousine"):
        assert dated.ids[name] not in page.text
    assert "Tableau de bord des satellites" not in page.text and "Dossier confidentiel de Valence" not in page.text


async def test_a_partner_s_contact_sees_their_commitment_and_the_action_their_organisation_pilots(client, world):
    dated = await build_dated_world(world)
    await client.login("contact@solidarite-angoumois.example.org")
    with clock.fixed_at(NOON):
        page = await client.get("/echeances")
    assert page.status_code == 200
    assert as_sets(groups_on(page.text)) == as_sets(
        expected_groups(dated, ["Engagement de Solidarité Angoumois", "Portage de repas"]))
    assert "Audit confidentiel" not in page.text


async def test_a_reader_has_no_deadline_of_their_own_but_reads_the_territory_s(client, world):
    dated = await build_dated_world(world)
    await client.login(EMAILS["ga_reader"])
    with clock.fixed_at(NOON):
        mine = await client.get("/echeances")
        territory = await client.get(f"/territoires/{GA}/echeances")
    assert all(rows == [] for rows in groups_on(mine.text).values())
    assert "aucune échéance ne vous revient" in html.unescape(mine.text)
    assert territory.status_code == 200
    assert as_sets(groups_on(territory.text)) == as_sets(expected_groups(dated, GA_EDITOR_SEES))


async def test_the_adgcf_reads_a_territory_s_deadlines_without_its_confidential_actions(make_client, world):
    dated = await build_dated_world(world)
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    with clock.fixed_at(NOON):
        page = await reviewer.get(f"/territoires/{GA}/echeances")
    visible = [n for n in GA_EDITOR_SEES if n != "Audit confidentiel du délégataire"]
    assert as_sets(groups_on(page.text)) == as_sets(expected_groups(dated, visible))
    outsider = await make_client()
    await outsider.login(EMAILS["vr_editor"])
    assert (await outsider.get(f"/territoires/{GA}/echeances")).status_code == 404


async def test_filters_by_kind_and_territory_and_htmx_gets_the_list_only(client, world):
    dated = await build_dated_world(world)
    await client.login(BOTH_EMAIL)
    with clock.fixed_at(NOON):
        everything = await client.get("/echeances")
        only_vr = await client.get(f"/echeances?territoire={VR}")
        only_obligations = await client.get("/echeances?type=obligation")
        fragment = await client.get(f"/echeances?territoire={VR}", htmx=True)
    seen = {row for rows in groups_on(everything.text).values() for row in rows}
    assert f"action-{world.vr_action}" in seen and f"action-{dated.vr_secret}" in seen
    assert dated.ids["Réunion de lancement"] in seen
    vr_rows = {row for rows in groups_on(only_vr.text).values() for row in rows}
    assert vr_rows == {f"action-{world.vr_action}", f"action-{dated.vr_secret}"}
    assert {row for rows in groups_on(only_obligations.text).values() for row in rows} == {
        dated.ids["Apport du Grand Angoulême"]}
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="resultats"' in fragment.text


@pytest.mark.parametrize("query,message", [
    ("type=inconnu", "Type d’échéance"),
    ("territoire=200072049", "Territoire"),  # a territory that is not one of this person's
    ("territoire=%00", "Territoire"),
])
async def test_a_bad_filter_is_a_french_400(client, world, query, message):
    await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    response = await client.get(f"/echeances?{query}")
    assert response.status_code == 400
    assert "Filtre invalide" in html.unescape(response.text) and message in html.unescape(response.text)
    territory = await client.get(f"/territoires/{GA}/echeances?type=rien")
    assert territory.status_code == 400


async def test_the_header_and_the_roadmap_page_link_the_deadlines_and_the_codir_pack(client, world):
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert 'href="/echeances"' in page.text
    assert f'href="/territoires/{GA}/echeances"' in page.text
    assert f'href="/territoires/{GA}/point-codir"' in page.text
    assert 'href="/compte/echeances"' in page.text


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for path in ("/echeances", f"/territoires/{GA}/echeances"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion")
