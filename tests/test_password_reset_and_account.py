"""Forgotten password from /connexion (same answer for any address, a single-use link valid one hour that ends
every session of the account) and « Mon compte » (/compte: name, password change asking the current one, sessions
with their device and last use, ended one by one; a new password ends every other session)."""
import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from tests.browser import PASSWORD
from tests.factories import EMAILS
from tracker.accounts.tables import PasswordReset, User, UserSession
from tracker.core import clock

pytestmark = pytest.mark.anyio

ROUTES_COVERED = {
    ("GET", "/mot-de-passe-oublie"), ("POST", "/mot-de-passe-oublie"),
    ("GET", "/mot-de-passe/{token:str}"), ("POST", "/mot-de-passe/{token:str}"),
    ("GET", "/compte"), ("POST", "/compte/nom"), ("POST", "/compte/mot-de-passe"),
    ("POST", "/compte/sessions/{session_id:str}/fin"),
}
NEW_PASSWORD = "une phrase de passe toute neuve"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.0 Mobile/15E148 Safari/604.1")
LINK = re.compile(r"http\S*/mot-de-passe/([A-Za-z0-9_-]{43})")


@pytest.fixture
def outbox(monkeypatch, tmp_path):
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


async def ask_link(client, email: str):
    await client.get("/mot-de-passe-oublie")
    return await client.post("/mot-de-passe-oublie", {"email": email})


async def link_for(client, outbox, email: str) -> str:
    before = outbox()
    await ask_link(client, email)
    new = [mail for mail in outbox() if mail not in before]  # files are named by the second: order by content
    assert len(new) == 1 and new[0][0] == email
    return "/mot-de-passe/" + LINK.search(new[0][1]).group(1)


async def signed_in(client) -> bool:
    response = await client.get("/territoires")
    return response.status_code == 200


async def password_hash(email: str) -> str:
    return (await User.select(User.password_hash).where(User.email == email).first())["password_hash"]


async def test_the_sign_in_page_leads_to_the_forgotten_password_form(client, world):
    page = await client.get("/connexion")
    assert 'href="/mot-de-passe-oublie"' in page.text
    form = await client.get("/mot-de-passe-oublie")
    assert form.status_code == 200 and '<label for="email">' in form.text


async def test_the_answer_is_the_same_for_known_and_unknown_addresses(client, world, outbox):
    known = await ask_link(client, EMAILS["ga_editor"])
    unknown = await ask_link(client, "inconnu@ga.example.org")
    malformed = await ask_link(client, "pas une adresse")
    assert known.status_code == unknown.status_code == malformed.status_code == 200
    assert known.text == unknown.text == malformed.text
    assert "Si un compte actif correspond à cette adresse" in known.text
    assert [to for to, _ in outbox()] == [EMAILS["ga_editor"]]
    assert await PasswordReset.count() == 1


async def test_only_a_hash_of_the_token_is_stored_and_the_link_is_256_bits(client, world, outbox):
    link = await link_for(client, outbox, EMAILS["ga_editor"])
    token = link.rsplit("/", 1)[1]
    assert len(token) == 43  # 32 random bytes, base64url
    row = await PasswordReset.select().first()
    assert row["token_hash"] != token and len(row["token_hash"]) == 64
    assert row["expires_at"] - row["created_at"] == timedelta(hours=1)


