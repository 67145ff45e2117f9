"""What each party brings (« ce que chacun apporte »): obligations follow the actions' statuses and rules, each party
updates its own, and the balance view shows both sides' progress side by side."""
import re
from datetime import timedelta

import pytest

from tests.factories import (
    AGREEMENT_EMAILS,
    EMAILS,
    agreement,
    build_agreement_world,
    history_of,
    obligation,
    partner,
    party,
)
from tracker.agreements.tables import Agreement, Obligation

from tracker.core import clock

pytestmark = pytest.mark.anyio


def plain(response) -> str:
    return response.text.replace("\u00a0", " ").replace("&nbsp;", " ")


@pytest.fixture
async def deal(world):
    """In force: obligations can be followed."""
    return await build_agreement_world(world, state="en_vigueur")


async def status_of(obligation_id: int) -> tuple[str, int]:
    row = await Obligation.select(Obligation.status, Obligation.version).where(Obligation.id == obligation_id).first()
    return row["status"], row["version"]


def side(html: str, party_id: int, theme: int = 0) -> str:
    """The column of the balance under « Ce qu’apporte <party> » for a theme (0: « Sans thème »)."""
    return html.split(f'aria-labelledby="apport-{theme}-{party_id}"')[1].split("</section>")[0]


# --- the balance view -----------------------------------------------------------------------------------------


async def test_the_balance_lists_each_partys_obligations_under_that_party(client, world, deal):
    extra = await obligation(deal.agreement, deal.ga_party, "Prêter la salle de spectacle", status="realisee",
                             beneficiary=deal.cl_party)
    await obligation(deal.agreement, deal.cl_party, "Accueillir des séjours nature", status="en_cours",
                     deadline=clock.today() - timedelta(days=3))
    await client.login(AGREEMENT_EMAILS["cl_reader"])
    page = await client.get(f"/contrats/{deal.agreement}")
    assert page.status_code == 200
    ga_side, cl_side = side(page.text, deal.ga_party), side(page.text, deal.cl_party)
    assert "Ce qu’apporte CA du Grand Angoulême" in page.text and "Ce qu’apporte CC de Charente Limousine" in page.text
    assert "Ouvrir le centre de santé aux habitants" in ga_side and "Prêter la salle de spectacle" in ga_side
    assert "Livrer des produits locaux aux cantines" in cl_side and "Accueillir des séjours nature" in cl_side
    assert "Livrer des produits locaux" not in ga_side and "Ouvrir le centre de santé" not in cl_side
    # what A brings goes to B, and the other way round; the partner carrying it is named
    assert "Au bénéfice de CC de Charente Limousine" in ga_side and "porté par Solidarité Angoumois" in ga_side
    assert "Au bénéfice de CA du Grand Angoulême" in cl_side
    # progress of each side
    assert "1 sur 2 réalisée (50" in plain(page).split(f'id="progression-0-{deal.ga_party}"')[1]
    assert "0 sur 2 réalisée (0" in plain(page).split(f'id="progression-0-{deal.cl_party}"')[1]
    assert "1 en retard" in cl_side
    # the same figures in a table (the accessible equivalent, printed with the page)
    table = page.text.split('id="bilan-synthese"')[1].split("</table>")[0]
    assert "<caption>Avancement des obligations de chaque partie</caption>" in table
    ga_row = table.split("CA du Grand Angoulême</th>")[1].split("</tr>")[0].replace("&nbsp;", " ")
    # total, then À venir, En cours, En pause, Bloquée, Réalisée, Abandonnée, then en retard and share done
    assert re.findall(r'<td class="num">([^<]*)</td>', ga_row) == ["2", "1", "0", "0", "0", "1", "0", "0", "50 %"]
    assert f'href="/obligations/{extra}"' in ga_side


async def test_the_balance_prints_without_its_forms(client, world, deal):
    css = (await client.get("/static/style.css")).text
    section = css.split("Contrats de réciprocité")[1]
    assert "@media print" in section and ".balance" in section and "break-inside: avoid" in section


