"""Amendments (avenants) to an agreement in force: written by the parties' editors, deliberated and signed by each
party for itself; the last signature makes them take effect — the end date moves, obligations are added, changed
or ended — while what the agreement was before stays readable. Rules in tracker/agreements/amendments.py."""
import os
import subprocess
import sys
from datetime import date, timedelta

import pytest

from tests.browser import forms_in
from tests.factories import AGREEMENT_EMAILS, EMAILS, amendment, build_agreement_world, history_of
from tracker.agreements.tables import Agreement, AgreementAmendment, AmendmentChange, AmendmentParty, Obligation
from tracker.core import clock
from tracker.core.french import date_fr
from tracker.history.tables import HistoryEntry

pytestmark = pytest.mark.anyio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def plain(response) -> str:
    return response.text.replace("\u00a0", " ").replace("&nbsp;", " ")


@pytest.fixture
async def deal(world):
    return await build_agreement_world(world, state="en_vigueur")


async def amendment_row(agreement_id: int, number: int = 1) -> dict:
    return await AgreementAmendment.select().where(
        (AgreementAmendment.agreement == agreement_id) & (AgreementAmendment.number == number)).first()


async def ends_on(agreement_id: int) -> date:
    return (await Agreement.select(Agreement.ends_on).where(Agreement.id == agreement_id).first())["ends_on"]


async def add_change(client, page: str, kind: str, changes: dict):
    """Open the amendment's page, fill the form of this kind of change (they all post to …/changements), send it."""
    shown = await client.get(page)
    action = page.split("?")[0] + "/changements"
    [form] = [f for f in forms_in(shown.text) if f.action == action and f.fields.get("kind") == kind]
    return await client.post(action, {**form.fields, **changes})


async def prepare(client, deal, new_end: date) -> str:
    """An editor prepares amendment n° 1: a new end date, one obligation added, one changed, one ended; submits
    it. Returns its page's path."""
    response = await client.submit(f"/contrats/{deal.agreement}/avenants/nouveau",
                                   f"/contrats/{deal.agreement}/avenants/nouveau",
                                   {"title": "Prolongation et ajustements", "new_ends_on": new_end.isoformat()})
    assert response.status_code == 303, plain(response)[-800:]
    path = response.headers["location"]
    assert path == f"/contrats/{deal.agreement}/avenants/1"
    added = await add_change(client, path, "ajout", {"owner": str(deal.cl_party),
                                                     "title": "Ouvrir un tiers-lieu à Confolens",
                                                     "deadline": (new_end - timedelta(days=30)).isoformat()})
    assert added.status_code == 303, plain(added)[-800:]
    # « Écrire son nouveau texte » opens the obligation's text, to change
    changed = await add_change(client, f"{path}?modifier={deal.ga_brings}", "modification",
                               {"title": "Ouvrir le centre de santé le samedi"})
    assert changed.status_code == 303, plain(changed)[-800:]
    ended = await add_change(client, path, "fin", {"obligation": str(deal.cl_brings),
                                                   "reason": "La cuisine centrale a fermé."})
    assert ended.status_code == 303, plain(ended)[-800:]
    submitted = await client.submit(path, f"{path}/etat", {"status": "a_signer"})
    assert submitted.status_code == 303, plain(submitted)[-800:]
    return path


async def deliberate(client, path: str, party_id: int, day: date, reference: str):
    return await client.submit(path, f"{path}/parties/{party_id}/deliberation",
                               {"deliberation_on": day.isoformat(), "deliberation_ref": reference})


async def sign(client, path: str, party_id: int):
    return await client.submit(path, f"{path}/parties/{party_id}/signature", {})


async def signing_rows(amendment_id: int) -> dict[int, int]:
    return {r["party"]: r["id"] for r in await AmendmentParty.select(AmendmentParty.party, AmendmentParty.id).where(
        AmendmentParty.amendment == amendment_id)}


