"""Finding agreements (issue 13, point 6): a territory's page lists its agreements with their state; a party's
member sees the other party's public card (never its roadmap); a third territory still gets 404 everywhere;
« Au bénéfice de » offers only the other parties; /contrats filters by state, theme, region and party kind; the
export follows the balance, theme by theme."""
import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from tests.browser import forms_in
from tests.factories import (
    AGREEMENT_EMAILS,
    EMAILS,
    agreement,
    amendment,
    build_agreement_world,
    obligation,
    party,
    territory,
    theme,
    user,
)
from tracker.agreements.tables import Obligation
from tracker.core import clock
from tracker.territories.tables import Territory

pytestmark = pytest.mark.anyio

THIRD = "referent@royans.example.org"


def plain(response) -> str:
    return response.text.replace("\u00a0", " ").replace("&nbsp;", " ")


@pytest.fixture
async def deal(world):
    deal = await build_agreement_world(world, state="en_vigueur")
    await Territory.update({Territory.population: 35200, Territory.region: "75"}).where(Territory.id == deal.cl)
    third = await territory("200067767", "CC du Royans-Vercors", kind="CC")
    await user(THIRD, "Théo Tiers", roles={third: "referent"})
    return deal


async def test_a_territory_page_lists_its_agreements_with_their_state(client, world, deal):
    await client.login(EMAILS["ga_reader"])
    page = plain(await client.get("/territoires/200071827"))
    listed = page.split('id="contrats-titre"')[1]
    assert f'href="/contrats/{deal.agreement}"' in listed
    assert "CC de Charente Limousine" in listed and "En vigueur" in listed


async def test_a_partys_member_sees_the_other_partys_public_card_never_its_roadmap(client, world, deal):
    await client.login(AGREEMENT_EMAILS["cl_referent"])
    card = await client.get("/territoires/200071827")  # Grand Angoulême, the other party
    assert card.status_code == 200
    text = plain(card)
    assert "CA du Grand Angoulême" in text and "Communauté d’agglomération" in text
    assert f'href="/contrats/{deal.agreement}"' in text and "En vigueur" in text
    for private in ("Feuille de route du Grand Angoulême", "/feuilles-de-route/", "Guichet unique", "Membres",
                    "point-codir", "editeur@ga.example.org"):
        assert private not in text, private
    assert (await client.get(f"/feuilles-de-route/{world.ga_roadmap}")).status_code == 404
    # The agreement page links each party to its page (or card).
    assert 'href="/territoires/200071827"' in (await client.get(f"/contrats/{deal.agreement}")).text


