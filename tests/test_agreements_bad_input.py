"""Bad input on the agreement pages gets a clear French message and a 4xx, never a 500, and changes nothing."""
from datetime import timedelta

import pytest

from tests.factories import AGREEMENT_EMAILS, EMAILS, agreement, build_agreement_world, party
from tracker.agreements.tables import Agreement, AgreementParty, AgreementReview, AgreementTheme
from tracker.history.tables import HistoryEntry

from tracker.core import clock

pytestmark = pytest.mark.anyio


def plain(response) -> str:
    return response.text.replace("\u00a0", " ").replace("&nbsp;", " ")


@pytest.fixture
async def deal(world):
    return await build_agreement_world(world, state="en_negociation")


async def counts() -> tuple:
    return (await Agreement.count(), await AgreementParty.count(), await AgreementTheme.count(),
            await AgreementReview.count(), await HistoryEntry.count(),
            await Agreement.select(Agreement.title, Agreement.version, Agreement.state).order_by(Agreement.id))


@pytest.mark.parametrize("path", [
    "/contrats/abc", "/contrats/0", "/contrats/-3", "/contrats/99999999999", "/contrats/1.5", "/contrats/%20",
    "/contrats/2147483648", "/contrats/12345", "/contrats/12345/modifier", "/contrats/12345/parties",
    "/obligations/xyz", "/obligations/12345", "/obligations/0/modifier",
])
async def test_malformed_or_unknown_ids_get_a_french_404(client, deal, path):
    await client.login(EMAILS["ga_editor"])
    response = await client.get(path)
    assert response.status_code == 404
    assert '<html lang="fr">' in response.text
    assert "introuvable" in response.text or "n’existe pas" in response.text


@pytest.mark.parametrize("path", [
    "/contrats/abc/etat", "/contrats/{a}/parties/abc/signature", "/contrats/{a}/parties/99999/signature",
    "/contrats/{a}/parties/99999/deliberation", "/contrats/{a}/parties/99999/retirer",
    "/contrats/{a}/revues/99999/supprimer", "/contrats/{a}/actions/99999/retirer", "/obligations/99999/statut",
    "/obligations/abc/supprimer",
])
async def test_posts_to_unknown_things_get_a_404_and_change_nothing(client, deal, path):
    await client.login(EMAILS["ga_referent"])
    before = await counts()
    response = await client.post(path.format(a=deal.agreement), {"version": "1", "signed_on": "2026-01-01"})
    assert response.status_code == 404
    assert await counts() == before


async def test_a_party_of_another_agreement_is_not_found_here(client, world, deal):
    other = await agreement(world.ga, "Autre contrat", state="a_signer")
    foreign_party = await party(other, world.ga, 1, deliberation_on=clock.today() - timedelta(days=3))
    await Agreement.update({Agreement.state: "a_signer"}).where(Agreement.id == deal.agreement)
    await client.login(EMAILS["ga_referent"])
    response = await client.post(f"/contrats/{deal.agreement}/parties/{foreign_party}/signature",
                                 {"signed_on": clock.today().isoformat(), "version": "1"})
    assert response.status_code == 404
    assert not (await AgreementParty.select(AgreementParty.signed_at).where(
        AgreementParty.id == foreign_party).first())["signed_at"]


@pytest.mark.parametrize("query", ["etat=termine", "etat=EN_VIGUEUR", "page=0", "page=abc", "page=1e9",
                                   "theme=" + "x" * 81, "action=abc", "action=-1", "action=99999999999"])
async def test_bad_filters_get_a_french_400(client, deal, query):
    await client.login(EMAILS["ga_editor"])
    response = await client.get(f"/contrats?{query}")
    assert response.status_code == 400
    assert "Filtre invalide" in plain(response)


async def test_an_unknown_theme_or_a_far_page_simply_lists_nothing(client, deal):
    await client.login(EMAILS["ga_editor"])
    for query in ("theme=Cirque", "page=500", "theme=%00"):
        response = await client.get(f"/contrats?{query}")
        assert response.status_code in (200, 400), query
        assert "Contrat Grand Angoulême" not in response.text


async def test_a_too_long_territory_search_is_refused(client, deal):
    await client.login(EMAILS["ga_editor"])
    response = await client.get(f"/contrats/{deal.agreement}/parties?q={'a' * 101}")
    assert response.status_code == 400
    assert "Recherche invalide" in plain(response)


