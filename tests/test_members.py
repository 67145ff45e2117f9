"""Run the network from the browser (issue 10, part A): invitations, the members page and its history, the last
référent, administrators acting on any territory, the page of a person without any role."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from tests.factories import EMAILS, territory, user
from tracker.accounts.tables import Membership, User
from tracker.core import clock
from tracker.history.tables import HistoryEntry
from tracker.members.tables import Invitation, MembershipEvent
from tracker.partners.tables import PartnerContact
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio

GA = "200071827"
VR = "200068781"
NEW_SIREN = "200000172"
CHOSEN = "une phrase de passe assez longue"

ROUTES_COVERED = {
    ("GET", "/territoires/{siren:str}/membres"),
    ("POST", "/territoires/{siren:str}/invitations"),
    ("POST", "/territoires/{siren:str}/invitations/contact"),
    ("POST", "/territoires/{siren:str}/membres/{user_id:str}/role"),
    ("POST", "/territoires/{siren:str}/membres/{user_id:str}/retrait"),
    ("POST", "/invitations/{invitation_id:str}/revocation"),
    ("POST", "/invitations/{invitation_id:str}/renvoi"),
    ("GET", "/admin/invitations"),
    ("POST", "/admin/invitations"),
    ("GET", "/invitation/{token:str}"),
    ("POST", "/invitation/{token:str}"),
}
LINK = re.compile(r"http://127\.0\.0\.1:8000(/invitation/[A-Za-z0-9_-]{43})")


def plain(response) -> str:
    return " ".join(html.unescape(response.text).replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture
def outbox(monkeypatch, tmp_path):
    """Mail written as .eml files in a folder of this test: returns a function reading them (to, plain body)."""
    import tracker.mail.settings as mail_settings

    monkeypatch.setenv("MAIL_BACKEND", "fichier")
    monkeypatch.setattr(mail_settings, "VAR_DIR", tmp_path)

    def read() -> list[tuple[str, str]]:
        found = []
        # In the order written (file names only say the second).
        for path in sorted((tmp_path / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            found.append((str(message["To"]), message.get_body(("plain",)).get_content()))
        return found

    return read


def link_to(outbox, email: str) -> str:
    links = [LINK.search(body) for to, body in outbox() if to == email]
    links = [found.group(1) for found in links if found]
    assert links, f"aucune invitation pour {email}"
    return links[-1]


async def accept(client, path: str, name: str = "Nouvelle Personne", password: str = CHOSEN):
    page = await client.get(path)
    assert page.status_code == 200, page.text
    fields = dict(client.form(path).fields)
    fields.update(nom=name, password=password, password2=password)
    return await client.post(path, fields)


async def everything() -> tuple:
    return (
        await User.select().order_by(User.id),
        await Membership.select().order_by(Membership.id),
        await Invitation.select().order_by(Invitation.id),
        await MembershipEvent.select().order_by(MembershipEvent.id),
        await HistoryEntry.count(),
        await PartnerContact.select(PartnerContact.id, PartnerContact.account).order_by(PartnerContact.id),
    )


async def test_an_administrator_onboards_a_new_territory_from_the_browser(make_client, world, outbox):
    """The whole bootstrap: admin invites a référent of a new territory; the référent invites an éditeur, who
    changes the status of an action."""
    from tests.factories import action, roadmap

    new = await territory(NEW_SIREN, "PETR du Pays Test", kind="PETR")
    new_roadmap = await roadmap(new, "Feuille de route du PETR")
    new_action = await action(new_roadmap, new, "Maison France services itinérante")
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    sent = await admin.submit(f"/territoires/{NEW_SIREN}/membres", f"/territoires/{NEW_SIREN}/invitations",
                              {"email": "Referente@Petr.example.org", "nom": "Renée Référente", "role": "referent"})
    assert sent.status_code == 303, sent.text
    page = plain(await admin.get(f"/territoires/{NEW_SIREN}/membres"))
    assert "referente@petr.example.org" in page and "Alice Admin" in page  # pending, with who sent it

    [(to, body)] = outbox()
    assert to == "referente@petr.example.org" and "PETR du Pays Test" in body and "7 jours" in body
    path = link_to(outbox, to)
    stored = await Invitation.select(Invitation.token_hash).first()
    assert path.rsplit("/", 1)[1] not in str(stored)  # only the hash is kept

    referent = await make_client()
    landed = await accept(referent, path, "Renée Référente")
    assert landed.status_code == 303 and landed.headers["location"] == f"/territoires/{NEW_SIREN}"
    home = await referent.get(landed.headers["location"])
    assert home.status_code == 200 and "PETR du Pays Test" in home.text and "Membres et invitations" in home.text
    created = await User.select(User.id, User.full_name).where(User.email == to).first()
    assert created["full_name"] == "Renée Référente"
    assert await Membership.select(Membership.role).where(Membership.user == created["id"]).first() == {
        "role": "referent"}

    sent = await referent.submit(f"/territoires/{NEW_SIREN}/membres", f"/territoires/{NEW_SIREN}/invitations",
                                 {"email": "editeur@petr.example.org", "nom": "Émile Éditeur", "role": "editeur"})
    assert sent.status_code == 303, sent.text
    editor = await make_client()
    landed = await accept(editor, link_to(outbox, "editeur@petr.example.org"), "Émile Éditeur")
    assert landed.status_code == 303
    changed = await editor.submit(f"/actions/{new_action}", f"/actions/{new_action}/statut",
                                  {"status": "en_cours", "comment": "On démarre."})
    assert changed.status_code == 303, changed.text
    assert (await Action.select(Action.status).where(Action.id == new_action).first())["status"] == "en_cours"

    # The members page keeps every grant, with who made it.
    page = plain(await referent.get(f"/territoires/{NEW_SIREN}/membres"))
    assert "Émile Éditeur devient éditeur — par Renée Référente" in page
    assert "Renée Référente devient référent du territoire — par Alice Admin (en tant qu’administrateur ADGCF)" in page
    entries = await HistoryEntry.select(HistoryEntry.to_value).where(HistoryEntry.subject_type == "invitation")
    assert sorted(e["to_value"] for e in entries) == ["acceptee", "acceptee", "en_attente", "en_attente"]


async def test_used_expired_and_revoked_links_are_refused_and_change_nothing(make_client, world, outbox):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    for email in ("un@ga.example.org", "deux@ga.example.org", "trois@ga.example.org"):
        response = await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                                         {"email": email, "role": "lecteur"})
        assert response.status_code == 303
    used, expired, revoked = (link_to(outbox, e) for e in ("un@ga.example.org", "deux@ga.example.org",
                                                           "trois@ga.example.org"))
    first = await make_client()
    assert (await accept(first, used)).status_code == 303
    await Invitation.update({Invitation.expires_at: clock.now() - timedelta(minutes=1)}).where(
        Invitation.email == "deux@ga.example.org")
    [pending] = [i for i in await Invitation.select().where(Invitation.email == "trois@ga.example.org")]
    await referent.get(f"/territoires/{GA}/membres")
    assert (await referent.post(f"/invitations/{pending['id']}/revocation")).status_code == 303

    before = await everything()
    stranger = await make_client()
    for path, title in ((used, "Invitation déjà utilisée"), (expired, "Invitation expirée"),
                        (revoked, "Invitation révoquée"), ("/invitation/" + "A" * 43, "Invitation introuvable")):
        shown = await stranger.get(path)
        assert shown.status_code in (404, 410) and title in plain(shown), path
        await stranger.get("/connexion")
        answered = await stranger.post(path, {"nom": "Intrus", "password": CHOSEN, "password2": CHOSEN})
        assert answered.status_code in (404, 410) and title in plain(answered), path
        assert "suivi_session" not in answered.headers.get("set-cookie", "")
    assert await everything() == before


async def test_a_resent_invitation_voids_the_older_link(make_client, world, outbox):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                          {"email": "relance@ga.example.org", "role": "editeur"})
    old = link_to(outbox, "relance@ga.example.org")
    [row] = await Invitation.select(Invitation.id)
    await referent.get(f"/territoires/{GA}/membres")
    assert (await referent.post(f"/invitations/{row['id']}/renvoi")).status_code == 303
    new = link_to(outbox, "relance@ga.example.org")
    assert new != old
    visitor = await make_client()
    assert (await visitor.get(old)).status_code == 410
    assert (await accept(visitor, new)).status_code == 303
    assert await Membership.exists().where(Membership.user.email == "relance@ga.example.org")


async def test_a_password_outside_the_rules_is_refused_and_nothing_is_created(make_client, world, outbox):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                          {"email": "court@ga.example.org", "role": "lecteur"})
    path = link_to(outbox, "court@ga.example.org")
    visitor = await make_client()
    refused = await accept(visitor, path, password="trop court")
    assert refused.status_code == 422 and "au moins 12 caractères" in plain(refused)
    assert not await User.exists().where(User.email == "court@ga.example.org")
    assert (await accept(visitor, path)).status_code == 303  # the link still works


async def test_inviting_an_existing_account_adds_the_role_and_tells_the_person(make_client, world, outbox):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    response = await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                                     {"email": EMAILS["nobody"], "role": "editeur"})
    assert response.status_code == 303
    assert await Membership.select(Membership.role).where(Membership.user.email == EMAILS["nobody"]).first() == {
        "role": "editeur"}
    [(to, body)] = outbox()
    assert to == EMAILS["nobody"] and "éditeur de CA du Grand Angoulême" in body and "/invitation/" not in body
    assert await Invitation.count() == 0


async def test_a_referent_cannot_invite_elsewhere_nor_to_the_adgcf_nor_remove_the_last_referent(
        make_client, world, outbox):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    rita = (await User.select(User.id).where(User.email == EMAILS["ga_referent"]).first())["id"]
    before = await everything()
    assert (await referent.post(f"/territoires/{VR}/invitations", {"email": "x@vr.example.org",
                                                                    "role": "lecteur"})).status_code == 404
    assert (await referent.get(f"/territoires/{VR}/membres")).status_code == 404
    for role in ("reviewer", "admin"):
        refused = await referent.post(f"/territoires/{GA}/invitations", {"email": "x@ga.example.org", "role": role})
        assert refused.status_code == 403, role
    assert (await referent.get("/admin/invitations")).status_code == 403
    assert (await referent.post("/admin/invitations", {"email": "x@ga.example.org", "role": "admin"})).status_code == 403
    demoted = await referent.post(f"/territoires/{GA}/membres/{rita}/role", {"role": "lecteur"})
    assert demoted.status_code == 403 and "dernier référent" in plain(demoted)
    removed = await referent.post(f"/territoires/{GA}/membres/{rita}/retrait")
    assert removed.status_code == 403
    assert await everything() == before and outbox() == []

    # An administrator may remove the last référent; the history says who, and as what.
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    await admin.get(f"/territoires/{GA}/membres")
    assert (await admin.post(f"/territoires/{GA}/membres/{rita}/retrait")).status_code == 303
    page = plain(await admin.get(f"/territoires/{GA}/membres"))
    assert "Rita Référente n’est plus membre (était référent du territoire) — par Alice Admin (en tant qu’administrateur ADGCF)" in page


async def test_a_referent_changes_roles_and_removes_members_with_history(make_client, world):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    louis = (await User.select(User.id).where(User.email == EMAILS["ga_reader"]).first())["id"]
    changed = await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/membres/{louis}/role",
                                    {"role": "referent"})
    assert changed.status_code == 303
    rita = (await User.select(User.id).where(User.email == EMAILS["ga_referent"]).first())["id"]
    # Two référents now: Rita may step down.
    assert (await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/membres/{rita}/role",
                                  {"role": "editeur"})).status_code == 303
    claire = (await User.select(User.id).where(User.email == EMAILS["ga_editor"]).first())["id"]
    louis_client = referent  # Rita is no longer référent: refused
    assert (await louis_client.post(f"/territoires/{GA}/membres/{claire}/retrait")).status_code == 403
    page = plain(await referent.get(f"/territoires/{GA}"))
    assert "Membres et invitations" not in page
    events = await MembershipEvent.select(MembershipEvent.role_before, MembershipEvent.role_after,
                                          MembershipEvent.acting_as).order_by(MembershipEvent.id)
    assert events == [{"role_before": "lecteur", "role_after": "referent", "acting_as": ""},
                      {"role_before": "referent", "role_after": "editeur", "acting_as": ""}]


@pytest.mark.parametrize("person,expected", [("ga_reader", 403), ("ga_editor", 403), ("reviewer", 403),
                                             ("vr_editor", 404), ("nobody", 404)])
async def test_only_referents_and_administrators_manage_members(make_client, world, outbox, person, expected):
    client = await make_client()
    await client.login(EMAILS[person])
    claire = (await User.select(User.id).where(User.email == EMAILS["ga_editor"]).first())["id"]
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                          {"email": "attente@ga.example.org", "role": "lecteur"})
    invitation = (await Invitation.select(Invitation.id).first())["id"]
    before = await everything()
    assert (await client.get(f"/territoires/{GA}/membres")).status_code == expected
    for path, data in ((f"/territoires/{GA}/invitations", {"email": "x@ga.example.org", "role": "lecteur"}),
                       (f"/territoires/{GA}/invitations/contact", {"contact": "1"}),
                       (f"/territoires/{GA}/membres/{claire}/role", {"role": "lecteur"}),
                       (f"/territoires/{GA}/membres/{claire}/retrait", {}),
                       (f"/invitations/{invitation}/revocation", {}),
                       (f"/invitations/{invitation}/renvoi", {})):
        response = await client.post(path, data)
        assert response.status_code == expected, (path, response.status_code)
    assert await everything() == before
    assert len(outbox()) == 1


async def test_every_members_post_without_its_csrf_token_is_refused(make_client, world, outbox):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                          {"email": "attente@ga.example.org", "role": "lecteur"})
    invitation = (await Invitation.select(Invitation.id).first())["id"]
    path = link_to(outbox, "attente@ga.example.org")
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    claire = (await User.select(User.id).where(User.email == EMAILS["ga_editor"]).first())["id"]
    before = await everything()
    for client, action, data in (
            (referent, f"/territoires/{GA}/invitations", {"email": "x@ga.example.org", "role": "lecteur"}),
            (referent, f"/territoires/{GA}/invitations/contact", {"contact": "1"}),
            (referent, f"/territoires/{GA}/membres/{claire}/role", {"role": "lecteur"}),
            (referent, f"/territoires/{GA}/membres/{claire}/retrait", {}),
            (referent, f"/invitations/{invitation}/revocation", {}),
            (referent, f"/invitations/{invitation}/renvoi", {}),
            (admin, "/admin/invitations", {"email": "x@adgcf.example.org", "role": "admin"}),
            (await make_client(), path, {"nom": "X", "password": CHOSEN, "password2": CHOSEN})):
        response = await client.post(action, data, csrf=False)
        assert response.status_code == 403 and "Formulaire expiré" in plain(response), action
    assert await everything() == before and len(outbox()) == 1


async def test_an_administrator_invites_to_the_adgcf(make_client, world, outbox):
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    response = await admin.submit("/admin/invitations", "/admin/invitations",
                                  {"email": "mission@adgcf.example.org", "nom": "Mia Mission", "role": "reviewer"})
    assert response.status_code == 303
    assert "mission@adgcf.example.org" in plain(await admin.get("/admin/invitations"))
    reviewer = await make_client()
    landed = await accept(reviewer, link_to(outbox, "mission@adgcf.example.org"), "Mia Mission")
    assert landed.headers["location"] == "/pilotage"
    row = await User.select(User.is_reviewer, User.is_admin).where(User.email == "mission@adgcf.example.org").first()
    assert row == {"is_reviewer": True, "is_admin": False}


async def test_a_referent_gives_an_account_to_a_partners_contact(make_client, world, outbox):
    from tests.factories import build_partner_world

    pw = await build_partner_world(world)
    contact = await PartnerContact(partner=pw.sa if hasattr(pw, "sa") else world.ga_pilot, full_name="Nina Neuve",
                                   email="nina@solidarite-angoumois.example.org",
                                   created_at=clock.now()).save()
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    page = plain(await referent.get(f"/territoires/{GA}/membres"))
    assert "Nina Neuve" in page
    [row] = await PartnerContact.select(PartnerContact.id).where(PartnerContact.full_name == "Nina Neuve")
    response = await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations/contact",
                                     {"contact": str(row["id"])})
    assert response.status_code == 303, response.text
    nina = await make_client()
    landed = await accept(nina, link_to(outbox, "nina@solidarite-angoumois.example.org"), "Nina Neuve")
    assert landed.headers["location"] == "/engagements"
    assert (await nina.get("/engagements")).status_code == 200
    linked = await PartnerContact.select(PartnerContact.account.email.as_alias("email")).where(
        PartnerContact.id == row["id"]).first()
    assert linked == {"email": "nina@solidarite-angoumois.example.org"}
    assert not await Membership.exists().where(Membership.user.email == "nina@solidarite-angoumois.example.org")
    del contact


async def test_a_partners_contact_cannot_be_invited_as_a_member(make_client, world, outbox):
    await PartnerContact(partner=world.ga_pilot, full_name="Paul Partenaire", email="paul@partenaire.example.org",
                         created_at=clock.now()).save()
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    refused = await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                                    {"email": "paul@partenaire.example.org", "role": "editeur"})
    assert refused.status_code == 422 and "contact du partenaire" in plain(refused)
    assert await Invitation.count() == 0 and outbox() == []


async def test_someone_without_any_role_is_told_whom_to_ask(make_client, world, monkeypatch):
    client = await make_client()
    await client.login(EMAILS["nobody"])
    page = await client.get("/")
    assert page.status_code == 200
    text = plain(page)
    assert "aucun rôle" in text and "référent de votre territoire" in text and "contact@adgcf.fr" in text
    member = await make_client()
    await member.login(EMAILS["ga_editor"])
    assert (await member.get("/")).status_code == 303


async def test_an_administrator_fixes_an_action_and_the_history_says_as_administrator(make_client, world):
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    changed = await admin.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                                 {"status": "en_cours", "comment": "Correction à la demande du territoire."})
    assert changed.status_code == 303, changed.text
    entry = await HistoryEntry.select(HistoryEntry.actor.email.as_alias("who"), HistoryEntry.acting_as).where(
        (HistoryEntry.subject_type == "action") & (HistoryEntry.subject_id == world.upcoming)).first()
    assert entry == {"who": EMAILS["admin"], "acting_as": "administrateur"}
    page = plain(await admin.get(f"/actions/{world.upcoming}"))
    assert "Alice Admin (en tant qu’administrateur ADGCF)" in page
    # A territory's own editor: no such mention.
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await editor.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut", {"status": "realisee"})
    last = await HistoryEntry.select(HistoryEntry.acting_as).order_by(HistoryEntry.id, ascending=False).first()
    assert last == {"acting_as": ""}


async def test_reviewers_still_change_nothing(make_client, world):
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    await reviewer.get(f"/actions/{world.upcoming}")
    response = await reviewer.post(f"/actions/{world.upcoming}/statut", {"status": "en_cours", "version": "1"})
    assert response.status_code == 403
    assert (await Action.select(Action.status).where(Action.id == world.upcoming).first())["status"] == "a_venir"


async def test_the_membership_history_is_append_only(world, database):
    """Triggers refuse UPDATE, DELETE (and an INSERT OR REPLACE on SQLite, TRUNCATE on PostgreSQL), and the
    application's PostgreSQL role has no UPDATE, DELETE nor TRUNCATE on it."""
    import os

    ident = await user("temoin@ga.example.org", "Témoin")
    await MembershipEvent(territory=world.ga, user=ident, role_before="", role_after="lecteur",
                          created_at=clock.now()).save()
    before = await MembershipEvent.select()
    attacks = ["UPDATE membership_event SET role_after = 'referent'", "DELETE FROM membership_event"]
    if database == "sqlite":
        import sqlite3
        from contextlib import closing

        from tracker.core.config import settings

        attacks.append("INSERT OR REPLACE INTO membership_event (id, territory, user, role_before, role_after, "
                       "acting_as, created_at) VALUES (1, 1, 1, '', 'referent', '', '2020-01-01')")
        with closing(sqlite3.connect(settings.sqlite_path)) as connection:
            for statement in attacks:
                with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                    connection.execute(statement)
    else:
        import asyncpg

        app_role = await asyncpg.connect(os.environ["DATABASE_URL"])
        owner = await asyncpg.connect(os.environ["SUIVI_TEST_OWNER_URL"])
        try:
            for statement in [*attacks, "TRUNCATE membership_event"]:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await app_role.execute(statement)
                with pytest.raises(asyncpg.RaiseError, match="append-only"):
                    await owner.execute(statement)
        finally:
            await app_role.close()
            await owner.close()
    assert await MembershipEvent.select() == before


