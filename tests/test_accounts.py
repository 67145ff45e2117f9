"""Signing in and out: server-side sessions, CSRF on every unsafe request, argon2id, throttling."""
import pytest

from tests.browser import PASSWORD
from tests.factories import EMAILS, history_count
from tracker.accounts.tables import User, UserSession

pytestmark = pytest.mark.anyio


async def test_signing_in_opens_a_server_side_session_with_a_new_id(client, world):
    before = client.http.cookies.get("suivi_session")
    response = await client.login_through_form(EMAILS["ga_editor"])
    token = client.http.cookies.get("suivi_session")
    assert token and token != before
    assert len(token) >= 40
    assert await UserSession.count() == 1
    stored = await UserSession.select(UserSession.token_hash).first()
    assert stored["token_hash"] != token  # only a hash is kept
    set_cookie = response.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax")
    # A second sign-in gets yet another id.
    await client.login_through_form(EMAILS["ga_editor"])
    assert client.http.cookies.get("suivi_session") != token


async def test_the_home_page_sends_an_editor_to_their_roadmap(client, world):
    await client.login_through_form(EMAILS["ga_editor"])
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == f"/feuilles-de-route/{world.ga_roadmap}"
    await client.login_through_form(EMAILS["reviewer"])
    assert (await client.get("/")).headers["location"] == "/pilotage"


async def test_a_wrong_password_is_refused_in_french_without_saying_which_part_is_wrong(client, world):
    await client.get("/connexion")
    response = await client.post("/connexion", {"email": EMAILS["ga_editor"], "password": "pas-le-bon-mot-de-passe"})
    assert response.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in response.text
    unknown = await client.post("/connexion", {"email": "inconnu@example.org", "password": PASSWORD})
    assert unknown.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in unknown.text
    assert await UserSession.count() == 0


async def test_a_disabled_account_cannot_sign_in(client, world):
    await User.update({User.is_active: False}).where(User.email == EMAILS["ga_editor"])
    await client.get("/connexion")
    response = await client.post("/connexion", {"email": EMAILS["ga_editor"], "password": PASSWORD})
    assert response.status_code == 401


async def test_signing_out_ends_the_session_on_the_server(client, world):
    await client.login_through_form(EMAILS["ga_editor"])
    token = client.http.cookies.get("suivi_session")
    response = await client.post("/deconnexion")
    assert response.status_code == 303
    assert await UserSession.count() == 0
    # Replaying the old cookie (as a thief would) no longer works.
    client.http.cookies.set("suivi_session", token)
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert page.status_code == 303 and page.headers["location"].startswith("/connexion")


async def test_sign_out_is_a_post_only(client, world):
    await client.login_through_form(EMAILS["ga_editor"])
    response = await client.get("/deconnexion")
    assert response.status_code == 405
    assert "Méthode non autorisée" in response.text
    assert await UserSession.count() == 1


async def test_a_session_idle_too_long_is_ended(client, world):
    import arrow

    await client.login_through_form(EMAILS["ga_editor"])
    await UserSession.update({UserSession.last_seen_at: arrow.utcnow().shift(hours=-3).datetime}).where(
        UserSession.id.is_not_null())
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert page.status_code == 303
    assert await UserSession.count() == 0


async def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client, world):
    await client.login_through_form(EMAILS["ga_editor"])
    response = await client.post(f"/actions/{world.upcoming}/statut", {"status": "en_cours", "version": "1"},
                                 csrf=False)
    assert response.status_code == 403
    assert "jeton de sécurité" in response.text
    assert await history_count(world.upcoming) == 0


async def test_an_htmx_post_without_the_csrf_header_is_refused(client, world):
    await client.login_through_form(EMAILS["ga_editor"])
    response = await client.post(f"/actions/{world.upcoming}/statut", {"status": "en_cours", "version": "1"},
                                 htmx=True, csrf=False)
    assert response.status_code == 403
    assert await history_count(world.upcoming) == 0


async def test_a_forged_csrf_token_is_refused(client, world):
    await client.login_through_form(EMAILS["ga_editor"])
    response = await client.post(f"/actions/{world.upcoming}/statut",
                                 {"status": "en_cours", "version": "1", "_csrf_token": "a" * 64})
    assert response.status_code == 403
    assert await history_count(world.upcoming) == 0


async def test_sign_in_itself_needs_the_csrf_token(client, world):
    response = await client.post("/connexion", {"email": EMAILS["ga_editor"], "password": PASSWORD}, csrf=False)
    assert response.status_code == 403
    assert await UserSession.count() == 0


async def test_passwords_are_stored_with_argon2id(world):
    from tracker.accounts.passwords import hash_password

    stored = await hash_password("un mot de passe assez long")
    assert stored.startswith("$argon2id$")


