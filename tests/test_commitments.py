"""Partners' commitments on actions (DESIGN.md §3–§4): the territory's editors record them, only the partner confirms
or declines, every transition leaves one history entry naming who acted, and a changed text must be confirmed again."""
import html

import pytest

from tests.factories import EMAILS, PARTNER_EMAILS, build_partner_world, commitment, commitment_history_count
from tracker.commitments.tables import Commitment, CommitmentComment
from tracker.history.tables import HistoryEntry

pytestmark = pytest.mark.anyio


def plain(response) -> str:
    """The page's text with non-breaking spaces as plain ones (French typography puts them before : ; ? ! »)."""
    return html.unescape(response.text).replace("\u00a0", " ").replace("\u202f", " ")


async def state_of(commitment_id: int) -> tuple[str, int]:
    row = await Commitment.select(Commitment.state, Commitment.version).where(Commitment.id == commitment_id).first()
    return row["state"], row["version"]


async def last_entry(commitment_id: int) -> dict:
    return await HistoryEntry.select().where(
        (HistoryEntry.subject_type == "commitment") & (HistoryEntry.subject_id == commitment_id)
    ).order_by(HistoryEntry.id, ascending=False).first()


async def test_an_editor_records_a_commitment_which_starts_proposed(client, world):
    await client.login(EMAILS["ga_editor"])
    action = f"/actions/{world.overdue}"
    response = await client.submit(f"{action}/engagements/nouveau", f"{action}/engagements/nouveau", {
        "partner": str(world.ga_pilot), "role": "financeur", "description": "Achat de deux véhicules",
        "amount": "12 500", "amount_unit": "euros", "due_on": "2027-03-31",
    })
    assert response.status_code == 303
    created = await Commitment.select().where(Commitment.action == world.overdue).first()
    assert (created["state"], created["amount"], created["amount_unit"], created["role"]) == (
        "propose", 12500, "euros", "financeur")
    # The editor is offered to send it to the partner at once.
    assert response.headers["location"] == f"/engagements/{created['id']}/envoyer"
    entry = await last_entry(created["id"])
    assert (entry["from_value"], entry["to_value"]) == ("", "propose")
    page = await client.get(action)
    section = page.text.split('id="engagements"')[1]
    assert "Solidarité Angoumois" in section and "Financeur" in section and "Proposé" in section
    assert "12\u202f500\u00a0€" in section and "31 mars 2027" in section


@pytest.mark.parametrize("changes,message", [
    ({"role": ""}, "« Rôle » est obligatoire."),
    ({"role": "mecene"}, "« Rôle » : valeur inconnue"),
    ({"description": ""}, "« Ce qui est engagé » est obligatoire."),
    ({"amount": "douze", "amount_unit": "euros"}, "« Montant » doit être un nombre entier"),
    ({"amount": "-5", "amount_unit": "euros"}, "« Montant » doit être un nombre entier"),
    ({"amount": "1500"}, "Précisez si le montant est en euros ou en jours."),
    ({"due_on": "31/03/2027"}, "n’est pas une date valide"),
    ({"partner": "999"}, "« Partenaire » : valeur inconnue"),
])
async def test_a_bad_commitment_form_is_refused_in_french_and_nothing_is_written(client, world, changes, message):
    await client.login(EMAILS["ga_editor"])
    action = f"/actions/{world.overdue}"
    before = await Commitment.count()
    response = await client.submit(f"{action}/engagements/nouveau", f"{action}/engagements/nouveau", {
        "partner": str(world.ga_pilot), "role": "contributeur", "description": "Prêt d’une salle", **changes,
    })
    assert response.status_code == 422
    assert message in plain(response)
    assert await Commitment.count() == before


async def test_a_partner_of_another_territory_cannot_be_committed(client, world):
    await client.login(EMAILS["ga_editor"])
    action = f"/actions/{world.overdue}"
    response = await client.submit(f"{action}/engagements/nouveau", f"{action}/engagements/nouveau", {
        "partner": str(world.vr_pilot), "role": "contributeur", "description": "x"})
    assert response.status_code == 422
    assert await Commitment.count() == 0


