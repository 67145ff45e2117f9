"""A partner's word must be the partner's (issue 9). The impersonation paths found from outside are replayed step by
step, as the attacker took them, and refused at the first step that matters with nothing written:

- F1: a référent of another territory attaches itself to a partner it cannot read, adds a contact with its own
  address, links it to its account, then confirms the partner's commitments;
- F2: attaching alone exposed the partner's contacts to the new territory;
- F3: an éditeur adds a contact with its own address to its territory's partner and sends itself the signed link.

Then what remains possible (a member adds an address it controls under another name) is made visible: every
confirmation says who confirmed, how, to which address the link went and who added that contact, and the partner's
other contacts get a copy."""
import html
import re
from email import message_from_bytes, policy

import pytest

from tests.browser import forms_in
from tests.factories import EMAILS, PARTNER_EMAILS, build_partner_world, contact, user
from tracker.accounts.tables import Membership
from tracker.commitments.tables import Commitment, CommitmentLink
from tracker.history.tables import HistoryEntry
from tracker.partners.tables import Partner, PartnerAttachment, PartnerContact, PartnerTerritory

pytestmark = pytest.mark.anyio

VR_REFERENT = "referent@vr.example.org"

# Who may answer a request: the partner's référents and administrators; the asking territory cannot even see it.
ROUTES_COVERED = {("POST", "/rattachements/{request_id:str}/etat")}