async def test_an_amendment_signed_by_every_party_moves_the_end_date_and_before_that_the_old_one_holds(
        make_client, world, deal):
    ga_editor, ga_referent, cl_editor, cl_referent = [await make_client() for _ in range(4)]
    await ga_editor.login(EMAILS["ga_editor"])
    await ga_referent.login(EMAILS["ga_referent"])
    await cl_editor.login(AGREEMENT_EMAILS["cl_editor"])
    await cl_referent.login(AGREEMENT_EMAILS["cl_referent"])
    old_end, new_end = deal.ends_on, deal.ends_on + timedelta(days=730)
    path = await prepare(ga_editor, deal, new_end)
    amendment_id = (await amendment_row(deal.agreement))["id"]
    rows = await signing_rows(amendment_id)
    today = clock.today()
    assert (await deliberate(ga_editor, path, rows[deal.ga_party], today - timedelta(days=3), "GA-AV1")).status_code == 303
    assert (await deliberate(cl_editor, path, rows[deal.cl_party], today - timedelta(days=2), "CL-AV1")).status_code == 303
    assert (await sign(ga_referent, path, rows[deal.ga_party])).status_code == 303

    # Signed by one party only: the old end date and the old obligations still hold.
    assert (await amendment_row(deal.agreement))["state"] == "a_signer"
    assert await ends_on(deal.agreement) == old_end
    details = plain(await cl_referent.get(f"/contrats/{deal.agreement}")).split('id="details-titre"')[1]
    details = details.split("</dl>")[0]
    assert f'<time datetime="{old_end.isoformat()}">' in details and new_end.isoformat() not in details
    assert not await Obligation.exists().where(Obligation.title == "Ouvrir un tiers-lieu à Confolens")
    signed = await sign(cl_referent, path, rows[deal.cl_party])
    assert signed.status_code == 303
    page = plain(await cl_referent.get(signed.headers["location"]))
    assert "Toutes les parties ont signé : l’avenant a pris effet." in page

    # Signed by every party: in force, the end date moved, the obligations changed.
    row = await amendment_row(deal.agreement)
    assert (row["state"], row["in_force_on"], row["previous_ends_on"]) == ("en_vigueur", today, old_end)
    assert await ends_on(deal.agreement) == new_end
    added = await Obligation.select().where(Obligation.title == "Ouvrir un tiers-lieu à Confolens").first()
    assert (added["owner"], added["added_by"], added["status"]) == (deal.cl_party, amendment_id, "a_venir")
    changed = await Obligation.select(Obligation.title).where(Obligation.id == deal.ga_brings).first()
    assert changed["title"] == "Ouvrir le centre de santé le samedi"
    ended = await Obligation.select(Obligation.ended_by, Obligation.ended_on).where(
        Obligation.id == deal.cl_brings).first()
    assert ended == {"ended_by": amendment_id, "ended_on": today}

    # What the agreement was before the amendment stays readable.
    before = plain(await cl_referent.get(path)).split('id="avant"')[1].split("</section>")[0]
    assert f"Date de fin : {date_fr(old_end)}" in before
    assert "Ouvrir le centre de santé aux habitants" in before and "le samedi" not in before
    assert "Livrer des produits locaux aux cantines" in before  # ended by the amendment: in force before it
    assert "tiers-lieu" not in before
    agreement_page = plain(await cl_referent.get(f"/contrats/{deal.agreement}"))
    assert f"Fin initiale</dt><dd>{date_fr(old_end)}" in agreement_page
    assert "Fin le " in agreement_page and "(avenant n° 1)" in agreement_page  # the ended obligation, still shown


async def test_each_step_of_an_amendment_is_one_entry_and_taking_effect_one_per_change(make_client, world, deal):
    editor, ga_referent, cl_referent = [await make_client() for _ in range(3)]
    await editor.login(EMAILS["ga_editor"])
    await ga_referent.login(EMAILS["ga_referent"])
    await cl_referent.login(AGREEMENT_EMAILS["cl_referent"])
    new_end = deal.ends_on + timedelta(days=365)
    path = await prepare(editor, deal, new_end)
    amendment_id = (await amendment_row(deal.agreement))["id"]
    rows = await signing_rows(amendment_id)
    await deliberate(ga_referent, path, rows[deal.ga_party], clock.today(), "GA")
    await deliberate(cl_referent, path, rows[deal.cl_party], clock.today(), "CL")
    assert [h["to_value"] for h in await history_of("amendment", amendment_id)] == [
        "brouillon", "modification", "modification", "modification", "a_signer", "deliberation", "deliberation"]
    before = await HistoryEntry.count()
    await sign(ga_referent, path, rows[deal.ga_party])
    assert await HistoryEntry.count() == before + 1
    await sign(cl_referent, path, rows[deal.cl_party])
    # the signature, the amendment in force, the end date moved, one obligation added, one changed, one ended
    assert await HistoryEntry.count() == before + 1 + 6
    assert [h["to_value"] for h in await history_of("amendment", amendment_id)][-2:] == ["signature", "en_vigueur"]
    [moved] = [h for h in await history_of("agreement", deal.agreement) if h["to_value"] == "modification"]
    assert moved["comment"] == f"Par l’avenant n° 1 :\nFin : {date_fr(deal.ends_on)} → {date_fr(new_end)}"
    assert [h["to_value"] for h in await history_of("obligation", deal.ga_brings)] == ["modification"]
    assert [h["to_value"] for h in await history_of("obligation", deal.cl_brings)] == ["terminee"]
    added = await Obligation.select(Obligation.id).where(Obligation.added_by == amendment_id).first()
    assert [h["to_value"] for h in await history_of("obligation", added["id"])] == ["a_venir"]
    page = plain(await editor.get(f"/contrats/{deal.agreement}")).split('id="historique"')[1]
    assert "Avenant n° 1" in page and "Fin : " in page