async def test_one_pilot_per_action_and_one_commitment_per_partner_and_role(client, world):
    pw = await build_partner_world(world)
    await client.login(EMAILS["ga_editor"])
    action = f"/actions/{world.upcoming}"
    same = await client.submit(f"{action}/engagements/nouveau", f"{action}/engagements/nouveau", {
        "partner": str(world.ga_pilot), "role": "contributeur", "description": "Encore"})
    assert same.status_code == 422
    assert "déjà un engagement « Contributeur »" in plain(same)
    first = await client.submit(f"{action}/engagements/nouveau", f"{action}/engagements/nouveau", {
        "partner": str(world.ga_pilot), "role": "pilote", "description": "Pilotage"})
    assert first.status_code == 303
    from tests.factories import partner

    other = await partner("Ville d’Angoulême", "public", "commune", world.ga)
    second = await client.submit(f"{action}/engagements/nouveau", f"{action}/engagements/nouveau", {
        "partner": str(other), "role": "pilote", "description": "Pilotage aussi"})
    assert second.status_code == 422
    assert "déjà un pilote engagé" in plain(second)
    assert await Commitment.count().where(Commitment.action == world.upcoming) == 2  # the first two only
    assert pw.ga_commitment


async def test_no_commitment_on_a_confidential_action(client, world):
    await client.login(EMAILS["ga_editor"])
    assert (await client.get(f"/actions/{world.secret}/engagements/nouveau")).status_code == 403
    response = await client.post(f"/actions/{world.secret}/engagements/nouveau", {
        "partner": str(world.ga_pilot), "role": "contributeur", "description": "x"})
    assert response.status_code == 422
    assert "Une action confidentielle n’est pas visible des partenaires" in plain(response)
    assert await Commitment.count() == 0


async def test_a_partner_contact_confirms_through_engagements(make_client, world):
    pw = await build_partner_world(world)
    client = await make_client()
    await client.login(PARTNER_EMAILS["sa_contact"])
    page = await client.get("/engagements")
    assert "À confirmer" in plain(page) and "Guichet unique des associations" in page.text
    assert "CA du Grand Angoulême" in plain(page)
    response = await client.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat", {"status": "confirme"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/engagements#engagement-{pw.ga_commitment}"
    assert "Merci : votre engagement est confirmé." in plain(await client.get("/engagements"))
    assert await state_of(pw.ga_commitment) == ("confirme", 2)
    row = await Commitment.select().where(Commitment.id == pw.ga_commitment).first()
    assert row["confirmed_by"] == pw.sa_user and row["confirmed_by_contact"] == pw.sa_contact
    assert row["confirmed_at"] is not None
    entry = await last_entry(pw.ga_commitment)
    assert (entry["from_value"], entry["to_value"], entry["actor"], entry["actor_contact"]) == (
        "propose", "confirme", pw.sa_user, pw.sa_contact)
    assert await commitment_history_count(pw.ga_commitment) == 1
    # The territory sees it confirmed, by whom, and the roadmap counts it.
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    card = (await editor.get(f"/actions/{world.upcoming}")).text.split(f'id="engagement-{pw.ga_commitment}"')[1]
    assert "Confirmé" in card and "Sophie Bernard (Solidarité Angoumois)" in card
    roadmap = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert "1 engagement confirmé sur 1" in roadmap.text


async def test_the_roadmap_shows_the_pilot_and_how_many_commitments_are_confirmed(make_client, world):
    pw = await build_partner_world(world)
    await commitment(world.upcoming, world.ga_pilot, role="financeur", state="confirme")
    await commitment(world.upcoming, world.ga_pilot, role="copilote", state="decline")
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    page = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}")
    row = page.text.split(f'id="action-{world.upcoming}"')[1].split("</tr>")[0]
    assert "Solidarité Angoumois" in row  # the pilot
    assert "1 engagement confirmé sur 2" in row  # declined ones do not count
    assert pw.ga_commitment


async def test_the_roadmap_counts_come_from_one_query_whatever_the_number_of_actions(client, world, monkeypatch):
    from tests.factories import action
    from tracker.commitments import queries

    for n in range(5):
        extra = await action(world.ga_roadmap, world.ga, f"Action {n}")
        await commitment(extra, world.ga_pilot, state="confirme")
    calls = []
    original = queries.confirmed_counts

    async def counted(ids):
        calls.append(list(ids))
        return await original(calls[-1])

    monkeypatch.setattr(queries, "confirmed_counts", counted)
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert page.text.count("1 engagement confirmé sur 1") == 5
    assert len(calls) == 1 and len(calls[0]) >= 8