# --- status rules, as for actions -------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["bloquee", "en_pause", "abandonnee"])
async def test_a_comment_is_required_to_block_pause_or_abandon(client, world, deal, target):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/contrats/{deal.agreement}", f"/obligations/{deal.ga_brings}/statut",
                                   {"status": target}, htmx=True)
    assert response.status_code == 422
    assert "Un commentaire est obligatoire pour passer une obligation" in plain(response)
    assert f'id="obligation-{deal.ga_brings}"' in response.text and 'role="alert"' in response.text
    assert await status_of(deal.ga_brings) == ("a_venir", 1)
    assert await history_of("obligation", deal.ga_brings) == []


async def test_reopening_a_realised_obligation_requires_a_comment(client, world, deal):
    await Obligation.update({Obligation.status: "realisee"}).where(Obligation.id == deal.cl_brings)
    await client.login(AGREEMENT_EMAILS["cl_editor"])
    page = f"/obligations/{deal.cl_brings}"
    response = await client.submit(page, f"{page}/statut", {"status": "en_cours"})
    assert response.status_code == 422 and "rouvrir une obligation" in plain(response)
    assert await status_of(deal.cl_brings) == ("realisee", 1)
    response = await client.submit(page, f"{page}/statut", {"status": "en_cours", "comment": "Seconde saison."})
    assert response.status_code == 303
    assert await status_of(deal.cl_brings) == ("en_cours", 2)


async def test_an_obligation_changes_in_place_with_htmx_and_the_balance_follows(client, world, deal):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/contrats/{deal.agreement}", f"/obligations/{deal.ga_brings}/statut",
                                   {"status": "realisee"}, htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert f'<li id="obligation-{deal.ga_brings}"' in response.text and "Statut enregistré." in response.text
    assert 'id="bilan-synthese"' in response.text and f'id="progression-0-{deal.ga_party}"' in response.text
    assert response.text.count('data-hx-swap-oob="true"') == 2
    assert "1 sur 1 réalisée (100" in plain(response)
    assert await status_of(deal.ga_brings) == ("realisee", 2)


