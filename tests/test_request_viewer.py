"""Who is asking, read fresh at every request (issue 15: one statement per request, nothing kept between
requests): a role removed or granted, an account disabled, a contact erased apply to the very next request, by
session or by API token; a session's last use is written at most once a minute; an expired one is refused and
deleted."""
from datetime import timedelta

import pytest

from tests.factories import EMAILS, PARTNER_EMAILS, api_token, build_partner_world
from tracker.accounts.tables import Membership, User, UserSession
from tracker.core import clock
from tracker.core.db import engine
from tracker.partners.tables import PartnerContact

pytestmark = pytest.mark.anyio


async def _user_id(email: str) -> int:
    return (await User.select(User.id).where(User.email == email).first())["id"]


async def test_a_role_removed_or_granted_applies_at_the_next_request(client, world):
    await client.login(EMAILS["ga_editor"])
    roadmap = f"/feuilles-de-route/{world.ga_roadmap}"
    assert (await client.get(roadmap)).status_code == 200
    fields = dict(client.form(f"/actions/{world.upcoming}/statut").fields)
    editor = await _user_id(EMAILS["ga_editor"])

    await Membership.delete().where(Membership.user == editor)
    assert (await client.get(roadmap)).status_code == 404  # the next request: no role, nothing to read
    await Membership.insert(Membership(user=editor, territory=world.ga, role="lecteur"))
    assert (await client.get(roadmap)).status_code == 200
    refused = await client.post(f"/actions/{world.upcoming}/statut", {**fields, "status": "en_cours"})
    assert refused.status_code == 403  # a reader changes no status
    await Membership.update({Membership.role: "editeur"}).where(Membership.user == editor)
    accepted = await client.post(f"/actions/{world.upcoming}/statut", {**fields, "status": "en_cours"})
    assert accepted.status_code == 303


async def test_an_api_token_follows_its_owners_roles_at_the_next_request(client, world):
    token = await api_token(EMAILS["ga_editor"])
    path = f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions"
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.http.get(path, headers=headers)).status_code == 200
    await Membership.delete().where(Membership.user == await _user_id(EMAILS["ga_editor"]))
    assert (await client.http.get(path, headers=headers)).status_code == 404
    await Membership.insert(Membership(user=await _user_id(EMAILS["ga_editor"]), territory=world.ga, role="lecteur"))
    assert (await client.http.get(path, headers=headers)).status_code == 200


async def test_an_erased_contact_no_longer_speaks_for_its_partner(client, world):
    partners = await build_partner_world(world)
    token = await api_token(PARTNER_EMAILS["sa_contact"])
    path = f"/api/v1/engagements/{partners.ga_commitment}"
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.http.get(path, headers=headers)).status_code == 200
    await PartnerContact.update({PartnerContact.erased_at: clock.now()}).where(
        PartnerContact.id == partners.sa_contact)
    assert (await client.http.get(path, headers=headers)).status_code == 404


async def test_a_session_is_touched_at_most_once_a_minute_and_refused_once_over(client, world):
    await client.login(EMAILS["ga_editor"])
    roadmap = f"/feuilles-de-route/{world.ga_roadmap}"

    async def last_seen():
        return (await UserSession.select(UserSession.last_seen_at).first())["last_seen_at"]

    first = await last_seen()
    assert (await client.get(roadmap)).status_code == 200
    assert await last_seen() == first  # read, not written
    two_minutes_ago = clock.now() - timedelta(minutes=2)
    await UserSession.update({UserSession.last_seen_at: two_minutes_ago}, force=True)
    assert (await client.get(roadmap)).status_code == 200
    assert await last_seen() > two_minutes_ago + timedelta(minutes=1)  # written again

    await UserSession.update({UserSession.expires_at: clock.now() - timedelta(seconds=1)}, force=True)
    page = await client.get(roadmap)
    assert page.status_code == 303 and page.headers["location"].startswith("/connexion")
    assert await UserSession.count() == 0  # ended on the server

    await client.login(EMAILS["ga_editor"])
    assert (await client.get(roadmap)).status_code == 200
    await User.update({User.is_active: False}).where(User.email == EMAILS["ga_editor"])
    assert (await client.get(roadmap)).status_code == 303
    assert await UserSession.count() == 0


@pytest.fixture
def statements(app, monkeypatch):
    """The SQL statements the engine runs, as text (Piccolo's queries and raw ones alike)."""
    seen: list[str] = []
    db = engine()
    engine_class = type(db)
    original_run = engine_class.run_querystring

    async def counting(self, querystring, *args, **kwargs):
        seen.append(querystring.compile_string(engine_type=self.engine_type)[0])
        return await original_run(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    if hasattr(engine_class, "run_sql"):  # SQLite: raw statements skip Piccolo's query string
        original_sql = engine_class.run_sql

        async def counting_sql(self, sql, args):
            seen.append(sql)
            return await original_sql(self, sql, args)

        monkeypatch.setattr(engine_class, "run_sql", counting_sql)
    return seen


async def test_every_signed_in_request_reads_its_viewer_in_one_statement(client, world, statements):
    await client.login(EMAILS["ga_editor"])
    token = await api_token(EMAILS["ga_editor"])
    await client.http.get("/api/v1/territoires", headers={"Authorization": f"Bearer {token}"})  # its first use
    for path, headers in ((f"/actions/{world.upcoming}", {}),
                          ("/api/v1/territoires", {"Authorization": f"Bearer {token}"})):
        statements.clear()
        response = await client.http.get(path, headers=headers)
        assert response.status_code == 200
        rights = [s for s in statements if "membership" in s or "user_session" in s or "api_token" in s]
        assert len(rights) == 1, rights  # session or token, person, roles and partners together