async def test_declining_without_a_reason_is_refused_and_changes_nothing(client, world):
    pw = await build_partner_world(world)
    await client.login(PARTNER_EMAILS["sa_contact"])
    for reason in ("", "   "):
        response = await client.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat",
                                       {"status": "decline", "comment": reason})
        assert response.status_code == 422
        assert "Indiquez la raison du refus" in plain(response)
    assert await state_of(pw.ga_commitment) == ("propose", 1)
    assert await commitment_history_count(pw.ga_commitment) == 0
    response = await client.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat",
                                   {"status": "decline", "comment": "Plus de bénévoles disponibles cet été."})
    assert response.status_code == 303
    assert await state_of(pw.ga_commitment) == ("decline", 2)
    entry = await last_entry(pw.ga_commitment)
    assert entry["comment"] == "Plus de bénévoles disponibles cet été."


async def test_the_territory_cannot_confirm_for_the_partner(client, world):
    pw = await build_partner_world(world)
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/engagements/{pw.ga_commitment}/etat",
                                 {"status": "confirme", "version": "1", "contexte": "action"})
    assert response.status_code == 403
    assert "Seul le partenaire confirme ou décline son engagement" in plain(response)
    assert await state_of(pw.ga_commitment) == ("propose", 1)


async def test_a_contact_cannot_act_on_another_organisation_s_commitment(client, world):
    pw = await build_partner_world(world)
    await client.login(PARTNER_EMAILS["sem_contact"])
    for etat in ("confirme", "decline"):
        response = await client.post(f"/engagements/{pw.ga_commitment}/etat",
                                     {"status": etat, "version": "1", "comment": "intrusion"})
        assert response.status_code == 404
    assert (await client.post(f"/engagements/{pw.ga_commitment}/commentaires", {"body": "x"})).status_code == 404
    assert await state_of(pw.ga_commitment) == ("propose", 1)
    assert await CommitmentComment.count() == 0


async def test_fulfilled_by_the_partner_or_recorded_by_the_territory_with_a_comment(make_client, world):
    pw = await build_partner_world(world)
    confirmed = await commitment(world.overdue, world.ga_pilot, role="financeur", state="confirme")
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    response = await sa.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat", {"status": "confirme"})
    assert response.status_code == 303
    tenu = await sa.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat", {"status": "tenu"})
    assert tenu.status_code == 303
    assert await state_of(pw.ga_commitment) == ("tenu", 3)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    page = f"/actions/{world.overdue}"
    without = await editor.submit(page, f"/engagements/{confirmed}/etat", {"status": "tenu", "comment": ""})
    assert without.status_code == 422
    assert "Un commentaire est obligatoire pour enregistrer un engagement tenu" in plain(without)
    assert 'id="engagements"' in without.text  # the action page, shown again with the error
    ok = await editor.submit(page, f"/engagements/{confirmed}/etat",
                             {"status": "tenu", "comment": "Véhicules livrés, facture reçue."})
    assert ok.status_code == 303
    assert ok.headers["location"] == f"/actions/{world.overdue}#engagement-{confirmed}"
    assert await state_of(confirmed) == ("tenu", 2)
    entry = await last_entry(confirmed)
    assert (entry["actor"], entry["actor_contact"]) == ((await _user_id(EMAILS["ga_editor"])), None)


async def _user_id(email: str) -> int:
    from tracker.accounts.tables import User

    return (await User.select(User.id).where(User.email == email).first())["id"]


@pytest.mark.parametrize("who", ["sa_contact", "ga_editor"])
async def test_withdrawing_needs_a_reason(make_client, world, who):
    pw = await build_partner_world(world)
    await Commitment.update({Commitment.state: "confirme"}).where(Commitment.id == pw.ga_commitment)
    client = await make_client()
    await client.login({**EMAILS, **PARTNER_EMAILS}[who])
    page = "/engagements" if who == "sa_contact" else f"/actions/{world.upcoming}"
    refused = await client.submit(page, f"/engagements/{pw.ga_commitment}/etat", {"status": "retire", "comment": ""})
    assert refused.status_code == 422
    assert "Indiquez la raison du retrait" in plain(refused)
    ok = await client.submit(page, f"/engagements/{pw.ga_commitment}/etat",
                             {"status": "retire", "comment": "Subvention régionale refusée."})
    assert ok.status_code == 303
    assert await state_of(pw.ga_commitment) == ("retire", 2)


