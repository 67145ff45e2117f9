"""Partners without an account answer through an emailed signed link (DESIGN.md §2, §5): the email arrives through a
real SMTP server on loopback; the link shows the commitment on GET and changes it only on POST; it is single use,
expires after 14 days, is replaced by a newer one, and carries no other secret."""
import hashlib
import html
import re
import secrets
import socket
from email import message_from_bytes, policy

import arrow
import pytest

from tests.factories import EMAILS, PARTNER_EMAILS, build_partner_world, commitment_history_count
from tracker.accounts.tables import User
from tracker.commitments.tables import Commitment, CommitmentLink
from tracker.history.tables import HistoryEntry

pytestmark = pytest.mark.anyio

LINK = re.compile(r"https?://[^\s\"<>/]+(/e/([A-Za-z0-9_-]+))")

# The signed link is its own permission: anyone holding a valid token may answer, nobody else (forged → 404).
ROUTES_COVERED = {("GET", "/e/{token:str}"), ("POST", "/e/{token:str}")}


class Inbox:
    """An aiosmtpd handler keeping what arrives."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 Message accepté"

    @property
    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(monkeypatch):
    from aiosmtpd.controller import Controller

    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MAIL_BACKEND", "smtp")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_STARTTLS", "0")
    monkeypatch.setenv("MAIL_FROM", "Suivi des feuilles de route <suivi@adgcf.example.org>")
    yield handler
    controller.stop()


def plain(response) -> str:
    return html.unescape(response.text).replace("\u00a0", " ").replace("\u202f", " ")


async def send(editor, commitment_id: int, contact_id: int):
    return await editor.submit(f"/engagements/{commitment_id}/envoyer", f"/engagements/{commitment_id}/envoyer",
                               {"contact": str(contact_id)})


def link_in(message) -> tuple[str, str]:
    """(path, token) of the link in the text body, checked to be the same in the HTML body."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    found = LINK.search(text)
    assert found, text
    assert found.group(1) in html
    return found.group(1), found.group(2)


async def state_of(commitment_id: int) -> tuple[str, int]:
    row = await Commitment.select(Commitment.state, Commitment.version).where(Commitment.id == commitment_id).first()
    return row["state"], row["version"]


