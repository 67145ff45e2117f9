"""Personal access tokens: a signed-in person creates and revokes theirs on « Jetons d’accès »; the API accepts
only a valid bearer token — never a session cookie — and answers 401 otherwise."""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import timedelta

import arrow
import pytest

from tests.factories import EMAILS, api_token
from tracker.accounts.tables import User
from tracker.api.tables import ApiToken

pytestmark = pytest.mark.anyio

TOKEN_SHOWN = re.compile(r'id="nouveau-jeton"[^>]*value="(sfr_[A-Za-z0-9_-]+)"')


async def create_on_the_page(browser, name: str = "Tableau de bord du CODIR", expires_on: str | None = None):
    changes = {"name": name}
    if expires_on is not None:
        changes["expires_on"] = expires_on
    return await browser.submit("/compte/jetons", "/compte/jetons", changes)


async def bearer(http, token: str | None, path: str = "/api/v1/territoires", **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await http.get(path, headers=headers)


def assert_401(response, *, presented: bool = True) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is presented
    assert response.json()["erreur"]["statut"] == 401


# --- creating, showing once, revoking ------------------------------------------------------------------------


async def test_a_person_creates_a_token_sees_it_once_and_uses_it(client, world):
    await client.login(EMAILS["ga_editor"])
    page = await client.get("/compte/jetons")
    assert page.status_code == 200 and "Jetons d’accès" in page.text
    assert 'href="/compte/jetons"' in page.text, "lien dans l’en-tête du site"
    created = await create_on_the_page(client)
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    token = TOKEN_SHOWN.search(created.text).group(1)
    assert token.startswith("sfr_") and len(token) >= 4 + 43  # 32 random bytes: 256 bits
    assert "il ne sera plus jamais affiché" in created.text
    # Never again: the list shows only its first characters.
    again = await client.get("/compte/jetons")
    assert token not in again.text and token[:8] in again.text and "Tableau de bord du CODIR" in again.text
    answer = await bearer(client.http, token)
    assert answer.status_code == 200
    assert [t["siren"] for t in answer.json()["donnees"]] == ["200071827"]


async def test_the_token_is_stored_only_as_its_sha256(client, world):
    await client.login(EMAILS["ga_editor"])
    token = TOKEN_SHOWN.search((await create_on_the_page(client)).text).group(1)
    rows = await ApiToken.select()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in rows[0].values())
    assert not await ApiToken.exists().where(ApiToken.token_hash == token)


async def test_two_tokens_never_collide(client, world):
    await client.login(EMAILS["ga_editor"])
    first = TOKEN_SHOWN.search((await create_on_the_page(client, "Un")).text).group(1)
    second = TOKEN_SHOWN.search((await create_on_the_page(client, "Deux")).text).group(1)
    assert first != second
    assert len({row["token_hash"] for row in await ApiToken.select(ApiToken.token_hash)}) == 2


async def test_a_revoked_token_gets_401(client, world):
    await client.login(EMAILS["ga_editor"])
    token = TOKEN_SHOWN.search((await create_on_the_page(client)).text).group(1)
    assert (await bearer(client.http, token)).status_code == 200
    row = await ApiToken.select(ApiToken.id).first()
    revoked = await client.submit("/compte/jetons", f"/compte/jetons/{row['id']}/revoquer")
    assert revoked.status_code == 303 and revoked.headers["location"] == "/compte/jetons"
    page = await client.get("/compte/jetons")
    assert "Le jeton a été révoqué" in page.text and "Révoqué le" in page.text
    response = await bearer(client.http, token)
    assert_401(response)
    assert "révoqué" in response.json()["erreur"]["message"]
    # Revoking again changes nothing.
    assert (await client.post(f"/compte/jetons/{row['id']}/revoquer")).status_code == 303


async def test_an_expired_token_gets_401(client, world):
    yesterday = arrow.utcnow().shift(days=-1).datetime
    token = await api_token(EMAILS["ga_editor"], expires_at=yesterday)
    response = await bearer(client.http, token)
    assert_401(response)
    assert "expiré" in response.json()["erreur"]["message"]
    fresh = await api_token(EMAILS["ga_editor"], expires_at=arrow.utcnow().shift(hours=1).datetime)
    assert (await bearer(client.http, fresh)).status_code == 200


