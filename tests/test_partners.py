"""The partner directory (DESIGN.md §3): typed partners with checked identifiers, no duplicates, the territories
they work with; référents keep their territory's directory, every member reads it, the ADGCF reads all."""
import html

import pytest

from tests.browser import forms_in

from tests.factories import EMAILS, PARTNER_EMAILS, build_partner_world, commitment, partner
from tracker.core.identifiers import rna_ok, siren_ok, siret_ok
from tracker.partners.tables import Partner, PartnerTerritory

pytestmark = pytest.mark.anyio

NEW = "/partenaires/nouveau"


def plain(response) -> str:
    return html.unescape(response.text).replace("\u00a0", " ").replace("\u202f", " ")


async def create(client, **fields):
    return await client.submit(NEW, NEW, fields)


# --- identifiers ------------------------------------------------------------------------------------------------

def test_real_identifiers_pass_and_near_misses_fail():
    assert siren_ok("200071827")  # CA du Grand Angoulême
    assert siren_ok("200 071 827")
    assert siret_ok("356 000 000 00048")  # La Poste, siège (Luhn holds)
    assert siret_ok("35600000049837")  # a La Poste establishment: Luhn fails, digits sum to a multiple of 5
    assert siret_ok("73282932000074")
    for wrong in ("200071828", "200071872", "20007182", "2000718270", "000000000", "20007182A", "２００071827"):
        assert not siren_ok(wrong), wrong
    for wrong in ("35600000000049", "35600000049838", "73282932000075", "3560000000004", "00000000000000",
                  "12345678900013"):
        assert not siret_ok(wrong), wrong
    assert rna_ok("W161000123") and rna_ok("w161000123")
    for wrong in ("W16100012", "W1610001234", "X161000123", "161000123", "W16100012A"):
        assert not rna_ok(wrong), wrong


async def test_a_referent_adds_a_partner_with_real_identifiers(client, world):
    await client.login(EMAILS["ga_referent"])
    page = await client.get(NEW)
    assert "Territoires avec lesquels il travaille" in page.text
    response = await create(client, name="La Poste Angoulême", legal_form="entreprise", siren="356 000 000",
                            siret="356 000 000 00048")
    assert response.status_code == 303
    created = await Partner.select().where(Partner.name == "La Poste Angoulême").first()
    assert (created["siren"], created["siret"], created["sector"]) == ("356000000", "35600000000048", "prive")
    assert await PartnerTerritory.exists().where(
        (PartnerTerritory.partner == created["id"]) & (PartnerTerritory.territory == world.ga))
    detail = await client.get(response.headers["location"])
    assert "Le partenaire a été ajouté à l’annuaire." in plain(detail)
    assert "35600000000048" in detail.text and "Entreprise" in detail.text


@pytest.mark.parametrize("fields,field,message", [
    ({"siren": "200071828"}, "siren", "Ce SIREN n’est pas valide"),
    ({"siren": "2000718"}, "siren", "Ce SIREN n’est pas valide"),
    ({"siret": "35600000000049"}, "siret", "Ce SIRET n’est pas valide"),
    ({"siret": "200071827 00011"}, "siret", "Ce SIRET n’est pas valide"),
    ({"siren": "200071827", "siret": "356 000 000 00048"}, "siret", "Le SIRET doit commencer par le SIREN"),
    ({"rna": "W16100012"}, "rna", "Ce numéro RNA n’est pas valide"),
    ({"rna": "W161000999", "legal_form": "fondation"}, "rna", "ne concerne que les associations loi 1901"),
    ({"legal_form": "dsp"}, "dsp_contract_end", "est obligatoire pour un délégataire de service public"),
    ({"dsp_contract_end": "2030-12-31"}, "dsp_contract_end", "ne concerne que les délégataires"),
    ({"dsp_contract_end": "31/12/2030", "legal_form": "dsp"}, "dsp_contract_end", "n’est pas une date valide"),
    ({"legal_form": "sarl"}, "legal_form", "valeur inconnue"),
    ({"name": ""}, "name", "« Nom » est obligatoire."),
    ({"name": "x" * 201}, "name", "ne peut dépasser 200 caractères"),
    ({"territoire_{ga}": ""}, "territoires", "Cochez au moins un territoire"),
])
async def test_bad_partner_forms_are_refused_in_french_and_nothing_is_written(client, world, fields, field, message):
    await client.login(EMAILS["ga_referent"])
    fields = {k.replace("{ga}", str(world.ga)): v for k, v in fields.items()}
    before = await Partner.count()
    response = await create(client, **{"name": "Régie de quartier", "legal_form": "association", **fields})
    assert response.status_code == 422
    assert message in plain(response)
    assert f'id="{field}-erreur"' in response.text or field == "territoires"
    assert 'role="alert"' in response.text
    assert await Partner.count() == before


