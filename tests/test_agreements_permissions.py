"""Who sees and changes a reciprocity agreement: the parties' members (lecteurs read, éditeurs and référents
edit), the ADGCF reads everything and changes nothing, everyone else gets a 404. Every agreement route is here."""
import arrow
import pytest

from tests.factories import (
    AGREEMENT_EMAILS,
    EMAILS,
    agreement,
    amendment,
    build_agreement_world,
    obligation,
    party,
    territory,
)
from tracker.agreements.tables import (
    Agreement,
    AgreementAction,
    AgreementAmendment,
    AgreementParty,
    AgreementReview,
    AgreementTheme,
    AmendmentChange,
    AmendmentParty,
    Obligation,
)
from tracker.history.tables import HistoryEntry

from tracker.core import clock

pytestmark = pytest.mark.anyio

PEOPLE = ["admin", "reviewer", "ga_editor", "ga_reader", "vr_editor", "nobody"]

# Expected status of each GET page per person (the agreement is in negotiation). 200 allowed, 403 refused, 404 hidden.
GET_MATRIX = {
    #                                                         admin reviewer ga_editor ga_reader vr_editor nobody
    "/contrats":                                              (200, 200, 200, 200, 200, 200),
    "/contrats/nouveau":                                      (200, 403, 200, 403, 200, 403),
    "/contrats/{agreement_id:str}":                           (200, 200, 200, 200, 404, 404),
    # Administrators act on any territory as its référent (issue 10), so on its agreements.
    "/contrats/{agreement_id:str}/modifier":                  (200, 403, 200, 403, 404, 404),
    "/contrats/{agreement_id:str}/parties":                   (200, 403, 200, 403, 404, 404),
    "/contrats/{agreement_id:str}/obligations/nouvelle":      (200, 403, 200, 403, 404, 404),
    "/obligations/{obligation_id:str}":                       (200, 200, 200, 200, 404, 404),
    "/obligations/{obligation_id:str}/modifier":              (200, 403, 200, 403, 404, 404),
    # recording after the fact: référents of a party and administrators (in negotiation: no longer a draft)
    "/contrats/{agreement_id:str}/enregistrer":               (409, 403, 403, 403, 404, 404),
    "/contrats/{agreement_id:str}/export.xlsx":               (200, 200, 200, 200, 404, 404),
    "/contrats/{agreement_id:str}/export.csv":                (200, 200, 200, 200, 404, 404),
    # amendments, of a second agreement (in force)
    "/contrats/{agreement_id:str}/avenants/nouveau":          (200, 403, 200, 403, 404, 404),
    "/contrats/{agreement_id:str}/avenants/{number:str}":     (200, 200, 200, 200, 404, 404),
}


def pages(d) -> dict[str, str]:
    a, o = d["agreement"], d["obligation"]
    return {
        "/contrats": "/contrats",
        "/contrats/nouveau": "/contrats/nouveau",
        "/contrats/{agreement_id:str}": f"/contrats/{a}",
        "/contrats/{agreement_id:str}/modifier": f"/contrats/{a}/modifier",
        "/contrats/{agreement_id:str}/parties": f"/contrats/{a}/parties?q=Valence",
        "/contrats/{agreement_id:str}/obligations/nouvelle": f"/contrats/{a}/obligations/nouvelle",
        "/obligations/{obligation_id:str}": f"/obligations/{o}",
        "/obligations/{obligation_id:str}/modifier": f"/obligations/{o}/modifier",
        "/contrats/{agreement_id:str}/enregistrer": f"/contrats/{a}/enregistrer",
        "/contrats/{agreement_id:str}/export.xlsx": f"/contrats/{a}/export.xlsx",
        "/contrats/{agreement_id:str}/export.csv": f"/contrats/{a}/export.csv",
        "/contrats/{agreement_id:str}/avenants/nouveau": f"/contrats/{d['amended']}/avenants/nouveau",
        "/contrats/{agreement_id:str}/avenants/{number:str}": f"/contrats/{d['amended']}/avenants/1",
    }


