"""Partners, contacts and commitments: deny by default, for every new route and every kind of person —
anonymous, the wrong territory, the wrong organisation, a reader, the ADGCF. Unreadable → 404, readable but not
allowed → 403; a refused request changes nothing."""
import pytest

from tests.factories import EMAILS, PARTNER_EMAILS, build_partner_world, commitment_history_count
from tracker.commitments.tables import Commitment, CommitmentComment, CommitmentLink
from tracker.partners.tables import Partner, PartnerContact, PartnerTerritory

pytestmark = pytest.mark.anyio

PEOPLE = ["admin", "reviewer", "ga_editor", "ga_reader", "ga_referent", "vr_editor", "nobody", "sa_contact",
          "sem_contact"]
ALL_EMAILS = {**EMAILS, **PARTNER_EMAILS}


def pages(w, pw):
    """GET pages of ISSUE 3 that need a signed-in person (path template → a real path)."""
    return {
        "/partenaires": "/partenaires",
        "/partenaires/nouveau": "/partenaires/nouveau",
        "/partenaires/{partner_id:str}": f"/partenaires/{w.ga_pilot}",
        "/partenaires/{partner_id:str}/modifier": f"/partenaires/{w.ga_pilot}/modifier",
        "/partenaires/{partner_id:str}/contacts/nouveau": f"/partenaires/{w.ga_pilot}/contacts/nouveau",
        "/contacts/{contact_id:str}/modifier": f"/contacts/{pw.sa_volunteer}/modifier",
        "/contacts/{contact_id:str}/export": f"/contacts/{pw.sa_volunteer}/export?format=json",
        "/contacts/{contact_id:str}/effacer": f"/contacts/{pw.sa_volunteer}/effacer",
        "/actions/{action_id:str}/engagements/nouveau": f"/actions/{w.upcoming}/engagements/nouveau",
        "/engagements/{commitment_id:str}/modifier": f"/engagements/{pw.ga_commitment}/modifier",
        "/engagements/{commitment_id:str}/envoyer": f"/engagements/{pw.ga_commitment}/envoyer",
        "/engagements": "/engagements",
    }


