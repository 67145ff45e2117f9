"""An administrator edits a territory (names, aliases, kind, population the French way, several départements and
régions, SIREN under the Luhn rule), and the search ignores case, accents, hyphens and apostrophes and reads
aliases. Nobody else edits (403), and no POST goes through without its CSRF token."""
import pytest

from tests.factories import EMAILS, territory
from tracker.territories.tables import Territory

pytestmark = pytest.mark.anyio

SEM_SIREN = "244200770"
ROUTES_COVERED = {("GET", "/territoires/{siren:str}/modifier"), ("POST", "/territoires/{siren:str}/modifier")}


async def row(siren: str) -> dict | None:
    return await Territory.select().where(Territory.siren == siren).first()


async def found_by(client, text: str) -> bool:
    page = await client.get("/territoires", params={"q": text})
    assert page.status_code == 200
    return "Saint-Étienne Métropole" in page.text


@pytest.mark.parametrize("typed", ["100 000", "100\u00a0000", "100\u202f000", "100000"])
async def test_a_petr_with_french_population_and_three_departements(client, world, typed):
    await client.login(EMAILS["admin"])
    response = await client.submit("/territoires/nouveau", "/territoires/nouveau", {
        "name": "PETR du Pays Horte et Tardoire", "siren": "251 601 407", "kind": "PETR",
        "departements": "16, 24 87", "population": typed})
    assert response.status_code == 303, response.text
    petr = await row("251601407")
    assert petr["population"] == 100000
    assert (petr["departement"], petr["departements"], petr["regions"]) == ("16", "16,24,87", "75")
    page = await client.get("/territoires/251601407")
    assert "Départements" in page.text and "Dordogne (24)" in page.text and "Haute-Vienne (87)" in page.text
    assert "100\u202f000" in page.text or "100\u00a0000" in page.text


@pytest.mark.parametrize("typed", ["10 00 00", "100 000 habitants", "1,5", "-3"])
async def test_a_population_that_is_not_a_number_is_refused(client, world, typed):
    await client.login(EMAILS["admin"])
    response = await client.submit("/territoires/nouveau", "/territoires/nouveau", {
        "name": "PETR", "siren": "251601407", "kind": "PETR", "population": typed})
    assert response.status_code == 422
    assert "Population" in response.text and await row("251601407") is None


async def test_an_administrator_edits_every_field_and_the_search_follows(client, world):
    await territory(SEM_SIREN, "Saint-Étienne Métropole", kind="METRO")
    await client.login(EMAILS["admin"])
    assert await found_by(client, "saint etienne")
    assert await found_by(client, "SAINT-ÉTIENNE")
    assert await found_by(client, "Saint Étienne")
    assert not await found_by(client, "Stéphanois")
    page = await client.get(f"/territoires/{SEM_SIREN}")
    assert f'href="/territoires/{SEM_SIREN}/modifier"' in page.text
    response = await client.submit(f"/territoires/{SEM_SIREN}/modifier", f"/territoires/{SEM_SIREN}/modifier", {
        "short_name": "Saint-Étienne Métropole", "aliases": "Métropole stéphanoise\nSEM\n",
        "departements": "42, 43", "regions": "84", "population": "404 000", "kind": "METRO"})
    assert response.status_code == 303 and response.headers["location"] == f"/territoires/{SEM_SIREN}"
    edited = await row(SEM_SIREN)
    assert edited["aliases"] == "Métropole stéphanoise\nSEM"
    assert (edited["departements"], edited["regions"], edited["population"]) == ("42,43", "84", 404000)
    assert await found_by(client, "stephanoise")
    assert await found_by(client, "métropole STÉPHANOISE")
    assert await found_by(client, "saint etienne")
    # The form shows what is stored, ready to be sent again unchanged.
    form = (await client.get(f"/territoires/{SEM_SIREN}/modifier")).text
    assert "Métropole stéphanoise" in form and 'value="42, 43"' in form
    again = await client.submit(f"/territoires/{SEM_SIREN}/modifier", f"/territoires/{SEM_SIREN}/modifier")
    assert again.status_code == 303 and (await row(SEM_SIREN))["population"] == 404000


async def test_apostrophes_and_hyphens_do_not_count(client, world):
    await territory("200041689", "CC de l’Île-d’Oléron", kind="CC")
    await client.login(EMAILS["admin"])
    for text in ("ile d'oleron", "L'ÎLE-D’OLÉRON", "ile d oleron"):
        page = await client.get("/territoires", params={"q": text})
        assert "Oléron" in page.text, text