async def test_a_partner_without_account_confirms_through_the_emailed_link(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    sent = await send(editor, pw.ga_commitment, pw.sa_volunteer)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/actions/{world.upcoming}#engagement-{pw.ga_commitment}"
    assert "Le lien a été envoyé au contact choisi." in plain(await editor.get(sent.headers["location"]))

    assert len(inbox.envelopes) == 1
    envelope, message = inbox.envelopes[0], inbox.messages[0]
    assert envelope.rcpt_tos == ["jeanne.martin@solidarite-angoumois.example.org"]
    assert message["Subject"] == "Engagement à confirmer\u00a0: Guichet unique des associations"
    assert message["Reply-To"] == EMAILS["ga_editor"]
    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Jeanne Martin," in text
    assert "Claire Éditrice (CA du Grand Angoulême) vous demande de confirmer l’engagement" in text
    assert "Mise à disposition de deux bénévoles" in text and "Contributeur" in text
    assert "valable jusqu’au" in text and "14 jours" in text
    path, token = link_in(message)

    # The email carries the link and no other secret.
    raw = envelope.content.decode("utf-8", "replace") + text + message.get_body(("html",)).get_content()
    stored = await CommitmentLink.select().first()
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest() != token
    assert stored["token_hash"] not in raw
    assert editor.http.cookies.get("suivi_session") not in raw
    for row in await User.select(User.password_hash):
        assert row["password_hash"] not in raw
    assert len(token) >= 43  # 32 random bytes, base64url: 256 bits

    # Following the link: the page shows the commitment; opening it changes nothing.
    partner = await make_client()
    for _ in range(2):
        page = await partner.get(path)
        assert page.status_code == 200
        assert "Guichet unique des associations" in page.text and "Mise à disposition de deux bénévoles" in page.text
        assert "Confirmer l’engagement" in page.text and "Décliner l’engagement" in page.text
        assert page.headers["cache-control"] == "no-store"
    assert await state_of(pw.ga_commitment) == ("propose", 1)
    assert (await CommitmentLink.select(CommitmentLink.used_at).first())["used_at"] is None
    assert await commitment_history_count(pw.ga_commitment) == 0

    # Only the POST answers (with the CSRF token the page carries).
    answered = await partner.post(path, dict(partner.form(path).fields) | {"status": "confirme"})
    assert answered.status_code == 200
    assert "Merci : votre engagement est confirmé." in plain(answered)
    assert await state_of(pw.ga_commitment) == ("confirme", 2)
    entry = await HistoryEntry.select().where(HistoryEntry.subject_type == "commitment").first()
    assert (entry["from_value"], entry["to_value"], entry["actor"], entry["actor_contact"]) == (
        "propose", "confirme", None, pw.sa_volunteer)
    assert "Jeanne" not in entry["comment"]  # the history references the contact, never copies them
    row = await Commitment.select().where(Commitment.id == pw.ga_commitment).first()
    assert (row["confirmed_by"], row["confirmed_by_contact"]) == (None, pw.sa_volunteer)
    action_page = await editor.get(f"/actions/{world.upcoming}")
    assert "Via lien envoyé à Jeanne Martin" in action_page.text

    # Used: refused, in French, with how to get a new one.
    again = await partner.get(path)
    assert again.status_code == 410
    assert "Lien déjà utilisé" in again.text and "Obtenir un nouveau lien" in again.text
    replay = await partner.post(path, {"status": "decline", "comment": "Finalement non", "version": "2"})
    assert replay.status_code == 410
    assert await state_of(pw.ga_commitment) == ("confirme", 2)
    assert await commitment_history_count(pw.ga_commitment) == 1


async def test_declining_through_the_link_needs_a_reason_and_does_not_use_the_link_up(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    path, _ = link_in(inbox.messages[0])
    partner = await make_client()
    page = await partner.get(path)
    forms = [f for f in __import__("tests.browser", fromlist=["forms_in"]).forms_in(page.text) if f.action == path]
    decline = next(f for f in forms if f.fields.get("status") == "decline")
    refused = await partner.post(path, {**decline.fields, "comment": ""})
    assert refused.status_code == 422
    assert "Indiquez la raison du refus" in plain(refused)
    assert 'aria-invalid="true"' in refused.text
    assert await state_of(pw.ga_commitment) == ("propose", 1)
    assert (await CommitmentLink.select(CommitmentLink.used_at).first())["used_at"] is None
    ok = await partner.post(path, {**decline.fields, "comment": "Nos bénévoles sont pris cet été."})
    assert ok.status_code == 200
    assert await state_of(pw.ga_commitment) == ("decline", 2)
    entry = await HistoryEntry.select().where(HistoryEntry.subject_type == "commitment").first()
    assert entry["comment"] == "Nos bénévoles sont pris cet été." and entry["actor_contact"] == pw.sa_volunteer


async def test_an_expired_link_is_refused_with_a_way_to_get_a_new_one(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    path, _ = link_in(inbox.messages[0])
    link = await CommitmentLink.select().first()
    assert arrow.get(link["expires_at"]) - arrow.get(link["created_at"]) == arrow.get(0).shift(days=14) - arrow.get(0)
    await CommitmentLink.update({CommitmentLink.expires_at: arrow.utcnow().shift(minutes=-1).datetime}).where(
        CommitmentLink.id == link["id"])
    partner = await make_client()
    page = await partner.get(path)
    assert page.status_code == 410
    assert "Lien expiré" in page.text
    assert "Claire Éditrice (CA du Grand Angoulême)" in page.text and "un nouveau lien vous sera envoyé" in page.text
    posted = await partner.post(path, {"status": "confirme", "version": "1"})
    assert posted.status_code == 410
    assert await state_of(pw.ga_commitment) == ("propose", 1)
    assert await commitment_history_count(pw.ga_commitment) == 0


@pytest.mark.parametrize("token", [
    secrets.token_urlsafe(32),  # well formed, never issued
    "abc",
    "x" * 500,
    "%27%20OR%201%3D1--",
    "A" * 42 + "%00",
])
async def test_a_forged_or_unknown_token_is_a_french_404(make_client, world, inbox, token):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    visitor = await make_client()
    page = await visitor.get(f"/e/{token}")
    assert page.status_code == 404
    assert "Lien introuvable" in page.text and "Obtenir un nouveau lien" in page.text
    posted = await visitor.post(f"/e/{token}", {"status": "confirme", "version": "1"})
    assert posted.status_code == 404
    assert await state_of(pw.ga_commitment) == ("propose", 1)


async def test_a_new_link_voids_the_old_one(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    await send(editor, pw.ga_commitment, pw.sa_contact)
    assert len(inbox.envelopes) == 2
    old_path, _ = link_in(inbox.messages[0])
    new_path, _ = link_in(inbox.messages[1])
    partner = await make_client()
    old = await partner.get(old_path)
    assert old.status_code == 410 and "Lien remplacé par un plus récent" in old.text
    assert (await partner.post(old_path, {"status": "confirme", "version": "1"})).status_code == 410
    page = await partner.get(new_path)
    assert page.status_code == 200
    ok = await partner.post(new_path, dict(partner.form(new_path).fields))
    assert ok.status_code == 200
    entry = await HistoryEntry.select().where(HistoryEntry.subject_type == "commitment").first()
    assert entry["actor_contact"] == pw.sa_contact  # the newer link's contact


async def test_the_link_needs_the_csrf_token(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    path, _ = link_in(inbox.messages[0])
    partner = await make_client()
    await partner.get(path)
    response = await partner.post(path, {"status": "confirme", "version": "1"}, csrf=False)
    assert response.status_code == 403
    assert await state_of(pw.ga_commitment) == ("propose", 1)


async def test_a_text_changed_after_the_page_was_opened_is_not_confirmed(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    path, _ = link_in(inbox.messages[0])
    partner = await make_client()
    await partner.get(path)
    stale = dict(partner.form(path).fields)
    await editor.submit(f"/engagements/{pw.ga_commitment}/modifier", f"/engagements/{pw.ga_commitment}/modifier",
                        {"description": "Mise à disposition de six bénévoles"})
    response = await partner.post(path, stale)
    assert response.status_code == 409
    assert "six bénévoles" in response.text  # shown the current text, to read before answering
    assert await state_of(pw.ga_commitment) == ("propose", 2)
    ok = await partner.post(path, dict(partner.form(path, response).fields))
    assert ok.status_code == 200
    assert await state_of(pw.ga_commitment) == ("confirme", 3)


async def test_a_link_answers_nothing_once_the_commitment_was_answered_otherwise(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    path, _ = link_in(inbox.messages[0])
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    await sa.submit("/engagements", f"/engagements/{pw.ga_commitment}/etat", {"etat": "confirme"})
    page = await (await make_client()).get(path)
    assert page.status_code == 410
    assert "Cet engagement n’attend plus de réponse" in page.text


async def test_a_link_to_an_action_made_confidential_is_no_longer_shown(make_client, world, inbox):
    from tracker.roadmaps.tables import Action

    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    path, _ = link_in(inbox.messages[0])
    await Action.update({Action.confidential: True}).where(Action.id == world.upcoming)
    visitor = await make_client()
    assert (await visitor.get(path)).status_code == 404
    assert (await visitor.post(path, {"status": "confirme", "version": "1"})).status_code == 404
    assert await state_of(pw.ga_commitment) == ("propose", 1)


async def test_links_go_only_to_the_partner_s_contacts_and_only_for_proposed_commitments(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    other_org = await editor.post(f"/engagements/{pw.ga_commitment}/envoyer", {"contact": str(pw.sem_contact)})
    assert other_org.status_code == 422
    await Commitment.update({Commitment.state: "confirme"}).where(Commitment.id == pw.ga_commitment)
    closed = await editor.post(f"/engagements/{pw.ga_commitment}/envoyer", {"contact": str(pw.sa_volunteer)})
    assert closed.status_code == 422
    assert "Seul un engagement « Proposé » attend la réponse du partenaire" in plain(closed)
    assert inbox.envelopes == [] and await CommitmentLink.count() == 0


async def test_when_the_mail_server_is_unreachable_nothing_is_sent_and_the_old_link_still_works(
        make_client, world, inbox, monkeypatch):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await send(editor, pw.ga_commitment, pw.sa_volunteer)
    path, _ = link_in(inbox.messages[0])
    monkeypatch.setenv("SMTP_PORT", str(_free_port()))  # nobody listens there
    failed = await send(editor, pw.ga_commitment, pw.sa_contact)
    assert failed.status_code == 503
    assert "Le message n’a pas pu être envoyé" in failed.text
    links = await CommitmentLink.select(CommitmentLink.voided_at).order_by(CommitmentLink.id)
    assert links[0]["voided_at"] is None and links[1]["voided_at"] is not None
    partner = await make_client()
    assert (await partner.get(path)).status_code == 200


async def test_the_file_outbox_keeps_each_message_as_an_eml_file(make_client, world, monkeypatch, tmp_path):
    import tracker.mail.settings as mail_settings

    monkeypatch.setenv("MAIL_BACKEND", "fichier")
    monkeypatch.setattr(mail_settings, "VAR_DIR", tmp_path)
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    assert (await send(editor, pw.ga_commitment, pw.sa_volunteer)).status_code == 303
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "jeanne.martin@solidarite-angoumois.example.org"
    path, _ = link_in(message)
    assert (await (await make_client()).get(path)).status_code == 200


async def test_the_console_backend_prints_the_message(make_client, world, monkeypatch, capsys):
    monkeypatch.setenv("MAIL_BACKEND", "console")
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    assert (await send(editor, pw.ga_commitment, pw.sa_volunteer)).status_code == 303
    assert "To: jeanne.martin@solidarite-angoumois.example.org" in capsys.readouterr().out


@pytest.mark.parametrize("settings", [{"MAIL_BACKEND": "pigeon"}, {"MAIL_BACKEND": "smtp", "SMTP_PORT": "vingt-cinq"}])
async def test_a_misconfigured_mail_layer_is_a_clear_error_not_a_crash(make_client, world, monkeypatch, settings):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    response = await send(editor, pw.ga_commitment, pw.sa_volunteer)
    assert response.status_code == 503
    assert "mal configurée" in response.text
    assert (await CommitmentLink.select(CommitmentLink.voided_at).first())["voided_at"] is not None
