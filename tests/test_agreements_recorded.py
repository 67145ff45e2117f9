"""An agreement signed years ago is recorded as it really was: a métropole and a PETR (a rural pays, not an EPCI),
after a protocol, signed in 2017 in a small commune of the PETR, with three themes whose names hold commas. The
history keeps the real dates, says they were recorded afterwards (by whom, when), and walks through no state the
agreement never was in. Rules in tracker/agreements/recording.py."""
from datetime import date, datetime

import pytest

from tests.factories import EMAILS, agreement, obligation, party, territory, theme, user
from tracker.agreements.tables import Agreement, AgreementParty, AgreementTheme, Obligation
from tracker.core import clock
from tracker.history.tables import HistoryEntry

pytestmark = pytest.mark.anyio

THEMES = ["Mobilités, habitat et services", "Santé, autonomie et soins de proximité",
          "Alimentation, agriculture et circuits courts"]
REFERENT = "referent@metropole.example.org"


def plain(response) -> str:
    return response.text.replace("\u00a0", " ").replace("&nbsp;", " ")


@pytest.fixture
async def pair(world):
    """Bordeaux Métropole (its référent is the one who records) and the PETR du Périgord Vert, a rural pays."""
    metro = await territory("243300316", "Bordeaux Métropole", kind="METRO")
    petr = await territory("200041333", "PETR du Périgord Vert", kind="PETR")
    await user(REFERENT, "Mathilde Métropole", roles={metro: "referent"})
    await user("editeur@metropole.example.org", "Émile Éditeur", roles={metro: "editeur"})
    return metro, petr


async def entries(agreement_id: int) -> list[dict]:
    return await HistoryEntry.select(
        HistoryEntry.from_value, HistoryEntry.to_value, HistoryEntry.created_at, HistoryEntry.recorded_at,
        HistoryEntry.actor, HistoryEntry.comment,
    ).where((HistoryEntry.subject_type == "agreement") & (HistoryEntry.subject_id == agreement_id)).order_by(
        HistoryEntry.created_at).order_by(HistoryEntry.id)


def paris_day(moment: datetime) -> date:
    return moment.astimezone(clock.PARIS).date()


async def draft_through_the_pages(client, metro: int, petr: int) -> int:
    """What the référent types, page after page: the text with its three themes, the PETR as the other party, one
    obligation under each theme."""
    response = await client.submit("/contrats/nouveau", "/contrats/nouveau", {
        "title": "Contrat de réciprocité Bordeaux Métropole – Périgord Vert",
        "theme_1_nom": THEMES[0], "theme_2_nom": THEMES[1], "theme_3_nom": THEMES[2],
        "theme_2_description": "L’accès aux soins des habitants du pays",
        "protocol_on": "2016-03-10",
    })
    assert response.status_code == 303, plain(response)[-800:]
    agreement_id = int(response.headers["location"].split("/")[2])
    found = await client.get(f"/contrats/{agreement_id}/parties?q=P%C3%A9rigord")
    assert "PETR du Périgord Vert" in plain(found)
    added = await client.post(f"/contrats/{agreement_id}/parties", {"territory": str(petr)})
    assert added.status_code == 303
    parties = {p["territory"]: p["id"] for p in await AgreementParty.select(
        AgreementParty.territory, AgreementParty.id).where(AgreementParty.agreement == agreement_id)}
    themes = [t["id"] for t in await AgreementTheme.select(AgreementTheme.id).where(
        AgreementTheme.agreement == agreement_id).order_by(AgreementTheme.position)]
    path = f"/contrats/{agreement_id}/obligations/nouvelle"
    for title, owner, theme_id in (("Navettes vers la gare de Périgueux", metro, themes[0]),
                                   ("Téléconsultations au centre de santé du pays", metro, themes[1]),
                                   ("Circuits courts pour les cantines de la métropole", petr, themes[2])):
        created = await client.submit(f"{path}?partie={parties[owner]}", path,
                                      {"title": title, "theme": str(theme_id)})
        assert created.status_code == 303, plain(created)[-800:]
    return agreement_id


async def record(client, agreement_id: int, values: dict, parties: dict[int, dict]):
    path = f"/contrats/{agreement_id}/enregistrer"
    fields = dict(values)
    for party_id, dates in parties.items():
        fields.update({f"partie_{party_id}_{k}": v for k, v in dates.items()})
    return await client.submit(path, path, fields)


async def party_ids(agreement_id: int) -> dict[int, int]:
    return {p["territory"]: p["id"] for p in await AgreementParty.select(
        AgreementParty.territory, AgreementParty.id).where(AgreementParty.agreement == agreement_id)}