async def test_without_javascript_the_status_form_posts_and_comes_back_to_the_agreement(client, world, deal):
    await client.login(AGREEMENT_EMAILS["cl_referent"])
    response = await client.submit(f"/contrats/{deal.agreement}", f"/obligations/{deal.cl_brings}/statut",
                                   {"status": "en_cours"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/contrats/{deal.agreement}#obligation-{deal.cl_brings}"
    page = await client.get(response.headers["location"])
    assert "Le statut de l’obligation a été enregistré." in page.text


async def test_each_party_updates_only_what_it_brings(make_client, world, deal):
    """The other party's editors see the obligation but cannot change it; readers and reviewers neither
    (administrators act as the owner's référent: tests/test_members.py)."""
    for email, expected in [(AGREEMENT_EMAILS["cl_editor"], 403), (AGREEMENT_EMAILS["cl_referent"], 403),
                            (EMAILS["ga_reader"], 403), (EMAILS["reviewer"], 403),
                            (EMAILS["vr_editor"], 404), (EMAILS["nobody"], 404)]:
        client = await make_client()
        await client.login(email)
        for htmx in (False, True):
            response = await client.post(f"/obligations/{deal.ga_brings}/statut",
                                         {"status": "en_cours", "version": "1", "contexte": "contrat"}, htmx=htmx)
            assert response.status_code == expected, (email, htmx)
        page = await client.get(f"/contrats/{deal.agreement}")
        if expected == 403:
            assert f'action="/obligations/{deal.ga_brings}/statut"' not in page.text
    assert await status_of(deal.ga_brings) == ("a_venir", 1)
    assert await history_of("obligation", deal.ga_brings) == []


async def test_obligations_are_followed_from_the_entry_into_force(client, world):
    deal = await build_agreement_world(world, state="a_signer")
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/obligations/{deal.ga_brings}/statut", {"status": "en_cours", "version": "1"})
    assert response.status_code == 409
    assert "se suit à partir de son entrée en vigueur" in plain(response)
    assert await status_of(deal.ga_brings) == ("a_venir", 1)


async def test_a_stale_version_is_refused_and_nothing_is_written(make_client, world, deal):
    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_editor"])
    await second.login(EMAILS["ga_referent"])
    path = f"/obligations/{deal.ga_brings}"
    await second.get(path)
    stale = dict(second.form(f"{path}/statut").fields)
    assert (await first.submit(path, f"{path}/statut", {"status": "en_cours"})).status_code == 303
    late = await second.post(f"{path}/statut", {**stale, "status": "realisee"})
    assert late.status_code == 409
    assert "Cette obligation a été modifiée par quelqu’un d’autre" in plain(late) and "Claire Éditrice" in late.text
    assert await status_of(deal.ga_brings) == ("en_cours", 2)
    assert len(await history_of("obligation", deal.ga_brings)) == 1


async def test_every_accepted_change_leaves_exactly_one_history_entry(client, world, deal):
    await client.login(EMAILS["ga_editor"])
    path = f"/obligations/{deal.ga_brings}"
    steps = [("en_cours", ""), ("bloquee", "Médecin parti"), ("en_cours", ""), ("realisee", ""),
             ("en_cours", "Nouvelle permanence"), ("abandonnee", "Remplacé par la télémédecine")]
    for count, (status, comment) in enumerate(steps, start=1):
        response = await client.submit(path, f"{path}/statut", {"status": status, "comment": comment})
        assert response.status_code == 303
        assert len(await history_of("obligation", deal.ga_brings)) == count
    entries = await history_of("obligation", deal.ga_brings)
    assert [(e["from_value"], e["to_value"]) for e in entries] == [
        ("a_venir", "en_cours"), ("en_cours", "bloquee"), ("bloquee", "en_cours"), ("en_cours", "realisee"),
        ("realisee", "en_cours"), ("en_cours", "abandonnee")]
    assert {e["territory"] for e in entries} == {world.ga}
    page = await client.get(path)
    history = page.text.split('id="historique"')[1]
    assert "Médecin parti" in history and "Claire Éditrice" in history


@pytest.mark.parametrize("status", ["termine", "", "REALISEE", "en_retard"])
async def test_an_unknown_status_is_refused(client, world, deal, status):
    await client.login(EMAILS["ga_editor"])
    path = f"/obligations/{deal.ga_brings}"
    response = await client.submit(path, f"{path}/statut", {"status": status})
    assert response.status_code == 422 and "Statut inconnu" in response.text
    assert await history_of("obligation", deal.ga_brings) == []


# --- writing obligations while negotiating ---------------------------------------------------------------------


async def test_an_editor_writes_what_each_party_brings_while_negotiating(client, world):
    deal = await build_agreement_world(world, state="en_negociation")
    await client.login(EMAILS["ga_editor"])
    path = f"/contrats/{deal.agreement}/obligations/nouvelle"
    form_page = await client.get(f"{path}?partie={deal.cl_party}")
    assert f'<option value="{deal.cl_party}" selected' in form_page.text  # « Ajouter ce qu’apporte CL »
    response = await client.submit(f"{path}?partie={deal.cl_party}", path, {
        "title": "Accueillir les classes vertes", "deadline": (clock.today() + timedelta(days=100)).isoformat(),
        "beneficiary": str(deal.ga_party)})
    assert response.status_code == 303
    created = await Obligation.select().where(Obligation.title == "Accueillir les classes vertes").first()
    assert (created["owner"], created["beneficiary"], created["status"]) == (deal.cl_party, deal.ga_party, "a_venir")
    [entry] = await history_of("obligation", created["id"])
    assert (entry["from_value"], entry["to_value"], entry["territory"]) == ("", "a_venir", deal.cl)


@pytest.mark.parametrize("changes,message", [
    ({"owner": ""}, "« Partie qui apporte » est obligatoire"),
    ({"title": ""}, "« Ce qui est apporté » est obligatoire"),
    ({"beneficiary": "OWNER"}, "Une partie ne s’apporte pas quelque chose à elle-même"),
    ({"partner": "VR_PILOT"}, "valeur inconnue"),
    ({"partner": "GA_PILOT", "owner": "CL"}, "Ce partenaire ne travaille pas avec CC de Charente Limousine"),
    ({"deadline": "2199-01-01"}, "doit se situer entre 1990 et 2100"),
    ({"deadline": "LATE"}, "L’échéance ne peut dépasser la date de fin du contrat"),
    ({"owner": "999999"}, "valeur inconnue"),
])
async def test_an_obligation_form_with_bad_input_is_refused_in_french(client, world, changes, message):
    deal = await build_agreement_world(world, state="en_negociation")
    replace = {"OWNER": str(deal.ga_party), "CL": str(deal.cl_party), "VR_PILOT": str(world.vr_pilot),
               "GA_PILOT": str(world.ga_pilot), "LATE": (deal.ends_on + timedelta(days=1)).isoformat()}
    data = {"title": "Ouvrir la médiathèque", "owner": str(deal.ga_party)}
    data.update({k: replace.get(v, v) for k, v in changes.items()})
    await client.login(EMAILS["ga_editor"])
    path = f"/contrats/{deal.agreement}/obligations/nouvelle"
    before = await Obligation.count()
    response = await client.submit(path, path, data)
    assert response.status_code == 422
    assert message in plain(response)
    assert await Obligation.count() == before


async def test_an_obligation_is_edited_with_its_version_and_withdrawn_from_a_draft(make_client, world):
    deal = await build_agreement_world(world, state="en_negociation")
    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_editor"])
    await second.login(AGREEMENT_EMAILS["cl_editor"])
    path = f"/obligations/{deal.ga_brings}/modifier"
    await second.get(path)
    stale = dict(second.form(path).fields)
    assert (await first.submit(path, path, {"title": "Ouvrir le centre de santé le samedi"})).status_code == 303
    late = await second.post(path, {**stale, "title": "Écrasement"})
    assert late.status_code == 409
    row = await Obligation.select(Obligation.title).where(Obligation.id == deal.ga_brings).first()
    assert row["title"] == "Ouvrir le centre de santé le samedi"
    withdrawn = await first.submit(path, f"/obligations/{deal.ga_brings}/supprimer")
    assert withdrawn.status_code == 303
    assert not await Obligation.exists().where(Obligation.id == deal.ga_brings)
    edited, entry = await history_of("obligation", deal.ga_brings)
    assert edited["to_value"] == "modification"  # the accepted edit, before → after; the refused one left none
    assert edited["comment"] == ("Ce qui est apporté : « Ouvrir le centre de santé aux habitants » → "
                                 "« Ouvrir le centre de santé le samedi »")
    assert entry["to_value"] == "supprimee" and "Ouvrir le centre de santé le samedi" in entry["comment"]


# --- for the partners' /engagements page -------------------------------------------------------------------------


async def test_obligations_carried_by_a_partner_are_listed_for_that_partner(world, deal):
    from tracker.agreements.for_partners import obligations_for_partners

    other = await partner("Coopérative charentaise", "prive", "entreprise", deal.cl)
    await obligation(deal.agreement, deal.cl_party, "Livrer les paniers", partner_id=other,
                     deadline=clock.today() + timedelta(days=5))
    draft = await agreement(world.ga, "Brouillon", state="brouillon")  # drafts are not shown to partners
    await obligation(draft, await party(draft, world.ga, 1), "Brouillon interne", partner_id=world.ga_pilot)
    rows = await obligations_for_partners({world.ga_pilot})
    assert [(r["obligation_title"], r["agreement_id"], r["party_name"], r["status"]) for r in rows] == [
        ("Ouvrir le centre de santé aux habitants", deal.agreement, "CA du Grand Angoulême", "a_venir")]
    assert rows[0]["agreement_title"] == "Contrat Grand Angoulême – Charente Limousine"
    assert rows[0]["deadline"] == clock.today() + timedelta(days=200) and rows[0]["overdue"] is False
    both = await obligations_for_partners({world.ga_pilot, other})
    assert [r["obligation_title"] for r in both] == ["Livrer les paniers", "Ouvrir le centre de santé aux habitants"]
    assert await obligations_for_partners(set()) == []


async def test_the_agreement_state_itself_is_untouched_by_obligation_changes(client, world, deal):
    await client.login(EMAILS["ga_editor"])
    path = f"/obligations/{deal.ga_brings}"
    await client.submit(path, f"{path}/statut", {"status": "en_cours"})
    row = await Agreement.select(Agreement.state, Agreement.version).where(Agreement.id == deal.agreement).first()
    assert row == {"state": "en_vigueur", "version": 1}