def _command(*args: str, stdin: str = ""):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    return subprocess.run([sys.executable, "-m", "tracker", "create-user", *args], cwd=ROOT, env=os.environ,
                          input=stdin, capture_output=True, text=True, timeout=120)


async def test_create_user_reads_the_password_from_standard_input_and_never_echoes_it(app, make_client):
    done = _command("premiere@adgcf.example.org", "Première Admin", "--admin", stdin=CHOSEN + "\n")
    assert done.returncode == 0, done.stderr
    assert CHOSEN not in done.stdout + done.stderr and "may be echoed" not in done.stderr
    assert "Compte créé : premiere@adgcf.example.org" in done.stdout
    client = await make_client()
    await client.login_through_form("premiere@adgcf.example.org", CHOSEN)
    assert (await User.select(User.is_admin).where(User.email == "premiere@adgcf.example.org").first())["is_admin"]
    short = _command("court@adgcf.example.org", "Court", "--admin", stdin="court\n")
    assert short.returncode == 1 and "au moins 12 caractères" in short.stderr
    assert not await User.exists().where(User.email == "court@adgcf.example.org")


async def test_create_user_can_print_a_one_time_invitation_link_instead(app, make_client):
    done = _command("premiere@adgcf.example.org", "Première Admin", "--admin", "--invitation")
    assert done.returncode == 0, done.stderr
    path = LINK.search(done.stdout).group(1)
    assert not await User.exists().where(User.email == "premiere@adgcf.example.org")
    client = await make_client()
    landed = await accept(client, path, "Première Admin")
    assert landed.headers["location"] == "/pilotage"
    assert (await User.select(User.is_admin).where(User.email == "premiere@adgcf.example.org").first())["is_admin"]
    assert (await client.get(path)).status_code == 410
    again = _command("premiere@adgcf.example.org", "Première Admin", "--admin", "--invitation")
    assert again.returncode == 1 and "déjà un compte" in again.stderr