async def test_a_metropole_and_a_petr_agreement_signed_in_2017_is_recorded_with_its_real_dates(client, pair):
    metro, petr = pair
    await client.login(REFERENT)
    agreement_id = await draft_through_the_pages(client, metro, petr)
    ids = await party_ids(agreement_id)
    page = await client.get(f"/contrats/{agreement_id}")
    assert f'href="/contrats/{agreement_id}/enregistrer"' in page.text  # offered on the draft to its référent
    before = clock.now()
    response = await record(client, agreement_id, {
        "state": "en_vigueur", "in_force_on": "2017-07-01", "ends_on": "2029-06-30",
        "signing_place": "Saint-Jean-de-Côle", "document_ref": "CR-2017-04",
        "document_url": "https://www.perigord-vert.example.org/actes/contrat-reciprocite-2017.pdf",
    }, {ids[metro]: {"deliberation_on": "2017-05-12", "deliberation_ref": "DEL-2017-112", "signed_on": "2017-06-21"},
        ids[petr]: {"deliberation_on": "2017-05-30", "deliberation_ref": "PETR-2017-18", "signed_on": "2017-06-21"}})
    assert response.status_code == 303, plain(response)[-1500:]
    row = await Agreement.select().where(Agreement.id == agreement_id).first()
    assert (row["state"], row["in_force_on"], row["ends_on"], row["signing_place"]) == (
        "en_vigueur", date(2017, 7, 1), date(2029, 6, 30), "Saint-Jean-de-Côle")
    assert row["recorded_at"] >= before and row["recorded_by"] is not None

    history = await entries(agreement_id)
    recorded = [h for h in history if h["recorded_at"] is not None]
    # The real dates of the events, in the order they happened; no walk through négociation or signature.
    assert [(h["to_value"], paris_day(h["created_at"])) for h in recorded] == [
        ("protocole", date(2016, 3, 10)),
        ("deliberation", date(2017, 5, 12)),
        ("deliberation", date(2017, 5, 30)),
        ("signature", date(2017, 6, 21)),
        ("signature", date(2017, 6, 21)),
        ("en_vigueur", date(2017, 7, 1)),
    ]
    assert [h["to_value"] for h in history if h["recorded_at"] is None][0] == "brouillon"  # the draft, typed today
    assert not {"en_negociation", "a_signer"} & {h["to_value"] for h in history}
    # …recorded afterwards, by whom and when
    assert {h["actor"] for h in recorded} == {row["recorded_by"]}
    assert all(h["recorded_at"] >= before for h in recorded)
    assert "signé le 21 juin 2017 à Saint-Jean-de-Côle" in recorded[3]["comment"]

    page = await client.get(f"/contrats/{agreement_id}")
    text = plain(page)
    history_html = text.split('id="historique"')[1]
    assert "21 juin 2017" in history_html and "1er juillet 2017" in history_html
    assert history_html.count("Enregistré a posteriori") == 6 and "Mathilde Métropole" in history_html
    balance = text.split('id="bilan"')[1].split('id="avenants"')[0]
    assert 'Signé le <time datetime="2017-06-21">21 juin 2017</time> à Saint-Jean-de-Côle' in balance
    assert "entré en vigueur le 1er juillet 2017" in balance
    # the three themes, commas and all, in the agreement's order, with an obligation under each
    headings = [balance.index(f">{name}</h3>") for name in THEMES]
    assert headings == sorted(headings)
    for name, title in zip(THEMES, ("Navettes vers la gare de Périgueux",
                                     "Téléconsultations au centre de santé du pays",
                                     "Circuits courts pour les cantines de la métropole")):
        assert title in balance.split(f">{name}</h3>")[1].split("</h3>")[0]
    assert "Sans thème" not in balance
    assert "L’accès aux soins des habitants du pays" in balance
    assert "Mobilités" in text.split('id="themes-titre"')[1].split("</ol>")[0]


