"""/admin/comptes: administrators search accounts by name or address, see their roles, deactivate and reactivate
them. Deactivation ends every session at once (an old cookie is refused) and voids reset links, API tokens,
calendar addresses and the signed links the account holds; reactivation revives none of them. Only
administrators (403 for everyone else), never without the CSRF token, never oneself."""
import pytest

from tests.browser import PASSWORD
from tests.factories import EMAILS, api_token
from tracker.accounts.tables import PasswordReset, User, UserSession
from tracker.api.tables import ApiToken
from tracker.core import clock
from tracker.deadlines.tables import CalendarFeed

pytestmark = pytest.mark.anyio

ROUTES_COVERED = {
    ("GET", "/admin/comptes"),
    ("POST", "/admin/comptes/{account_id:str}/desactiver"),
    ("POST", "/admin/comptes/{account_id:str}/reactiver"),
}


async def account_id(email: str) -> int:
    return (await User.select(User.id).where(User.email == email).first())["id"]


async def is_active(email: str) -> bool:
    return (await User.select(User.is_active).where(User.email == email).first())["is_active"]


async def signed_in(client) -> bool:
    return (await client.get("/territoires")).status_code == 200


async def test_administrators_search_by_name_or_address_and_see_roles(client, world):
    await client.login(EMAILS["admin"])
    page = await client.get("/admin/comptes")
    assert page.status_code == 200 and "7 comptes" in page.text
    by_name = await client.get("/admin/comptes", params={"q": "claire"})
    assert "Claire Éditrice" in by_name.text and "Louis Lecteur" not in by_name.text
    assert "Éditeur, <a href=\"/territoires/200071827\">CA du Grand Angoulême</a>" in by_name.text
    by_address = await client.get("/admin/comptes", params={"q": "@VR.example"})
    assert "Victor Valence" in by_address.text and "Claire Éditrice" not in by_address.text
    assert "Chargé de mission ADGCF" in (await client.get("/admin/comptes", params={"q": "revue"})).text
    assert "Aucun rôle" in (await client.get("/admin/comptes", params={"q": "Sans Rôle"})).text
    assert "Aucun compte" in (await client.get("/admin/comptes", params={"q": "zzz"})).text


@pytest.mark.parametrize("person", ["reviewer", "ga_referent", "ga_editor", "ga_reader", "nobody"])
async def test_nobody_else_administers_accounts(make_client, world, person):
    client = await make_client()
    await client.login(EMAILS[person])
    assert (await client.get("/admin/comptes")).status_code == 403
    target = await account_id(EMAILS["vr_editor"])
    assert (await client.post(f"/admin/comptes/{target}/desactiver")).status_code == 403
    assert await is_active(EMAILS["vr_editor"])
    await User.update({User.is_active: False}).where(User.id == target)
    assert (await client.post(f"/admin/comptes/{target}/reactiver")).status_code == 403
    assert not await is_active(EMAILS["vr_editor"])


