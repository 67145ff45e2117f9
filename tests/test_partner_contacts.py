"""A partner's contacts are personal data (RGPD): the purpose is stated where they are entered; a contact's data can
be rectified, exported (JSON, CSV) and erased — erasure keeps the history, where the person becomes
« contact supprimé »."""
import csv
import html
import io
import json
from email import message_from_bytes, policy

import pytest

from tests.browser import PASSWORD
from tests.factories import EMAILS, PARTNER_EMAILS, build_partner_world, user
from tracker.accounts.tables import Membership, User, UserSession
from tracker.commitments.tables import CommitmentLink
from tracker.history.tables import HistoryEntry
from tracker.partners.tables import PartnerContact

pytestmark = pytest.mark.anyio


def plain(response) -> str:
    return html.unescape(response.text).replace("\u00a0", " ").replace("\u202f", " ")


async def test_an_editor_adds_a_contact_and_the_form_states_the_purpose(client, world):
    await client.login(EMAILS["ga_editor"])
    new = f"/partenaires/{world.ga_pilot}/contacts/nouveau"
    form = await client.get(new)
    assert "Finalité et protection des données" in form.text
    assert "servent uniquement à demander au partenaire de confirmer ses engagements" in plain(form)
    response = await client.submit(new, new, {"full_name": "Paul Trésorier", "email": " Paul.Tresorier@Example.org ",
                                              "function": "Trésorier"})
    assert response.status_code == 303
    row = await PartnerContact.select().where(PartnerContact.full_name == "Paul Trésorier").first()
    assert row["email"] == "paul.tresorier@example.org"
    assert "paul.tresorier@example.org" in (await client.get(f"/partenaires/{world.ga_pilot}")).text


@pytest.mark.parametrize("fields,message", [
    ({"email": "pas-une-adresse"}, "« Adresse électronique » n’est pas valide"),
    ({"email": ""}, "« Adresse électronique » est obligatoire."),
    ({"full_name": ""}, "« Nom et prénom » est obligatoire."),
    ({"email": "jeanne.martin@solidarite-angoumois.example.org"}, "a déjà un contact avec cette adresse"),
    ({"function": "x" * 121}, "ne peut dépasser 120 caractères"),
])
async def test_bad_contact_forms_are_refused_in_french(client, world, fields, message):
    await build_partner_world(world)
    await client.login(EMAILS["ga_editor"])
    before = await PartnerContact.count()
    new = f"/partenaires/{world.ga_pilot}/contacts/nouveau"
    response = await client.submit(new, new, {"full_name": "Paul", "email": "paul@example.org", **fields})
    assert response.status_code == 422
    assert message in plain(response)
    assert await PartnerContact.count() == before


async def test_a_referent_rectifies_a_contact_with_optimistic_versioning(make_client, world):
    pw = await build_partner_world(world)
    referent, admin = await make_client(), await make_client()
    await referent.login(EMAILS["ga_referent"])
    await admin.login(EMAILS["admin"])
    edit = f"/contacts/{pw.sa_volunteer}/modifier"
    await admin.get(edit)
    stale = dict(admin.form(edit).fields)
    assert (await referent.submit(edit, edit, {"function": "Présidente"})).status_code == 303
    late = await admin.post(edit, {**stale, "function": "Trésorière"})
    assert late.status_code == 409
    row = await PartnerContact.select().where(PartnerContact.id == pw.sa_volunteer).first()
    assert (row["function"], row["version"]) == ("Présidente", 2)