async def test_each_party_signs_the_amendment_for_itself(make_client, world, deal):
    amendment_id, rows = await amendment(deal.agreement, state="a_signer", new_ends_on=deal.ends_on + timedelta(days=9))
    await AmendmentParty.update({AmendmentParty.deliberation_on: clock.today(),
                                 AmendmentParty.deliberation_ref: "D"}).where(AmendmentParty.amendment == amendment_id)
    path = f"/contrats/{deal.agreement}/avenants/1/parties/{rows[deal.cl_party]}/signature"
    for email, expected in ((EMAILS["ga_referent"], 403), (AGREEMENT_EMAILS["cl_editor"], 403),
                            (EMAILS["admin"], 403), (EMAILS["vr_editor"], 404)):
        client = await make_client()
        await client.login(email)
        response = await client.post(path, {"signed_on": clock.today().isoformat(), "version": "1"})
        assert response.status_code == expected, email
    assert not await AmendmentParty.exists().where(AmendmentParty.signed_at.is_not_null())
    assert await HistoryEntry.count() == 0


async def test_reopening_an_amendment_needs_a_comment_and_withdraws_its_signatures(client, world, deal):
    amendment_id, rows = await amendment(deal.agreement, state="a_signer", new_ends_on=deal.ends_on + timedelta(days=9))
    await AmendmentParty.update({AmendmentParty.deliberation_on: clock.today(),
                                 AmendmentParty.deliberation_ref: "D"}).where(AmendmentParty.amendment == amendment_id)
    await client.login(EMAILS["ga_referent"])
    path = f"/contrats/{deal.agreement}/avenants/1"
    assert (await sign(client, path, rows[deal.ga_party])).status_code == 303
    refused = await client.submit(path, f"{path}/etat", {"status": "brouillon"})
    assert refused.status_code == 422 and "Un commentaire est obligatoire pour rouvrir un avenant" in plain(refused)
    reopened = await client.submit(path, f"{path}/etat", {"status": "brouillon", "comment": "Date à revoir."})
    assert reopened.status_code == 303
    assert not await AmendmentParty.exists().where(AmendmentParty.signed_at.is_not_null())
    assert [h["to_value"] for h in await history_of("amendment", amendment_id)] == ["signature", "brouillon"]
    assert await ends_on(deal.agreement) == deal.ends_on


async def test_amendments_only_for_an_agreement_in_force_one_at_a_time(client, world):
    draft = await build_agreement_world(world, state="en_negociation")
    await client.login(EMAILS["ga_editor"])
    early = await client.post(f"/contrats/{draft.agreement}/avenants/nouveau", {"title": "Trop tôt"})
    assert early.status_code == 409 and "contrat en vigueur" in plain(early)
    await Agreement.update({Agreement.state: "en_vigueur"}).where(Agreement.id == draft.agreement)
    assert (await client.post(f"/contrats/{draft.agreement}/avenants/nouveau",
                              {"title": "Premier"})).status_code == 303
    second = await client.post(f"/contrats/{draft.agreement}/avenants/nouveau", {"title": "Second"})
    assert second.status_code == 409 and "L’avenant n° 1 est en cours" in plain(second)
    assert await AgreementAmendment.count() == 1


async def test_an_amendment_that_changes_nothing_or_leaves_a_deadline_after_the_end_is_not_submitted(client, world,
                                                                                                      deal):
    await client.login(EMAILS["ga_editor"])
    await client.post(f"/contrats/{deal.agreement}/avenants/nouveau", {"title": "Vide"})
    path = f"/contrats/{deal.agreement}/avenants/1"
    empty = await client.submit(path, f"{path}/etat", {"status": "a_signer"})
    assert empty.status_code == 422 and "il ne change rien" in plain(empty)
    # shortening the contract below an obligation's deadline: an edit, one entry before → after
    short = deal.ends_on - timedelta(days=2000)
    assert (await client.submit(path, f"{path}/modifier", {"new_ends_on": short.isoformat()})).status_code == 303
    amendment_id = (await amendment_row(deal.agreement))["id"]
    edited = (await history_of("amendment", amendment_id))[-1]
    assert (edited["to_value"], edited["comment"]) == (
        "modification", f"Nouvelle date de fin : non renseigné → {date_fr(short)}")
    late = await client.submit(path, f"{path}/etat", {"status": "a_signer"})
    assert late.status_code == 422 and "a une échéance après le" in plain(late)
    assert (await amendment_row(deal.agreement))["state"] == "brouillon"