async def test_an_agreement_whose_end_date_has_passed_is_recorded_as_expired_directly(client, pair):
    metro, petr = pair
    await client.login(REFERENT)
    agreement_id = await draft_through_the_pages(client, metro, petr)
    ids = await party_ids(agreement_id)
    dates = {ids[metro]: {"deliberation_on": "2017-05-12", "deliberation_ref": "DEL-112", "signed_on": "2017-06-21"},
             ids[petr]: {"deliberation_on": "2017-05-30", "deliberation_ref": "PETR-18", "signed_on": "2017-06-22"}}
    # Recorded « in force » with an end date in the past: refused, and the page says what to do.
    refused = await record(client, agreement_id, {"state": "en_vigueur", "in_force_on": "2017-07-01",
                                                   "ends_on": "2020-12-31"}, dates)
    assert refused.status_code == 422 and "enregistrez-le comme échu" in plain(refused)
    assert (await Agreement.select(Agreement.state).where(Agreement.id == agreement_id).first())["state"] == "brouillon"
    response = await record(client, agreement_id, {"state": "echu", "in_force_on": "2017-07-01",
                                                    "ends_on": "2020-12-31"}, dates)
    assert response.status_code == 303, plain(response)[-1500:]
    row = await Agreement.select(Agreement.state, Agreement.ends_on).where(Agreement.id == agreement_id).first()
    assert row == {"state": "echu", "ends_on": date(2020, 12, 31)}
    states = [(h["from_value"], h["to_value"], paris_day(h["created_at"])) for h in await entries(agreement_id)
              if h["to_value"] in ("en_vigueur", "echu", "resilie", "a_signer", "en_negociation")]
    assert states == [("brouillon", "en_vigueur", date(2017, 7, 1)), ("en_vigueur", "echu", date(2021, 1, 1))]


async def test_a_terminated_agreement_keeps_its_termination_date_and_reason(client, pair):
    metro, petr = pair
    await client.login(REFERENT)
    agreement_id = await draft_through_the_pages(client, metro, petr)
    ids = await party_ids(agreement_id)
    dates = {ids[metro]: {"deliberation_on": "2017-05-12", "deliberation_ref": "DEL-112", "signed_on": "2017-06-21"},
             ids[petr]: {"deliberation_on": "2017-05-30", "deliberation_ref": "PETR-18", "signed_on": "2017-06-22"}}
    missing = await record(client, agreement_id, {"state": "resilie", "in_force_on": "2017-07-01"}, dates)
    assert missing.status_code == 422
    assert "« Date de résiliation » est obligatoire" in plain(missing)
    assert "« Motif de la résiliation » est obligatoire" in plain(missing)
    response = await record(client, agreement_id, {
        "state": "resilie", "in_force_on": "2017-07-01", "terminated_on": "2019-03-15",
        "reason": "Dissolution du syndicat de transport"}, dates)
    assert response.status_code == 303
    [last] = [h for h in await entries(agreement_id) if h["to_value"] == "resilie"]
    assert (last["from_value"], last["to_value"], paris_day(last["created_at"]), last["comment"]) == (
        "en_vigueur", "resilie", date(2019, 3, 15), "Dissolution du syndicat de transport")


@pytest.mark.parametrize("change,message", [
    ({"signed_on": ""}, "La date de signature de PETR du Périgord Vert est obligatoire"),
    ({"deliberation_on": ""}, "La date de la délibération de PETR du Périgord Vert est obligatoire"),
    ({"signed_on": "2017-05-01"}, "La signature de PETR du Périgord Vert ne peut précéder sa délibération"),
    ({"signed_on": "2099-01-01"}, "Une date de PETR du Périgord Vert est dans le futur"),
    ({"signed_on": "2016-01-01", "deliberation_on": "2015-12-01"},
     "La signature de PETR du Périgord Vert ne peut précéder le protocole du 10 mars 2016"),
    ({"signed_on": "21/06/2017"}, "n’est pas une date valide"),
])
async def test_a_recording_that_does_not_hold_together_is_refused_and_writes_nothing(client, pair, change, message):
    metro, petr = pair
    await client.login(REFERENT)
    agreement_id = await draft_through_the_pages(client, metro, petr)
    ids = await party_ids(agreement_id)
    petr_dates = {"deliberation_on": "2017-05-30", "deliberation_ref": "PETR-18", "signed_on": "2017-06-22", **change}
    before = (await HistoryEntry.count(), await Agreement.select(Agreement.state, Agreement.version).first())
    response = await record(client, agreement_id, {"state": "en_vigueur", "in_force_on": "2017-07-01"}, {
        ids[metro]: {"deliberation_on": "2017-05-12", "deliberation_ref": "DEL-112", "signed_on": "2017-06-21"},
        ids[petr]: petr_dates})
    assert response.status_code == 422
    assert message in plain(response)
    assert (await HistoryEntry.count(), await Agreement.select(Agreement.state, Agreement.version).first()) == before
    assert not await AgreementParty.exists().where(AgreementParty.signed_at.is_not_null())


async def test_recording_needs_two_parties_and_something_brought_by_each(client, pair, world):
    metro, _ = pair
    await client.login(REFERENT)
    alone = await agreement(metro, "Contrat à une seule partie")
    await party(alone, metro, 1)
    metro_party = (await party_ids(alone))[metro]
    response = await record(client, alone, {"state": "en_vigueur", "in_force_on": "2017-07-01"}, {
        metro_party: {"deliberation_on": "2017-05-12", "deliberation_ref": "DEL", "signed_on": "2017-06-21"}})
    assert response.status_code == 422
    assert "il faut au moins deux parties" in plain(response)
    assert "aucune obligation n’est inscrite pour ce qu’apporte Bordeaux Métropole" in plain(response)