def posts(d) -> dict[str, tuple[str, dict]]:
    """Each POST route with data that its rightful user could send (and that would change something)."""
    a, o, today = d["agreement"], d["obligation"], clock.today().isoformat()
    m = f"/contrats/{d['amended']}/avenants"
    return {
        "/contrats/nouveau": ("/contrats/nouveau", {"title": "Intrus", "territory": str(d["ga"])}),
        "/contrats/{agreement_id:str}/modifier": (f"/contrats/{a}/modifier", {"title": "Intrus", "version": "1"}),
        "/contrats/{agreement_id:str}/etat": (f"/contrats/{a}/etat",
                                              {"status": "resilie", "comment": "Intrus", "version": "1"}),
        "/contrats/{agreement_id:str}/parties": (f"/contrats/{a}/parties", {"territory": str(d["vr"])}),
        "/contrats/{agreement_id:str}/parties/{party_id:str}/retirer":
            (f"/contrats/{a}/parties/{d['cl_party']}/retirer", {}),
        "/contrats/{agreement_id:str}/parties/{party_id:str}/deliberation":
            (f"/contrats/{a}/parties/{d['ga_party']}/deliberation",
             {"deliberation_on": today, "deliberation_ref": "Intrus", "version": "1"}),
        "/contrats/{agreement_id:str}/parties/{party_id:str}/signature":
            (f"/contrats/{a}/parties/{d['ga_party']}/signature", {"signed_on": today, "version": "1"}),
        "/contrats/{agreement_id:str}/actions": (f"/contrats/{a}/actions", {"action": str(d["action"])}),
        "/contrats/{agreement_id:str}/actions/{action_id:str}/retirer":
            (f"/contrats/{a}/actions/{d['linked_action']}/retirer", {}),
        "/contrats/{agreement_id:str}/revues": (f"/contrats/{a}/revues", {"review_on": today}),
        "/contrats/{agreement_id:str}/revues/{review_id:str}/supprimer":
            (f"/contrats/{a}/revues/{d['review']}/supprimer", {}),
        "/contrats/{agreement_id:str}/obligations/nouvelle":
            (f"/contrats/{a}/obligations/nouvelle", {"title": "Intrus", "owner": str(d["ga_party"])}),
        "/obligations/{obligation_id:str}/statut": (f"/obligations/{o}/statut",
                                                    {"status": "en_cours", "version": "1"}),
        "/obligations/{obligation_id:str}/modifier": (f"/obligations/{o}/modifier",
                                                      {"title": "Intrus", "owner": str(d["ga_party"]), "version": "1"}),
        "/obligations/{obligation_id:str}/supprimer": (f"/obligations/{o}/supprimer", {"version": "1"}),
        "/contrats/{agreement_id:str}/enregistrer": (f"/contrats/{a}/enregistrer",
                                                     {"state": "en_vigueur", "in_force_on": today, "version": "1"}),
        "/contrats/{agreement_id:str}/document": (f"/contrats/{a}/document",
                                                  {"signing_place": "Intrus", "version": "1"}),
        "/contrats/{agreement_id:str}/avenants/nouveau": (f"{m}/nouveau", {"title": "Intrus"}),
        "/contrats/{agreement_id:str}/avenants/{number:str}/modifier": (f"{m}/1/modifier",
                                                                        {"title": "Intrus", "version": "1"}),
        "/contrats/{agreement_id:str}/avenants/{number:str}/changements":
            (f"{m}/1/changements", {"kind": "fin", "obligation": str(d["amended_obligation"]), "reason": "Intrus"}),
        "/contrats/{agreement_id:str}/avenants/{number:str}/changements/{change_id:str}/retirer":
            (f"{m}/1/changements/{d['change']}/retirer", {}),
        "/contrats/{agreement_id:str}/avenants/{number:str}/etat":
            (f"{m}/1/etat", {"status": "abandonne", "comment": "Intrus", "version": "1"}),
        "/contrats/{agreement_id:str}/avenants/{number:str}/parties/{party_id:str}/deliberation":
            (f"{m}/1/parties/{d['amendment_party']}/deliberation",
             {"deliberation_on": today, "deliberation_ref": "Intrus", "version": "1"}),
        "/contrats/{agreement_id:str}/avenants/{number:str}/parties/{party_id:str}/signature":
            (f"{m}/1/parties/{d['amendment_party']}/signature", {"signed_on": today, "version": "1"}),
    }


