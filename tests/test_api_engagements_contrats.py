"""API v1: partners' commitments and reciprocity agreements, read with the same rules as their pages."""
from __future__ import annotations

import pytest

from tests.factories import (
    AGREEMENT_EMAILS,
    EMAILS,
    PARTNER_EMAILS,
    api_token,
    build_agreement_world,
    build_partner_world,
    commitment,
)

pytestmark = pytest.mark.anyio

ALL_EMAILS = {**EMAILS, **PARTNER_EMAILS, **AGREEMENT_EMAILS}


async def get(http, person: str, path: str):
    token = await api_token(ALL_EMAILS[person])
    return await http.get(path, headers={"Authorization": f"Bearer {token}"})


ROUTES_COVERED = {
    ("GET", "/api/v1/engagements"),
    ("GET", "/api/v1/engagements/{commitment_id:str}"),
    ("GET", "/api/v1/contrats"),
    ("GET", "/api/v1/contrats/{agreement_id:str}"),
}

# GA's commitment (Solidarité Angoumois on « Guichet unique »): members, the ADGCF, and that partner's contact.
COMMITMENT_EXPECTED = {
    "admin": 200, "reviewer": 200, "ga_editor": 200, "ga_reader": 200, "vr_editor": 404, "nobody": 404,
    "sa_contact": 200, "sem_contact": 404,
}
# The GA ↔ Charente Limousine agreement: members of either party and the ADGCF.
AGREEMENT_EXPECTED = {
    "admin": 200, "reviewer": 200, "ga_editor": 200, "ga_reader": 200, "vr_editor": 404, "nobody": 404,
    "cl_reader": 200, "sa_contact": 404,
}


@pytest.mark.parametrize("person", list(COMMITMENT_EXPECTED))
async def test_a_commitment_is_read_by_whom_its_page_shows_it_to(client, world, person):
    partners = await build_partner_world(world)
    response = await get(client.http, person, f"/api/v1/engagements/{partners.ga_commitment}")
    assert response.status_code == COMMITMENT_EXPECTED[person], (person, response.text)
    listed = (await get(client.http, person, "/api/v1/engagements")).json()
    ids = {row["id"] for row in listed["donnees"]}
    assert (partners.ga_commitment in ids) is (COMMITMENT_EXPECTED[person] == 200)
    if COMMITMENT_EXPECTED[person] == 200:
        body = response.json()
        assert body["partenaire"] == "Solidarité Angoumois" and body["etat"] == "propose"
        assert body["titre_action"] == "Guichet unique des associations"
        assert body["territoire"]["siren"] == "200071827"


async def test_commitments_lists_follow_each_persons_rights(client, world):
    partners = await build_partner_world(world)
    secret = await commitment(world.secret, world.ga_pilot, description="Audit")
    seen = {}
    for person in ("reviewer", "ga_reader", "vr_editor", "sa_contact", "sem_contact", "nobody"):
        body = (await get(client.http, person, "/api/v1/engagements")).json()
        seen[person] = {row["id"] for row in body["donnees"]}
        assert body["total"] == len(seen[person])
    assert seen["reviewer"] == {partners.ga_commitment, partners.vr_commitment}, "jamais une action confidentielle"
    assert seen["ga_reader"] == {partners.ga_commitment, secret}
    assert seen["vr_editor"] == {partners.vr_commitment}
    assert seen["sa_contact"] == {partners.ga_commitment}
    assert seen["sem_contact"] == {partners.vr_commitment}
    assert seen["nobody"] == set()
    assert (await get(client.http, "reviewer", f"/api/v1/engagements/{secret}")).status_code == 404
    vr = (await get(client.http, "vr_editor", f"/api/v1/engagements/{partners.vr_commitment}")).json()
    assert (vr["montant"], vr["unite"], vr["role_libelle"]) == (12500, "euros", "Financeur")


