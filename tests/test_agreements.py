"""Grand Angoulême (urban) and Charente Limousine (rural) draw up a reciprocity agreement, each party deliberates and
signs for itself, the agreement comes into force, is suspended, ends. DESIGN.md §4; rules in
tracker/agreements/lifecycle.py."""
import os
import subprocess
import sys
from datetime import date, timedelta

import arrow
import pytest

from tests.browser import forms_in
from tests.factories import (
    AGREEMENT_EMAILS,
    EMAILS,
    agreement,
    build_agreement_world,
    history_of,
    obligation,
    party,
    territory,
    user,
)
from tracker.agreements.tables import Agreement, AgreementParty, AgreementTheme, Obligation
from tracker.history.tables import HistoryEntry
from tracker.core import clock
from tracker.core.french import date_fr

pytestmark = pytest.mark.anyio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
async def deal(world):
    return await build_agreement_world(world)


def plain(response) -> str:
    """The page's text with French typography's non-breaking spaces as plain spaces, for matching messages."""
    return response.text.replace("\u00a0", " ").replace("&nbsp;", " ")


async def state_of(agreement_id: int) -> tuple[str, int]:
    row = await Agreement.select(Agreement.state, Agreement.version).where(Agreement.id == agreement_id).first()
    return row["state"], row["version"]


async def signed(party_id: int) -> bool:
    row = await AgreementParty.select(AgreementParty.signed_at).where(AgreementParty.id == party_id).first()
    return row["signed_at"] is not None


async def move(client, agreement_id: int, state: str, comment: str = ""):
    return await client.submit(f"/contrats/{agreement_id}", f"/contrats/{agreement_id}/etat",
                               {"status": state, "comment": comment})


async def sign(client, agreement_id: int, party_id: int, **changes):
    return await client.submit(f"/contrats/{agreement_id}", f"/contrats/{agreement_id}/parties/{party_id}/signature",
                               changes)


# --- drawing up -------------------------------------------------------------------------------------------


