"""The roadmap page and the action page, as a CODIR member uses them."""
from datetime import date

import pytest

from tests.factories import EMAILS, action
from tracker.roadmaps.tables import Action, ActionNote, Axis, Roadmap, Workshop

pytestmark = pytest.mark.anyio


def titles_in(html: str) -> set[str]:
    names = {"Guichet unique des associations", "Portage de repas", "Carte des initiatives",
             "Audit confidentiel de la DSP", "Sous-action du guichet"}
    section = html.split('id="actions"')[1]
    return {name for name in names if name in section}


async def test_filters_combine_and_stay_in_the_query_string(client, world):
    await client.login(EMAILS["ga_editor"])
    base = f"/feuilles-de-route/{world.ga_roadmap}"
    assert titles_in((await client.get(base)).text) == {
        "Guichet unique des associations", "Portage de repas", "Carte des initiatives", "Audit confidentiel de la DSP"}
    assert titles_in((await client.get(base + "?statut=en_cours")).text) == {"Portage de repas"}
    assert titles_in((await client.get(base + "?module=4")).text) == {"Portage de repas"}
    assert titles_in((await client.get(base + f"?axe={world.ga_axis}")).text) == {"Guichet unique des associations"}
    assert titles_in((await client.get(base + f"?pilote={world.ga_pilot}")).text) == {"Guichet unique des associations"}
    assert titles_in((await client.get(base + "?en_retard=1")).text) == {"Portage de repas"}
    assert titles_in((await client.get(base + "?statut=a_venir&module=1")).text) == {
        "Guichet unique des associations", "Audit confidentiel de la DSP"}
    page = await client.get(base + "?statut=en_cours&module=4")
    form = client.form(base, page)
    assert form.fields["statut"] == "en_cours" and form.fields["module"] == "4"  # the form shows the filters used
    assert form.attrs.get("data-hx-get") == base
    # With htmx, the server gives the address to keep in the bar: only the filters in use.
    fragment = await client.get(base + "?statut=en_cours&module=4&axe=&pilote=", htmx=True)
    assert fragment.headers["hx-push-url"] == base + "?statut=en_cours&module=4"


