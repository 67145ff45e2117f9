"""The 1,255 EPCI shipped with the package, other bodies added by an administrator, /healthz, demo data."""
import pytest

from tests.factories import EMAILS
from tracker.territories.reference import epci_rows
from tracker.territories.tables import Territory

pytestmark = pytest.mark.anyio


def test_the_package_ships_the_1255_epci_with_their_departement_and_region():
    rows = {row["siren"]: row for row in epci_rows()}
    assert len(rows) == 1255
    assert rows["200071827"] == {"siren": "200071827", "name": "CA du Grand Angoulême", "kind": "CA",
                                 "population": "142458", "departement": "16", "region": "75"}
    assert rows["200068781"]["departement"] == "26" and rows["200068781"]["region"] == "84"
    kinds = {row["kind"] for row in rows.values()}
    assert kinds == {"CC", "CA", "CU", "METRO", "MET69"}


async def test_loading_the_epci_is_idempotent_and_keeps_edits(clean_db):
    from tracker.territories.reference import load_epci

    assert await load_epci() == 1255
    await Territory.update({Territory.typology: "urbain"}).where(Territory.siren == "200072049")
    assert await load_epci() == 0
    assert await Territory.count() == 1255
    row = await Territory.select(Territory.typology).where(Territory.siren == "200072049").first()
    assert row["typology"] == "urbain"


async def test_the_adgcf_searches_every_territory_and_a_member_sees_their_own(make_client, world):
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    page = await reviewer.get("/territoires?q=valence")
    assert "CA Valence Romans Agglo" in page.text and "Grand Angoulême" not in page.text
    by_siren = await reviewer.get("/territoires?q=200071827")
    assert "CA du Grand Angoulême" in by_siren.text
    fragment = await reviewer.get("/territoires?q=valence", htmx=True)
    assert fragment.text.lstrip().startswith('<section id="resultats"')
    member = await make_client()
    await member.login(EMAILS["vr_editor"])
    mine = await member.get("/territoires")
    assert "CA Valence Romans Agglo" in mine.text and "Grand Angoulême" not in mine.text


async def test_a_territory_page_lists_its_roadmaps(client, world):
    await client.login(EMAILS["ga_reader"])
    page = await client.get("/territoires/200071827")
    assert "Feuille de route du Grand Angoulême" in page.text
    assert f'href="/feuilles-de-route/{world.ga_roadmap}"' in page.text


async def test_an_administrator_adds_a_pnr_with_a_valid_siren(client, world):
    await client.login(EMAILS["admin"])
    response = await client.submit("/territoires/nouveau", "/territoires/nouveau", {
        "name": "PNR Périgord-Limousin", "siren": "251 601 407", "kind": "PNR", "departement": "87"})
    assert response.status_code == 303
    assert response.headers["location"] == "/territoires/251601407"
    row = await Territory.select().where(Territory.siren == "251601407").first()
    assert (row["kind"], row["region"], row["is_epci"]) == ("PNR", "75", False)


@pytest.mark.parametrize("changes,message", [
    ({"siren": "251601403"}, "Ce SIREN n’est pas valide"),
    ({"siren": "200071827"}, "Un territoire porte déjà ce SIREN."),
    ({"kind": "CA"}, "valeur inconnue"),
    ({"name": ""}, "est obligatoire"),
    ({"departement": "999"}, "valeur inconnue"),
])
async def test_bad_other_bodies_are_refused(client, world, changes, message):
    await client.login(EMAILS["admin"])
    before = await Territory.count()
    fields = {"name": "PNR Périgord-Limousin", "siren": "251601407", "kind": "PNR", **changes}
    response = await client.submit("/territoires/nouveau", "/territoires/nouveau", fields)
    assert response.status_code == 422
    assert message in response.text
    assert await Territory.count() == before


async def test_healthz_reports_the_database(client, database):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "engine": database}


async def test_the_demo_data_loads_once_and_a_second_run_keeps_it(clean_db, capsys):
    from tracker.demo import load_demo
    from tracker.history.tables import HistoryEntry
    from tracker.roadmaps.tables import Action
    from tracker.territories.reference import load_epci

    await load_epci()
    await load_demo()
    actions, entries = await Action.count(), await HistoryEntry.count()
    assert actions >= 20 and entries > actions
    statuses = {row["status"] for row in await Action.select(Action.status)}
    assert statuses == {"a_venir", "en_cours", "en_pause", "bloquee", "realisee", "abandonnee"}
    # Every demo territory has a référent who may invite people (issue 10), granted with its history entry.
    from tracker.accounts.tables import Membership
    from tracker.members.tables import Invitation, MembershipEvent

    with_roadmap = {row["territory"] for row in await Action.select(Action.territory)}
    referents = {row["territory"] for row in await Membership.select(Membership.territory).where(
        Membership.role == "referent")}
    assert with_roadmap and with_roadmap <= referents
    assert await MembershipEvent.count() == await Membership.count()
    assert await Invitation.count() == 1
    await load_demo()
    assert (await Action.count(), await HistoryEntry.count()) == (actions, entries)
    assert "déjà chargées" in capsys.readouterr().out
