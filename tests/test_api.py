"""The read-only JSON API: what a script holding a person's token reads, and what it never reads."""
from __future__ import annotations

import arrow
import pytest

from tests.factories import EMAILS, action, api_token, territory
from tracker.accounts.tables import Membership, User

pytestmark = pytest.mark.anyio

GA_SIREN, VR_SIREN = "200071827", "200068781"


class Api:
    """A script calling the API with a token (and no cookie unless given)."""

    def __init__(self, http, token: str | None) -> None:
        self.http = http
        self.token = token

    async def get(self, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return await self.http.get(path, headers=headers, **kwargs)


async def api_for(make_client, person: str | None) -> Api:
    client = await make_client()
    return Api(client.http, await api_token(EMAILS[person]) if person else None)


def paths(w):
    """Every API route (template → a real path in Grand Angoulême)."""
    return {
        "/api/v1/territoires": "/api/v1/territoires",
        "/api/v1/territoires/{siren:str}": f"/api/v1/territoires/{GA_SIREN}",
        "/api/v1/feuilles-de-route": "/api/v1/feuilles-de-route",
        "/api/v1/feuilles-de-route/{roadmap_id:str}": f"/api/v1/feuilles-de-route/{w.ga_roadmap}",
        "/api/v1/feuilles-de-route/{roadmap_id:str}/actions": f"/api/v1/feuilles-de-route/{w.ga_roadmap}/actions",
        "/api/v1/actions/{action_id:str}": f"/api/v1/actions/{w.upcoming}",
        "/api/v1/actions/{action_id:str}/historique": f"/api/v1/actions/{w.upcoming}/historique",
    }


LISTS = {"/api/v1/territoires", "/api/v1/feuilles-de-route"}
# The schema is public: it describes the API, it holds no data.
SCHEMA_ROUTES = {"/api/v1/schema", "/api/v1/schema/openapi.json", "/api/v1/schema/{path:str}"}


class _Stub:
    ga_roadmap = upcoming = 1


ROUTES_COVERED = {("GET", p) for p in paths(_Stub)} | {("GET", p) for p in SCHEMA_ROUTES}

# Expected status per person with their own token (lists answer 200 to everyone, filtered).
EXPECTED = {"admin": 200, "reviewer": 200, "ga_editor": 200, "ga_reader": 200, "vr_editor": 404, "nobody": 404}


# --- who reads what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("person", list(EXPECTED))
async def test_each_token_reads_what_its_owner_reads(make_client, world, person):
    api = await api_for(make_client, person)
    for template, path in paths(world).items():
        response = await api.get(path)
        expected = 200 if template in LISTS else EXPECTED[person]
        assert response.status_code == expected, (person, path, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["cache-control"] == "no-store"
        if expected == 404:
            body = response.json()
            assert body["erreur"]["statut"] == 404
            assert "accessible" in body["erreur"]["message"]


async def test_a_valence_editor_token_cannot_read_grand_angouleme(make_client, world):
    api = await api_for(make_client, "vr_editor")
    for path in (
        f"/api/v1/territoires/{GA_SIREN}",
        f"/api/v1/feuilles-de-route/{world.ga_roadmap}",
        f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions",
        f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions?statut=a_venir&page=1",
        f"/api/v1/actions/{world.upcoming}",
        f"/api/v1/actions/{world.upcoming}/historique",
        f"/api/v1/actions/{world.secret}",
    ):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert "Guichet" not in response.text and "Angoulême" not in response.text
    territories = (await api.get("/api/v1/territoires")).json()
    assert [t["siren"] for t in territories["donnees"]] == [VR_SIREN] and territories["total"] == 1
    roadmaps = (await api.get("/api/v1/feuilles-de-route")).json()
    assert [r["id"] for r in roadmaps["donnees"]] == [world.vr_roadmap]
    assert (await api.get(f"/api/v1/feuilles-de-route?territoire={GA_SIREN}")).json()["donnees"] == []
    own = (await api.get(f"/api/v1/feuilles-de-route/{world.vr_roadmap}/actions")).json()
    assert [a["titre"] for a in own["donnees"]] == ["Tableau de bord des satellites"]


async def test_a_reviewer_token_sees_every_territory_but_no_confidential_action(make_client, world):
    api = await api_for(make_client, "reviewer")
    territories = (await api.get("/api/v1/territoires")).json()
    assert {t["siren"] for t in territories["donnees"]} == {GA_SIREN, VR_SIREN}
    actions = (await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions")).json()
    titles = [a["titre"] for a in actions["donnees"]]
    assert "Audit confidentiel de la DSP" not in titles and "Portage de repas" in titles
    assert actions["total"] == 3
    assert (await api.get(f"/api/v1/actions/{world.secret}")).status_code == 404
    assert (await api.get(f"/api/v1/actions/{world.secret}/historique")).status_code == 404
    detail = (await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}")).json()
    assert detail["avancement"]["total"] == 3
    member = await api_for(make_client, "ga_reader")
    titles = [a["titre"] for a in (await member.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions")).json()["donnees"]]
    assert "Audit confidentiel de la DSP" in titles
    assert (await member.get(f"/api/v1/actions/{world.secret}")).json()["confidentielle"] is True


async def test_a_token_follows_its_owners_current_roles(make_client, world):
    api = await api_for(make_client, "ga_reader")
    assert (await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}")).status_code == 200
    reader = await User.select(User.id).where(User.email == EMAILS["ga_reader"]).first()
    await Membership.delete().where(Membership.user == reader["id"])
    assert (await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}")).status_code == 404
    assert (await api.get("/api/v1/territoires")).json()["total"] == 0


# --- what it says -------------------------------------------------------------------------------------------


async def test_actions_come_with_status_overdue_flag_and_deadline(make_client, world):
    api = await api_for(make_client, "ga_editor")
    body = (await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions")).json()
    assert set(body) == {"donnees", "page", "par_page", "total", "pages"}
    by_title = {a["titre"]: a for a in body["donnees"]}
    late = by_title["Portage de repas"]
    assert late["statut"] == "en_cours" and late["statut_libelle"] == "En cours" and late["en_retard"] is True
    assert late["echeance"] == (arrow.now("Europe/Paris").shift(days=-10).date()).isoformat()
    assert by_title["Carte des initiatives"]["en_retard"] is False
    guichet = by_title["Guichet unique des associations"]
    assert guichet["axe"] == "Faire avec les habitants" and guichet["pilote"] == "Solidarité Angoumois"
    assert guichet["feuille_de_route"] == world.ga_roadmap
    late_only = (await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions?en_retard=1")).json()
    assert [a["titre"] for a in late_only["donnees"]] == ["Portage de repas"]
    one = (await api.get(f"/api/v1/actions/{world.overdue}")).json()
    assert one["en_retard"] is True and one["territoire"] == {"siren": GA_SIREN, "nom": "CA du Grand Angoulême"}
    territory = (await api.get(f"/api/v1/territoires/{GA_SIREN}")).json()
    assert territory["nom"] == "CA du Grand Angoulême"
    assert [r["id"] for r in territory["feuilles_de_route"]] == [world.ga_roadmap]


async def test_a_sub_action_does_not_reveal_a_confidential_parent(make_client, world):
    child = await action(world.ga_roadmap, world.ga, "Volet public de l’audit", parent=world.secret)
    reviewer = await api_for(make_client, "reviewer")
    detail = (await reviewer.get(f"/api/v1/actions/{child}")).json()
    assert detail["action_parente"] is None and detail["titre_action_parente"] is None
    listed = (await reviewer.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions")).json()["donnees"]
    assert {a["titre"]: a for a in listed}["Volet public de l’audit"]["action_parente"] is None
    member = await api_for(make_client, "ga_reader")
    detail = (await member.get(f"/api/v1/actions/{child}")).json()
    assert detail["action_parente"] == world.secret
    assert detail["titre_action_parente"] == "Audit confidentiel de la DSP"


async def test_an_actions_history_says_who_changed_what_and_why(make_client, world):
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    await editor.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                        {"status": "bloquee", "comment": "En attente du financement"})
    api = await api_for(make_client, "reviewer")
    body = (await api.get(f"/api/v1/actions/{world.upcoming}/historique")).json()
    assert body["total"] == 1
    entry = body["donnees"][0]
    assert entry["ancien_statut"] == "a_venir" and entry["nouveau_statut_libelle"] == "Bloquée"
    assert entry["par"] == "Claire Éditrice" and entry["commentaire"] == "En attente du financement"
    assert arrow.get(entry["horodatage"]) <= arrow.utcnow()


async def test_lists_are_paginated(make_client, world):
    for i in range(5):
        await territory(f"20000000{i}", f"CC Territoire {i}")
    api = await api_for(make_client, "reviewer")
    first = (await api.get("/api/v1/territoires?par_page=3")).json()
    assert (first["page"], first["par_page"], first["total"], first["pages"]) == (1, 3, 7, 3)
    assert len(first["donnees"]) == 3
    names = [t["nom"] for t in first["donnees"]]
    assert names == sorted(names)
    third = (await api.get("/api/v1/territoires?par_page=3&page=3")).json()
    assert len(third["donnees"]) == 1 and third["page"] == 3
    seen = set()
    for page in (1, 2, 3):
        seen |= {t["siren"] for t in (await api.get(f"/api/v1/territoires?par_page=3&page={page}")).json()["donnees"]}
    assert len(seen) == 7
    beyond = (await api.get("/api/v1/territoires?par_page=3&page=9")).json()
    assert beyond["donnees"] == [] and beyond["total"] == 7
    default = (await api.get("/api/v1/territoires")).json()
    assert default["par_page"] == 50 and default["pages"] == 1
    actions = (await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions?par_page=2&page=2")).json()
    assert (actions["total"], actions["pages"], len(actions["donnees"])) == (3, 2, 1)
    assert (await api.get("/api/v1/territoires?par_page=200")).status_code == 200


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["page=0", "page=abc", "par_page=201", "par_page=0", "par_page=-1", "page=1.5",
                                   "page=99999999999999999999"])
async def test_bad_paging_parameters_get_400_in_french(make_client, world, query):
    api = await api_for(make_client, "reviewer")
    response = await api.get(f"/api/v1/territoires?{query}")
    assert response.status_code == 400, query
    error = response.json()["erreur"]
    assert error["statut"] == 400 and error["message"].startswith("Paramètre invalide")
    assert set(error["champs"]) <= {"page", "par_page"} and error["champs"]


async def test_bad_filters_and_ids_never_give_a_500(make_client, world):
    api = await api_for(make_client, "ga_editor")
    for query in ("statut=inconnu", "module=9", "axe=x", "pilote=-4", "en_retard=%00"):
        response = await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions?{query}")
        assert response.status_code in (200, 400), query
    refused = await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions?statut=inconnu")
    assert refused.status_code == 400 and "statut" in refused.json()["erreur"]["champs"]
    assert (await api.get("/api/v1/feuilles-de-route?territoire=abc")).status_code == 400
    for query in ("page=1&page=2", "statut=a_venir&statut=en_cours", "par_page=", "page=%F0%9F%98%80"):
        response = await api.get(f"/api/v1/feuilles-de-route/{world.ga_roadmap}/actions?{query}")
        assert response.status_code in (200, 400), query
        assert response.headers["content-type"].startswith("application/json"), query
    for path in ("/api/v1/actions/abc", "/api/v1/actions/0", "/api/v1/actions/99999999999",
                 "/api/v1/feuilles-de-route/-1", "/api/v1/territoires/12", "/api/v1/territoires/%C3%A9%C3%A9"):
        response = await api.get(path)
        assert response.status_code == 404, path
        assert response.json()["erreur"]["statut"] == 404
    unknown = await api.get("/api/v1/inexistant")
    assert unknown.status_code == 404 and unknown.json()["erreur"]["titre"] == "Introuvable"


async def test_the_api_is_read_only(make_client, world):
    api = await api_for(make_client, "ga_editor")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await api.http.request(method, f"/api/v1/actions/{world.upcoming}",
                                          headers={"Authorization": f"Bearer {api.token}"}, json={"statut": "realisee"})
        assert response.status_code == 405, method
        assert "lecture seule" in response.json()["erreur"]["message"]


# --- the schema ---------------------------------------------------------------------------------------------


async def test_the_openapi_schema_describes_the_api_only(client, world):
    response = await client.get("/api/v1/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Suivi des feuilles de route — API"
    assert set(schema["paths"]) == {
        "/api/v1/territoires", "/api/v1/territoires/{siren}", "/api/v1/feuilles-de-route",
        "/api/v1/feuilles-de-route/{roadmap_id}", "/api/v1/feuilles-de-route/{roadmap_id}/actions",
        "/api/v1/actions/{action_id}", "/api/v1/actions/{action_id}/historique",
        "/api/v1/engagements", "/api/v1/engagements/{commitment_id}", "/api/v1/contrats",
        "/api/v1/contrats/{agreement_id}",
    }
    assert not [p for p in schema["paths"] if not p.startswith("/api/v1/")], "aucune page HTML dans le schéma"
    scheme = schema["components"]["securitySchemes"]["jeton"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert {"jeton": []} in schema["security"]
    operation = schema["paths"]["/api/v1/territoires"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"page", "par_page"}
    assert {"200", "400", "401"} <= set(operation["responses"])
    root = await client.get("/api/v1/schema")
    assert root.status_code == 200 and root.json()["info"]["title"] == schema["info"]["title"]
    assert (await client.get("/api/v1/schema/swagger")).status_code == 404
    assert (await client.get("/schema")).status_code == 404, "pas de schéma pour le site HTML"