async def test_an_editor_creates_an_agreement_and_their_territory_is_its_first_party(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit("/contrats/nouveau", "/contrats/nouveau", {
        "title": "Contrat Grand Angoulême – Charente Limousine",
        "purpose": "Santé et circuits courts.",
        # each theme in its own field, commas kept, quotation marks dropped, the suggestion's spelling kept
        "theme_1_nom": "« Mobilités, habitat et services »", "theme_1_description": "Se déplacer, se loger",
        "theme_2_nom": "santé",
        "theme_3_nom": "jeunesse, sport et culture",
        "in_force_on": "2027-01-01", "ends_on": "2029-12-31", "protocol_on": "2026-06-15",
    })
    assert response.status_code == 303
    created = await Agreement.objects().where(Agreement.title.like("Contrat Grand%")).first()
    assert response.headers["location"] == f"/contrats/{created.id}/parties"
    assert (created.state, created.territory, created.in_force_on, created.ends_on, created.protocol_on) == (
        "brouillon", world.ga, date(2027, 1, 1), date(2029, 12, 31), date(2026, 6, 15))
    parties = await AgreementParty.select(AgreementParty.territory).where(AgreementParty.agreement == created.id)
    assert parties == [{"territory": world.ga}]
    themes = await AgreementTheme.select(AgreementTheme.theme, AgreementTheme.description).order_by(
        AgreementTheme.position)
    assert [(t["theme"], t["description"]) for t in themes] == [
        ("Mobilités, habitat et services", "Se déplacer, se loger"), ("Santé", ""),
        ("Jeunesse, sport et culture", "")]
    assert [(h["from_value"], h["to_value"]) for h in await history_of("agreement", created.id)] == [("", "brouillon")]
    page = await client.get(response.headers["location"])
    assert "Le contrat a été créé. Ajoutez maintenant les autres parties." in plain(page)


async def test_the_themes_can_filter_the_list(client, world, deal):
    await AgreementTheme.insert(AgreementTheme(agreement=deal.agreement, theme="Santé"))
    other = await agreement(world.ga, "Contrat énergie")
    await party(other, world.ga, 1)
    await AgreementTheme.insert(AgreementTheme(agreement=other, theme="Énergie"))
    await client.login(EMAILS["ga_reader"])
    page = await client.get("/contrats?theme=sant%C3%A9")  # typed in lower case: normalised like the stored one
    assert "Contrat Grand Angoulême – Charente Limousine" in plain(page) and "Contrat énergie" not in plain(page)
    page = await client.get("/contrats?etat=brouillon")
    assert "Contrat énergie" in plain(page) and "Charente Limousine</a>" not in plain(page)


async def test_parties_are_found_by_name_or_siren_and_any_kind_of_territory_can_be_one(client, world):
    region = await territory("200053767", "Région Nouvelle-Aquitaine", kind="REG")
    agreement_id = await agreement(world.ga, "Contrat à trois")
    await party(agreement_id, world.ga, 1)
    await client.login(EMAILS["ga_editor"])
    found = await client.get(f"/contrats/{agreement_id}/parties?q=nouvelle-aquit")
    assert "Région Nouvelle-Aquitaine" in plain(found) and "Région" in plain(found)
    by_siren = await client.get(f"/contrats/{agreement_id}/parties?q=200 068 781")
    assert "CA Valence Romans Agglo" in plain(by_siren)
    [add] = [f for f in forms_in(found.text) if f.method == "post" and f.fields.get("territory") == str(region)]
    response = await client.post(add.action, add.fields)
    assert response.status_code == 303
    assert {p["territory"] for p in await AgreementParty.select(AgreementParty.territory).where(
        AgreementParty.agreement == agreement_id)} == {world.ga, region}
    again = await client.post(f"/contrats/{agreement_id}/parties", {"territory": str(region)})
    assert again.status_code == 422 and "déjà partie" in plain(again)


async def test_the_lead_territory_stays_and_a_party_with_obligations_cannot_be_removed(client, world, deal):
    await Agreement.update({Agreement.state: "en_negociation"}).where(Agreement.id == deal.agreement)
    await client.login(EMAILS["ga_editor"])
    lead = await client.post(f"/contrats/{deal.agreement}/parties/{deal.ga_party}/retirer", {})
    assert lead.status_code == 422 and "porte ce contrat" in plain(lead)
    busy = await client.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/retirer", {})
    assert busy.status_code == 422 and "Des obligations concernent" in plain(busy)
    assert await AgreementParty.count().where(AgreementParty.agreement == deal.agreement) == 2
    await Obligation.delete().where(Obligation.id == deal.cl_brings)
    # GA's obligation is « for the other party » without naming CL: CL may go.
    freed = await client.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/retirer", {})
    assert freed.status_code == 303
    assert await AgreementParty.count().where(AgreementParty.agreement == deal.agreement) == 1


async def test_submitting_for_signature_needs_two_parties_an_obligation_each_and_an_end_date(client, world):
    agreement_id = await agreement(world.ga, "Contrat incomplet", state="en_negociation")
    ga_party = await party(agreement_id, world.ga, 1)
    await client.login(EMAILS["ga_editor"])
    response = await move(client, agreement_id, "a_signer")
    assert response.status_code == 422
    assert "il faut au moins deux parties" in plain(response)
    assert "la date de fin n’est pas renseignée" in plain(response)
    assert await state_of(agreement_id) == ("en_negociation", 1)
    vr_party = await party(agreement_id, world.vr, 2)
    await obligation(agreement_id, ga_party, "Ce que GA apporte")
    await Agreement.update({Agreement.ends_on: clock.today() + timedelta(days=900)}).where(Agreement.id == agreement_id)
    response = await move(client, agreement_id, "a_signer")
    assert response.status_code == 422
    assert "aucune obligation n’est inscrite pour ce qu’apporte CA Valence Romans Agglo" in plain(response)
    await obligation(agreement_id, vr_party, "Ce que VR apporte")
    response = await move(client, agreement_id, "a_signer")
    assert response.status_code == 303
    assert await state_of(agreement_id) == ("a_signer", 2)
    assert [(h["from_value"], h["to_value"]) for h in await history_of("agreement", agreement_id)] == [
        ("en_negociation", "a_signer")]


async def test_the_text_is_frozen_once_submitted_for_signature(client, world, deal):
    await client.login(EMAILS["ga_editor"])
    for path in (f"/contrats/{deal.agreement}/modifier", f"/contrats/{deal.agreement}/obligations/nouvelle",
                 f"/obligations/{deal.ga_brings}/modifier"):
        response = await client.get(path)
        assert response.status_code == 409, path
        assert "rouvrez la négociation" in plain(response)
    posted = await client.post(f"/contrats/{deal.agreement}/obligations/nouvelle",
                               {"title": "Ajout tardif", "owner": str(deal.ga_party)})
    assert posted.status_code == 409
    assert not await Obligation.exists().where(Obligation.title == "Ajout tardif")


# --- signatures ---------------------------------------------------------------------------------------------


async def test_each_party_signs_for_itself_and_never_for_the_other(make_client, world, deal):
    """The GA référent cannot sign for Charente Limousine, nor can its editor or reader, nor the ADGCF."""
    for email in (EMAILS["ga_referent"], AGREEMENT_EMAILS["cl_editor"], AGREEMENT_EMAILS["cl_reader"],
                  EMAILS["reviewer"], EMAILS["admin"]):
        client = await make_client()
        await client.login(email)
        response = await client.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/signature",
                                     {"signed_on": clock.today().isoformat(), "version": "1"})
        assert response.status_code == 403, email
        assert "Accès refusé" in plain(response)
    outsider = await make_client()
    await outsider.login(EMAILS["vr_editor"])
    response = await outsider.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/signature",
                                   {"signed_on": clock.today().isoformat(), "version": "1"})
    assert response.status_code == 404
    assert not await signed(deal.cl_party)
    assert await history_of("agreement", deal.agreement) == []
    # The GA référent sees no signature form for CL, only for GA.
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    page = await referent.get(f"/contrats/{deal.agreement}")
    assert f"/parties/{deal.ga_party}/signature" in plain(page)
    assert f"/parties/{deal.cl_party}/signature" not in plain(page)