async def test_the_siren_is_corrected_under_the_luhn_rule_and_stays_unique(client, world):
    await territory(SEM_SIREN, "Saint-Étienne Métropole", kind="METRO")
    await client.login(EMAILS["admin"])
    path = f"/territoires/{SEM_SIREN}/modifier"
    bad = await client.submit(path, path, {"siren": "244200771"})
    assert bad.status_code == 422 and "clé de Luhn" in bad.text
    taken = await client.submit(path, path, {"siren": "200071827"})
    assert taken.status_code == 422 and "Un territoire porte déjà ce SIREN." in taken.text
    assert await row(SEM_SIREN) is not None
    fixed = await client.submit(path, path, {"siren": "200 066 066"})
    assert fixed.status_code == 303 and fixed.headers["location"] == "/territoires/200066066"
    assert await row(SEM_SIREN) is None and (await row("200066066"))["name"] == "Saint-Étienne Métropole"


async def test_an_unknown_departement_is_refused_and_nothing_changes(client, world):
    await client.login(EMAILS["admin"])
    before = await row("200071827")
    response = await client.submit("/territoires/200071827/modifier", "/territoires/200071827/modifier",
                                   {"departements": "16, 999", "name": "Autre nom"})
    assert response.status_code == 422 and "valeur inconnue (999)" in response.text
    assert await row("200071827") == before


@pytest.mark.parametrize("person", ["reviewer", "ga_referent", "ga_editor", "ga_reader", "nobody"])
async def test_only_administrators_edit_a_territory(make_client, world, person):
    client = await make_client()
    await client.login(EMAILS[person])
    before = await row("200071827")
    assert (await client.get("/territoires/200071827/modifier")).status_code == 403
    response = await client.post("/territoires/200071827/modifier", {
        "name": "Piraté", "siren": "200071827", "kind": "CA"})
    assert response.status_code == 403
    assert await row("200071827") == before
    assert "/modifier" not in (await client.get("/territoires/200071827")).text


async def test_an_edit_without_its_csrf_token_is_refused(client, world):
    await client.login(EMAILS["admin"])
    before = await row("200071827")
    await client.get("/territoires/200071827/modifier")
    fields = dict(client.form("/territoires/200071827/modifier").fields) | {"name": "Sans jeton"}
    response = await client.post("/territoires/200071827/modifier", fields, csrf=False)
    assert response.status_code == 403
    assert await row("200071827") == before


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = await client.get("/territoires/200071827/modifier")
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


async def test_the_api_gives_every_departement_region_and_name(client, world):
    from tests.factories import api_token

    await client.login(EMAILS["admin"])
    await client.submit("/territoires/nouveau", "/territoires/nouveau", {
        "name": "PETR Sud Charente", "siren": "251601407", "kind": "PETR", "departements": "16, 17, 24",
        "short_name": "Sud Charente", "aliases": "Pays Sud Charente"})
    token = await api_token(EMAILS["admin"])
    answer = (await client.http.get("/api/v1/territoires/251601407",
                                    headers={"Authorization": f"Bearer {token}"})).json()
    assert (answer["departement"], answer["departements"], answer["regions"]) == ("16", ["16", "17", "24"], ["75"])
    assert (answer["nom_court"], answer["autres_noms"]) == ("Sud Charente", ["Pays Sud Charente"])


async def test_the_list_shows_every_departement(client, world):
    await client.login(EMAILS["admin"])
    await client.submit("/territoires/nouveau", "/territoires/nouveau", {
        "name": "PETR Sud Charente", "siren": "251601407", "kind": "PETR", "departements": "16, 17, 24"})
    page = await client.get("/territoires", params={"q": "sud charente"})
    assert "Charente (16), Charente-Maritime (17), Dordogne (24)" in page.text


async def test_hostile_territory_input_is_refused_and_changes_nothing(client, world):
    from tracker.territories.reference import departements

    await client.login(EMAILS["admin"])
    before = await row("200071827")
    path = "/territoires/200071827/modifier"
    for changes, message in (({"name": "CA\x00"}, "caractère interdit"),
                             ({"aliases": "a\x00"}, "caractère interdit"),
                             ({"population": "99999999999999"}, "Population"),
                             ({"departements": ", ".join(list(departements())[:25])}, "au plus 20"),
                             ({"aliases": "\n".join(f"nom {i}" for i in range(30))}, "au plus 20")):
        response = await client.submit(path, path, changes)
        assert response.status_code == 422 and message in response.text, changes
    assert await row("200071827") == before
    assert (await client.get("/territoires", params={"q": "%_'\\"})).status_code == 200