@pytest.mark.parametrize("start,target", [
    ("propose", "tenu"), ("propose", "retire"), ("confirme", "decline"), ("confirme", "propose"),
    ("decline", "confirme"), ("tenu", "retire"), ("retire", "confirme"), ("propose", "inconnu"),
])
async def test_transitions_outside_the_life_cycle_are_refused(client, world, start, target):
    pw = await build_partner_world(world)
    await Commitment.update({Commitment.state: start}).where(Commitment.id == pw.ga_commitment)
    await client.login(PARTNER_EMAILS["sa_contact"])
    response = await client.post(f"/engagements/{pw.ga_commitment}/etat",
                                 {"status": target, "version": "1", "comment": "parce que"})
    assert response.status_code == 422
    assert "ne peut passer" in plain(response) or "État inconnu" in response.text
    assert await state_of(pw.ga_commitment) == (start, 1)
    assert await commitment_history_count(pw.ga_commitment) == 0


async def test_every_transition_leaves_one_history_entry_naming_who_acted(make_client, world):
    pw = await build_partner_world(world)
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    second = await commitment(world.overdue, world.ga_pilot, role="financeur")
    steps = [
        (sa, "/engagements", pw.ga_commitment, "confirme", ""),
        (sa, "/engagements", pw.ga_commitment, "tenu", "Deux bénévoles chaque samedi."),
        (sa, "/engagements", second, "confirme", ""),
        (editor, f"/actions/{world.overdue}", second, "retire", "Le partenaire nous a prévenus par téléphone."),
    ]
    for count, (client, page, ident, state, comment) in enumerate(steps, start=1):
        response = await client.submit(page, f"/engagements/{ident}/etat", {"status": state, "comment": comment})
        assert response.status_code == 303, response.text
        total = await HistoryEntry.count().where(HistoryEntry.subject_type == "commitment")
        assert total == count
    view = await editor.get(f"/actions/{world.upcoming}")
    history = view.text.split(f'id="engagement-{pw.ga_commitment}"')[1].split("</article>")[0]
    assert history.count("Sophie Bernard (Solidarité Angoumois)") == 2
    view = await editor.get(f"/actions/{world.overdue}")
    assert "Claire Éditrice" in view.text.split(f'id="engagement-{second}"')[1]


