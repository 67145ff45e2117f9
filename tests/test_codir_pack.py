"""Before each CODIR meeting, the pack lists what changed since the last one."""
from datetime import timedelta

import arrow
import pytest

from tests.factories import EMAILS
from tests.htmltable import table_after
from tracker.core.permissions import Viewer
from tracker.review.tables import CodirMeeting
from tracker.roadmaps.lifecycle import change_action_status
from tracker.roadmaps.tables import ActionNote

pytestmark = pytest.mark.anyio

ROUTES_COVERED = {("GET", "/territoires/{siren:str}/point-codir"),
                  ("POST", "/territoires/{siren:str}/point-codir/reunions")}
PACK = "/territoires/200071827/point-codir"


async def _history(world):
    """Changes 20 and 10 days ago, and today; the test then asks for the pack since 15 days ago."""
    editor = Viewer(user_id=3, roles={world.ga: "editeur"})
    now = arrow.utcnow()
    await change_action_status(editor, world.upcoming, "en_cours", "", 1, at=now.shift(days=-20).datetime)
    await change_action_status(editor, world.upcoming, "en_pause", "Attente du budget", 2,
                               at=now.shift(days=-10).datetime)
    await change_action_status(editor, world.overdue, "bloquee", "Prestataire défaillant", 1, at=now.datetime)
    await change_action_status(editor, world.secret, "en_cours", "", 1, at=now.shift(days=-5).datetime)
    await ActionNote(action=world.done, author=3, body="Bilan présenté", created_at=now.shift(days=-2).datetime).save()
    await ActionNote(action=world.done, author=3, body="Vieille note", created_at=now.shift(days=-30).datetime).save()


async def test_the_pack_lists_exactly_the_changes_after_the_date(client, world):
    await _history(world)
    await client.login(EMAILS["ga_editor"])
    since = (arrow.now("Europe/Paris").shift(days=-15)).format("YYYY-MM-DD")
    page = await client.get(f"{PACK}?depuis={since}")
    assert page.status_code == 200
    rows = table_after(page.text, 'id="changements"')[1:]
    # What a screen reader says (the arrow is aria-hidden), in the order it happened.
    assert [(r[1], " ".join(r[2].replace("→", " ").split())) for r in rows] == [
        ("Guichet unique des associations", "En cours devient En pause"),
        ("Audit confidentiel de la DSP", "À venir devient En cours"),
        ("Portage de repas", "En cours devient Bloquée"),
    ]
    assert "Attente du budget" in page.text and "Prestataire défaillant" in page.text
    notes = page.text.split('id="notes-recentes"')[1].split("</section>")[0]
    assert "Bilan présenté" in notes and "Vieille note" not in notes
    blocked = page.text.split('id="bloquees"')[1].split("</section>")[0]
    assert "Portage de repas" in blocked
    overdue = page.text.split('id="devenues-retard"')[1].split("</section>")[0]
    assert "Portage de repas" in overdue  # deadline 10 days ago: after the date, still open
    upcoming = page.text.split('id="prochaines"')[1].split("</section>")[0]
    assert "Guichet unique des associations" in upcoming  # due in 30 days


async def test_the_adgcf_does_not_see_confidential_actions_in_the_pack(client, world):
    await _history(world)
    await client.login(EMAILS["reviewer"])
    since = (arrow.now("Europe/Paris").shift(days=-15)).format("YYYY-MM-DD")
    page = await client.get(f"{PACK}?depuis={since}")
    assert page.status_code == 200
    assert "Audit confidentiel" not in page.text
    assert len(table_after(page.text, 'id="changements"')[1:]) == 2


async def test_a_referent_records_the_meeting_and_the_next_pack_starts_there(client, world):
    await _history(world)
    await client.login(EMAILS["ga_referent"])
    meeting = arrow.now("Europe/Paris").shift(days=-7).date()
    response = await client.submit(PACK, f"{PACK}/reunions", {"held_on": meeting.isoformat()})
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "La réunion de CODIR a été enregistrée" in page.text
    assert "Depuis la dernière réunion de CODIR enregistrée" in page.text
    rows = table_after(page.text, 'id="changements"')[1:]
    assert [r[1] for r in rows] == ["Audit confidentiel de la DSP", "Portage de repas"]  # 5 days ago, today
    assert await CodirMeeting.count() == 1


@pytest.mark.parametrize("person,expected", [("ga_editor", 403), ("ga_reader", 403), ("reviewer", 403),
                                             ("vr_editor", 404)])
async def test_only_referents_record_meetings(make_client, world, person, expected):
    client = await make_client()
    await client.login(EMAILS[person])
    response = await client.post(f"{PACK}/reunions", {"held_on": "2026-11-02"})
    assert response.status_code == expected
    assert await CodirMeeting.count() == 0


@pytest.mark.parametrize("person,expected", [("ga_reader", 200), ("reviewer", 200), ("admin", 200),
                                             ("vr_editor", 404), ("nobody", 404)])
async def test_the_pack_is_read_by_those_who_read_the_territory(make_client, world, person, expected):
    client = await make_client()
    await client.login(EMAILS[person])
    assert (await client.get(PACK)).status_code == expected


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    assert (await client.get(PACK)).status_code == 303
    assert (await client.post(f"{PACK}/reunions", {"held_on": "2026-11-02"})).status_code in (303, 401)
    assert await CodirMeeting.count() == 0


@pytest.mark.parametrize("query", ["depuis=hier", "depuis=2026-13-01", "depuis=2999-01-01"])
async def test_a_bad_date_gets_a_french_400(client, world, query):
    await client.login(EMAILS["ga_editor"])
    response = await client.get(f"{PACK}?{query}")
    assert response.status_code == 400
    assert "Paramètre invalide" in response.text


@pytest.mark.parametrize("held_on", ["", "demain", (arrow.now("Europe/Paris") + timedelta(days=3)).format("YYYY-MM-DD")])
async def test_a_bad_meeting_date_is_refused(client, world, held_on):
    await client.login(EMAILS["ga_referent"])
    response = await client.submit(PACK, f"{PACK}/reunions", {"held_on": held_on})
    assert response.status_code == 422
    assert await CodirMeeting.count() == 0