def plain(response) -> str:
    return html.unescape(response.text).replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def outbox(monkeypatch, tmp_path):
    """Mail written as .eml files in a folder of this test: returns a function reading them (to, plain body)."""
    import tracker.mail.settings as mail_settings

    monkeypatch.setenv("MAIL_BACKEND", "fichier")
    monkeypatch.setattr(mail_settings, "VAR_DIR", tmp_path)

    def read() -> list[tuple[str, str]]:
        found = []
        for path in sorted((tmp_path / "outbox").glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            found.append((str(message["To"]), message.get_body(("plain",)).get_content()))
        return found

    return read


async def everything() -> tuple:
    """All that the attacker's requests could have written."""
    return (
        await PartnerTerritory.select().order_by(PartnerTerritory.id),
        await PartnerAttachment.select().order_by(PartnerAttachment.id),
        await PartnerContact.select().order_by(PartnerContact.id),
        await Commitment.select(Commitment.id, Commitment.state, Commitment.version).order_by(Commitment.id),
        await CommitmentLink.count(),
        await HistoryEntry.count(),
        await Membership.select().order_by(Membership.id),
    )


async def test_f1_a_referent_of_another_territory_is_refused_at_the_attachment(make_client, world):
    pw = await build_partner_world(world)
    await user(VR_REFERENT, "Valérie Valence", roles={world.vr: "referent"})
    attacker = await make_client()
    await attacker.login(VR_REFERENT)
    before = await everything()

    # Step 1, the one that matters: attach Valence to Grand Angoulême's partner, an id it cannot read.
    attach = await attacker.post(f"/partenaires/{world.ga_pilot}/rattacher", {"territoire": str(world.vr)})
    missing = await attacker.post("/partenaires/999999/rattacher", {"territoire": str(world.vr)})
    # No enumeration: an existing partner one cannot read answers exactly as one that does not exist.
    assert attach.status_code == missing.status_code == 404
    assert plain(attach).count("Ce partenaire n’existe pas ou ne vous est pas accessible.") == 1
    assert re.sub(r'value="[^"]+"', "", attach.text) == re.sub(r'value="[^"]+"', "", missing.text)
    # A made-up proof of having been offered the partner does not help either.
    forged = await attacker.post(f"/partenaires/{world.ga_pilot}/rattacher",
                                 {"territoire": str(world.vr), "preuve": "0" * 64})
    assert forged.status_code == 404
    assert await everything() == before

    # The following steps of F1 fail too, each on its own.
    steps = [
        await attacker.post(f"/partenaires/{world.ga_pilot}/contacts/nouveau",
                            {"full_name": "Valérie Valence", "email": VR_REFERENT}),
        await attacker.post(f"/contacts/{pw.sa_volunteer}/compte", {"operation": "relier"}),
        await attacker.get(f"/actions/{world.upcoming}"),
        await attacker.post(f"/engagements/{pw.ga_commitment}/etat", {"status": "confirme", "version": "1"}),
    ]
    assert [r.status_code for r in steps] == [404, 404, 404, 404]
    assert await everything() == before


async def test_f1_through_the_duplicate_form_a_request_shows_nothing_and_needs_the_partner_s_territory(
        make_client, world, outbox):
    """The legitimate path (the partner was offered as a duplicate) is a request: until Grand Angoulême accepts it,
    Valence sees neither the partner nor its contacts, and still cannot add its own address as a contact."""
    await Partner.update({Partner.siren: "356000000"}).where(Partner.id == world.ga_pilot)
    pw = await build_partner_world(world)
    await user(VR_REFERENT, "Valérie Valence", roles={world.vr: "referent"})
    attacker = await make_client()
    await attacker.login(VR_REFERENT)
    await attacker.get("/partenaires/nouveau")
    offered = await attacker.post("/partenaires/nouveau", {"name": "Autre", "legal_form": "association",
                                                         "siren": "356000000", f"territoire_{world.vr}": "1"})
    assert offered.status_code == 422
    form = attacker.form(f"/partenaires/{world.ga_pilot}/rattacher", offered)
    # The proof is bound to the person it was offered to: another référent cannot reuse it.
    await user("autre@vr.example.org", "Autre Référent", roles={world.vr: "referent"})
    other = await make_client()
    await other.login("autre@vr.example.org")
    stolen = {k: v for k, v in form.fields.items() if k != "_csrf_token"}
    assert (await other.post(f"/partenaires/{world.ga_pilot}/rattacher", stolen)).status_code == 404

    asked = await attacker.post(f"/partenaires/{world.ga_pilot}/rattacher", form.fields)
    assert asked.status_code == 303
    # Grand Angoulême's référent is told, by mail, where to answer.
    [(to, body)] = outbox()
    assert to == EMAILS["ga_referent"] and f"/partenaires/{world.ga_pilot}#rattachements" in body
    assert "Valérie Valence (CA Valence Romans Agglo) demande" in body.replace("\u00a0", " ")
    request = await PartnerAttachment.select().first()
    assert request["state"] == "demande" and request["territory"] == world.vr
    assert not await PartnerTerritory.exists().where(
        (PartnerTerritory.partner == world.ga_pilot) & (PartnerTerritory.territory == world.vr))
    before = await everything()
    # F2: a request shows no contact, nor anything else of the partner.
    for path in (f"/partenaires/{world.ga_pilot}", f"/contacts/{pw.sa_volunteer}/export?format=json",
                 f"/partenaires/{world.ga_pilot}/contacts/nouveau"):
        assert (await attacker.get(path)).status_code == 404, path
    assert "solidarite-angoumois" not in (await attacker.get("/partenaires")).text
    # The asking territory does not answer its own request.
    accept = {"status": "accepte", "version": "1"}
    assert (await attacker.post(f"/rattachements/{request['id']}/etat", accept)).status_code == 404
    assert await everything() == before

    # Grand Angoulême's éditeur may not answer either; its référent sees the request and refuses it.
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    assert (await editor.post(f"/rattachements/{request['id']}/etat", accept)).status_code == 403
    keeper = await make_client()
    await keeper.login(EMAILS["ga_referent"])
    page = await keeper.get(f"/partenaires/{world.ga_pilot}")
    assert "CA Valence Romans Agglo" in page.text and "Valérie Valence" in page.text
    refuse = [f for f in forms_in(page.text) if f.fields.get("status") == "refuse"][0]
    assert (await keeper.post(refuse.action, refuse.fields)).status_code == 303
    assert (await PartnerAttachment.select(PartnerAttachment.state).first())["state"] == "refuse"
    assert (await attacker.get(f"/partenaires/{world.ga_pilot}")).status_code == 404
    history = await HistoryEntry.select(HistoryEntry.from_value, HistoryEntry.to_value).where(
        HistoryEntry.subject_type == "rattachement").order_by(HistoryEntry.id)
    assert history == [{"from_value": "", "to_value": "demande"}, {"from_value": "demande", "to_value": "refuse"}]


async def test_once_accepted_a_territory_still_cannot_make_its_own_member_a_contact(make_client, world):
    await build_partner_world(world)
    await user(VR_REFERENT, "Valérie Valence", roles={world.vr: "referent"})
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    assert (await admin.submit(f"/partenaires/{world.ga_pilot}/modifier", f"/partenaires/{world.ga_pilot}/modifier",
                               {"autres_territoires": "200068781"})).status_code == 303
    attacker = await make_client()
    await attacker.login(VR_REFERENT)
    before = await everything()
    new = f"/partenaires/{world.ga_pilot}/contacts/nouveau"
    refused = await attacker.submit(new, new, {"full_name": "Valérie Valence", "email": VR_REFERENT.upper()})
    assert refused.status_code == 422
    assert "Cette adresse est celle d’un membre du territoire « CA Valence Romans Agglo »" in plain(refused)
    assert await everything() == before


async def test_f3_an_editor_cannot_make_their_own_address_a_contact_of_their_partner(make_client, world):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    before = await everything()
    new = f"/partenaires/{world.ga_pilot}/contacts/nouveau"
    # Step 1, the one that matters: the contact with the éditeur's own address.
    refused = await editor.submit(new, new, {"full_name": "Claire Éditrice", "email": EMAILS["ga_editor"]})
    assert refused.status_code == 422
    assert "un membre d’un territoire ne peut pas être le contact d’un de ses partenaires" in plain(refused)
    # Any member of the territory, whatever their role (a lecteur here), and through a rectification too.
    assert (await editor.submit(new, new, {"full_name": "L", "email": EMAILS["ga_reader"]})).status_code == 422
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    edit = f"/contacts/{pw.sa_volunteer}/modifier"
    assert (await referent.submit(edit, edit, {"email": EMAILS["ga_referent"]})).status_code == 422
    # Step 2 cannot happen: there is no such contact to send the link to.
    send = f"/engagements/{pw.ga_commitment}/envoyer"
    choices = {c["id"] for c in await PartnerContact.select(PartnerContact.id).where(
        PartnerContact.email == EMAILS["ga_editor"])}
    assert choices == set()
    assert (await editor.post(send, {"contact": "999"})).status_code == 422
    assert await everything() == before


async def test_a_contact_of_a_partner_cannot_be_made_a_member_of_its_territory(world):
    from tracker.auth.separation import grant_membership
    from tracker.core.errors import InvalidInput

    pw = await build_partner_world(world)
    before = await everything()
    with pytest.raises(InvalidInput, match="Cette personne est contact du partenaire « Solidarité Angoumois »"):
        await grant_membership(pw.sa_user, world.ga, "lecteur")
    assert await everything() == before
    await grant_membership(pw.sa_user, world.vr, "lecteur")  # another territory's partner: allowed
    assert await Membership.exists().where((Membership.user == pw.sa_user) & (Membership.territory == world.vr))


async def test_a_territory_whose_member_is_a_contact_of_the_partner_cannot_be_attached(make_client, world):
    await build_partner_world(world)
    # Victor (éditeur at Valence) happens to be a contact of Grand Angoulême's partner.
    await contact(world.ga_pilot, "Victor Valence", EMAILS["vr_editor"])
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    before = await everything()
    edit = f"/partenaires/{world.ga_pilot}/modifier"
    refused = await admin.submit(edit, edit, {"autres_territoires": "200068781"})
    assert refused.status_code == 422
    assert "un de ses membres est contact de ce partenaire" in plain(refused)
    assert await everything() == before


async def test_an_accepted_request_attaches_the_territory_unless_one_of_its_members_is_a_contact(make_client, world):
    await Partner.update({Partner.siren: "356000000"}).where(Partner.id == world.ga_pilot)
    await build_partner_world(world)
    await user(VR_REFERENT, "Valérie Valence", roles={world.vr: "referent"})
    asker = await make_client()
    await asker.login(VR_REFERENT)
    await asker.get("/partenaires/nouveau")
    offered = await asker.post("/partenaires/nouveau", {"name": "Autre", "legal_form": "association",
                                                      "siren": "356000000", f"territoire_{world.vr}": "1"})
    assert (await asker.post(f"/partenaires/{world.ga_pilot}/rattacher",
                             asker.form(f"/partenaires/{world.ga_pilot}/rattacher", offered).fields)).status_code == 303
    request = await PartnerAttachment.select().first()
    # Meanwhile Victor (Valence) was made a contact of the partner: accepting is refused, nothing written.
    victor = await contact(world.ga_pilot, "Victor Valence", EMAILS["vr_editor"])
    keeper = await make_client()
    await keeper.login(EMAILS["ga_referent"])
    before = await everything()
    refused = await keeper.post(f"/rattachements/{request['id']}/etat", {"status": "accepte", "version": "1"})
    assert refused.status_code == 422 and "un de ses membres est contact de ce partenaire" in plain(refused)
    assert await everything() == before
    await PartnerContact.delete().where(PartnerContact.id == victor)
    accepted = await keeper.post(f"/rattachements/{request['id']}/etat", {"status": "accepte", "version": "1"})
    assert accepted.status_code == 303
    assert await PartnerTerritory.exists().where(
        (PartnerTerritory.partner == world.ga_pilot) & (PartnerTerritory.territory == world.vr))
    page = await asker.get(f"/partenaires/{world.ga_pilot}")
    assert page.status_code == 200 and "jeanne.martin@solidarite-angoumois.example.org" in page.text


async def test_every_confirmation_says_who_how_where_and_who_added_the_contact_and_is_copied(
        make_client, world, outbox):
    """What no rule can prevent (an éditeur adds an address it controls under another name) is made visible: the
    confirmation names the channel, the address and who added the contact, and the partner's other contacts get a
    copy of it."""
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    new = f"/partenaires/{world.ga_pilot}/contacts/nouveau"
    assert (await editor.submit(new, new, {"full_name": "Prête Nom", "email": "prete-nom@ailleurs.example.org"})
            ).status_code == 303
    made_up = (await PartnerContact.select().where(PartnerContact.full_name == "Prête Nom").first())["id"]
    send = f"/engagements/{pw.ga_commitment}/envoyer"
    assert (await editor.submit(send, send, {"contact": str(made_up)})).status_code == 303
    [(to, body)] = outbox()
    assert to == "prete-nom@ailleurs.example.org"
    path = re.search(r"/e/[A-Za-z0-9_-]{43}", body).group(0)
    visitor = await make_client()
    await visitor.get(path)
    assert (await visitor.post(path, dict(visitor.form(path).fields))).status_code == 200

    line = ("par Prête Nom, par le lien signé envoyé à prete-nom@ailleurs.example.org "
            "(lien envoyé par Claire Éditrice) ; contact ajouté par Claire Éditrice.")
    page = plain(await editor.get(f"/actions/{world.upcoming}"))
    assert line in page
    # The partner's other contacts get a copy saying the same, through the application's mail.
    copies = {to: body for to, body in outbox() if "Vous recevez cette copie" in body}
    assert set(copies) == {PARTNER_EMAILS["sa_contact"], "jeanne.martin@solidarite-angoumois.example.org"}
    assert all(line.replace(" ", "") in body.replace("\u00a0", " ").replace("\u202f", " ").replace(" ", "").replace(
        "\n", "") for body in copies.values())
    # The partner's own contact sees it on their list; a lecteur sees who and how, not the address.
    sophie = await make_client()
    await sophie.login(PARTNER_EMAILS["sa_contact"])
    assert line in plain(await sophie.get("/engagements"))
    reader = await make_client()
    await reader.login(EMAILS["ga_reader"])
    reading = plain(await reader.get(f"/actions/{world.upcoming}"))
    assert "par Prête Nom, par le lien signé envoyé (lien envoyé par Claire Éditrice)" in reading
    assert "prete-nom@ailleurs" not in reading


async def test_a_confirmation_signed_in_says_so_and_is_copied_to_the_other_contacts(make_client, world, outbox):
    pw = await build_partner_world(world)
    sophie = await make_client()
    await sophie.login(PARTNER_EMAILS["sa_contact"])
    response = await sophie.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat", {"status": "confirme"})
    assert response.status_code == 303
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    page = plain(await editor.get(f"/actions/{world.upcoming}"))
    assert (f"par Sophie Bernard, connecté à son compte ({PARTNER_EMAILS['sa_contact']}) ; contact ajouté par une "
            "personne non enregistrée") in page
    assert [to for to, _ in outbox()] == ["jeanne.martin@solidarite-angoumois.example.org"]