async def test_a_contact_s_data_is_exported_as_json_and_csv(make_client, world, monkeypatch, tmp_path):
    import tracker.mail.settings as mail_settings

    monkeypatch.setenv("MAIL_BACKEND", "fichier")
    monkeypatch.setattr(mail_settings, "VAR_DIR", tmp_path)
    pw = await build_partner_world(world)
    await PartnerContact.update({PartnerContact.function: "=HYPERLINK(\"http://evil\")"}).where(
        PartnerContact.id == pw.sa_volunteer)
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    await referent.submit(f"/engagements/{pw.ga_commitment}/envoyer", f"/engagements/{pw.ga_commitment}/envoyer",
                          {"contact": str(pw.sa_volunteer)})
    response = await referent.get(f"/contacts/{pw.sa_volunteer}/export?format=json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == f'attachment; filename="contact-{pw.sa_volunteer}.json"'
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.content)
    assert data["contact"]["nom"] == "Jeanne Martin"
    assert data["contact"]["adresse_electronique"] == "jeanne.martin@solidarite-angoumois.example.org"
    assert data["contact"]["partenaire"] == "Solidarité Angoumois"
    assert len(data["liens_envoyes"]) == 1 and data["finalite"]
    as_csv = await referent.get(f"/contacts/{pw.sa_volunteer}/export?format=csv")
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"  # one charset
    text = as_csv.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert ["contact", "nom", "Jeanne Martin"] in rows
    assert ["contact", "fonction", "'=HYPERLINK(\"http://evil\")"] in rows  # no formula runs in a spreadsheet
    bad = await referent.get(f"/contacts/{pw.sa_volunteer}/export?format=xml")
    assert bad.status_code == 400 and "Format d’export inconnu" in plain(bad)


async def test_erasing_a_contact_keeps_the_history_which_then_reads_contact_supprime(
        make_client, world, monkeypatch, tmp_path):
    import tracker.mail.settings as mail_settings

    monkeypatch.setenv("MAIL_BACKEND", "fichier")
    monkeypatch.setattr(mail_settings, "VAR_DIR", tmp_path)
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    # Jeanne confirms through a signed link; Sophie (signed in) comments and marks it fulfilled.
    await editor.submit(f"/engagements/{pw.ga_commitment}/envoyer", f"/engagements/{pw.ga_commitment}/envoyer",
                        {"contact": str(pw.sa_volunteer)})
    message = message_from_bytes(next((tmp_path / "outbox").glob("*.eml")).read_bytes(), policy=policy.default)
    path = "/e/" + message.get_body(("plain",)).get_content().split("/e/")[1].split()[0]
    visitor = await make_client()
    await visitor.get(path)
    assert (await visitor.post(path, dict(visitor.form(path).fields))).status_code == 200
    sophie = await make_client()
    await sophie.login(PARTNER_EMAILS["sa_contact"])
    await sophie.submit("/engagements", f"/engagements/{pw.ga_commitment}/commentaires", {"body": "Tout va bien."})
    await sophie.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat", {"status": "tenu"})
    page = await editor.get(f"/actions/{world.upcoming}")
    assert "Via lien envoyé à Jeanne Martin" in page.text and "Sophie Bernard (Solidarité Angoumois)" in page.text
    history_before = await HistoryEntry.count()

    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    erase = f"/contacts/{pw.sa_volunteer}/effacer"
    unconfirmed = await referent.submit(erase, erase)
    assert unconfirmed.status_code == 422 and "Cochez la case pour confirmer" in plain(unconfirmed)
    assert (await referent.submit(erase, erase, {"confirmation": "1"})).status_code == 303
    assert (await referent.submit(f"/contacts/{pw.sa_contact}/effacer", f"/contacts/{pw.sa_contact}/effacer",
                                  {"confirmation": "1"})).status_code == 303

    for contact_id in (pw.sa_volunteer, pw.sa_contact):
        row = await PartnerContact.select().where(PartnerContact.id == contact_id).first()
        assert (row["full_name"], row["email"], row["function"], row["account"]) == ("", None, "", None)
        assert row["erased_at"] is not None
    assert await HistoryEntry.count() == history_before  # nothing removed from the history
    # The address each link went to was the person's too (shown beside confirmations): not kept either.
    assert [link["sent_to"] for link in await CommitmentLink.select(CommitmentLink.sent_to).where(
        CommitmentLink.contact == pw.sa_volunteer)] == [None]
    page = await editor.get(f"/actions/{world.upcoming}")
    card = page.text.split(f'id="engagement-{pw.ga_commitment}"')[1]
    assert "Via lien envoyé à contact supprimé" in card
    assert "contact supprimé (Solidarité Angoumois)" in card
    assert "Jeanne" not in page.text and "Sophie" not in page.text and "Tout va bien." in card
    partner_page = await referent.get(f"/partenaires/{world.ga_pilot}")
    assert "Contact supprimé" in partner_page.text and "jeanne.martin" not in partner_page.text
    # Sophie's account existed only for this contact: closed and anonymised, sessions ended.
    account = await User.select().where(User.id == pw.sa_user).first()
    assert not account["is_active"] and account["email"] != PARTNER_EMAILS["sa_contact"]
    assert account["full_name"] == "contact supprimé"
    assert await UserSession.count().where(UserSession.user == pw.sa_user) == 0
    assert (await sophie.get("/engagements")).status_code == 303
    await visitor.get("/connexion")
    refused = await visitor.post("/connexion", {"email": PARTNER_EMAILS["sa_contact"], "password": PASSWORD})
    assert refused.status_code == 401
    # An erased contact cannot be exported with its old data, nor edited, nor erased again.
    exported = json.loads((await referent.get(f"/contacts/{pw.sa_volunteer}/export")).content)
    assert exported["contact"]["nom"] == "contact supprimé" and exported["contact"]["adresse_electronique"] is None
    assert (await referent.get(f"/contacts/{pw.sa_volunteer}/modifier")).status_code == 404


