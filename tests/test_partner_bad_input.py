"""Bad input on the partner and commitment pages — forms, query strings, tokens — gets a French message and a 4xx,
never a 500, and changes nothing."""
import pytest

from tests.factories import EMAILS, PARTNER_EMAILS, build_partner_world, commitment_history_count
from tracker.commitments.tables import Commitment, CommitmentComment, CommitmentLink
from tracker.partners.tables import Partner, PartnerContact

pytestmark = pytest.mark.anyio


async def everything() -> tuple:
    return (
        await Partner.select().order_by(Partner.id),
        await PartnerContact.select().order_by(PartnerContact.id),
        await Commitment.select().order_by(Commitment.id),
        await CommitmentComment.count(),
        await CommitmentLink.count(),
    )


def french_error(response) -> bool:
    return 400 <= response.status_code < 500 and '<html lang="fr">' in response.text


@pytest.mark.parametrize("person,path,data", [
    ("ga_referent", "/partenaires/nouveau", {"name": "Nul\x00", "legal_form": "association"}),
    ("ga_referent", "/partenaires/nouveau", {"name": "A", "legal_form": ["association", "sem"], "siren": "x" * 5000}),
    ("admin", "/partenaires/nouveau", {"name": "A", "legal_form": "etat", "autres_territoires": "1 " * 200}),
    ("ga_referent", "/partenaires/{ga_pilot}/modifier", {"name": "A", "legal_form": "association", "version": "x"}),
    ("ga_referent", "/partenaires/{ga_pilot}/modifier", {"name": "A", "legal_form": "association",
                                                         "version": "99999999999999"}),
    ("ga_referent", "/partenaires/{ga_pilot}/rattacher", {"territoire": "abc"}),
    ("ga_editor", "/partenaires/{ga_pilot}/contacts/nouveau", {"full_name": "A", "email": "a@b.c\x00"}),
    ("ga_editor", "/partenaires/{ga_pilot}/contacts/nouveau", {"full_name": "A" * 121, "email": "a@b.fr"}),
    ("ga_referent", "/contacts/{sa_volunteer}/modifier", {"full_name": "A", "email": "a@b.fr"}),
    ("ga_referent", "/contacts/{sa_volunteer}/effacer", {"confirmation": "1"}),
    ("ga_referent", "/contacts/{sa_volunteer}/effacer", {"confirmation": "1", "version": "-1"}),
    ("ga_referent", "/contacts/{sa_volunteer}/compte", {}),
    ("ga_editor", "/actions/{upcoming}/engagements/nouveau", {"partner": "1", "role": "pilote",
                                                             "description": "x", "amount": "99999999999",
                                                             "amount_unit": "euros"}),
    ("ga_editor", "/actions/{upcoming}/engagements/nouveau", {"partner": "1", "role": "pilote",
                                                             "description": "x", "due_on": "2027-02-30"}),
    ("ga_editor", "/actions/{upcoming}/engagements/nouveau", {"partner": "1", "role": "pilote",
                                                             "description": "x", "amount": "10",
                                                             "amount_unit": "heures"}),
    ("ga_editor", "/engagements/{ga_commitment}/modifier", {"role": "pilote", "description": "x"}),
    ("ga_editor", "/engagements/{ga_commitment}/envoyer", {"contact": "abc"}),
    ("ga_editor", "/engagements/{ga_commitment}/envoyer", {}),
    ("sa_contact", "/engagements/{ga_commitment}/etat", {"status": ["confirme", "decline"], "version": "1",
                                                         "comment": "\x00"}),
    ("sa_contact", "/engagements/{ga_commitment}/etat", {"status": "decline", "version": "1", "comment": "x" * 2001}),
    ("sa_contact", "/engagements/{ga_commitment}/commentaires", {"body": "x" * 2001}),
])
async def test_bad_forms_get_a_french_4xx_and_change_nothing(make_client, world, person, path, data):
    pw = await build_partner_world(world)
    client = await make_client()
    await client.login({**EMAILS, **PARTNER_EMAILS}[person])
    path = path.format(ga_pilot=world.ga_pilot, sa_volunteer=pw.sa_volunteer, upcoming=world.upcoming,
                       ga_commitment=pw.ga_commitment)
    before = await everything()
    response = await client.post(path, data)
    assert french_error(response), (path, response.status_code)
    assert await everything() == before
    assert await commitment_history_count(pw.ga_commitment) == 0


@pytest.mark.parametrize("path", [
    "/partenaires/abc", "/partenaires/0", "/partenaires/99999999999", "/partenaires/12345",
    "/contacts/abc/modifier", "/contacts/12345/export", "/engagements/abc/modifier", "/engagements/12345/envoyer",
    "/actions/12345/engagements/nouveau", "/partenaires?page=99999999999", "/partenaires?secteur=%00",
    "/engagements?etat=%00", "/contacts/{sa_volunteer}/export?format=../../etc/passwd",
])
async def test_bad_addresses_and_query_strings_get_a_french_4xx(client, world, path):
    pw = await build_partner_world(world)
    await client.login(EMAILS["ga_referent"])
    response = await client.get(path.format(sa_volunteer=pw.sa_volunteer))
    assert french_error(response), (path, response.status_code)


@pytest.mark.parametrize("data", [
    {"decision": "tenu", "version": "1"},
    {"decision": "", "version": "1"},
    {"decision": "confirme", "version": ""},
    {"decision": "confirme", "version": "abc"},
    {"decision": "confirme", "version": "7"},
    {"decision": "decline", "version": "1", "comment": "x" * 2001},
])
async def test_bad_answers_through_the_link_change_nothing_and_keep_the_link(make_client, world, data,
                                                                              monkeypatch, tmp_path):
    from email import message_from_bytes, policy

    import tracker.mail.settings as mail_settings

    monkeypatch.setenv("MAIL_BACKEND", "fichier")
    monkeypatch.setattr(mail_settings, "VAR_DIR", tmp_path)
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await editor.submit(f"/engagements/{pw.ga_commitment}/envoyer", f"/engagements/{pw.ga_commitment}/envoyer",
                        {"contact": str(pw.sa_volunteer)})
    message = message_from_bytes(next((tmp_path / "outbox").glob("*.eml")).read_bytes(), policy=policy.default)
    path = "/e/" + message.get_body(("plain",)).get_content().split("/e/")[1].split()[0]
    visitor = await make_client()
    await visitor.get(path)
    before = await everything()
    response = await visitor.post(path, data)
    assert french_error(response), response.status_code
    assert await everything() == before
    assert (await CommitmentLink.select(CommitmentLink.used_at).first())["used_at"] is None
    assert (await visitor.get(path)).status_code == 200  # still usable