async def test_an_administrator_follows_an_agreement_for_a_territory_but_never_signs_for_it(make_client, world):
    """The help desk reaches agreements: an obligation's status, with « as administrator » in the history. Signing
    stays with each party's référents."""
    from datetime import date

    from tests.factories import build_agreement_world
    from tracker.agreements.tables import AgreementParty, Obligation

    deal = await build_agreement_world(world, state="en_vigueur")
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    page = await admin.get(f"/contrats/{deal.agreement}")
    assert f'action="/obligations/{deal.ga_brings}/statut"' in page.text
    changed = await admin.post(f"/obligations/{deal.ga_brings}/statut", {"status": "en_cours", "version": "1"})
    assert changed.status_code == 303, changed.text
    assert (await Obligation.select(Obligation.status).where(Obligation.id == deal.ga_brings).first()) == {
        "status": "en_cours"}
    entry = await HistoryEntry.select(HistoryEntry.acting_as, HistoryEntry.actor.email.as_alias("who")).where(
        (HistoryEntry.subject_type == "obligation") & (HistoryEntry.subject_id == deal.ga_brings)).first()
    assert entry == {"acting_as": "administrateur", "who": EMAILS["admin"]}
    await AgreementParty.update({AgreementParty.signed_on: None, AgreementParty.signed_at: None}).where(
        AgreementParty.id == deal.ga_party)
    refused = await admin.post(f"/contrats/{deal.agreement}/parties/{deal.ga_party}/signature",
                               {"signed_on": date.today().isoformat(), "version": "1"})
    assert refused.status_code == 403
    assert (await AgreementParty.select(AgreementParty.signed_on).where(AgreementParty.id == deal.ga_party).first()
            ) == {"signed_on": None}