# Expected status per person, in the order of PEOPLE. 200 allowed, 403 refused, 404 hidden.
GET_MATRIX = {
    #                                              adm  rev  ga_ed ga_rd ga_ref vr_ed nobody sa   sem
    "/partenaires":                               (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "/partenaires/nouveau":                       (200, 403, 403, 403, 200, 403, 403, 403, 403),
    "/partenaires/{partner_id:str}":              (200, 200, 200, 200, 200, 404, 404, 200, 404),
    "/partenaires/{partner_id:str}/modifier":     (200, 403, 403, 403, 200, 404, 404, 403, 404),
    "/partenaires/{partner_id:str}/contacts/nouveau": (200, 403, 200, 403, 200, 404, 404, 403, 404),
    "/contacts/{contact_id:str}/modifier":        (200, 403, 403, 403, 200, 404, 404, 403, 404),
    "/contacts/{contact_id:str}/export":          (200, 403, 403, 403, 200, 404, 404, 403, 404),
    "/contacts/{contact_id:str}/effacer":         (200, 403, 403, 403, 200, 404, 404, 403, 404),
    # Administrators act on any territory as its référent (issue 10): they record its commitments too.
    "/actions/{action_id:str}/engagements/nouveau": (200, 403, 200, 403, 200, 404, 404, 403, 404),
    "/engagements/{commitment_id:str}/modifier":  (200, 403, 200, 403, 200, 404, 404, 403, 404),
    "/engagements/{commitment_id:str}/envoyer":   (200, 403, 200, 403, 200, 404, 404, 403, 404),
    "/engagements":                               (200, 200, 200, 200, 200, 200, 200, 200, 200),
}


def posts(w, pw):
    """Each POST of ISSUE 3 with a body that would change something if it were allowed."""
    return {
        "/partenaires/nouveau": ("/partenaires/nouveau", {"name": "Intrus", "legal_form": "association",
                                                          f"territoire_{w.ga}": "1"}),
        "/partenaires/{partner_id:str}/modifier": (f"/partenaires/{w.ga_pilot}/modifier",
                                                   {"name": "Intrus", "legal_form": "association", "version": "1",
                                                    f"territoire_{w.ga}": "1"}),
        "/partenaires/{partner_id:str}/rattacher": (f"/partenaires/{w.ga_pilot}/rattacher",
                                                    {"territoire": str(w.vr)}),
        "/partenaires/{partner_id:str}/contacts/nouveau": (f"/partenaires/{w.ga_pilot}/contacts/nouveau",
                                                           {"full_name": "Intrus", "email": "intrus@example.org"}),
        "/contacts/{contact_id:str}/modifier": (f"/contacts/{pw.sa_volunteer}/modifier",
                                                {"full_name": "Intrus", "email": "intrus@example.org",
                                                 "version": "1"}),
        "/contacts/{contact_id:str}/effacer": (f"/contacts/{pw.sa_volunteer}/effacer",
                                               {"version": "1", "confirmation": "1"}),
        "/contacts/{contact_id:str}/compte": (f"/contacts/{pw.sa_contact}/compte", {"operation": "delier"}),
        "/actions/{action_id:str}/engagements/nouveau": (f"/actions/{w.upcoming}/engagements/nouveau",
                                                         {"partner": str(w.ga_pilot), "role": "financeur",
                                                          "description": "Intrusion"}),
        "/engagements/{commitment_id:str}/modifier": (f"/engagements/{pw.ga_commitment}/modifier",
                                                      {"role": "financeur", "description": "Intrusion",
                                                       "version": "1"}),
        "/engagements/{commitment_id:str}/envoyer": (f"/engagements/{pw.ga_commitment}/envoyer",
                                                     {"contact": str(pw.sa_volunteer)}),
        "/engagements/{commitment_id:str}/etat": (f"/engagements/{pw.ga_commitment}/etat",
                                                  {"status": "confirme", "version": "1"}),
        "/engagements/{commitment_id:str}/commentaires": (f"/engagements/{pw.ga_commitment}/commentaires",
                                                          {"body": "Intrusion"}),
    }


# Who is refused each POST, and how (the allowed people are tested in the story modules).
POST_REFUSED = {
    "/partenaires/nouveau": {"reviewer": 403, "ga_editor": 403, "ga_reader": 403, "vr_editor": 403,
                             "nobody": 403, "sa_contact": 403},
    "/partenaires/{partner_id:str}/modifier": {"reviewer": 403, "ga_editor": 403, "ga_reader": 403,
                                               "vr_editor": 404, "nobody": 404, "sa_contact": 403,
                                               "sem_contact": 404},
    # Only référents ask for a partner (403 for everyone else, whatever the id: nothing to enumerate).
    "/partenaires/{partner_id:str}/rattacher": {"reviewer": 403, "ga_editor": 403, "ga_reader": 403,
                                                "vr_editor": 403, "nobody": 403, "sa_contact": 403,
                                                "sem_contact": 403, "ga_referent": 422},
    "/partenaires/{partner_id:str}/contacts/nouveau": {"reviewer": 403, "ga_reader": 403, "vr_editor": 404,
                                                       "nobody": 404, "sa_contact": 403, "sem_contact": 404},
    "/contacts/{contact_id:str}/modifier": {"reviewer": 403, "ga_editor": 403, "ga_reader": 403,
                                            "vr_editor": 404, "nobody": 404, "sa_contact": 403,
                                            "sem_contact": 404},
    "/contacts/{contact_id:str}/effacer": {"reviewer": 403, "ga_editor": 403, "ga_reader": 403, "vr_editor": 404,
                                           "nobody": 404, "sa_contact": 403, "sem_contact": 404},
    "/contacts/{contact_id:str}/compte": {"reviewer": 403, "ga_editor": 403, "ga_reader": 403, "vr_editor": 404,
                                          "nobody": 404, "sa_contact": 403, "sem_contact": 404},
    "/actions/{action_id:str}/engagements/nouveau": {"reviewer": 403, "ga_reader": 403,
                                                     "vr_editor": 404, "nobody": 404, "sa_contact": 403,
                                                     "sem_contact": 404},
    "/engagements/{commitment_id:str}/modifier": {"reviewer": 403, "ga_reader": 403,
                                                  "vr_editor": 404, "nobody": 404, "sa_contact": 403,
                                                  "sem_contact": 404},
    "/engagements/{commitment_id:str}/envoyer": {"reviewer": 403, "ga_reader": 403,
                                                 "vr_editor": 404, "nobody": 404, "sa_contact": 403,
                                                 "sem_contact": 404},
    # Confirming is the partner's alone: not even the territory's editors.
    "/engagements/{commitment_id:str}/etat": {"admin": 403, "reviewer": 403, "ga_editor": 403, "ga_referent": 403,
                                              "ga_reader": 403, "vr_editor": 404, "nobody": 404,
                                              "sem_contact": 404},
    "/engagements/{commitment_id:str}/commentaires": {"reviewer": 403, "ga_reader": 403,
                                                      "vr_editor": 404, "nobody": 404, "sem_contact": 404},
}


class _Stub:
    ga_pilot = upcoming = ga = vr = 1
    sa_volunteer = sa_contact = ga_commitment = 1


ROUTES_COVERED = {("GET", p) for p in pages(_Stub, _Stub)} | {("POST", p) for p in posts(_Stub, _Stub)}


async def snapshot(w, pw) -> tuple:
    """Everything a refused request could have changed."""
    commitment = await Commitment.select(Commitment.state, Commitment.version, Commitment.role,
                                         Commitment.description).where(Commitment.id == pw.ga_commitment).first()
    partner = await Partner.select(Partner.name, Partner.version).where(Partner.id == w.ga_pilot).first()
    contacts = await PartnerContact.select(PartnerContact.full_name, PartnerContact.email,
                                           PartnerContact.account).order_by(PartnerContact.id)
    return (
        await Partner.count(), await PartnerTerritory.count(), await Commitment.count(),
        await CommitmentComment.count(), await CommitmentLink.count(),
        await commitment_history_count(pw.ga_commitment), commitment, partner, contacts,
    )


def test_the_matrix_names_every_page():
    assert set(pages(_Stub, _Stub)) == set(GET_MATRIX)
    assert set(posts(_Stub, _Stub)) == set(POST_REFUSED)


@pytest.mark.parametrize("person", PEOPLE)
async def test_each_page_answers_each_person_as_the_matrix_says(make_client, world, person):
    pw = await build_partner_world(world)
    client = await make_client()
    await client.login(ALL_EMAILS[person])
    for template, path in pages(world, pw).items():
        expected = GET_MATRIX[template][PEOPLE.index(person)]
        response = await client.get(path)
        assert response.status_code == expected, (person, path, response.status_code)
        if expected in (403, 404):
            assert '<html lang="fr">' in response.text
            assert "Accès refusé" in response.text or "introuvable" in response.text or "existe pas" in response.text


@pytest.mark.parametrize("person", PEOPLE)
async def test_refused_posts_change_nothing(make_client, world, person):
    pw = await build_partner_world(world)
    client = await make_client()
    await client.login(ALL_EMAILS[person])
    before = await snapshot(world, pw)
    for template, (path, data) in posts(world, pw).items():
        expected = POST_REFUSED[template].get(person)
        if expected is None:
            continue  # allowed: the story tests cover it
        response = await client.post(path, data)
        assert response.status_code == expected, (person, path, response.status_code)
    assert await snapshot(world, pw) == before


@pytest.mark.parametrize("person", ["ga_reader", "vr_editor", "sa_contact"])
async def test_a_refused_person_is_refused_whatever_they_post(make_client, world, person):
    """Who may act is checked before what was sent: a malformed body gets the same 403/404 as a well-formed one."""
    pw = await build_partner_world(world)
    client = await make_client()
    await client.login(ALL_EMAILS[person])
    before = await snapshot(world, pw)
    garbage = {"version": "abc", "status": "x" * 40, "partner": "y", "contact": "z", "territoire": "t",
               "operation": "?", "email": "pas une adresse", "body": ""}
    for template, (path, _) in posts(world, pw).items():
        expected = POST_REFUSED[template].get(person)
        if expected not in (403, 404):
            continue
        response = await client.post(path, garbage)
        assert response.status_code == expected, (person, path, response.status_code)
    assert await snapshot(world, pw) == before


async def test_anonymous_visitors_are_sent_to_sign_in_and_their_posts_change_nothing(client, world):
    pw = await build_partner_world(world)
    for path in pages(world, pw).values():
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/connexion?suivant=")
    before = await snapshot(world, pw)
    for path, data in posts(world, pw).values():
        response = await client.post(path, data)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/connexion"
    assert await snapshot(world, pw) == before


async def test_posts_without_the_csrf_token_are_refused(client, world):
    pw = await build_partner_world(world)
    await client.login(PARTNER_EMAILS["sa_contact"])
    before = await snapshot(world, pw)
    response = await client.post(f"/engagements/{pw.ga_commitment}/etat", {"status": "confirme", "version": "1"},
                                 csrf=False)
    assert response.status_code == 403
    assert "Formulaire expiré" in response.text
    assert await snapshot(world, pw) == before


async def test_a_partner_contact_reads_only_the_actions_their_organisation_is_committed_to(make_client, world):
    from tests.factories import commitment

    await build_partner_world(world)
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    page = await sa.get(f"/actions/{world.upcoming}")
    assert page.status_code == 200
    assert "Guichet unique des associations" in page.text
    # Their own commitment, and nothing of the territory's internal follow-up.
    assert 'id="engagement-' in page.text and 'id="notes"' not in page.text and 'id="historique"' not in page.text
    # Not the actions their organisation has no part in, nor the roadmap, nor another organisation's action.
    assert (await sa.get(f"/actions/{world.overdue}")).status_code == 404
    assert (await sa.get(f"/feuilles-de-route/{world.ga_roadmap}")).status_code == 404
    assert (await sa.get(f"/actions/{world.vr_action}")).status_code == 404
    # Never a confidential action, even with a commitment on it.
    await commitment(world.secret, world.ga_pilot)
    assert (await sa.get(f"/actions/{world.secret}")).status_code == 404
    listing = await sa.get("/engagements")
    assert "Audit confidentiel" not in listing.text
    # Another organisation's contact sees none of it.
    sem = await make_client()
    await sem.login(PARTNER_EMAILS["sem_contact"])
    assert (await sem.get(f"/actions/{world.upcoming}")).status_code == 404
    mine = await sem.get("/engagements")
    assert "Guichet unique des associations" not in mine.text
    assert "Tableau de bord des satellites" in mine.text


async def test_a_partner_contact_sees_only_their_organisation_s_commitments_on_a_shared_action(make_client, world):
    from tests.factories import commitment, partner

    pw = await build_partner_world(world)
    other = await partner("Ville d’Angoulême", "public", "commune", world.ga)
    await commitment(world.upcoming, other, role="financeur", description="Subvention municipale secrète")
    sa = await make_client()
    await sa.login(PARTNER_EMAILS["sa_contact"])
    page = await sa.get(f"/actions/{world.upcoming}")
    assert "Mise à disposition de deux bénévoles" in page.text
    assert "Subvention municipale secrète" not in page.text
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    assert "Subvention municipale secrète" in (await editor.get(f"/actions/{world.upcoming}")).text
    assert pw.ga_commitment