class _Stub(dict):
    def __missing__(self, key):
        return 1


ROUTES_COVERED = {("GET", p) for p in GET_MATRIX} | {("POST", p) for p in posts(_Stub())}
RECORD = "/contrats/{agreement_id:str}/enregistrer"


@pytest.fixture
async def d(world):
    """An agreement in negotiation between GA and CL, with a linked action, a review and an obligation each."""
    deal = await build_agreement_world(world, state="en_negociation")
    await AgreementAction.insert(AgreementAction(agreement=deal.agreement, action=world.overdue,
                                                 created_at=arrow.utcnow().datetime))
    review = AgreementReview(agreement=deal.agreement, review_on=clock.today(), title="Revue à mi-parcours")
    await review.save()
    await AgreementTheme.insert(AgreementTheme(agreement=deal.agreement, theme="Santé"))
    # A second agreement between the same parties, in force, with amendment n° 1 being prepared (one change).
    amended = await agreement(world.ga, "Contrat amendé", state="en_vigueur", ends_on=deal.ends_on)
    ga_party = await party(amended, world.ga, 1)
    await party(amended, deal.cl, 2)
    amended_obligation = await obligation(amended, ga_party, "Prêter la salle")
    amendment_id, signing = await amendment(amended)
    change = AmendmentChange(amendment=amendment_id, kind="modification", obligation=amended_obligation,
                             title="Prêter la salle le dimanche", created_at=arrow.utcnow().datetime)
    await change.save()
    return {"agreement": deal.agreement, "obligation": deal.ga_brings, "ga": world.ga, "vr": world.vr,
            "ga_party": deal.ga_party, "cl_party": deal.cl_party, "action": world.upcoming,
            "linked_action": world.overdue, "review": review.id, "amended": amended,
            "amended_obligation": amended_obligation, "change": change.id, "amendment_party": signing[ga_party]}


async def snapshot() -> tuple:
    """Everything a POST could change."""
    return (
        await Agreement.select(Agreement.id, Agreement.title, Agreement.state, Agreement.version).order_by(Agreement.id),
        await AgreementParty.select(AgreementParty.id, AgreementParty.deliberation_ref, AgreementParty.signed_at,
                                    AgreementParty.version).order_by(AgreementParty.id),
        await Obligation.select(Obligation.id, Obligation.title, Obligation.status, Obligation.version)
        .order_by(Obligation.id),
        await AgreementAction.select(AgreementAction.action).order_by(AgreementAction.id),
        await AgreementReview.select(AgreementReview.id).order_by(AgreementReview.id),
        await AgreementTheme.count(),
        await HistoryEntry.count(),
        await Agreement.select(Agreement.signing_place, Agreement.recorded_at).order_by(Agreement.id),
        await AgreementAmendment.select(AgreementAmendment.id, AgreementAmendment.title, AgreementAmendment.state,
                                        AgreementAmendment.version).order_by(AgreementAmendment.id),
        await AmendmentParty.select(AmendmentParty.id, AmendmentParty.deliberation_ref, AmendmentParty.signed_at,
                                    AmendmentParty.version).order_by(AmendmentParty.id),
        await AmendmentChange.select(AmendmentChange.id).order_by(AmendmentChange.id),
    )