async def test_an_expiry_date_works_until_that_evening_and_at_most_a_year(client, world):
    await client.login(EMAILS["ga_editor"])
    today = arrow.now("Europe/Paris").date()
    page = await client.get("/compte/jetons")
    assert f'value="{(today + timedelta(days=90)).isoformat()}"' in page.text, "90 jours proposés par défaut"
    too_far = await create_on_the_page(client, expires_on=(today + timedelta(days=366)).isoformat())
    assert too_far.status_code == 422 and "au plus un an" in too_far.text
    past = await create_on_the_page(client, expires_on=today.isoformat())
    assert past.status_code == 422 and "postérieure à aujourd’hui" in past.text
    garbage = await create_on_the_page(client, expires_on="31/12/2026")
    assert garbage.status_code == 422 and "n’est pas une date valide" in garbage.text
    nameless = await create_on_the_page(client, name="   ")
    assert nameless.status_code == 422 and "obligatoire" in nameless.text
    assert await ApiToken.count() == 0
    ok = await create_on_the_page(client, expires_on=(today + timedelta(days=365)).isoformat())
    assert ok.status_code == 201
    row = await ApiToken.select(ApiToken.expires_at).first()
    end = arrow.get(row["expires_at"]).to("Europe/Paris")
    assert end.date() == today + timedelta(days=366) and (end.hour, end.minute) == (0, 0)
    never = await create_on_the_page(client, "Sans expiration", expires_on="")
    assert never.status_code == 201 and "Sans expiration" in never.text


async def test_at_most_twenty_active_tokens(client, world):
    for i in range(20):
        await api_token(EMAILS["ga_editor"], name=f"Jeton {i}")
    await api_token(EMAILS["ga_editor"], name="Ancien", revoked=True)
    await client.login(EMAILS["ga_editor"])
    refused = await create_on_the_page(client)
    assert refused.status_code == 422 and "révoquez ceux qui ne servent plus" in refused.text
    assert await ApiToken.count() == 21


async def test_nobody_sees_or_revokes_anyone_elses_tokens(make_client, world):
    owner = await make_client()
    await owner.login(EMAILS["ga_editor"])
    token = TOKEN_SHOWN.search((await create_on_the_page(owner, "Jeton de Claire")).text).group(1)
    row = await ApiToken.select(ApiToken.id).first()
    for person in ("vr_editor", "admin", "reviewer"):
        other = await make_client()
        await other.login(EMAILS[person])
        assert "Jeton de Claire" not in (await other.get("/compte/jetons")).text
        assert (await other.post(f"/compte/jetons/{row['id']}/revoquer")).status_code == 404
    assert (await bearer(owner.http, token)).status_code == 200
    assert (await owner.post("/compte/jetons/abc/revoquer")).status_code == 404


async def test_the_forms_need_the_csrf_token(client, world):
    await client.login(EMAILS["ga_editor"])
    assert (await client.post("/compte/jetons", {"name": "Sans jeton CSRF"}, csrf=False)).status_code == 403
    await api_token(EMAILS["ga_editor"])
    row = await ApiToken.select(ApiToken.id).first()
    assert (await client.post(f"/compte/jetons/{row['id']}/revoquer", csrf=False)).status_code == 403
    assert await ApiToken.count() == 1
    assert (await ApiToken.select(ApiToken.revoked_at).first())["revoked_at"] is None


# --- what authenticates the API, and what does not -----------------------------------------------------------


async def test_a_session_cookie_alone_does_not_authenticate_the_api(client, world):
    await client.login(EMAILS["admin"])
    assert client.http.cookies.get("suivi_session")
    response = await client.http.get("/api/v1/territoires")
    assert_401(response, presented=False)
    assert "Authorization" in response.json()["erreur"]["message"]
    # With a cookie and someone else's token, the token alone decides.
    vr_token = await api_token(EMAILS["vr_editor"])
    listing = await bearer(client.http, vr_token)
    assert [t["siren"] for t in listing.json()["donnees"]] == ["200068781"]


@pytest.mark.parametrize("authorization", [
    "Bearer sfr_inconnu", "Bearer ", "Basic dXNlcjpwYXNz", "sfr_sans_schema", "Bearer " + "x" * 5000,
    "Bearer sfr_" + "a" * 200, "Token sfr_abc",
])
async def test_a_missing_or_bad_token_gets_401(client, world, authorization):
    response = await client.http.get("/api/v1/territoires", headers={"Authorization": authorization})
    assert_401(response)