async def test_the_link_sets_a_password_once_and_ends_every_session(make_client, world, outbox):
    other_device = await make_client()
    await other_device.login(EMAILS["ga_editor"])
    assert await signed_in(other_device)
    visitor = await make_client()
    link = await link_for(visitor, outbox, EMAILS["ga_editor"])
    before = await password_hash(EMAILS["ga_editor"])
    shown = await visitor.get(link)
    assert shown.status_code == 200 and EMAILS["ga_editor"] in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer" and shown.headers["cache-control"] == "no-store"
    assert await password_hash(EMAILS["ga_editor"]) == before and await signed_in(other_device)
    common = await visitor.post(link, {"new_password": "qwerty123456", "confirmation": "qwerty123456"})
    assert common.status_code == 422 and "les plus courants" in common.text
    mismatch = await visitor.post(link, {"new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD + "!"})
    assert mismatch.status_code == 422 and "pas identiques" in mismatch.text
    assert await password_hash(EMAILS["ga_editor"]) == before
    done = await visitor.post(link, {"new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert await signed_in(visitor)  # signed in by the change
    assert not await signed_in(other_device)  # every other session ended
    assert await UserSession.count() == 1
    again = await visitor.post(link, {"new_password": "encore une autre phrase", "confirmation":
                                      "encore une autre phrase"})
    assert again.status_code == 404 and "n’est pas ou plus valable" in again.text
    assert (await visitor.get(link)).status_code == 404
    fresh = await make_client()
    await fresh.login_through_form(EMAILS["ga_editor"], NEW_PASSWORD)
    old = await fresh.post("/connexion", {"email": EMAILS["ga_editor"], "password": PASSWORD})
    assert old.status_code == 401


async def test_the_link_is_worth_one_hour(client, world, outbox):
    link = await link_for(client, outbox, EMAILS["ga_editor"])
    before = await password_hash(EMAILS["ga_editor"])
    with clock.fixed_at(clock.now() + timedelta(minutes=59)):
        assert (await client.get(link)).status_code == 200
    with clock.fixed_at(clock.now() + timedelta(minutes=61)):
        assert (await client.get(link)).status_code == 404
        late = await client.post(link, {"new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
        assert late.status_code == 404 and "Demandez-en un nouveau" in late.text
    assert await password_hash(EMAILS["ga_editor"]) == before
    await client.login_through_form(EMAILS["ga_editor"], PASSWORD)


async def test_a_newer_link_voids_the_older_one(client, world, outbox):
    first = await link_for(client, outbox, EMAILS["ga_editor"])
    second = await link_for(client, outbox, EMAILS["ga_editor"])
    assert (await client.get(first)).status_code == 404
    assert (await client.get(second)).status_code == 200


async def test_asking_again_and_again_waits_whether_the_address_exists_or_not(client, world, outbox):
    for email in (EMAILS["ga_editor"], "inconnu@ga.example.org"):
        answers = [(await ask_link(client, email)).status_code for _ in range(7)]
        assert answers[:5] == [200] * 5 and answers[-1] == 429, (email, answers)
    assert len(outbox()) <= 6


async def test_the_forms_need_their_csrf_token(client, world, outbox):
    await client.get("/mot-de-passe-oublie")
    refused = await client.post("/mot-de-passe-oublie", {"email": EMAILS["ga_editor"]}, csrf=False)
    assert refused.status_code == 403 and outbox() == []
    link = await link_for(client, outbox, EMAILS["ga_editor"])
    before = await password_hash(EMAILS["ga_editor"])
    refused = await client.post(link, {"new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}, csrf=False)
    assert refused.status_code == 403 and await password_hash(EMAILS["ga_editor"]) == before
    assert (await client.get(link)).status_code == 200


async def test_my_account_lists_my_sessions_with_device_and_ends_one(make_client, world):
    laptop = await make_client()
    laptop.http.headers["user-agent"] = FIREFOX
    await laptop.login_through_form(EMAILS["ga_editor"])
    phone = await make_client()
    phone.http.headers["user-agent"] = SAFARI_IPHONE
    await phone.login_through_form(EMAILS["ga_editor"])
    page = await laptop.get("/compte")
    assert page.status_code == 200
    assert "Firefox sur Linux <strong>(cette session)</strong>" in page.text and "Safari sur iPhone" in page.text
    phone_session = (await UserSession.select(UserSession.id).where(UserSession.device == "Safari sur iPhone")
                     .first())["id"]
    ended = await laptop.post(f"/compte/sessions/{phone_session}/fin")
    assert ended.status_code == 303
    assert not await signed_in(phone) and await signed_in(laptop)
    assert "Safari sur iPhone" not in (await laptop.get("/compte")).text


async def test_one_cannot_end_someone_elses_session(make_client, world):
    victim = await make_client()
    await victim.login(EMAILS["ga_reader"])
    attacker = await make_client()
    await attacker.login(EMAILS["ga_editor"])
    victims = (await UserSession.select(UserSession.id).where(
        UserSession.user.email == EMAILS["ga_reader"]).first())["id"]
    response = await attacker.post(f"/compte/sessions/{victims}/fin")
    assert response.status_code == 303
    assert await signed_in(victim)
    assert "Cette session était déjà fermée." in (await attacker.get("/compte")).text


async def test_ending_this_session_signs_out(client, world):
    await client.login(EMAILS["ga_editor"])
    mine = (await UserSession.select(UserSession.id).first())["id"]
    response = await client.post(f"/compte/sessions/{mine}/fin")
    assert response.status_code == 303 and response.headers["location"] == "/connexion"
    assert not await signed_in(client)


async def test_changing_the_password_asks_the_current_one_and_ends_every_other_session(make_client, world):
    here = await make_client()
    await here.login(EMAILS["ga_editor"])
    elsewhere = await make_client()
    await elsewhere.login(EMAILS["ga_editor"])
    before = await password_hash(EMAILS["ga_editor"])
    wrong = await here.post("/compte/mot-de-passe", {
        "current_password": "pas le bon mot de passe", "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert wrong.status_code == 422 and "Le mot de passe actuel est incorrect." in wrong.text
    common = await here.post("/compte/mot-de-passe", {
        "current_password": PASSWORD, "new_password": "1qaz2wsx3edc", "confirmation": "1qaz2wsx3edc"})
    assert common.status_code == 422 and "les plus courants" in common.text
    short = await here.post("/compte/mot-de-passe", {
        "current_password": PASSWORD, "new_password": "court", "confirmation": "court"})
    assert short.status_code == 422 and "au moins 12 caractères" in short.text
    assert await password_hash(EMAILS["ga_editor"]) == before and await signed_in(elsewhere)
    done = await here.post("/compte/mot-de-passe", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert done.status_code == 303
    assert await signed_in(here) and not await signed_in(elsewhere)
    fresh = await make_client()
    await fresh.login_through_form(EMAILS["ga_editor"], NEW_PASSWORD)


async def test_changing_the_password_voids_a_pending_reset_link(client, world, outbox):
    link = await link_for(client, outbox, EMAILS["ga_editor"])
    await client.login(EMAILS["ga_editor"])
    await client.post("/compte/mot-de-passe", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert (await client.get(link)).status_code == 404


async def test_my_name_is_changed_and_an_empty_one_refused(client, world):
    await client.login(EMAILS["ga_editor"])
    empty = await client.post("/compte/nom", {"full_name": "  "})
    assert empty.status_code == 422 and "est obligatoire" in empty.text
    done = await client.post("/compte/nom", {"full_name": "Claire Martin-Éditrice"})
    assert done.status_code == 303
    assert (await User.select(User.full_name).where(User.email == EMAILS["ga_editor"]).first())["full_name"] == \
        "Claire Martin-Éditrice"
    assert "Claire Martin-Éditrice" in (await client.get("/compte")).text


async def test_my_account_posts_need_their_csrf_token(make_client, world):
    client = await make_client()
    await client.login(EMAILS["ga_editor"])
    other = await make_client()
    await other.login(EMAILS["ga_editor"])
    before = await User.select().where(User.email == EMAILS["ga_editor"]).first()
    other_session = (await UserSession.select(UserSession.id).order_by(UserSession.id, ascending=False).first())
    for path, data in (("/compte/nom", {"full_name": "Sans jeton"}),
                       ("/compte/mot-de-passe", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                 "confirmation": NEW_PASSWORD}),
                       (f"/compte/sessions/{other_session['id']}/fin", {})):
        assert (await client.post(path, data, csrf=False)).status_code == 403, path
    assert await User.select().where(User.email == EMAILS["ga_editor"]).first() == before
    assert await signed_in(other)


async def test_anonymous_visitors_are_sent_to_sign_in_from_my_account(client, world):
    response = await client.get("/compte")
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")
    assert (await client.post("/compte/nom", {"full_name": "x"})).status_code in (303, 401)


async def test_the_reset_token_never_reaches_the_logs(client, world, outbox):
    from tracker.core.logs import safe

    link = await link_for(client, outbox, EMAILS["ga_editor"])
    token = link.rsplit("/", 1)[1]
    line = safe(f'127.0.0.1:5000 - "GET {link}?x=1 HTTP/1.1" 200')
    assert token not in line and "/mot-de-passe/***" in line


async def test_a_deactivated_account_gets_no_link_and_the_same_answer(client, world, outbox):
    await User.update({User.is_active: False}).where(User.email == EMAILS["ga_reader"])
    deactivated = await ask_link(client, EMAILS["ga_reader"])
    unknown = await ask_link(client, "inconnu@ga.example.org")
    assert deactivated.status_code == 200 and deactivated.text == unknown.text
    assert outbox() == [] and await PasswordReset.count() == 0


async def test_a_session_idle_too_long_is_not_listed(make_client, world):
    from tracker.core.config import settings

    here = await make_client()
    await here.login(EMAILS["ga_editor"])
    idle = await make_client()
    idle.http.headers["user-agent"] = SAFARI_IPHONE
    await idle.login_through_form(EMAILS["ga_editor"])
    await UserSession.update({UserSession.last_seen_at: clock.now() - timedelta(
        minutes=settings.session_idle_minutes + 1)}).where(UserSession.device == "Safari sur iPhone")
    assert "Safari sur iPhone" not in (await here.get("/compte")).text


async def test_hostile_input_is_refused_in_french_and_changes_nothing(client, world, outbox):
    for email in ("a\x00@ga.example.org", "x" * 5000 + "@ga.example.org", EMAILS["ga_editor"] + "\x00"):
        response = await ask_link(client, email)
        assert response.status_code == 200
    assert outbox() == []
    assert (await client.get("/mot-de-passe/" + "x" * 500)).status_code == 404
    await client.login(EMAILS["ga_editor"])
    before = await User.select().where(User.email == EMAILS["ga_editor"]).first()
    named = await client.post("/compte/nom", {"full_name": "Claire\x00"})
    assert named.status_code == 422 and "caractère interdit" in named.text
    long = await client.post("/compte/nom", {"full_name": "C" * 500})
    assert long.status_code == 422 and "120 caractères" in long.text
    for bad in ("99999999999999999999", "-1", "abc", "１"):
        response = await client.post(f"/compte/sessions/{bad}/fin")
        assert response.status_code == 303 and response.headers["location"] == "/compte", bad
    assert await User.select().where(User.email == EMAILS["ga_editor"]).first() == before