async def test_in_force_is_refused_while_a_signature_is_missing_and_accepted_after(make_client, world, deal):
    ga, cl = await make_client(), await make_client()
    await ga.login(EMAILS["ga_referent"])
    await cl.login(AGREEMENT_EMAILS["cl_referent"])
    refused = await move(ga, deal.agreement, "en_vigueur")
    assert refused.status_code == 422
    assert "signature manquante : CA du Grand Angoulême, CC de Charente Limousine" in plain(refused)
    response = await sign(ga, deal.agreement, deal.ga_party, signed_on=(clock.today() - timedelta(days=2)).isoformat())
    assert response.status_code == 303
    refused = await move(ga, deal.agreement, "en_vigueur")
    assert refused.status_code == 422
    assert "signature manquante : CC de Charente Limousine" in plain(refused)
    assert "CA du Grand Angoulême," not in plain(refused)
    assert await state_of(deal.agreement) == ("a_signer", 1)
    response = await sign(cl, deal.agreement, deal.cl_party)
    assert response.status_code == 303
    response = await move(cl, deal.agreement, "en_vigueur")
    assert response.status_code == 303
    assert await state_of(deal.agreement) == ("en_vigueur", 2)
    row = await Agreement.select(Agreement.in_force_on).where(Agreement.id == deal.agreement).first()
    assert row["in_force_on"] == clock.today()  # empty in-force date: the day it came into force
    history = await history_of("agreement", deal.agreement)
    assert [(h["from_value"], h["to_value"], h["territory"]) for h in history] == [
        ("a_signer", "signature", world.ga), ("a_signer", "signature", deal.cl), ("a_signer", "en_vigueur", world.ga)]
    assert "Signature de CA du Grand Angoulême" in history[0]["comment"]
    page = await ga.get(f"/contrats/{deal.agreement}")
    parties = page.text.split('id="parties"')[1].split('id="bilan"')[0]
    assert parties.count("Signé</span>") == 2
    assert "Rita Référente" in parties and "Jean Référent" in parties
    assert f"le {date_fr(clock.today() - timedelta(days=2))}" in parties