@pytest.mark.parametrize("territory", ["", "abc", "-1", "0", "99999999", "1.5", "99999999999999"])
async def test_adding_a_party_that_is_not_a_territory_is_refused(client, deal, territory):
    await client.login(EMAILS["ga_editor"])
    before = await counts()
    response = await client.post(f"/contrats/{deal.agreement}/parties", {"territory": territory})
    assert response.status_code == 422
    assert "territoire" in plain(response)
    assert await counts() == before


@pytest.mark.parametrize("changes,message", [
    ({"title": ""}, "« Intitulé » est obligatoire"),
    ({"title": "x" * 201}, "ne peut dépasser 200 caractères"),
    ({"purpose": "x" * 10001}, "ne peut dépasser 10000 caractères"),
    ({"in_force_on": "2028-01-01", "ends_on": "2027-12-31"},
     "La date de fin doit être postérieure à la date d’entrée en vigueur"),
    ({"in_force_on": "2028-01-01", "ends_on": "2028-01-01"},
     "La date de fin doit être postérieure à la date d’entrée en vigueur"),
    ({"ends_on": "31/12/2028"}, "n’est pas une date valide"),
    ({"ends_on": "0001-01-01"}, "doit se situer entre 1990 et 2100"),
    ({"in_force_on": "2028-02-30"}, "n’est pas une date valide"),
    ({"theme_1_nom": "x" * 81}, "Un thème tient en 80 caractères au plus"),
    ({f"theme_{i}_nom": f"Thème {i}" for i in range(1, 14)}, "12 thèmes au plus"),
    ({"theme_1_nom": "Santé", "theme_2_nom": "santé"}, "Le thème « Santé » figure deux fois"),
    ({"theme_1_description": "Sans intitulé"}, "Le thème 1 a une description mais pas d’intitulé"),
    ({"theme_1_nom": "Santé", "theme_1_rang": "zéro"}, "« Rang du thème 1 » doit être un nombre entier"),
    ({"protocol_on": "2029-01-01", "in_force_on": "2028-01-01"}, "Le protocole précède l’entrée en vigueur"),
    ({"title": "Nul\x00"}, "contient un caractère interdit"),
])
async def test_a_bad_agreement_form_is_refused_and_what_was_typed_is_kept(client, deal, changes, message):
    await client.login(EMAILS["ga_editor"])
    before = await counts()
    path = f"/contrats/{deal.agreement}/modifier"
    response = await client.submit(path, path, changes)
    assert response.status_code == 422
    assert message in plain(response)
    assert 'role="alert"' in response.text
    assert await counts() == before
    created = await client.submit("/contrats/nouveau", "/contrats/nouveau", {"title": "Nouveau", **changes})
    assert created.status_code == 422 and message in plain(created)
    assert await counts() == before


async def test_end_date_before_an_obligation_deadline_or_a_review_is_refused(client, deal):
    await AgreementReview.insert(AgreementReview(agreement=deal.agreement, review_on=deal.ends_on,
                                                 title="Revue finale"))
    await client.login(EMAILS["ga_editor"])
    path = f"/contrats/{deal.agreement}/modifier"
    earlier = (clock.today() + timedelta(days=250)).isoformat()  # before CL's obligation (300 days) and the review
    response = await client.submit(path, path, {"ends_on": earlier})
    assert response.status_code == 422
    assert "a une échéance après cette date de fin" in plain(response)
    row = await Agreement.select(Agreement.ends_on).where(Agreement.id == deal.agreement).first()
    assert row["ends_on"] == deal.ends_on


@pytest.mark.parametrize("data,message", [
    ({"status": "termine"}, "État inconnu"),
    ({"status": ""}, "État inconnu"),
    ({"status": "a_signer", "version": ""}, "Version"),
    ({"status": "a_signer", "version": "abc"}, "Version"),
    ({"status": "resilie", "comment": "x" * 2001}, "2000 caractères"),
    ({"status": "en_negociation"}, "déjà à l’état"),
])
async def test_a_bad_state_change_is_refused_in_french(client, deal, data, message):
    await client.login(EMAILS["ga_editor"])
    before = await counts()
    response = await client.post(f"/contrats/{deal.agreement}/etat", {"version": "1", "comment": "", **data})
    assert response.status_code == 422
    assert message in plain(response)
    assert await counts() == before