async def test_editing_a_confirmed_commitment_puts_it_back_to_proposed_and_offers_a_new_link(make_client, world):
    pw = await build_partner_world(world)
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    await sa.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat", {"status": "confirme"})
    assert await state_of(pw.ga_commitment) == ("confirme", 2)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    form = await editor.get(f"/engagements/{pw.ga_commitment}/modifier")
    assert "redevient" in plain(form) and "Proposé" in form.text
    response = await editor.submit(f"/engagements/{pw.ga_commitment}/modifier",
                                   f"/engagements/{pw.ga_commitment}/modifier",
                                   {"description": "Mise à disposition de quatre bénévoles"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/engagements/{pw.ga_commitment}/envoyer"
    offer = await editor.get(response.headers["location"])
    assert "il redevient « Proposé »" in plain(offer)
    assert "Envoyer le lien" in plain(offer) and "Jeanne Martin" in offer.text
    row = await Commitment.select().where(Commitment.id == pw.ga_commitment).first()
    assert (row["state"], row["description"], row["confirmed_at"], row["confirmed_by_contact"]) == (
        "propose", "Mise à disposition de quatre bénévoles", None, None)
    entry = await last_entry(pw.ga_commitment)
    assert (entry["from_value"], entry["to_value"]) == ("confirme", "propose")
    assert entry["comment"].startswith("Engagement modifié : le partenaire doit le confirmer à nouveau.")
    # The partner sees it to confirm again, with the new text.
    mine = await sa.get("/engagements?etat=propose")
    assert "quatre bénévoles" in plain(mine)


async def test_editing_a_proposed_commitment_keeps_it_proposed_without_history(client, world):
    pw = await build_partner_world(world)
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/engagements/{pw.ga_commitment}/modifier",
                                   f"/engagements/{pw.ga_commitment}/modifier", {"amount": "3", "amount_unit": "jours"})
    assert response.status_code == 303
    assert await state_of(pw.ga_commitment) == ("propose", 2)
    assert await commitment_history_count(pw.ga_commitment) == 0


async def test_a_closed_commitment_is_not_edited(client, world):
    pw = await build_partner_world(world)
    await Commitment.update({Commitment.state: "tenu"}).where(Commitment.id == pw.ga_commitment)
    await client.login(EMAILS["ga_editor"])
    response = await client.post(f"/engagements/{pw.ga_commitment}/modifier",
                                 {"role": "contributeur", "description": "Autre chose", "version": "1"})
    assert response.status_code == 422
    assert "ne se modifie plus" in plain(response)
    assert await state_of(pw.ga_commitment) == ("tenu", 1)


async def test_a_stale_version_is_refused_with_a_clear_message(make_client, world):
    pw = await build_partner_world(world)
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    await sa.get("/engagements")
    stale = dict(sa.form(f"/engagements/{pw.ga_commitment}/etat").fields)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    edited = await editor.submit(f"/engagements/{pw.ga_commitment}/modifier",
                                 f"/engagements/{pw.ga_commitment}/modifier", {"description": "Texte changé"})
    assert edited.status_code == 303
    late = await sa.post(f"/engagements/{pw.ga_commitment}/etat", {**stale, "status": "confirme"})
    assert late.status_code == 409
    assert "Cet engagement a été modifié par quelqu’un d’autre depuis que vous l’avez ouvert" in plain(late)
    assert await state_of(pw.ga_commitment) == ("propose", 2)  # the partner never confirmed a text unseen
    form = await editor.get(f"/engagements/{pw.ga_commitment}/modifier")
    old = dict(editor.form(f"/engagements/{pw.ga_commitment}/modifier", form).fields)
    await editor.submit(f"/engagements/{pw.ga_commitment}/modifier", f"/engagements/{pw.ga_commitment}/modifier",
                        {"description": "Encore changé"})
    conflict = await editor.post(f"/engagements/{pw.ga_commitment}/modifier", {**old, "description": "Perdu"})
    assert conflict.status_code == 409
    assert (await Commitment.select(Commitment.description).where(
        Commitment.id == pw.ga_commitment).first())["description"] == "Encore changé"


async def test_the_partner_and_the_territory_comment_a_commitment(make_client, world):
    pw = await build_partner_world(world)
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    response = await sa.submit("/engagements", f"/engagements/{pw.ga_commitment}/commentaires",
                               {"body": "Nous attendons la convention signée."})
    assert response.status_code == 303
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    response = await editor.submit(f"/actions/{world.upcoming}", f"/engagements/{pw.ga_commitment}/commentaires",
                                   {"body": "Envoyée ce matin."})
    assert response.status_code == 303
    page = await editor.get(f"/actions/{world.upcoming}")
    card = page.text.split(f'id="engagement-{pw.ga_commitment}"')[1]
    assert "Nous attendons la convention signée." in card and "Sophie Bernard (Solidarité Angoumois)" in card
    assert "Envoyée ce matin." in card
    empty = await sa.submit("/engagements", f"/engagements/{pw.ga_commitment}/commentaires", {"body": " "})
    assert empty.status_code == 422
    assert await CommitmentComment.count() == 2
    assert await commitment_history_count(pw.ga_commitment) == 0  # a comment is not a change of state
    reader = await make_client()
    await reader.login(EMAILS["ga_reader"])
    assert (await reader.post(f"/engagements/{pw.ga_commitment}/commentaires", {"body": "x"})).status_code == 403


@pytest.mark.parametrize("query", ["etat=termine", "etat=", "etat=PROPOSE"])
async def test_engagements_filters(client, world, query):
    await build_partner_world(world)
    await client.login(PARTNER_EMAILS["sa_contact"])
    response = await client.get(f"/engagements?{query}")
    if query == "etat=":
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert "Filtre invalide" in plain(response)


async def test_engagements_for_someone_who_is_no_partner_contact(client, world):
    await client.login(EMAILS["ga_editor"])
    page = await client.get("/engagements")
    assert page.status_code == 200
    assert "Votre compte n’est relié à aucun partenaire." in plain(page)


@pytest.mark.parametrize("version", ["", "abc", "-1"])
async def test_a_malformed_version_is_refused(client, world, version):
    pw = await build_partner_world(world)
    await client.login(PARTNER_EMAILS["sa_contact"])
    response = await client.post(f"/engagements/{pw.ga_commitment}/etat", {"status": "confirme", "version": version})
    assert response.status_code == 422
    assert await state_of(pw.ga_commitment) == ("propose", 1)


@pytest.mark.parametrize("path", ["/engagements/abc/etat", "/engagements/0/etat", "/engagements/99999/etat"])
async def test_unknown_commitments_are_a_french_404(client, world, path):
    await build_partner_world(world)
    await client.login(PARTNER_EMAILS["sa_contact"])
    response = await client.post(path, {"status": "confirme", "version": "1"})
    assert response.status_code == 404
    assert '<html lang="fr">' in response.text