async def test_signing_needs_the_partys_deliberation_except_for_the_state(make_client, world, deal):
    await AgreementParty.update({AgreementParty.deliberation_on: None, AgreementParty.deliberation_ref: ""}).where(
        AgreementParty.id == deal.cl_party)
    cl = await make_client()
    await cl.login(AGREEMENT_EMAILS["cl_referent"])
    response = await cl.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/signature",
                             {"signed_on": clock.today().isoformat(), "version": "1"})
    assert response.status_code == 422
    assert "Enregistrez d’abord la délibération de CC de Charente Limousine" in plain(response)
    assert not await signed(deal.cl_party)
    # The deliberation, recorded by the party itself, then the signature.
    response = await cl.submit(f"/contrats/{deal.agreement}", f"/contrats/{deal.agreement}/parties/{deal.cl_party}/deliberation",
                               {"deliberation_on": (clock.today() - timedelta(days=1)).isoformat(),
                                "deliberation_ref": "Délibération n° 2026-58"})
    assert response.status_code == 303
    assert (await sign(cl, deal.agreement, deal.cl_party)).status_code == 303
    # The État does not deliberate: its référent signs straight away.
    etat = await territory("110000016", "Préfecture de la Charente (État)", kind="ETAT")
    prefect = await make_client()
    await user("prefet@etat.example.org", "Paul Préfet", roles={etat: "referent"})
    state_party = await party(deal.agreement, etat, 3)
    await prefect.login("prefet@etat.example.org")
    assert (await sign(prefect, deal.agreement, state_party)).status_code == 303
    assert await signed(state_party)


async def test_only_the_partys_own_editors_record_its_deliberation(client, world, deal):
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/deliberation",
                                 {"deliberation_on": "2026-01-05", "deliberation_ref": "Faux", "version": "1"})
    assert response.status_code == 403
    row = await AgreementParty.select(AgreementParty.deliberation_ref).where(AgreementParty.id == deal.cl_party).first()
    assert row["deliberation_ref"] == "CL-2026-058"


@pytest.mark.parametrize("signed_on,message", [
    ("2099-01-01", "ne peut être dans le futur"),
    ("2020-01-01", "ne peut précéder la délibération"),
    ("", "est obligatoire"),
    ("31/12/2026", "n’est pas une date valide"),
])
async def test_a_signature_date_must_make_sense(client, world, deal, signed_on, message):
    await client.login(AGREEMENT_EMAILS["cl_referent"])
    response = await sign(client, deal.agreement, deal.cl_party, signed_on=signed_on)
    assert response.status_code == 422
    assert message in plain(response)
    assert not await signed(deal.cl_party)
    assert await history_of("agreement", deal.agreement) == []


async def test_a_party_signs_only_once_and_only_at_the_signing_stage(client, world, deal):
    await client.login(AGREEMENT_EMAILS["cl_referent"])
    assert (await sign(client, deal.agreement, deal.cl_party)).status_code == 303
    again = await client.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/signature",
                              {"signed_on": clock.today().isoformat(), "version": "2"})
    assert again.status_code == 422 and "a déjà signé" in plain(again)
    await Agreement.update({Agreement.state: "en_negociation"}).where(Agreement.id == deal.agreement)
    await AgreementParty.update({AgreementParty.signed_at: None}).where(AgreementParty.id == deal.cl_party)
    early = await client.post(f"/contrats/{deal.agreement}/parties/{deal.cl_party}/signature",
                              {"signed_on": clock.today().isoformat(), "version": "2"})
    assert early.status_code == 409 and "ne s’enregistrent qu’à ce stade" in plain(early)
    assert len(await history_of("agreement", deal.agreement)) == 1


async def test_reopening_the_negotiation_needs_a_comment_and_withdraws_the_signatures(client, world, deal):
    await client.login(EMAILS["ga_referent"])
    assert (await sign(client, deal.agreement, deal.ga_party)).status_code == 303
    refused = await move(client, deal.agreement, "en_negociation")
    assert refused.status_code == 422 and "Un commentaire est obligatoire pour rouvrir la négociation" in plain(refused)
    assert await signed(deal.ga_party)
    response = await move(client, deal.agreement, "en_negociation", "La Région rejoint le contrat.")
    assert response.status_code == 303
    assert await state_of(deal.agreement) == ("en_negociation", 2)
    assert not await signed(deal.ga_party)
    history = await history_of("agreement", deal.agreement)
    assert [h["to_value"] for h in history] == ["signature", "en_negociation"]  # the signature stays in the history