async def test_a_duplicate_identifier_is_refused_and_the_existing_partner_can_be_asked_for_instead(make_client, world):
    await Partner.update({Partner.siren: "356000000"}).where(Partner.id == world.vr_pilot)  # SEM Drôme, Valence
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    assert "SEM Drôme" not in (await referent.get("/partenaires")).text
    response = await create(referent, name="Un autre nom", legal_form="sem", siren="356 000 000")
    assert response.status_code == 422
    assert "Ce SIREN est déjà celui du partenaire « SEM Drôme »" in plain(response)
    assert await Partner.count() == 2
    # Rather than a duplicate, the référent asks for the existing partner: a request, not an attachment.
    form = referent.form(f"/partenaires/{world.vr_pilot}/rattacher", response)
    asked = await referent.post(f"/partenaires/{world.vr_pilot}/rattacher", form.fields)
    assert asked.status_code == 303 and asked.headers["location"] == "/partenaires"
    assert "SEM Drôme" not in (await referent.get("/partenaires")).text
    assert (await referent.get(f"/partenaires/{world.vr_pilot}")).status_code == 404
    assert await PartnerTerritory.count().where(PartnerTerritory.partner == world.vr_pilot) == 1
    # Asking again, or for a territory one does not keep, is refused.
    again = await referent.post(f"/partenaires/{world.vr_pilot}/rattacher", form.fields)
    assert again.status_code == 422 and "attend déjà la réponse" in plain(again)
    other = await referent.post(f"/partenaires/{world.vr_pilot}/rattacher", {**form.fields, "territoire": str(world.vr)})
    assert other.status_code == 422
    # Someone who keeps the partner (here an administrator) accepts it from the partner's page.
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    page = await admin.get(f"/partenaires/{world.vr_pilot}")
    assert "Demandes de rattachement" in page.text and "CA du Grand Angoulême" in page.text
    accept = [f for f in forms_in(page.text) if f.action.endswith("/etat") and f.fields.get("status") == "accepte"][0]
    assert (await admin.post(accept.action, accept.fields)).status_code == 303
    assert "SEM Drôme" in (await referent.get("/partenaires")).text
    assert (await referent.get(f"/partenaires/{world.vr_pilot}")).status_code == 200


async def test_a_close_name_is_flagged_and_created_only_once_confirmed(client, world):
    await client.login(EMAILS["ga_referent"])
    flagged = await create(client, name="Association Solidarite  Angoumois", legal_form="association")
    assert flagged.status_code == 422
    assert "Un partenaire au nom proche existe déjà : « Solidarité Angoumois »" in plain(flagged)
    assert await Partner.count() == 2
    confirmed = await create(client, name="Association Solidarite  Angoumois", legal_form="association",
                             confirmer_nom="1")
    assert confirmed.status_code == 303
    assert await Partner.count() == 3
    # A genuinely different name goes through at once.
    assert (await create(client, name="Régie de quartier de Basseau", legal_form="regie")).status_code == 303


async def test_an_administrator_adds_partners_for_any_territory_by_siren(client, world):
    await client.login(EMAILS["admin"])
    response = await create(client, name="Banque des territoires", legal_form="etablissement_public",
                            autres_territoires="200071827 200068781")
    assert response.status_code == 303
    row = await Partner.select(Partner.id).where(Partner.name == "Banque des territoires").first()
    assert await PartnerTerritory.count().where(PartnerTerritory.partner == row["id"]) == 2
    unknown = await create(client, name="Autre", legal_form="etat", autres_territoires="999999999")
    assert unknown.status_code == 422
    assert "Aucun territoire ne porte le SIREN « 999999999 »" in plain(unknown)


async def test_a_referent_edits_a_partner_and_a_stale_form_is_refused(make_client, world):
    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_referent"])
    await second.login(EMAILS["admin"])
    edit = f"/partenaires/{world.ga_pilot}/modifier"
    await second.get(edit)
    stale = dict(second.form(edit).fields)
    ok = await first.submit(edit, edit, {"rna": "W161000123"})
    assert ok.status_code == 303
    row = await Partner.select().where(Partner.id == world.ga_pilot).first()
    assert (row["rna"], row["version"]) == ("W161000123", 2)
    late = await second.post(edit, {**stale, "name": "Nom écrasé"})
    assert late.status_code == 409
    assert "modifié par quelqu’un d’autre" in plain(late)
    assert (await Partner.select(Partner.name).where(Partner.id == world.ga_pilot).first())["name"] == (
        "Solidarité Angoumois")