@pytest.mark.parametrize("person", PEOPLE)
async def test_each_page_answers_each_role_as_the_matrix_says(make_client, d, person):
    client = await make_client()
    await client.login(EMAILS[person])
    for template, path in pages(d).items():
        expected = GET_MATRIX[template][PEOPLE.index(person)]
        response = await client.get(path)
        assert response.status_code == expected, (person, path, response.status_code)
        if expected == 404:
            assert "n’existe pas ou ne vous est pas accessible" in response.text
        if expected == 403:
            assert "Accès refusé" in response.text
    listing = await client.get("/contrats")
    sees = "Contrat Grand Angoulême – Charente Limousine" in listing.text
    assert sees == (person not in ("vr_editor", "nobody"))


async def test_the_other_partys_members_read_and_edit_too(make_client, d):
    for email, page_status, edit_status in [(AGREEMENT_EMAILS["cl_reader"], 200, 403),
                                            (AGREEMENT_EMAILS["cl_editor"], 200, 200),
                                            (AGREEMENT_EMAILS["cl_referent"], 200, 200)]:
        client = await make_client()
        await client.login(email)
        assert (await client.get(f"/contrats/{d['agreement']}")).status_code == page_status
        assert (await client.get(f"/contrats/{d['agreement']}/modifier")).status_code == edit_status


async def test_anonymous_visitors_are_sent_to_sign_in_and_change_nothing(client, d):
    for path in pages(d).values():
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/connexion?suivant=")
    before = await snapshot()
    for path, data in posts(d).values():
        response = await client.post(path, data)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/connexion"
        htmx = await client.post(path, data, htmx=True)
        assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == "/connexion"
    assert await snapshot() == before


@pytest.mark.parametrize("person,expected", [
    ("vr_editor", 404), ("nobody", 404), ("ga_reader", 403), ("reviewer", 403),
])
async def test_outsiders_readers_and_the_adgcf_change_nothing(make_client, d, person, expected):
    """404 for those who may not read the agreement, 403 for those who read it; nothing is written either way."""
    client = await make_client()
    await client.login(EMAILS[person])
    before = await snapshot()
    for template, (path, data) in posts(d).items():
        if template == "/contrats/nouveau":
            continue  # creating one's own agreement is not changing this one: tested below
        for htmx in (False, True):
            response = await client.post(path, data, htmx=htmx)
            assert response.status_code == expected, (person, path, htmx, response.status_code)
    assert await snapshot() == before


# Every field of every agreement form, each one malformed.
GARBAGE = {"version": "x", "status": "", "comment": "x" * 2001, "title": "", "territory": "abc", "owner": "",
           "beneficiary": "?", "partner": "-", "deadline": "demain", "signed_on": "31/12", "deliberation_on": "hier",
           "deliberation_ref": "", "review_on": "", "action": "abc", "theme_1_nom": "x" * 81, "state": "?",
           "kind": "?", "new_ends_on": "demain", "in_force_on": "hier", "document_url": "javascript:alert(1)",
           "obligation": "x", "role": "roi"}


@pytest.mark.parametrize("person,expected", [("vr_editor", 404), ("ga_reader", 403)])
async def test_a_refused_person_is_refused_whatever_they_post(make_client, d, person, expected):
    """Who may act is asked before what was sent is read: a malformed form changes neither the answer nor the data."""
    client = await make_client()
    await client.login(EMAILS[person])
    before = await snapshot()
    for template, (path, _) in posts(d).items():
        if template == "/contrats/nouveau" and person == "vr_editor":
            continue  # an editor may create agreements: their malformed form is a 422 (test_agreements_bad_input)
        response = await client.post(path, GARBAGE)
        assert response.status_code == (403 if template == "/contrats/nouveau" else expected), (person, path)
    assert await snapshot() == before


@pytest.mark.parametrize("person", ["ga_reader", "reviewer", "nobody"])
async def test_only_editors_and_referents_create_agreements(make_client, d, person):
    client = await make_client()
    await client.login(EMAILS[person])
    before = await snapshot()
    response = await client.post("/contrats/nouveau", {"title": "Intrus", "territory": str(d["ga"])})
    assert response.status_code == 403
    assert await snapshot() == before