# --- in force, suspended, ended ------------------------------------------------------------------------------


@pytest.mark.parametrize("target,word", [("suspendu", "suspendre"), ("resilie", "résilier")])
async def test_suspending_or_terminating_needs_a_comment(client, world, deal, target, word):
    await Agreement.update({Agreement.state: "en_vigueur"}).where(Agreement.id == deal.agreement)
    await client.login(EMAILS["ga_editor"])
    response = await move(client, deal.agreement, target)
    assert response.status_code == 422
    assert f"Un commentaire est obligatoire pour {word} un contrat" in plain(response)
    assert await state_of(deal.agreement) == ("en_vigueur", 1)
    response = await move(client, deal.agreement, target, "Décision du conseil communautaire.")
    assert response.status_code == 303
    assert await state_of(deal.agreement) == (target, 2)


async def test_a_suspended_agreement_resumes_and_terminated_is_final(client, world, deal):
    await Agreement.update({Agreement.state: "suspendu"}).where(Agreement.id == deal.agreement)
    await client.login(EMAILS["ga_editor"])
    assert (await move(client, deal.agreement, "en_vigueur")).status_code == 303
    assert (await move(client, deal.agreement, "resilie", "Fin de la coopération.")).status_code == 303
    page = await client.get(f"/contrats/{deal.agreement}")
    assert f'action="/contrats/{deal.agreement}/etat"' not in plain(page)  # nothing left to choose
    response = await client.post(f"/contrats/{deal.agreement}/etat", {"status": "en_vigueur", "version": "3"})
    assert response.status_code == 422
    assert "ne peut passer à l’état « En vigueur »" in plain(response)
    assert await state_of(deal.agreement) == ("resilie", 3)


@pytest.mark.parametrize("start,target", [("brouillon", "en_vigueur"), ("brouillon", "a_signer"),
                                          ("en_negociation", "en_vigueur"), ("en_vigueur", "a_signer"),
                                          ("echu", "en_vigueur")])
async def test_transitions_outside_the_life_cycle_are_refused(client, world, deal, start, target):
    await Agreement.update({Agreement.state: start}).where(Agreement.id == deal.agreement)
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/contrats/{deal.agreement}/etat",
                                 {"status": target, "comment": "Essai", "version": "1"})
    assert response.status_code == 422
    assert "ne peut passer à l’état" in plain(response)
    assert await state_of(deal.agreement) == (start, 1)
    assert await history_of("agreement", deal.agreement) == []


async def test_ended_only_after_the_end_date_and_the_page_says_when_it_has_passed(client, world, deal):
    await Agreement.update({Agreement.state: "en_vigueur"}).where(Agreement.id == deal.agreement)
    await client.login(EMAILS["ga_editor"])
    early = await move(client, deal.agreement, "echu")
    assert early.status_code == 422 and "qu’après sa date de fin" in plain(early)
    page = await client.get(f"/contrats/{deal.agreement}")
    assert "est dépassée" not in plain(page)
    yesterday = clock.today() - timedelta(days=1)
    await Agreement.update({Agreement.ends_on: yesterday}).where(Agreement.id == deal.agreement)
    page = await client.get(f"/contrats/{deal.agreement}")
    assert f"La date de fin de ce contrat ({date_fr(yesterday)}) est dépassée" in plain(page)
    assert (await move(client, deal.agreement, "echu")).status_code == 303
    assert await state_of(deal.agreement) == ("echu", 2)