async def test_an_administrator_starts_an_agreement_for_a_territory(make_client, world):
    from tracker.agreements.tables import Agreement

    admin = await make_client()
    await admin.login(EMAILS["admin"])
    page = plain(await admin.get(f"/territoires/{VR}"))
    assert "Créer un contrat pour ce territoire" in page
    form = await admin.get(f"/contrats/nouveau?territoire={VR}")
    assert form.status_code == 200 and "CA Valence Romans Agglo" in plain(form)
    created = await admin.submit(f"/contrats/nouveau?territoire={VR}", "/contrats/nouveau",
                                 {"title": "Contrat aidé par l’ADGCF"})
    assert created.status_code == 303, created.text
    row = await Agreement.select(Agreement.id, Agreement.territory).where(
        Agreement.title == "Contrat aidé par l’ADGCF").first()
    assert row["territory"] == world.vr
    entry = await HistoryEntry.select(HistoryEntry.acting_as).where(
        (HistoryEntry.subject_type == "agreement") & (HistoryEntry.subject_id == row["id"])).first()
    assert entry == {"acting_as": "administrateur"}
    assert "(en tant qu’administrateur ADGCF)" in plain(await admin.get(f"/contrats/{row['id']}"))
    # Someone else's territory is still refused to an éditeur.
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await editor.get("/contrats/nouveau")
    refused = await editor.post("/contrats/nouveau", {"title": "Intrus", "territory": str(world.vr)})
    assert refused.status_code == 422 and not await Agreement.exists().where(Agreement.title == "Intrus")


async def test_opening_a_valid_link_changes_nothing_until_the_form_is_sent(make_client, world, outbox):
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    await referent.submit(f"/territoires/{GA}/membres", f"/territoires/{GA}/invitations",
                          {"email": "curieux@ga.example.org", "nom": "Camille Curieuse", "role": "lecteur"})
    path = link_to(outbox, "curieux@ga.example.org")
    before = await everything()
    visitor = await make_client()
    for _ in range(2):
        shown = await visitor.get(path)
        assert shown.status_code == 200 and "CA du Grand Angoulême" in plain(shown)
        assert shown.headers["cache-control"] == "no-store" and shown.headers["referrer-policy"] == "no-referrer"
        assert "suivi_session" not in shown.headers.get("set-cookie", "")
    assert await everything() == before
    mismatch = await visitor.post(path, {"nom": "Camille Curieuse", "password": CHOSEN, "password2": CHOSEN + "!"})
    assert mismatch.status_code == 422 and "diffèrent" in plain(mismatch)
    assert await everything() == before