async def test_commitments_filters(client, world):
    partners = await build_partner_world(world)
    body = (await get(client.http, "reviewer", f"/api/v1/engagements?action={world.vr_action}")).json()
    assert [row["id"] for row in body["donnees"]] == [partners.vr_commitment]
    assert (await get(client.http, "reviewer", "/api/v1/engagements?etat=confirme")).json()["total"] == 0
    assert (await get(client.http, "reviewer", "/api/v1/engagements?etat=propose")).json()["total"] == 2
    paged = (await get(client.http, "reviewer", "/api/v1/engagements?par_page=1&page=2")).json()
    assert (paged["total"], paged["pages"], len(paged["donnees"])) == (2, 2, 1)
    for query in ("etat=nimporte", "action=abc", "action=0", "par_page=1000"):
        response = await get(client.http, "reviewer", f"/api/v1/engagements?{query}")
        assert response.status_code == 400, query
        assert response.json()["erreur"]["champs"]


@pytest.mark.parametrize("person", list(AGREEMENT_EXPECTED))
async def test_an_agreement_is_read_by_its_parties_and_the_adgcf(client, world, person):
    await build_partner_world(world)
    deal = await build_agreement_world(world)
    response = await get(client.http, person, f"/api/v1/contrats/{deal.agreement}")
    assert response.status_code == AGREEMENT_EXPECTED[person], (person, response.text)
    listed = (await get(client.http, person, "/api/v1/contrats")).json()
    assert ([row["id"] for row in listed["donnees"]] == [deal.agreement]) is (AGREEMENT_EXPECTED[person] == 200)
    if AGREEMENT_EXPECTED[person] == 404:
        assert listed["total"] == 0 and "Charente" not in response.text


async def test_an_agreement_says_what_each_party_brings(client, world):
    deal = await build_agreement_world(world)
    body = (await get(client.http, "ga_reader", f"/api/v1/contrats/{deal.agreement}")).json()
    assert body["etat"] == "a_signer" and body["etat_libelle"] == "À signer"
    assert [p["territoire"]["nom"] for p in body["parties"]] == ["CA du Grand Angoulême", "CC de Charente Limousine"]
    assert body["parties"][0]["deliberation_ref"] == "GA-2026-112" and body["parties"][0]["signe_le"] is None
    brings = {o["titre"]: o for o in body["obligations"]}
    assert brings["Ouvrir le centre de santé aux habitants"]["partie"] == "CA du Grand Angoulême"
    assert brings["Ouvrir le centre de santé aux habitants"]["pour"] == "CC de Charente Limousine"
    assert brings["Ouvrir le centre de santé aux habitants"]["partenaire"] == "Solidarité Angoumois"
    assert brings["Livrer des produits locaux aux cantines"]["statut_libelle"] == "À venir"
    listed = (await get(client.http, "reviewer", "/api/v1/contrats?etat=a_signer")).json()
    assert listed["total"] == 1 and listed["donnees"][0]["parties"][1]["territoire"]["siren"] == "200072049"
    assert (await get(client.http, "reviewer", "/api/v1/contrats?etat=en_vigueur")).json()["total"] == 0
    assert (await get(client.http, "reviewer", "/api/v1/contrats?etat=x")).status_code == 400
    for path in ("/api/v1/contrats/abc", "/api/v1/contrats/999999", "/api/v1/engagements/0"):
        assert (await get(client.http, "reviewer", path)).status_code == 404, path


async def test_a_partners_contact_reads_the_action_but_not_its_internal_history(client, make_client, world):
    """As on the action page (`partner_view`): the action their organisation is committed to, not its follow-up."""
    await build_partner_world(world)
    action = await get(client.http, "sa_contact", f"/api/v1/actions/{world.upcoming}")
    assert action.status_code == 200 and action.json()["titre"] == "Guichet unique des associations"
    history = await get(client.http, "sa_contact", f"/api/v1/actions/{world.upcoming}/historique")
    assert history.status_code == 403 and "réservé" in history.json()["erreur"]["message"]
    assert (await get(client.http, "sa_contact", f"/api/v1/actions/{world.overdue}")).status_code == 404
    assert (await get(client.http, "sa_contact", f"/api/v1/feuilles-de-route/{world.ga_roadmap}")).status_code == 404
    browser = await make_client()
    await browser.login(PARTNER_EMAILS["sa_contact"])
    assert (await browser.get(f"/actions/{world.upcoming}")).status_code == 200
    for fmt in ("csv", "xlsx"):
        export = await browser.get(f"/actions/{world.upcoming}/historique.{fmt}")
        assert export.status_code == 403 and "réservé" in export.text
    assert (await browser.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv")).status_code == 404