async def test_the_contrats_echus_command_ends_past_agreements_with_a_history_entry_without_user(world, deal):
    yesterday = clock.today() - timedelta(days=1)
    await Agreement.update({Agreement.state: "en_vigueur", Agreement.ends_on: yesterday}).where(
        Agreement.id == deal.agreement)
    running = await agreement(world.ga, "Toujours en vigueur", state="en_vigueur",
                              ends_on=clock.today() + timedelta(days=10))
    draft = await agreement(world.ga, "Brouillon daté", ends_on=yesterday)
    result = subprocess.run([sys.executable, "-m", "tracker", "contrats-echus"], cwd=ROOT, env=os.environ,
                            capture_output=True, text=True, check=True)
    assert f"1 contrat(s) passé(s) à l'état « Échu » (n° {deal.agreement})" in result.stdout
    assert await state_of(deal.agreement) == ("echu", 2)
    assert await state_of(running) == ("en_vigueur", 1)
    assert await state_of(draft) == ("brouillon", 1)
    [entry] = await history_of("agreement", deal.agreement)
    assert (entry["from_value"], entry["to_value"], entry["actor"]) == ("en_vigueur", "echu", None)
    assert f"Échu automatiquement : la date de fin du contrat ({date_fr(yesterday)}) est dépassée" in entry["comment"]
    again = subprocess.run([sys.executable, "-m", "tracker", "contrats-echus"], cwd=ROOT, env=os.environ,
                           capture_output=True, text=True, check=True)
    assert "aucun contrat" in again.stdout
    assert len(await history_of("agreement", deal.agreement)) == 1


async def test_a_suspended_agreement_past_its_end_also_expires(world, deal):
    from tracker.agreements.lifecycle import expire_ended_agreements

    await Agreement.update({Agreement.state: "suspendu", Agreement.ends_on: date(2026, 1, 31)}).where(
        Agreement.id == deal.agreement)
    assert await expire_ended_agreements(at=arrow.get("2026-02-01T10:00:00+00:00").datetime) == [deal.agreement]
    assert await state_of(deal.agreement) == ("echu", 2)


async def test_a_stale_state_change_is_refused_and_nothing_is_written(make_client, world, deal):
    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_editor"])
    await second.login(AGREEMENT_EMAILS["cl_editor"])
    path = f"/contrats/{deal.agreement}"
    await second.get(path)
    stale = dict(second.form(f"{path}/etat").fields)
    ok = await move(first, deal.agreement, "resilie", "Projet abandonné.")
    assert ok.status_code == 303
    late = await second.post(f"{path}/etat", {**stale, "status": "en_negociation", "comment": "Reprise"})
    assert late.status_code == 409
    assert "Ce contrat a été modifié par quelqu’un d’autre" in plain(late) and "Claire Éditrice" in plain(late)
    assert await state_of(deal.agreement) == ("resilie", 2)
    assert len(await history_of("agreement", deal.agreement)) == 1


async def test_every_accepted_change_leaves_exactly_one_history_entry(make_client, world):
    deal = await build_agreement_world(world, state="brouillon")
    ga, cl = await make_client(), await make_client()
    await ga.login(EMAILS["ga_referent"])
    await cl.login(AGREEMENT_EMAILS["cl_referent"])
    steps = [(ga, "move", "en_negociation", ""), (ga, "move", "a_signer", ""),
             (ga, "move", "en_negociation", "Texte à revoir"), (cl, "move", "a_signer", ""),
             (ga, "sign", deal.ga_party, ""), (cl, "sign", deal.cl_party, ""), (cl, "move", "en_vigueur", ""),
             (ga, "move", "suspendu", "Élections"), (ga, "move", "en_vigueur", ""),
             (cl, "move", "resilie", "Fin anticipée")]
    for count, (client, kind, target, comment) in enumerate(steps, start=1):
        if kind == "move":
            response = await move(client, deal.agreement, target, comment)
        else:
            response = await sign(client, deal.agreement, target)
        assert response.status_code == 303, (kind, target, response.text[-600:])
        assert len(await history_of("agreement", deal.agreement)) == count
    entries = await history_of("agreement", deal.agreement)
    assert [e["to_value"] for e in entries] == ["en_negociation", "a_signer", "en_negociation", "a_signer", "signature",
                                                "signature", "en_vigueur", "suspendu", "en_vigueur", "resilie"]
    page = await ga.get(f"/contrats/{deal.agreement}")
    history = page.text.split('id="historique"')[1]
    assert "Fin anticipée" in history and "Jean Référent" in history and "Signature" in history
    assert await HistoryEntry.count().where(HistoryEntry.subject_type == "agreement") == len(steps)