async def test_filtering_with_htmx_returns_only_the_action_list(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.get(f"/feuilles-de-route/{world.ga_roadmap}?statut=en_cours", htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="actions"')
    assert "Portage de repas" in response.text and "Guichet unique" not in response.text
    # The back button: htmx asks for the whole page when it restores history.
    restore = await client.http.get(f"/feuilles-de-route/{world.ga_roadmap}?statut=en_cours",
                                    headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


async def test_counters_count_the_whole_roadmap(client, world):
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}?statut=realisee")
    counters = page.text.split('id="compteurs"')[1].split("</section>")[0]
    assert '<span class="count">4</span> actions' in counters
    assert 'En retard</span> <span class="count">1</span>' in counters


async def test_sub_actions_follow_their_parent(client, world):
    await action(world.ga_roadmap, world.ga, "Sous-action du guichet", parent=world.upcoming, axis=world.ga_axis)
    await client.login(EMAILS["ga_editor"])
    html = (await client.get(f"/feuilles-de-route/{world.ga_roadmap}")).text
    assert html.index("Guichet unique des associations") < html.index("Sous-action du guichet")
    assert 'class="sub-action"' in html
    # The parent's page lists it (the page reads sub-actions only for an action that has some).
    parent = (await client.get(f"/actions/{world.upcoming}")).text
    assert "Sous-action du guichet" in parent.split("<h3>Sous-actions</h3>")[1]
    assert "<h3>Sous-actions</h3>" not in (await client.get(f"/actions/{world.overdue}")).text


async def test_an_editor_creates_an_action_through_the_form(client, world):
    await client.login(EMAILS["ga_editor"])
    path = f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle"
    response = await client.submit(path, path, {
        "title": "Forum des associations", "description": "Un forum annuel.", "module": "1",
        "axis": str(world.ga_axis), "pilot": str(world.ga_pilot), "parent": str(world.upcoming),
        "start_on": "2026-01-10", "deadline": "2026-09-30", "priority": "haute", "confidential": "1",
    })
    assert response.status_code == 303
    created = await Action.objects().where(Action.title == "Forum des associations").first()
    assert response.headers["location"] == f"/actions/{created.id}"
    assert (created.module, created.axis, created.pilot, created.parent) == (1, world.ga_axis, world.ga_pilot,
                                                                            world.upcoming)
    assert (created.start_on, created.deadline) == (date(2026, 1, 10), date(2026, 9, 30))
    assert created.status == "a_venir" and created.confidential and created.priority == "haute"
    page = await client.get(response.headers["location"])
    assert "L’action a été créée." in page.text
    assert "Création au statut" in page.text


async def test_a_sub_action_cannot_itself_have_sub_actions(client, world):
    child = await action(world.ga_roadmap, world.ga, "Enfant", parent=world.upcoming)
    await client.login(EMAILS["ga_editor"])
    path = f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle"
    response = await client.submit(path, path, {"title": "Petit-enfant", "parent": str(child)})
    assert response.status_code == 422
    # and a parent cannot become a child
    edit = await client.submit(f"/actions/{world.upcoming}/modifier", f"/actions/{world.upcoming}/modifier",
                               {"parent": str(world.overdue)})
    assert edit.status_code == 422
    assert "un seul niveau" in edit.text


async def test_an_editor_edits_an_action_and_a_stale_form_is_refused(make_client, world):
    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_editor"])
    await second.login(EMAILS["ga_referent"])
    path = f"/actions/{world.upcoming}/modifier"
    await second.get(path)
    stale = dict(second.form(path).fields)
    ok = await first.submit(path, path, {"title": "Guichet unique (v2)", "deadline": "2027-01-15"})
    assert ok.status_code == 303
    late = await second.post(path, {**stale, "title": "Écrasement"})
    assert late.status_code == 409
    assert "modifiée par quelqu’un d’autre" in late.text
    row = await Action.select(Action.title, Action.deadline, Action.status).where(Action.id == world.upcoming).first()
    assert row == {"title": "Guichet unique (v2)", "deadline": date(2027, 1, 15), "status": "a_venir"}


async def test_follow_up_notes_are_dated_and_signed(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/notes",
                                   {"body": "Réunion avec les associations le 3 décembre."})
    assert response.status_code == 303
    page = await client.get(f"/actions/{world.upcoming}")
    notes = page.text.split('id="notes"')[1]
    assert "Réunion avec les associations le 3 décembre." in notes and "Claire Éditrice" in notes
    assert await ActionNote.count() == 1
    empty = await client.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/notes", {"body": "  "})
    assert empty.status_code == 422
    assert await ActionNote.count() == 1


async def test_an_administrator_records_a_workshop_and_its_roadmap(client, world):
    await client.login(EMAILS["admin"])
    response = await client.submit("/ateliers/nouveau", "/ateliers/nouveau", {
        "host": "200068781", "held_on": "2026-10-02", "module_primary": "2", "module_secondary": "3",
        "participants": "28", "title": "Seconde feuille de route", "axes": "Piloter\nÉvaluer\n",
    })
    assert response.status_code == 303
    roadmap = await Roadmap.objects().where(Roadmap.title == "Seconde feuille de route").first()
    assert response.headers["location"] == f"/feuilles-de-route/{roadmap.id}"
    workshop = await Workshop.objects().where(Workshop.id == roadmap.workshop).first()
    assert (workshop.module_primary, workshop.module_secondary, workshop.participants) == (2, 3, 28)
    assert [a["title"] for a in await Axis.select(Axis.title).where(Axis.roadmap == roadmap.id).order_by(
        Axis.position)] == ["Piloter", "Évaluer"]


@pytest.mark.parametrize("changes,message", [
    ({"host": "123456789"}, "Aucun territoire ne porte ce SIREN."),
    ({"module_primary": "5"}, "doit être compris entre 1 et 4"),
    ({"module_secondary": "2"}, "Le second module doit différer du premier."),
    ({"held_on": ""}, "est obligatoire"),
])
async def test_a_bad_workshop_form_is_refused(client, world, changes, message):
    await client.login(EMAILS["admin"])
    before = await Workshop.count()
    fields = {"host": "200068781", "held_on": "2026-10-02", "module_primary": "2", **changes}
    response = await client.submit("/ateliers/nouveau", "/ateliers/nouveau", fields)
    assert response.status_code == 422
    assert message in response.text
    assert await Workshop.count() == before


async def test_pages_are_in_french_with_french_dates(client, world):
    await Action.update({Action.deadline: date(2027, 3, 1)}).where(Action.id == world.upcoming)
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/actions/{world.upcoming}")
    assert '<html lang="fr">' in page.text
    assert "1er mars 2027" in page.text
    assert "dans " in page.text  # relative time to the deadline


async def test_a_long_history_shows_its_latest_fifty_changes_and_links_to_all_of_them(client, world):
    """Issue 15: the action page renders the 50 newest history entries and a plain link (no JavaScript) to the whole
    history; the whole history is the same page with `?historique=tout`. A short history is shown whole, no link."""
    from datetime import datetime, timedelta, timezone

    from tracker.core.permissions import Viewer
    from tracker.roadmaps.lifecycle import change_action_status

    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/actions/{world.upcoming}")
    assert "historique=tout" not in page.text and "Aucun changement enregistré." in _history_of(page.text)

    editor = Viewer(user_id=3, roles={world.ga: "editeur"})
    start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    for n in range(60):
        await change_action_status(editor, world.upcoming, "en_cours" if n % 2 == 0 else "a_venir", f"Point {n}",
                                   n + 1, at=start + timedelta(hours=n))
    page = await client.get(f"/actions/{world.upcoming}")
    history = _history_of(page.text)
    assert history.count("<li>") == 50
    assert "Point 59" in history and "Point 10" in history and "Point 9" not in history  # the newest first
    assert "Les 50 changements les plus récents sur 60" in history
    assert f'href="/actions/{world.upcoming}?historique=tout#historique"' in history
    whole = _history_of((await client.get(f"/actions/{world.upcoming}?historique=tout")).text)
    assert whole.count("<li>") == 60 and "«&nbsp;Point 0&nbsp;»" in whole
    assert "historique=tout" not in whole
    assert (await client.get(f"/actions/{world.upcoming}?historique=n_importe")).status_code == 400
    # After a status change with htmx, the history block sent back is the page's: the latest 50 and the link.
    form = client.form(f"/actions/{world.upcoming}/statut", page)
    fields = {**form.fields, "status": "en_cours", "comment": "Dernier point"}
    answer = await client.post(f"/actions/{world.upcoming}/statut", fields, htmx=True)
    assert answer.status_code == 200
    block = _history_of(answer.text)
    assert block.count("<li>") == 50 and "Dernier point" in block and "sur 61" in block


def _history_of(html: str) -> str:
    return html.split('id="historique"')[1].split("</section>")[0]