def test_outside_the_test_suite_passwords_get_argon2id_at_its_production_cost():
    """The suite hashes cheaply (SUIVI_TESTS_CHEAP_PASSWORD_HASHING); a server process, even with that variable left
    in its environment, hashes with argon2id, t=3, m=64 MiB, p=4 (RFC 9106's low-memory profile)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = ("import asyncio; from argon2 import extract_parameters; from tracker.accounts.passwords import hash_password;"
              "p = extract_parameters(asyncio.run(hash_password('un mot de passe assez long')));"
              "print(p.type.name, p.time_cost, p.memory_cost, p.parallelism)")
    env = {**os.environ, "SUIVI_TESTS_CHEAP_PASSWORD_HASHING": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["ID", "3", "65536", "4"]


async def test_too_short_passwords_are_refused(world):
    from tracker.accounts.service import create_user
    from tracker.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="12 caractères"):
        await create_user(email="court@example.org", full_name="Court", password="trop-court")


async def test_repeated_failures_slow_that_address_down_with_growing_waits(client, world):
    from datetime import datetime, timedelta, timezone

    from tracker.accounts import throttle
    from tracker.core import clock

    start = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    await client.get("/connexion")
    wrong = {"email": EMAILS["ga_editor"], "password": "mauvais-mot-de-passe"}
    right = {"email": EMAILS["ga_editor"], "password": PASSWORD}
    with clock.fixed_at(start):
        for _ in range(throttle.FREE_TRIES):
            assert (await client.post("/connexion", wrong)).status_code == 401
        slowed = await client.post("/connexion", right)
        assert slowed.status_code == 429 and slowed.headers["retry-after"] == "1"
        assert "Trop de tentatives" in slowed.text and "1 seconde" in slowed.text.replace("\u00a0", " ")
    assert await UserSession.count() == 0
    # Each new failure after the wait doubles the next one: 2 s, 4 s, 8 s…
    at, waits = start, []
    for wait in (1, 2, 4):
        at += timedelta(seconds=wait)
        with clock.fixed_at(at):
            assert (await client.post("/connexion", wrong)).status_code == 401
            waits.append(int((await client.post("/connexion", right)).headers["retry-after"]))
    assert waits == [2, 4, 8]
    # Once the wait is over, the right password works.
    with clock.fixed_at(at + timedelta(seconds=8)):
        assert (await client.post("/connexion", right)).status_code == 303


async def test_after_sign_in_the_user_goes_back_to_the_page_asked_for_but_never_off_site(client, world):
    target = f"/feuilles-de-route/{world.ga_roadmap}?statut=en_cours"
    first = await client.get(target)
    assert first.status_code == 303
    login_page = await client.get(first.headers["location"])
    fields = client.form("/connexion", login_page).fields
    response = await client.post("/connexion", {**fields, "email": EMAILS["ga_editor"], "password": PASSWORD})
    assert response.headers["location"] == target
    await client.post("/deconnexion")
    await client.get("/connexion")
    evil = await client.post("/connexion", {"email": EMAILS["ga_editor"], "password": PASSWORD,
                                            "suivant": "//evil.example.com/"})
    assert evil.headers["location"] == "/"


async def test_pages_carry_security_headers(client, world):
    response = await client.get("/connexion")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def _redis_url() -> str | None:
    """The test Redis (TEST_REDIS_URL, default the local one, database 15), or None when none answers.
    Under CI (CI=true) a missing Redis is a failure, not a skip: .ci/run starts it."""
    import os
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI") == "true":
            raise AssertionError(f"Redis injoignable à {url} alors que CI=true") from None
        return None
    return url


async def test_with_redis_the_sign_in_lock_is_shared_by_every_app_process(client, world):
    """Several app processes share the failure counter through Redis: a new store (as in another process,
    with its own connection) still sees the lock."""
    url = _redis_url()
    if url is None:
        pytest.skip("pas de Redis joignable sur cette machine (TEST_REDIS_URL) : chemin Redis non vérifié ici")
    from litestar.stores.redis import RedisStore

    from tracker.accounts import throttle

    import uuid

    namespace = f"suivi-tests-{uuid.uuid4().hex[:8]}"  # runs in parallel do not share counters
    first = RedisStore.with_client(url=url, namespace=namespace)
    await first.delete_all()
    throttle._store = first
    await client.get("/connexion")
    for _ in range(throttle.FREE_TRIES):
        await client.post("/connexion", {"email": EMAILS["ga_editor"], "password": "mauvais-mot-de-passe"})
    throttle._store = RedisStore.with_client(url=url, namespace=namespace)  # "another process"
    locked = await client.post("/connexion", {"email": EMAILS["ga_editor"], "password": PASSWORD})
    assert locked.status_code == 429
    await throttle._store.delete_all()
    await first._redis.aclose()
    await throttle._store._redis.aclose()
    throttle._store = None