async def test_deactivation_ends_every_session_and_voids_every_link_and_token(make_client, world):
    target = EMAILS["ga_editor"]
    target_id = await account_id(target)
    laptop, phone = await make_client(), await make_client()
    await laptop.login(target)
    await phone.login(target)
    token = await api_token(target)
    assert (await laptop.http.get("/api/v1/territoires", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 200
    await PasswordReset(user=target_id, token_hash="a" * 64, created_at=clock.now(), expires_at=clock.now()).save()
    await CalendarFeed(user=target_id, scope="personne", token_hash="b" * 64, created_at=clock.now()).save()
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    response = await admin.post(f"/admin/comptes/{target_id}/desactiver")
    assert response.status_code == 303
    assert not await is_active(target)
    # Old cookies are refused: both devices are sent to sign in.
    for device in (laptop, phone):
        page = await device.get("/territoires")
        assert page.status_code == 303 and page.headers["location"].startswith("/connexion")
    assert await UserSession.count().where(UserSession.user == target_id) == 0
    assert (await laptop.http.get("/api/v1/territoires", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 401
    assert await ApiToken.count().where((ApiToken.user == target_id) & ApiToken.revoked_at.is_null()) == 0
    assert await CalendarFeed.count().where((CalendarFeed.user == target_id) & CalendarFeed.revoked_at.is_null()) == 0
    assert await PasswordReset.count() == 0
    # Cannot sign in: the same answer as a wrong password, nothing more.
    refused = await laptop.post("/connexion", {"email": target, "password": PASSWORD})
    assert refused.status_code == 401 and "Adresse électronique ou mot de passe incorrect." in refused.text
    listing = await admin.get("/admin/comptes", params={"q": target})
    assert "Désactivé" in listing.text and f"/admin/comptes/{target_id}/reactiver" in listing.text
    # Reactivated: may sign in again, but nothing comes back to life.
    assert (await admin.post(f"/admin/comptes/{target_id}/reactiver")).status_code == 303
    assert await is_active(target)
    assert not await signed_in(phone)
    assert (await laptop.http.get("/api/v1/territoires", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 401
    await laptop.login_through_form(target)
    assert await signed_in(laptop)


async def test_deactivation_voids_the_signed_links_sent_to_the_account_as_a_contact(make_client, world):
    from tests.factories import build_partner_world, commitment
    from tracker.commitments.tables import CommitmentLink

    partners = await build_partner_world(world)
    held = await commitment(world.upcoming, world.ga_pilot)
    now = clock.now()
    await CommitmentLink(commitment=held, contact=partners.sa_contact, token_hash="c" * 64, created_at=now,
                         expires_at=now.replace(year=now.year + 1)).save()
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    assert (await admin.post(f"/admin/comptes/{partners.sa_user}/desactiver")).status_code == 303
    assert await CommitmentLink.count().where(CommitmentLink.voided_at.is_null()) == 0


async def test_deactivation_revokes_the_invitations_the_account_sent(make_client, world, tmp_path, monkeypatch):
    import tracker.mail.settings as mail_settings
    from tracker.members.tables import Invitation
    from tracker.territories.tables import Territory

    monkeypatch.setenv("MAIL_BACKEND", "fichier")
    monkeypatch.setattr(mail_settings, "VAR_DIR", tmp_path)
    siren = (await Territory.select(Territory.siren).where(Territory.id == world.ga).first())["siren"]
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    response = await referent.submit(f"/territoires/{siren}/membres", f"/territoires/{siren}/invitations",
                                     {"email": "nouvelle@ga.example.org", "role": "lecteur"})
    assert response.status_code == 303
    assert await Invitation.count().where(Invitation.state == "en_attente") == 1
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    sender = await account_id(EMAILS["ga_referent"])
    assert (await admin.post(f"/admin/comptes/{sender}/desactiver")).status_code == 303
    assert await Invitation.count().where(Invitation.state == "en_attente") == 0
    assert await Invitation.count().where(Invitation.state == "revoquee") == 1


async def test_an_administrator_cannot_deactivate_themself(client, world):
    await client.login(EMAILS["admin"])
    me = await account_id(EMAILS["admin"])
    assert f"/admin/comptes/{me}/desactiver" not in (await client.get("/admin/comptes")).text
    response = await client.post(f"/admin/comptes/{me}/desactiver")
    assert response.status_code == 422 and "votre propre compte" in response.text
    assert await is_active(EMAILS["admin"]) and await signed_in(client)


async def test_an_unknown_account_is_a_404(client, world):
    await client.login(EMAILS["admin"])
    assert (await client.post("/admin/comptes/999999/desactiver")).status_code == 404
    assert (await client.post("/admin/comptes/abc/reactiver")).status_code == 404


async def test_deactivation_and_reactivation_need_their_csrf_token(make_client, world):
    target_id = await account_id(EMAILS["ga_editor"])
    victim = await make_client()
    await victim.login(EMAILS["ga_editor"])
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    assert (await admin.post(f"/admin/comptes/{target_id}/desactiver", csrf=False)).status_code == 403
    assert await is_active(EMAILS["ga_editor"]) and await signed_in(victim)
    await User.update({User.is_active: False}).where(User.id == target_id)
    assert (await admin.post(f"/admin/comptes/{target_id}/reactiver", csrf=False)).status_code == 403
    assert not await is_active(EMAILS["ga_editor"])


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = await client.get("/admin/comptes")
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


async def test_hostile_searches_are_refused_in_french(client, world):
    await client.login(EMAILS["admin"])
    nul = await client.get("/admin/comptes", params={"q": "a\x00b"})
    assert nul.status_code == 400 and "caractère interdit" in nul.text
    assert (await client.get("/admin/comptes", params={"page": "0"})).status_code == 400
    assert (await client.get("/admin/comptes", params={"q": "%_\\"})).status_code == 200
    assert (await client.post("/admin/comptes/99999999999999999999/desactiver")).status_code == 404
