"""F5 (issue 9): inputs that PostgreSQL refuses where SQLite stores them — a NUL byte, an integer beyond 32 bits —
gave a 500 on PostgreSQL. Each is validated before the database now: the same French 4xx on both databases, nothing
written. Replayed on the database of the run (--db)."""
import pytest

from tests.factories import EMAILS, PARTNER_EMAILS, build_agreement_world, build_partner_world
from tracker.accounts.tables import UserSession
from tracker.agreements.tables import Agreement, Obligation
from tracker.commitments.tables import Commitment, CommitmentComment
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.tables import Action, ActionNote

pytestmark = pytest.mark.anyio

BIG = "2147483648"  # 2³¹: one more than PostgreSQL's INTEGER holds
HUGE = "99999999999"

# (who, method, path, data or query): every one of them gave a 500 on PostgreSQL, or could have.
CASES = [
    ("ga_editor", "POST", "/actions/{upcoming}/statut", {"status": "bloquee", "comment": "pourquoi\x00", "version": "1"}),
    ("ga_editor", "POST", "/actions/{upcoming}/notes", {"body": "note\x00cachée"}),
    ("sa_contact", "POST", "/engagements/{ga_commitment}/etat", {"status": "decline", "comment": "\x00", "version": "1"}),
    ("sa_contact", "POST", "/engagements/{ga_commitment}/commentaires", {"body": "a\x00b"}),
    ("ga_editor", "POST", "/contrats/{agreement}/etat", {"status": "en_negociation", "comment": "\x00",
                                                         "version": "1"}),
    ("ga_editor", "POST", "/actions/{upcoming}/statut", {"status": "en_cours", "version": BIG}),
    ("ga_editor", "POST", "/actions/{upcoming}/modifier", {"title": "Titre", "version": BIG}),
    ("ga_editor", "POST", "/contrats/{agreement}/etat", {"status": "en_negociation", "version": BIG}),
    ("ga_editor", "POST", "/obligations/{ga_brings}/statut", {"status": "en_cours", "version": BIG}),
    ("sa_contact", "POST", "/engagements/{ga_commitment}/etat", {"status": "confirme", "version": BIG}),
    ("ga_editor", "POST", "/feuilles-de-route/{ga_roadmap}/actions/nouvelle", {"title": "T", "pilot": BIG}),
    ("ga_editor", "POST", "/feuilles-de-route/{ga_roadmap}/actions/nouvelle", {"title": "T", "axis": BIG}),
    ("ga_editor", "POST", "/feuilles-de-route/{ga_roadmap}/actions/nouvelle", {"title": "T", "parent": HUGE}),
    ("ga_editor", "GET", "/feuilles-de-route/{ga_roadmap}", {"pilote": BIG}),
    ("ga_editor", "GET", "/feuilles-de-route/{ga_roadmap}", {"axe": BIG}),
    ("ga_editor", "GET", "/partenaires", {"q": "a\x00"}),
    ("reviewer", "GET", "/territoires", {"q": "\x00"}),
    ("reviewer", "GET", "/pilotage/actions", {"q": "\x00"}),
    ("ga_editor", "GET", "/contrats", {"theme": "\x00"}),
    ("ga_editor", "GET", "/contrats", {"action": BIG}),
]


async def written() -> tuple:
    return (
        await HistoryEntry.count(), await ActionNote.count(), await Action.count(), await CommitmentComment.count(),
        await Commitment.select(Commitment.state, Commitment.version).order_by(Commitment.id),
        await Agreement.select(Agreement.state, Agreement.version).order_by(Agreement.id),
        await Obligation.select(Obligation.status, Obligation.version).order_by(Obligation.id),
    )


@pytest.mark.parametrize("who,method,path,data", CASES, ids=[f"{c[1]} {c[2]} {sorted(c[3])}" for c in CASES])
async def test_nul_bytes_and_out_of_range_integers_get_a_french_4xx(make_client, world, who, method, path, data):
    pw = await build_partner_world(world)
    deal = await build_agreement_world(world, state="brouillon")
    client = await make_client()
    await client.login({**EMAILS, **PARTNER_EMAILS}[who])
    path = path.format(upcoming=world.upcoming, ga_commitment=pw.ga_commitment, agreement=deal.agreement,
                       ga_brings=deal.ga_brings, ga_roadmap=world.ga_roadmap)
    before = await written()
    if method == "GET":
        response = await client.get(path, params=data)
    else:
        response = await client.post(path, data)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[-500:])
    assert '<html lang="fr">' in response.text
    assert await written() == before


@pytest.mark.parametrize("email,password", [
    ("editeur@ga.example.org\x00", "mot-de-passe-des-tests-2026"),
    ("\x00", "x"),
    ("a" * 300 + "@example.org", "mot-de-passe-des-tests-2026"),
    (EMAILS["ga_editor"], "mot\x00de-passe"),
])
async def test_hostile_sign_in_fields_get_the_usual_french_refusal(client, world, email, password):
    await client.get("/connexion")
    response = await client.post("/connexion", {"email": email, "password": password})
    assert response.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in response.text
    assert await UserSession.count() == 0


async def test_an_api_filter_with_a_nul_byte_or_a_huge_integer_is_a_json_400(client, world):
    from tests.factories import api_token

    token = await api_token(EMAILS["ga_editor"])
    headers = {"Authorization": f"Bearer {token}"}
    for path, query in (("/api/v1/feuilles-de-route", {"territoire": "\x00"}), ("/api/v1/feuilles-de-route", {"page": BIG}),
                        ("/api/v1/engagements", {"action": BIG}), ("/api/v1/engagements", {"etat": "\x00"})):
        if True:
            response = await client.http.get(path, params=query, headers=headers)
            assert response.status_code == 400, (path, query, response.text)
            assert response.json()["erreur"]["statut"] == 400