@pytest.mark.parametrize("data,message", [
    ({"deliberation_on": "", "deliberation_ref": "n° 12"}, "« Date de la délibération » est obligatoire"),
    ({"deliberation_on": "2026-01-10", "deliberation_ref": ""}, "« Référence de la délibération » est obligatoire"),
    ({"deliberation_on": "2999-01-10", "deliberation_ref": "n° 12"}, "entre 1990 et 2100"),
    ({"deliberation_on": "DEMAIN", "deliberation_ref": "n° 12"}, "ne peut être dans le futur"),
    ({"deliberation_on": "2026-01-10", "deliberation_ref": "x" * 121}, "ne peut dépasser 120 caractères"),
    ({"deliberation_on": "2026-01-10", "deliberation_ref": "n° 12", "version": "x"}, "« Version » doit être"),
])
async def test_a_bad_deliberation_is_refused_in_french(client, deal, data, message):
    if data["deliberation_on"] == "DEMAIN":
        data = {**data, "deliberation_on": (clock.today() + timedelta(days=1)).isoformat()}
    await client.login(AGREEMENT_EMAILS["cl_editor"])
    response = await client.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/deliberation",
                                 {"version": "1", **data})
    assert response.status_code == 422
    assert message in plain(response)
    row = await AgreementParty.select(AgreementParty.deliberation_ref, AgreementParty.version).where(
        AgreementParty.id == deal.cl_party).first()
    assert row == {"deliberation_ref": "CL-2026-058", "version": 1}


@pytest.mark.parametrize("review_on,message", [
    ("", "« Date de la revue » est obligatoire"),
    ("AFTER", "La revue ne peut suivre la date de fin du contrat"),
    ("BEFORE", "La revue ne peut précéder l’entrée en vigueur du contrat"),
    ("2026-13-01", "n’est pas une date valide"),
])
async def test_a_review_date_outside_the_contract_is_refused(client, deal, review_on, message):
    await Agreement.update({Agreement.in_force_on: clock.today()}).where(Agreement.id == deal.agreement)
    review_on = {"AFTER": (deal.ends_on + timedelta(days=1)).isoformat(),
                 "BEFORE": (clock.today() - timedelta(days=1)).isoformat()}.get(review_on, review_on)
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/contrats/{deal.agreement}", f"/contrats/{deal.agreement}/revues",
                                   {"review_on": review_on})
    assert response.status_code == 422
    assert message in plain(response)
    assert await AgreementReview.count() == 0


@pytest.mark.parametrize("action", ["", "abc", "99999", "-4"])
async def test_linking_something_that_is_not_one_of_your_actions_is_refused(client, world, deal, action):
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/contrats/{deal.agreement}/actions", {"action": action})
    assert response.status_code == 422
    assert "Cette action ne peut être liée" in plain(response)


async def test_a_confidential_action_cannot_be_linked(client, world, deal):
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/contrats/{deal.agreement}")
    assert "Guichet unique des associations" in page.text.split('id="actions-liees"')[1]
    assert "Audit confidentiel" not in page.text
    response = await client.post(f"/contrats/{deal.agreement}/actions", {"action": str(world.secret)})
    assert response.status_code == 422


async def test_a_post_without_csrf_token_changes_nothing(client, deal):
    await client.login(EMAILS["ga_editor"])
    before = await counts()
    response = await client.post(f"/contrats/{deal.agreement}/etat", {"status": "a_signer", "version": "1"}, csrf=False)
    assert response.status_code == 403
    assert "Formulaire expiré" in response.text
    assert await counts() == before


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://exemple.org/contrat.pdf", "https://exemple org/x"])
async def test_the_link_to_the_signed_document_must_be_a_web_address(client, deal, url):
    await client.login(EMAILS["ga_editor"])
    before = await counts()
    path = f"/contrats/{deal.agreement}"
    response = await client.submit(path, f"{path}/document", {"document_url": url, "signing_place": "Confolens"})
    assert response.status_code == 422
    assert "« Lien vers le document » doit être une adresse web" in plain(response)
    assert await counts() == before
