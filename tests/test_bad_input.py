"""Bad input gets a clear French message and a 4xx, never a 500, and changes nothing."""
import pytest

from tests.factories import EMAILS, history_count
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("path", [
    "/actions/abc", "/actions/0", "/actions/-3", "/actions/99999999999", "/actions/1.5", "/actions/%20",
    "/feuilles-de-route/xyz", "/feuilles-de-route/2147483648", "/actions/12345/modifier",
])
async def test_malformed_or_unknown_ids_get_a_french_404(client, world, path):
    await client.login(EMAILS["ga_editor"])
    response = await client.get(path)
    assert response.status_code == 404
    assert "<html lang=\"fr\">" in response.text
    assert "introuvable" in response.text or "n’existe pas" in response.text


@pytest.mark.parametrize("siren", ["999999999", "12345", "abcdefghi", "2000718270"])
async def test_an_unknown_siren_gets_a_french_404_page(client, world, siren):
    await client.login(EMAILS["admin"])
    response = await client.get(f"/territoires/{siren}")
    assert response.status_code == 404
    assert "Aucun territoire accessible ne porte ce SIREN." in response.text


async def test_an_unknown_address_gets_a_french_404(client, world):
    response = await client.get("/nimporte-quoi")
    assert response.status_code == 404
    assert "Page introuvable" in response.text


@pytest.mark.parametrize("query", ["statut=termine", "module=9", "module=un", "axe=abc", "pilote=-1", "axe=1e9"])
async def test_bad_filters_get_a_french_400(client, world, query):
    await client.login(EMAILS["ga_editor"])
    response = await client.get(f"/feuilles-de-route/{world.ga_roadmap}?{query}")
    assert response.status_code == 400
    assert "Filtre invalide" in response.text


async def test_a_deadline_before_the_start_is_refused(client, world):
    await client.login(EMAILS["ga_editor"])
    before = await Action.count()
    response = await client.submit(
        f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle", f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle",
        {"title": "Action mal datée", "start_on": "2026-06-01", "deadline": "2026-05-01"},
    )
    assert response.status_code == 422
    assert "L’échéance ne peut précéder la date de début." in response.text
    assert 'value="Action mal datée"' in response.text  # what was typed is kept
    assert await Action.count() == before


@pytest.mark.parametrize("field,value,message", [
    ("title", "x" * 201, "ne peut dépasser 200 caractères"),
    ("title", "", "est obligatoire"),
    ("description", "x" * 10001, "ne peut dépasser 10000 caractères"),
    ("deadline", "31/12/2026", "n’est pas une date valide"),
    ("deadline", "2026-02-30", "n’est pas une date valide"),
    ("module", "7", "doit être compris entre 1 et 4"),
    ("pilot", "999999", "valeur inconnue"),
    ("priority", "urgente", "valeur inconnue"),
])
async def test_bad_action_fields_are_refused_with_a_french_message(client, world, field, value, message):
    await client.login(EMAILS["ga_editor"])
    before = await Action.count()
    changes = {"title": "Une action", field: value}
    path = f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle"
    response = await client.submit(path, path, changes)
    assert response.status_code == 422
    assert message in response.text
    assert 'role="alert"' in response.text
    assert await Action.count() == before


async def test_a_pilot_of_another_territory_cannot_be_chosen(client, world):
    await client.login(EMAILS["ga_editor"])
    path = f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle"
    response = await client.submit(path, path, {"title": "Une action", "pilot": str(world.vr_pilot)})
    assert response.status_code == 422
    assert not await Action.exists().where(Action.title == "Une action")


async def test_an_oversized_request_body_is_refused(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/actions/{world.upcoming}/notes", {"body": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "volumineux" in response.text


async def test_a_nul_byte_in_a_field_is_refused(client, world):
    await client.login(EMAILS["ga_editor"])
    path = f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle"
    response = await client.submit(path, path, {"title": "Action\x00cachée"})
    assert response.status_code == 422
    assert await history_count(world.upcoming) == 0


@pytest.mark.parametrize("query", ["page=0", "page=abc", "q=" + "x" * 101])
async def test_bad_territory_queries_get_a_french_400(client, world, query):
    await client.login(EMAILS["reviewer"])
    response = await client.get(f"/territoires?{query}")
    assert response.status_code == 400
    assert "Paramètre invalide" in response.text