async def test_the_demo_agreements_come_through_the_life_cycle_with_their_history(clean_db):
    from tracker.demo import load_demo
    from tracker.territories.reference import load_epci

    await load_epci()
    await load_demo()
    rows = {r["title"]: r for r in await Agreement.select(Agreement.id, Agreement.title, Agreement.state)}
    urban_rural = rows["Contrat de réciprocité Grand Angoulême – Charente Limousine"]
    in_force = rows["Contrat de réciprocité Valence Romans – Royans-Vercors"]
    assert (urban_rural["state"], in_force["state"]) == ("a_signer", "en_vigueur")
    signatures = await AgreementParty.select(
        AgreementParty.territory.siren.as_alias("siren"), AgreementParty.signed_at, AgreementParty.deliberation_on
    ).where(AgreementParty.agreement == urban_rural["id"])
    assert {r["siren"]: r["signed_at"] is not None for r in signatures} == {"200071827": True, "200072049": False}
    assert all(r["deliberation_on"] for r in signatures)  # Charente Limousine's référent can sign right away
    entries = [h["to_value"] for h in await history_of("agreement", in_force["id"])]
    assert [e for e in entries if e not in ("partie_ajoutee", "revue_ajoutee", "deliberation", "modification")] == [
        "brouillon", "en_negociation", "a_signer", "signature", "signature", "en_vigueur"]
    assert entries.count("deliberation") == 2 and entries.count("partie_ajoutee") == 1
    assert entries.count("modification") == 1  # the end date moved by the amendment signed by both
    from tracker.agreements.tables import AgreementAmendment

    [amended] = await AgreementAmendment.select(AgreementAmendment.state).where(
        AgreementAmendment.agreement == in_force["id"])
    assert amended["state"] == "en_vigueur"
    recorded = rows["Premier contrat de réciprocité Charente Limousine – Grand Angoulême (2017-2020)"]
    assert recorded["state"] == "echu"
    dated = await HistoryEntry.select(HistoryEntry.to_value, HistoryEntry.created_at).where(
        (HistoryEntry.subject_type == "agreement") & (HistoryEntry.subject_id == recorded["id"])
        & HistoryEntry.recorded_at.is_not_null()).order_by(HistoryEntry.created_at)
    assert [(h["to_value"], h["created_at"].year) for h in dated] == [
        ("protocole", 2016), ("deliberation", 2017), ("deliberation", 2017), ("signature", 2017),
        ("signature", 2017), ("en_vigueur", 2017), ("echu", 2021)]
    statuses = {r["status"] for r in await Obligation.select(Obligation.status).where(
        Obligation.agreement == in_force["id"])}
    assert statuses == {"a_venir", "en_cours", "en_pause", "bloquee", "realisee"}
    followed = await HistoryEntry.count().where((HistoryEntry.subject_type == "obligation") & (HistoryEntry.from_value != ""))
    assert followed >= 9


async def test_a_signature_racing_a_reopening_never_leaves_a_signature_on_a_reopened_text(make_client, world):
    """Whatever the order, a reopened negotiation carries no signature, and every accepted change has its entry."""
    import anyio

    base = await build_agreement_world(world)
    referent, editor = await make_client(), await make_client()
    await referent.login(EMAILS["ga_referent"])
    await editor.login(AGREEMENT_EMAILS["cl_editor"])
    for round_ in range(3):
        agreement_id = await agreement(world.ga, f"Contrat n° {round_}", state="a_signer", ends_on=base.ends_on)
        ga_party = await party(agreement_id, world.ga, 1, deliberation_on=clock.today(), deliberation_ref="GA")
        await party(agreement_id, base.cl, 2, deliberation_on=clock.today(), deliberation_ref="CL")
        page = f"/contrats/{agreement_id}"
        await referent.get(page)
        sign_form = dict(referent.form(f"{page}/parties/{ga_party}/signature").fields)
        await editor.get(page)
        state_form = {**editor.form(f"{page}/etat").fields, "status": "en_negociation", "comment": "À revoir"}
        codes: dict[str, int] = {}

        async def do_sign() -> None:
            codes["sign"] = (await referent.post(f"{page}/parties/{ga_party}/signature", sign_form)).status_code

        async def do_reopen() -> None:
            codes["reopen"] = (await editor.post(f"{page}/etat", state_form)).status_code

        async with anyio.create_task_group() as group:
            group.start_soon(do_sign)
            group.start_soon(do_reopen)
        assert codes["reopen"] == 303
        assert codes["sign"] in (303, 409)
        assert await state_of(agreement_id) == ("en_negociation", 2)
        assert not await signed(ga_party)
        entries = [h["to_value"] for h in await history_of("agreement", agreement_id)]
        assert entries == (["signature", "en_negociation"] if codes["sign"] == 303 else ["en_negociation"])


