"""Deny by default: every route, every role. The last test fails when a route is added without a line here."""
import pytest

from tests.factories import EMAILS, history_count
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio

# Routes anyone may open, signed in or not.
PUBLIC = {"/connexion", "/healthz", "/static", "/"}


def signed_in_pages(w):
    """GET pages that need a signed-in user (path template → a real path)."""
    return {
        "/territoires": "/territoires",
        "/territoires/{siren:str}": "/territoires/200071827",
        "/territoires/nouveau": "/territoires/nouveau",
        "/feuilles-de-route/{roadmap_id:str}": f"/feuilles-de-route/{w.ga_roadmap}",
        "/feuilles-de-route/{roadmap_id:str}/actions/nouvelle": f"/feuilles-de-route/{w.ga_roadmap}/actions/nouvelle",
        "/actions/{action_id:str}": f"/actions/{w.upcoming}",
        "/actions/{action_id:str}/modifier": f"/actions/{w.upcoming}/modifier",
        "/ateliers/nouveau": "/ateliers/nouveau",
    }


def signed_in_posts(w):
    return {
        "/actions/{action_id:str}/statut": f"/actions/{w.upcoming}/statut",
        "/actions/{action_id:str}/notes": f"/actions/{w.upcoming}/notes",
        "/actions/{action_id:str}/modifier": f"/actions/{w.upcoming}/modifier",
        "/feuilles-de-route/{roadmap_id:str}/actions/nouvelle": f"/feuilles-de-route/{w.ga_roadmap}/actions/nouvelle",
        "/territoires/nouveau": "/territoires/nouveau",
        "/ateliers/nouveau": "/ateliers/nouveau",
        "/deconnexion": "/deconnexion",
    }


# Expected status of each GET page per person. 200 allowed, 403 refused, 404 hidden.
GET_MATRIX = {
    #                                   admin reviewer ga_editor ga_reader vr_editor nobody
    "/territoires":                     (200, 200, 200, 200, 200, 200),
    "/territoires/{siren:str}":         (200, 200, 200, 200, 404, 404),
    "/territoires/nouveau":             (200, 403, 403, 403, 403, 403),
    "/feuilles-de-route/{roadmap_id:str}": (200, 200, 200, 200, 404, 404),
    # Administrators act on any territory as its référent (issue 10; the history says so: tests/test_members.py).
    "/feuilles-de-route/{roadmap_id:str}/actions/nouvelle": (200, 403, 200, 403, 404, 404),
    "/actions/{action_id:str}":         (200, 200, 200, 200, 404, 404),
    "/actions/{action_id:str}/modifier": (200, 403, 200, 403, 404, 404),
    "/ateliers/nouveau":                (200, 403, 403, 403, 403, 403),
}
PEOPLE = ["admin", "reviewer", "ga_editor", "ga_reader", "vr_editor", "nobody"]


@pytest.mark.parametrize("person", PEOPLE)
async def test_each_page_answers_each_role_as_the_matrix_says(make_client, world, person):
    client = await make_client()
    await client.login(EMAILS[person])
    for template, path in signed_in_pages(world).items():
        expected = GET_MATRIX[template][PEOPLE.index(person)]
        response = await client.get(path)
        assert response.status_code == expected, (person, path, response.status_code)
        if expected in (403, 404):
            assert "Accès refusé" in response.text or "introuvable" in response.text or "existe pas" in response.text


async def test_anonymous_visitors_are_sent_to_sign_in_from_every_page(client, world):
    for path in signed_in_pages(world).values():
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/connexion?suivant=")
    home = await client.get("/")
    assert home.headers["location"] == "/connexion"


async def test_anonymous_posts_change_nothing(client, world):
    for path in signed_in_posts(world).values():
        response = await client.post(path, {"status": "en_cours", "version": "1", "body": "x", "title": "x"})
        assert response.status_code in (303, 401), path
    assert await history_count(world.upcoming) == 0


@pytest.mark.parametrize("person,expected", [
    ("ga_reader", 403), ("reviewer", 403), ("vr_editor", 404), ("nobody", 404),
])
async def test_only_the_territory_editors_and_administrators_change_a_status(make_client, world, person, expected):
    client = await make_client()
    await client.login(EMAILS[person])
    for htmx in (False, True):
        response = await client.post(f"/actions/{world.upcoming}/statut",
                                     {"status": "en_cours", "version": "1", "contexte": "feuille"}, htmx=htmx)
        assert response.status_code == expected
    row = await Action.select(Action.status).where(Action.id == world.upcoming).first()
    assert row["status"] == "a_venir"
    assert await history_count(world.upcoming) == 0