async def test_erasure_voids_pending_links_and_keeps_an_account_with_other_roles(make_client, world):
    pw = await build_partner_world(world)
    from tests.factories import contact

    dgs = await user("dgs@ga.example.org", "Denise Générale", roles={world.ga: "referent"})
    dgs_contact = await contact(world.ga_pilot, "Denise Générale", "dgs@ga.example.org", account=dgs)
    import arrow

    await CommitmentLink(commitment=pw.ga_commitment, contact=dgs_contact, token_hash="0" * 64,
                         created_at=arrow.utcnow().datetime, expires_at=arrow.utcnow().shift(days=14).datetime).save()
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    erase = f"/contacts/{dgs_contact}/effacer"
    assert (await referent.submit(erase, erase, {"confirmation": "1"})).status_code == 303
    link = await CommitmentLink.select().first()
    assert link["voided_at"] is not None
    kept = await User.select().where(User.id == dgs).first()
    assert kept["is_active"] and kept["email"] == "dgs@ga.example.org"
    assert await Membership.exists().where(Membership.user == dgs)


async def test_a_contact_is_linked_to_the_account_with_the_same_address_and_then_answers_signed_in(
        make_client, world):
    pw = await build_partner_world(world)
    jeanne = await user("jeanne.martin@solidarite-angoumois.example.org", "Jeanne Martin")
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    page = await referent.get(f"/partenaires/{world.ga_pilot}")
    assert "Relier au compte de même adresse" in page.text
    response = await referent.post(f"/contacts/{pw.sa_volunteer}/compte", {"operation": "relier"})
    assert response.status_code == 303
    assert (await PartnerContact.select(PartnerContact.account).where(
        PartnerContact.id == pw.sa_volunteer).first())["account"] == jeanne
    client = await make_client()
    await client.login("jeanne.martin@solidarite-angoumois.example.org")
    assert "Guichet unique des associations" in (await client.get("/engagements")).text
    assert (await referent.post(f"/contacts/{pw.sa_volunteer}/compte", {"operation": "delier"})).status_code == 303
    assert "Votre compte n’est relié à aucun partenaire." in plain(await client.get("/engagements"))
    nobody = await referent.post(f"/contacts/{pw.sa_contact}/compte", {"operation": "relier"})
    assert nobody.status_code == 303  # Sophie has an account with her address
    stranger = await referent.post(f"/contacts/{pw.sa_volunteer}/compte", {"operation": "pirater"})
    assert stranger.status_code == 422