async def test_a_territory_with_ongoing_commitments_cannot_be_removed_from_a_partner(client, world):
    await commitment(world.upcoming, world.ga_pilot, state="confirme")
    await client.login(EMAILS["admin"])
    edit = f"/partenaires/{world.ga_pilot}/modifier"
    response = await client.submit(edit, edit, {f"territoire_{world.ga}": "", "autres_territoires": "200068781"})
    assert response.status_code == 422
    assert "engagements en cours" in plain(response)
    assert await PartnerTerritory.exists().where(
        (PartnerTerritory.partner == world.ga_pilot) & (PartnerTerritory.territory == world.ga))


# --- reading the directory --------------------------------------------------------------------------------------

@pytest.mark.parametrize("person,sees,hidden", [
    ("ga_reader", ["Solidarité Angoumois"], ["SEM Drôme"]),
    ("vr_editor", ["SEM Drôme"], ["Solidarité Angoumois"]),
    ("reviewer", ["Solidarité Angoumois", "SEM Drôme"], []),
    ("admin", ["Solidarité Angoumois", "SEM Drôme"], []),
    ("nobody", [], ["Solidarité Angoumois", "SEM Drôme"]),
    ("sa_contact", ["Solidarité Angoumois"], ["SEM Drôme"]),
])
async def test_each_person_sees_the_partners_of_their_territories_or_organisation(client, world, person, sees, hidden):
    await build_partner_world(world)
    await client.login({**EMAILS, **PARTNER_EMAILS}[person])
    page = await client.get("/partenaires")
    results = page.text.split('id="resultats"')[1]
    for name in sees:
        assert name in results, name
    for name in hidden:
        assert name not in results, name


async def test_search_by_name_or_identifier_and_filter_by_sector(client, world):
    await partner("Département de la Charente", "public", "departement", world.ga)
    await Partner.update({Partner.siren: "200071827"}).where(Partner.name == "Département de la Charente")
    await client.login(EMAILS["ga_reader"])
    for query, expected, absent in [
        ("q=solidarit", "Solidarité Angoumois", "Département de la Charente"),
        ("q=200+071+827", "Département de la Charente", "Solidarité Angoumois"),
        ("secteur=public", "Département de la Charente", "Solidarité Angoumois"),
        ("secteur=associatif", "Solidarité Angoumois", "Département de la Charente"),
        ("forme=departement", "Département de la Charente", "Solidarité Angoumois"),
    ]:
        results = (await client.get(f"/partenaires?{query}")).text.split('id="resultats"')[1]
        assert expected in results and absent not in results, query
    fragment = await client.get("/partenaires?secteur=public", htmx=True)
    assert "<html" not in fragment.text and "Département de la Charente" in fragment.text


@pytest.mark.parametrize("query", ["secteur=mafia", "forme=sarl", "page=0", "page=abc", "q=" + "x" * 101])
async def test_bad_directory_filters_get_a_french_400(client, world, query):
    await client.login(EMAILS["ga_reader"])
    response = await client.get(f"/partenaires?{query}")
    assert response.status_code == 400
    assert "Filtre invalide" in plain(response)


async def test_contacts_are_shown_to_editors_not_to_readers_nor_to_the_adgcf(make_client, world):
    await build_partner_world(world)
    for person, shown in [("ga_editor", True), ("ga_referent", True), ("admin", True), ("sa_contact", True),
                          ("ga_reader", False), ("reviewer", False)]:
        client = await make_client()
        await client.login({**EMAILS, **PARTNER_EMAILS}[person])
        page = await client.get(f"/partenaires/{world.ga_pilot}")
        assert page.status_code == 200
        assert ("jeanne.martin@solidarite-angoumois.example.org" in page.text) is shown, person


async def test_a_partner_page_lists_its_commitments_the_viewer_may_read(make_client, world):
    await build_partner_world(world)
    await commitment(world.secret, world.ga_pilot, description="Audit secret du partenaire")
    member = await make_client()
    await member.login(EMAILS["ga_reader"])
    page = await member.get(f"/partenaires/{world.ga_pilot}")
    assert "Guichet unique des associations" in page.text and "Audit confidentiel" in page.text
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    page = await reviewer.get(f"/partenaires/{world.ga_pilot}")
    assert "Guichet unique des associations" in page.text and "Audit confidentiel" not in page.text
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    page = await sa.get(f"/partenaires/{world.ga_pilot}")
    assert "Guichet unique des associations" in page.text and "Audit confidentiel" not in page.text