@pytest.mark.parametrize("person,expected", [("ga_reader", 403), ("vr_editor", 404)])
async def test_only_editors_and_administrators_create_and_edit_actions(make_client, world, person, expected):
    client = await make_client()
    await client.login(EMAILS[person])
    before = await Action.count()
    created = await client.post(f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle", {"title": "Intrusion"})
    assert created.status_code == expected
    edited = await client.post(f"/actions/{world.upcoming}/modifier", {"title": "Intrusion", "version": "1"})
    assert edited.status_code == expected
    assert await Action.count() == before
    assert not await Action.exists().where(Action.title == "Intrusion")


async def test_a_valence_editor_can_neither_read_nor_change_grand_angouleme(client, world):
    await client.login(EMAILS["vr_editor"])
    assert (await client.get(f"/actions/{world.upcoming}")).status_code == 404
    assert (await client.get(f"/feuilles-de-route/{world.ga_roadmap}")).status_code == 404
    assert (await client.get("/territoires/200071827")).status_code == 404
    listing = await client.get("/territoires?q=Angoul")
    assert "Grand Angoulême" not in listing.text
    response = await client.post(f"/actions/{world.upcoming}/statut", {"status": "en_cours", "version": "1"})
    assert response.status_code == 404
    note = await client.post(f"/actions/{world.upcoming}/notes", {"body": "intrusion"})
    assert note.status_code == 404


async def test_notes_are_written_by_editors_and_reviewers_not_readers(make_client, world):
    for person, expected in [("ga_reader", 403), ("ga_editor", 303), ("reviewer", 303)]:
        client = await make_client()
        await client.login(EMAILS[person])
        response = await client.post(f"/actions/{world.upcoming}/notes", {"body": f"Note de {person}"})
        assert response.status_code == expected, person


async def test_confidential_actions_stay_inside_the_territory(make_client, world):
    member = await make_client()
    await member.login(EMAILS["ga_reader"])
    assert "Audit confidentiel" in (await member.get(f"/feuilles-de-route/{world.ga_roadmap}")).text
    assert (await member.get(f"/actions/{world.secret}")).status_code == 200
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    assert "Audit confidentiel" not in (await reviewer.get(f"/feuilles-de-route/{world.ga_roadmap}")).text
    assert (await reviewer.get(f"/actions/{world.secret}")).status_code == 404


class _Stub:
    ga_roadmap = upcoming = 1


# Every test module that tests the permissions of some routes declares them in ROUTES_COVERED,
# as (method, path template) pairs; the test below checks that together they cover every route served.
ROUTES_COVERED = (
    {("GET", p) for p in signed_in_pages(_Stub)}
    | {("POST", p) for p in signed_in_posts(_Stub)}
    | {("GET", p) for p in PUBLIC}
    | {("POST", "/connexion")}
)


async def test_a_confidential_parent_is_not_named_on_its_sub_action(make_client, world):
    from tests.factories import action

    child = await action(world.ga_roadmap, world.ga, "Sous-action publique", parent=world.secret)
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    page = await reviewer.get(f"/actions/{child}")
    assert page.status_code == 200 and "Audit confidentiel" not in page.text
    member = await make_client()
    await member.login(EMAILS["ga_reader"])
    assert "Audit confidentiel" in (await member.get(f"/actions/{child}")).text


def test_every_route_is_in_the_permission_tests():
    import importlib
    import pkgutil

    import tests
    from tracker.app import create_app

    assert set(signed_in_pages(_Stub)) == set(GET_MATRIX)
    covered: set = set()
    for module in pkgutil.iter_modules(tests.__path__):
        if module.name.startswith("test_"):
            covered |= getattr(importlib.import_module(f"tests.{module.name}"), "ROUTES_COVERED", set())
    served = {
        (method, route.path)
        for route in create_app().routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if method not in ("HEAD", "OPTIONS") and not route.path.startswith("/static")
    }
    missing = served - covered
    assert not missing, f"routes sans test de permission : {sorted(missing)}"