async def test_no_token_at_all_gets_401_without_error_code(client, world):
    for path in ("/api/v1/territoires", "/api/v1/actions/1", "/api/v1/feuilles-de-route/1/actions?page=x"):
        assert_401(await client.http.get(path), presented=False)


async def test_a_disabled_accounts_tokens_stop_working(client, world):
    token = await api_token(EMAILS["ga_editor"])
    assert (await bearer(client.http, token)).status_code == 200
    await User.update({User.is_active: False}).where(User.email == EMAILS["ga_editor"])
    assert_401(await bearer(client.http, token))


async def test_the_last_use_is_recorded_at_most_once_a_minute(client, world):
    token = await api_token(EMAILS["ga_editor"])
    assert (await ApiToken.select(ApiToken.last_used_at).first())["last_used_at"] is None
    await bearer(client.http, token)
    first = (await ApiToken.select(ApiToken.last_used_at).first())["last_used_at"]
    assert first is not None and arrow.utcnow() - arrow.get(first) < timedelta(seconds=30)
    await bearer(client.http, token)
    assert (await ApiToken.select(ApiToken.last_used_at).first())["last_used_at"] == first
    two_minutes_ago = arrow.utcnow().shift(minutes=-2).datetime
    await ApiToken.update({ApiToken.last_used_at: two_minutes_ago}, force=True)
    await bearer(client.http, token)
    assert arrow.get((await ApiToken.select(ApiToken.last_used_at).first())["last_used_at"]) > arrow.get(two_minutes_ago)


async def test_a_token_gives_exactly_the_viewer_a_session_gives(world):
    """Both channels build their Viewer through tracker.auth.viewer_for_user: the same roles and partners."""
    from tests.factories import PARTNER_EMAILS, build_partner_world
    from tracker.accounts.service import open_session
    from tracker.api.tokens import viewer_for_api_token
    from tracker.auth.viewer import viewer_for_session

    await build_partner_world(world)  # partners' contacts too: their Viewer carries partner_ids
    for email in [*EMAILS.values(), *PARTNER_EMAILS.values()]:
        user = await User.objects().where(User.email == email).first()
        by_session = await viewer_for_session(await open_session(user))
        by_token = await viewer_for_api_token(await api_token(email))
        assert replace(by_session, session_id=None) == by_token, email
        assert by_token.is_authenticated
    sa = await viewer_for_api_token(await api_token(PARTNER_EMAILS["sa_contact"]))
    assert sa.partner_ids == {world.ga_pilot}


# --- the page's permissions ----------------------------------------------------------------------------------

ROUTES_COVERED = {
    ("GET", "/compte/jetons"),
    ("POST", "/compte/jetons"),
    ("POST", "/compte/jetons/{token_id:str}/revoquer"),
}


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = await client.get("/compte/jetons")
    assert response.status_code == 303 and response.headers["location"] == "/connexion?suivant=/compte/jetons"
    await api_token(EMAILS["ga_editor"])
    row = await ApiToken.select(ApiToken.id).first()
    for path in ("/compte/jetons", f"/compte/jetons/{row['id']}/revoquer"):
        response = await client.post(path, {"name": "Intrus"})
        assert response.status_code == 303 and response.headers["location"] == "/connexion"
    assert await ApiToken.count() == 1
    assert (await ApiToken.select(ApiToken.revoked_at).first())["revoked_at"] is None


@pytest.mark.parametrize("person", ["admin", "reviewer", "ga_reader", "vr_editor", "nobody"])
async def test_every_signed_in_person_manages_their_own_tokens(make_client, world, person):
    browser = await make_client()
    await browser.login(EMAILS[person])
    assert (await browser.get("/compte/jetons")).status_code == 200
    created = await create_on_the_page(browser, f"Jeton {person}")
    assert created.status_code == 201
    row = await ApiToken.select(ApiToken.id, ApiToken.user.email.as_alias("email")).first()
    assert row["email"] == EMAILS[person]
    assert (await browser.submit("/compte/jetons", f"/compte/jetons/{row['id']}/revoquer")).status_code == 303