async def test_twenty_people_changing_the_same_obligation_one_wins_the_others_are_told(make_client, world):
    import anyio

    deal = await build_agreement_world(world, state="en_vigueur")
    path = f"/obligations/{deal.ga_brings}"
    clients = []
    for _ in range(20):
        client = await make_client()
        await client.login(EMAILS["ga_editor"])
        await client.get(path)
        clients.append(client)
    codes: list[int] = []

    async def change(client) -> None:
        fields = {**client.form(f"{path}/statut").fields, "status": "en_cours"}
        fields.pop("_csrf_token")
        codes.append((await client.post(f"{path}/statut", fields, htmx=True)).status_code)

    async with anyio.create_task_group() as group:
        for client in clients:
            group.start_soon(change, client)
    assert sorted(codes) == [200] + [409] * 19
    assert len(await history_of("obligation", deal.ga_brings)) == 1
    assert (await Obligation.select(Obligation.version).where(Obligation.id == deal.ga_brings).first())["version"] == 2


# --- witnesses: the État or the Région signing « en présence de » (issue 13) ----------------------------------


async def test_the_region_signs_as_a_witness_and_its_signature_is_not_needed(make_client, world):
    deal = await build_agreement_world(world, state="en_negociation")
    region = await territory("200053759", "Région Nouvelle-Aquitaine", kind="REG")
    await user("president@region.example.org", "Paule Région", roles={region: "referent"})
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    found = await editor.get(f"/contrats/{deal.agreement}/parties?q=Nouvelle")
    assert 'name="role" value="temoin"' in found.text
    added = await editor.post(f"/contrats/{deal.agreement}/parties", {"territory": str(region), "role": "temoin"})
    assert added.status_code == 303
    witness = await AgreementParty.select(AgreementParty.id, AgreementParty.role).where(
        AgreementParty.territory == region).first()
    assert witness["role"] == "temoin"
    # A community of communes is a party, never a witness.
    refused = await editor.post(f"/contrats/{deal.agreement}/parties", {"territory": str(world.vr), "role": "temoin"})
    assert refused.status_code == 422 and "Seuls l’État et les régions signent" in plain(refused)
    # A witness neither brings nor receives.
    form = await editor.get(f"/contrats/{deal.agreement}/obligations/nouvelle")
    assert "Région Nouvelle-Aquitaine" not in form.text.split('id="owner"')[1].split("</select>")[0]
    brings = await editor.post(f"/contrats/{deal.agreement}/obligations/nouvelle",
                               {"title": "Subventionner", "owner": str(witness["id"])})
    assert brings.status_code == 422 and "« Partie qui apporte » : valeur inconnue" in plain(brings)
    page = plain(await editor.get(f"/contrats/{deal.agreement}"))
    assert "en présence de Région Nouvelle-Aquitaine" in page
    # Submitted, signed by both parties but not the witness: in force.
    assert (await move(editor, deal.agreement, "a_signer")).status_code == 303
    ga, cl = await make_client(), await make_client()
    await ga.login(EMAILS["ga_referent"])
    await cl.login(AGREEMENT_EMAILS["cl_referent"])
    assert (await sign(ga, deal.agreement, deal.ga_party)).status_code == 303
    assert (await sign(cl, deal.agreement, deal.cl_party)).status_code == 303
    # The witness signs without a deliberation (a Région's deliberation is not what authorises a witness).
    region_client = await make_client()
    await region_client.login("president@region.example.org")
    assert (await sign(region_client, deal.agreement, witness["id"])).status_code == 303
    history = await history_of("agreement", deal.agreement)
    assert "Signature de Région Nouvelle-Aquitaine en qualité de témoin" in history[-1]["comment"]
    await AgreementParty.update({AgreementParty.signed_at: None, AgreementParty.signed_on: None}).where(
        AgreementParty.id == witness["id"])
    assert (await move(cl, deal.agreement, "en_vigueur")).status_code == 303
    assert (await state_of(deal.agreement))[0] == "en_vigueur"