async def test_only_a_partys_referent_or_an_administrator_records_and_only_a_draft(make_client, pair, world):
    metro, petr = pair
    agreement_id = await agreement(metro, "Contrat déjà signé")
    metro_party = await party(agreement_id, metro, 1)
    petr_party = await party(agreement_id, petr, 2)
    first = await theme(agreement_id, THEMES[0], 1)
    await obligation(agreement_id, metro_party, "Navettes", deadline=date(2018, 1, 1))
    await obligation(agreement_id, petr_party, "Circuits courts")
    await Obligation.update({Obligation.theme: first}).where(Obligation.agreement == agreement_id)
    path = f"/contrats/{agreement_id}/enregistrer"
    for email, expected in (("editeur@metropole.example.org", 403), (EMAILS["reviewer"], 403),
                            (EMAILS["ga_editor"], 404)):
        client = await make_client()
        await client.login(email)
        assert (await client.get(path)).status_code == expected, email
        assert (await client.post(path, {"state": "en_vigueur", "version": "1"})).status_code == expected, email
        page = await client.get(f"/contrats/{agreement_id}")
        assert path not in page.text
    assert await HistoryEntry.count() == 0
    # An administrator records for a territory (help desk): the history names them.
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    response = await record(admin, agreement_id, {"state": "en_vigueur", "in_force_on": "2017-07-01"}, {
        metro_party: {"deliberation_on": "2017-05-12", "deliberation_ref": "DEL", "signed_on": "2017-06-21"},
        petr_party: {"deliberation_on": "2017-05-30", "deliberation_ref": "PETR", "signed_on": "2017-06-21"}})
    assert response.status_code == 303, plain(response)[-1000:]
    page = plain(await admin.get(f"/contrats/{agreement_id}"))
    assert "Alice Admin" in page.split('id="historique"')[1]
    # Recorded: no longer a draft, so it cannot be recorded again.
    again = await admin.get(path)
    assert again.status_code == 409 and "Seul un contrat en brouillon" in plain(again)


async def test_an_agreement_in_force_needs_no_end_date(client, pair):
    metro, petr = pair
    await client.login(REFERENT)
    agreement_id = await draft_through_the_pages(client, metro, petr)
    ids = await party_ids(agreement_id)
    response = await record(client, agreement_id, {"state": "en_vigueur", "in_force_on": "2017-07-01"}, {
        ids[metro]: {"deliberation_on": "2017-05-12", "deliberation_ref": "DEL", "signed_on": "2017-06-21"},
        ids[petr]: {"deliberation_on": "2017-05-30", "deliberation_ref": "PETR", "signed_on": "2017-06-21"}})
    assert response.status_code == 303
    row = await Agreement.select(Agreement.state, Agreement.ends_on).where(Agreement.id == agreement_id).first()
    assert row == {"state": "en_vigueur", "ends_on": None}  # nothing invented


async def test_the_kernel_keeps_the_real_date_and_the_time_of_writing(world):
    """lifecycle.apply with `recorded_at`: the entry's created_at is the event's date, recorded_at the time it was
    written, and the row's updated_at the time of writing (the object changed here today)."""
    from tracker import lifecycle
    from tracker.agreements.lifecycle import AGREEMENT, RECORDING
    from tracker.core.permissions import Viewer

    referent = await user("r@ga.example.org", "Rose Référente", roles={world.ga: "referent"})
    agreement_id = await agreement(world.ga, "Contrat")
    await party(agreement_id, world.ga, 1)
    event = datetime(2017, 7, 1, 12, tzinfo=clock.PARIS)
    now = clock.now()
    viewer = Viewer(user_id=referent, roles={world.ga: "referent"})
    change = await lifecycle.apply(AGREEMENT, viewer, agreement_id, "en_vigueur", "", 1, via=RECORDING, at=event,
                                   recorded_at=now)
    assert (change.source, change.target) == ("brouillon", "en_vigueur")
    [entry] = await entries(agreement_id)
    assert entry["created_at"] == event and entry["recorded_at"] == now
    row = await Agreement.select(Agreement.updated_at).where(Agreement.id == agreement_id).first()
    assert row["updated_at"] == now
    # Without RECORDING, nobody takes that transition, an administrator included.
    other = await agreement(world.ga, "Autre")
    await party(other, world.ga, 1)
    from tracker.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        await lifecycle.apply(AGREEMENT, viewer, other, "en_vigueur", "", 1, at=event, recorded_at=now)
    assert await HistoryEntry.count().where(HistoryEntry.subject_id == other) == 0