async def test_nobody_starts_an_agreement_in_the_name_of_another_territory(client, d):
    await client.login(EMAILS["vr_editor"])
    before = await snapshot()
    response = await client.post("/contrats/nouveau", {"title": "Au nom du Grand Angoulême", "territory": str(d["ga"])})
    assert response.status_code == 422
    assert "Territoire porteur" in response.text
    assert await snapshot() == before
    mine = await client.post("/contrats/nouveau", {"title": "Contrat de Valence", "territory": str(d["vr"])})
    assert mine.status_code == 303


async def test_a_reviewer_reads_everything_but_sees_no_form_that_changes(client, d):
    await client.login(EMAILS["reviewer"])
    page = await client.get(f"/contrats/{d['agreement']}")
    assert page.status_code == 200
    assert "Ouvrir le centre de santé aux habitants" in page.text and "Santé" in page.text
    assert 'method="post"' not in page.text.split('id="contenu"')[1]  # nothing but reading (sign-out is in the header)
    obligation_page = await client.get(f"/obligations/{d['obligation']}")
    assert obligation_page.status_code == 200 and "/statut" not in obligation_page.text


async def test_a_linked_confidential_or_unreadable_action_is_never_shown_to_the_other_party(make_client, world, d):
    cl = await make_client()
    await cl.login(AGREEMENT_EMAILS["cl_editor"])
    page = await cl.get(f"/contrats/{d['agreement']}")
    linked = page.text.split('id="actions-liees"')[1]
    assert "Portage de repas" in linked  # GA's action, shared through the agreement (title and status only)
    assert f'href="/actions/{d["linked_action"]}"' not in linked  # CL's members cannot open GA's roadmap
    await AgreementAction.insert(AgreementAction(agreement=d["agreement"], action=world.secret,
                                                 created_at=arrow.utcnow().datetime))
    page = await cl.get(f"/contrats/{d['agreement']}")
    assert "Audit confidentiel" not in page.text
    # and a CL editor cannot link GA's actions: only those of their own territory are offered and accepted
    response = await cl.post(f"/contrats/{d['agreement']}/actions", {"action": str(world.upcoming)})
    assert response.status_code == 422
    assert not await AgreementAction.exists().where(AgreementAction.action == world.upcoming)


async def test_the_agreements_of_an_action_are_listed_for_those_who_read_the_action(make_client, world, d):
    member = await make_client()
    await member.login(EMAILS["ga_reader"])
    action_page = await member.get(f"/actions/{d['linked_action']}")
    # Listed on the action page itself, without JavaScript.
    assert "Contrat Grand Angoulême – Charente Limousine" in action_page.text
    listing = await member.get(f"/contrats?action={d['linked_action']}")
    assert listing.status_code == 200 and "Contrat Grand Angoulême – Charente Limousine" in listing.text
    fragment = await member.get(f"/contrats?action={d['linked_action']}", htmx=True)
    assert "<html" not in fragment.text and 'id="contrats-resultats"' in fragment.text
    none = await member.get(f"/contrats?action={world.upcoming}")
    assert "Contrat Grand Angoulême" not in none.text
    outsider = await make_client()
    await outsider.login(EMAILS["vr_editor"])
    assert (await outsider.get(f"/contrats?action={d['linked_action']}")).status_code == 404


async def test_obligation_pages_of_an_outsider_agreement_are_hidden(make_client, world, d):
    other = await build_other_agreement(world)
    client = await make_client()
    await client.login(EMAILS["ga_editor"])
    assert (await client.get(f"/obligations/{other}")).status_code == 404
    assert (await client.post(f"/obligations/{other}/statut", {"status": "en_cours", "version": "1"})).status_code == 404


async def build_other_agreement(world) -> int:
    """An agreement between Valence Romans and a third territory: nothing to do with Grand Angoulême."""
    third = await territory("200067767", "CC du Royans-Vercors", kind="CC")
    other = await agreement(world.vr, "Contrat de la Drôme", state="en_vigueur")
    vr_party = await party(other, world.vr, 1)
    await party(other, third, 2)
    return await obligation(other, vr_party, "Bus pour le Royans")