async def test_an_obligation_ended_by_an_amendment_is_no_longer_followed(client, world, deal):
    amendment_id, _ = await amendment(deal.agreement, state="en_vigueur")
    await Obligation.update({Obligation.ended_by: amendment_id, Obligation.ended_on: clock.today()}).where(
        Obligation.id == deal.cl_brings)
    await client.login(AGREEMENT_EMAILS["cl_editor"])
    response = await client.post(f"/obligations/{deal.cl_brings}/statut", {"status": "en_cours", "version": "1"})
    assert response.status_code == 409 and "a pris fin par l’avenant n° 1" in plain(response)
    assert await history_of("obligation", deal.cl_brings) == []


async def test_the_contrats_echus_command_reads_the_end_date_an_amendment_set(world, deal):
    """Before the amendment takes effect, the old end date holds for the daily expiry, too."""
    from tracker.agreements.lifecycle import expire_ended_agreements

    yesterday = clock.today() - timedelta(days=1)
    await Agreement.update({Agreement.ends_on: yesterday}).where(Agreement.id == deal.agreement)
    await amendment(deal.agreement, state="a_signer", new_ends_on=clock.today() + timedelta(days=365))
    result = subprocess.run([sys.executable, "-m", "tracker", "contrats-echus"], cwd=ROOT, env=os.environ,
                            capture_output=True, text=True, check=True)
    assert f"(n° {deal.agreement})" in result.stdout
    assert (await Agreement.select(Agreement.state).where(Agreement.id == deal.agreement).first())["state"] == "echu"
    assert await expire_ended_agreements() == []


@pytest.mark.parametrize("changes,message", [
    ({"kind": "fin", "obligation": "999999", "reason": "x"}, "« Obligation » : valeur inconnue"),
    ({"kind": "fin", "obligation": "OBLIGATION", "reason": ""}, "« Motif » est obligatoire"),
    ({"kind": "retrait", "obligation": "OBLIGATION"}, "« Nature du changement » : valeur inconnue"),
    ({"kind": "ajout", "owner": "OWNER", "title": ""}, "« Ce qui est apporté » est obligatoire"),
    ({"kind": "ajout", "owner": "OWNER", "title": "Trop tard", "deadline": "2099-01-01"},
     "L’échéance ne peut dépasser la date de fin du contrat"),
    ({"kind": "modification", "obligation": "OBLIGATION", "title": "x", "deadline": "demain"},
     "n’est pas une date valide"),
])
async def test_a_bad_change_is_refused_with_a_french_message_and_writes_nothing(client, world, deal, changes, message):
    await amendment(deal.agreement)
    await client.login(EMAILS["ga_editor"])
    values = {"OBLIGATION": str(deal.ga_brings), "OWNER": str(deal.ga_party)}
    data = {k: values.get(v, v) for k, v in changes.items()}
    path = f"/contrats/{deal.agreement}/avenants/1"
    before = (await AmendmentChange.count(), await HistoryEntry.count())
    await client.get(path)
    response = await client.post(f"{path}/changements", data)
    assert response.status_code == 422
    assert message in plain(response)
    assert (await AmendmentChange.count(), await HistoryEntry.count()) == before


async def test_an_amendments_end_date_and_date_must_follow_the_agreements_start(client, world, deal):
    await Agreement.update({Agreement.in_force_on: clock.today() - timedelta(days=100)}).where(
        Agreement.id == deal.agreement)
    await client.login(EMAILS["ga_editor"])
    path = f"/contrats/{deal.agreement}/avenants/nouveau"
    early = (clock.today() - timedelta(days=200)).isoformat()
    for field, message in (("new_ends_on", "La nouvelle date de fin doit suivre l’entrée en vigueur du contrat"),
                           ("in_force_on", "Un avenant ne prend pas effet avant le contrat")):
        response = await client.post(path, {"title": "Avenant", field: early})
        assert response.status_code == 422 and message in plain(response)
    assert await AgreementAmendment.count() == 0
    await amendment(deal.agreement)
    bad = await client.get(f"/contrats/{deal.agreement}/avenants/1?modifier=abc")
    assert bad.status_code == 400 and "« Obligation à modifier » doit être un nombre entier" in plain(bad)


async def test_an_obligation_ended_by_an_amendment_leaves_the_deadlines(client, world, deal):
    """« Mes échéances » (issue 11) no longer lists what an amendment ended."""
    await client.login(EMAILS["ga_editor"])
    before = await client.get("/echeances?type=obligation")
    assert f"obligation-{deal.ga_brings}" in before.text
    amendment_id, _ = await amendment(deal.agreement, state="en_vigueur")
    await Obligation.update({Obligation.ended_by: amendment_id, Obligation.ended_on: clock.today()}).where(
        Obligation.id == deal.ga_brings)
    after = await client.get("/echeances?type=obligation")
    assert after.status_code == 200 and f"obligation-{deal.ga_brings}" not in after.text