async def test_a_third_territory_gets_404_on_the_agreement_and_sees_nothing_of_either_party(client, world, deal):
    await amendment(deal.agreement)
    await client.login(THIRD)
    for path in (f"/contrats/{deal.agreement}", f"/contrats/{deal.agreement}/export.xlsx",
                 f"/contrats/{deal.agreement}/export.csv", f"/contrats/{deal.agreement}/avenants/1",
                 f"/obligations/{deal.ga_brings}", "/territoires/200071827", "/territoires/200072049",
                 f"/feuilles-de-route/{world.ga_roadmap}"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Grand Angoulême" not in response.text and "Charente Limousine" not in response.text, path
    listing = plain(await client.get("/contrats"))
    assert "Charente Limousine" not in listing


async def test_for_whom_offers_only_the_other_parties(client, world):
    deal = await build_agreement_world(world, state="en_negociation")
    vr_party = await party(deal.agreement, world.vr, 3)
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/contrats/{deal.agreement}/obligations/nouvelle?partie={deal.ga_party}")
    [form] = [f for f in forms_in(page.text) if f.action == f"/contrats/{deal.agreement}/obligations/nouvelle"]
    options = page.text.split('id="beneficiary"')[1].split("</select>")[0]
    assert f'value="{deal.cl_party}"' in options and f'value="{vr_party}"' in options
    assert f'value="{deal.ga_party}"' not in options
    # With htmx, choosing another party brings the field again without that party.
    fragment = await client.get(f"/contrats/{deal.agreement}/obligations/nouvelle?owner={deal.cl_party}", htmx=True)
    assert "<html" not in fragment.text and 'id="beneficiary-field"' in fragment.text
    assert f'value="{deal.ga_party}"' in fragment.text and f'value="{deal.cl_party}"' not in fragment.text
    assert 'data-hx-get="/contrats/' in page.text
    bad = await client.get(f"/contrats/{deal.agreement}/obligations/nouvelle?partie=abc")
    assert bad.status_code == 400 and "« Partie » doit être un nombre entier" in plain(bad)
    assert form.fields["owner"] == str(deal.ga_party)


async def test_the_list_filters_by_region_and_party_kind(client, world, deal):
    await Territory.update({Territory.region: "84"}).where(Territory.id == world.vr)
    petr = await territory("200041333", "PETR du Pays Ruffécois", kind="PETR")
    other = await agreement(world.ga, "Contrat avec un pays")
    await party(other, world.ga, 1)
    await party(other, petr, 2)
    await Territory.update({Territory.region: "75"}).where(Territory.id == world.ga)
    await client.login(EMAILS["reviewer"])
    by_kind = plain(await client.get("/contrats?nature=PETR"))
    assert "Contrat avec un pays" in by_kind and "Charente Limousine</td>" not in by_kind
    assert "Contrat Grand Angoulême – Charente Limousine" not in by_kind
    by_cc = plain(await client.get("/contrats?nature=CC"))
    assert "Contrat Grand Angoulême – Charente Limousine" in by_cc and "Contrat avec un pays" not in by_cc
    by_region = plain(await client.get("/contrats?region=84"))
    assert "1 contrat" not in by_region and "Aucun contrat ne correspond" in by_region
    both = plain(await client.get("/contrats?region=75&etat=en_vigueur"))
    assert "Contrat Grand Angoulême – Charente Limousine" in both and "Contrat avec un pays" not in both
    for query, message in (("region=99", "« Région » : valeur inconnue"), ("nature=EPCI", "« Nature d’une partie »")):
        response = await client.get(f"/contrats?{query}")
        assert response.status_code == 400 and message in plain(response)


async def test_the_export_follows_the_balance_theme_by_theme(client, world, deal):
    first = await theme(deal.agreement, "Mobilités, habitat et services", 1, "Se déplacer")
    second = await theme(deal.agreement, "Alimentation, circuits courts", 2)
    await Obligation.update({Obligation.theme: second}).where(Obligation.id == deal.cl_brings)
    await Obligation.update({Obligation.theme: first}).where(Obligation.id == deal.ga_brings)
    later = await obligation(deal.agreement, deal.cl_party, "=HYPERLINK(\"x\")", deadline=clock.today() + timedelta(5))
    await Obligation.update({Obligation.theme: first, Obligation.status: "en_cours"}).where(Obligation.id == later)
    await client.login(AGREEMENT_EMAILS["cl_reader"])
    response = await client.get(f"/contrats/{deal.agreement}/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Thème", "Description du thème", "Partie qui apporte", "Ce qui est apporté"]
    assert [(r[0], r[2], r[3], r[8]) for r in rows[1:]] == [
        ("Mobilités, habitat et services", "CA du Grand Angoulême", "Ouvrir le centre de santé aux habitants", "À venir"),
        ("Mobilités, habitat et services", "CC de Charente Limousine", "'=HYPERLINK(\"x\")", "En cours"),
        ("Alimentation, circuits courts", "CC de Charente Limousine", "Livrer des produits locaux aux cantines",
         "À venir"),
    ]
    assert rows[1][1] == "Se déplacer"
    workbook = load_workbook(io.BytesIO((await client.get(f"/contrats/{deal.agreement}/export.xlsx")).content))
    sheet = workbook["Bilan"]
    assert [sheet.cell(row=r, column=1).value for r in (2, 3, 4)] == [
        "Mobilités, habitat et services", "Mobilités, habitat et services", "Alimentation, circuits courts"]


async def test_the_api_gives_the_themes_in_the_agreements_order(client, world, deal):
    from tests.factories import api_token

    for position, name in enumerate(("Santé, autonomie", "Alimentation", "Culture"), start=1):
        await theme(deal.agreement, name, position)
    token = await api_token(EMAILS["ga_reader"])
    headers = {"Authorization": f"Bearer {token}"}
    listed = (await client.http.get("/api/v1/contrats", headers=headers)).json()
    [found] = [c for c in listed["donnees"] if c["id"] == deal.agreement]
    assert found["themes"] == ["Santé, autonomie", "Alimentation", "Culture"]
    detail = (await client.http.get(f"/api/v1/contrats/{deal.agreement}", headers=headers)).json()
    assert detail["themes"] == ["Santé, autonomie", "Alimentation", "Culture"]
