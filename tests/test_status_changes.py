"""A CODIR member changes an action's status — in place with htmx, or with a plain form — and the history says
who changed what, when and why. DESIGN.md §4."""
import pytest

from tests.factories import EMAILS, history_count
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.tables import Action
from tracker.core.french import date_fr
from tracker.core import clock

pytestmark = pytest.mark.anyio


async def status_of(action_id: int) -> tuple[str, int]:
    row = await Action.select(Action.status, Action.version).where(Action.id == action_id).first()
    return row["status"], row["version"]


async def test_an_editor_changes_a_status_in_place_and_the_row_and_counters_are_swapped(client, world):
    await client.login(EMAILS["ga_editor"])
    roadmap = f"/feuilles-de-route/{world.ga_roadmap}"
    response = await client.submit(roadmap, f"/actions/{world.upcoming}/statut", {"status": "en_cours"}, htmx=True)
    assert response.status_code == 200
    assert f'<tr id="action-{world.upcoming}"' in response.text
    assert 'id="compteurs"' in response.text and 'data-hx-swap-oob="true"' in response.text
    assert "Statut enregistré" in response.text
    assert "<html" not in response.text  # a fragment, not the page
    assert await status_of(world.upcoming) == ("en_cours", 2)
    assert await history_count(world.upcoming) == 1


async def test_without_javascript_the_form_posts_and_redirects_back_with_a_message(client, world):
    await client.login(EMAILS["ga_editor"])
    roadmap = f"/feuilles-de-route/{world.ga_roadmap}?statut=a_venir"
    response = await client.submit(roadmap, f"/actions/{world.upcoming}/statut", {"status": "en_cours"})
    assert response.status_code == 303
    assert response.headers["location"] == roadmap
    page = await client.get(response.headers["location"])
    assert "Le statut de l’action a été enregistré." in page.text
    assert await status_of(world.upcoming) == ("en_cours", 2)


async def test_the_action_page_shows_who_changed_what_when_and_why(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(
        f"/actions/{world.overdue}", f"/actions/{world.overdue}/statut",
        {"status": "bloquee", "comment": "Le prestataire a fait faillite."},
    )
    assert response.status_code == 303
    page = await client.get(f"/actions/{world.overdue}")
    history = page.text.split('id="historique"')[1]
    assert "En cours" in history and "Bloquée" in history
    assert "Claire Éditrice" in history
    assert "Le prestataire a fait faillite." in history
    assert f">{date_fr(clock.today())} à " in history  # Europe/Paris date, French format
    assert "(à l’instant)" in history
    entry = await HistoryEntry.select().where(HistoryEntry.subject_id == world.overdue).first()
    assert (entry["from_value"], entry["to_value"], entry["comment"]) == ("en_cours", "bloquee",
                                                                          "Le prestataire a fait faillite.")


async def test_a_status_change_on_the_action_page_with_htmx_swaps_the_panel_and_the_history(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(
        f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut", {"status": "en_cours"}, htmx=True
    )
    assert response.status_code == 200
    assert 'id="statut"' in response.text and 'id="historique"' in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize("target", ["bloquee", "en_pause", "abandonnee"])
async def test_a_comment_is_required_to_block_pause_or_abandon(client, world, target):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(
        f"/feuilles-de-route/{world.ga_roadmap}", f"/actions/{world.overdue}/statut", {"status": target}, htmx=True
    )
    assert response.status_code == 422
    assert "Un commentaire est obligatoire" in response.text
    assert await status_of(world.overdue) == ("en_cours", 1)
    assert await history_count(world.overdue) == 0


async def test_reopening_a_realised_action_requires_a_comment(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/actions/{world.done}", f"/actions/{world.done}/statut", {"status": "en_cours"})
    assert response.status_code == 422
    assert "rouvrir" in response.text
    assert await status_of(world.done) == ("realisee", 1)
    response = await client.submit(
        f"/actions/{world.done}", f"/actions/{world.done}/statut",
        {"status": "en_cours", "comment": "Une seconde phase est décidée."},
    )
    assert response.status_code == 303
    assert await status_of(world.done) == ("en_cours", 2)


async def test_moving_to_a_status_without_comment_rule_needs_no_comment(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/actions/{world.overdue}", f"/actions/{world.overdue}/statut",
                                   {"status": "realisee"})
    assert response.status_code == 303
    assert await status_of(world.overdue) == ("realisee", 2)


async def test_a_stale_version_is_refused_and_nothing_is_written(make_client, world):
    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_editor"])
    await second.login(EMAILS["ga_referent"])
    roadmap = f"/feuilles-de-route/{world.ga_roadmap}"
    action = f"/actions/{world.upcoming}/statut"
    await first.get(roadmap)
    await second.get(roadmap)
    stale_form = dict(second.form(action).fields)  # the second person read version 1 too
    ok = await first.post(action, {**first.form(action).fields, "status": "en_cours"})
    assert ok.status_code == 303
    late = await second.post(action, {**stale_form, "status": "realisee"})
    assert late.status_code == 409
    assert "modifiée par quelqu’un d’autre" in late.text
    assert "Claire Éditrice" in late.text  # says who changed it
    assert await status_of(world.upcoming) == ("en_cours", 2)
    assert await history_count(world.upcoming) == 1


async def test_a_stale_version_with_htmx_shows_the_conflict_in_the_row(client, world):
    await client.login(EMAILS["ga_editor"])
    await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    fields = dict(client.form(f"/actions/{world.upcoming}/statut").fields)
    await Action.update({Action.version: 5}).where(Action.id == world.upcoming)
    fields.pop("_csrf_token")
    response = await client.post(f"/actions/{world.upcoming}/statut", {**fields, "status": "en_cours"}, htmx=True)
    assert response.status_code == 409
    assert f'id="action-{world.upcoming}"' in response.text and 'role="alert"' in response.text
    assert await history_count(world.upcoming) == 0


@pytest.mark.parametrize("status", ["termine", "", "REALISEE", "en_retard"])
async def test_an_unknown_status_is_refused_in_french(client, world, status):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                                   {"status": status})
    assert response.status_code == 422
    assert "Statut inconnu" in response.text
    assert await status_of(world.upcoming) == ("a_venir", 1)
    assert await history_count(world.upcoming) == 0


async def test_setting_the_same_status_again_is_refused(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                                   {"status": "a_venir"})
    assert response.status_code == 422
    assert "déjà au statut" in response.text
    assert await history_count(world.upcoming) == 0


@pytest.mark.parametrize("version", ["", "abc", "1.5", "-1"])
async def test_a_missing_or_malformed_version_is_refused(client, world, version):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                                   {"status": "en_cours", "version": version})
    assert response.status_code == 422
    assert await history_count(world.upcoming) == 0


async def test_an_oversized_comment_is_refused(client, world):
    await client.login(EMAILS["ga_editor"])
    response = await client.submit(f"/actions/{world.overdue}", f"/actions/{world.overdue}/statut",
                                   {"status": "bloquee", "comment": "x" * 2001})
    assert response.status_code == 422
    assert "2000 caractères" in response.text
    assert await history_count(world.overdue) == 0


async def test_every_accepted_change_leaves_exactly_one_history_entry(client, world):
    await client.login(EMAILS["ga_editor"])
    path = [("en_cours", ""), ("en_pause", "Budget gelé"), ("en_cours", ""), ("realisee", ""),
            ("en_cours", "Rouverte"), ("abandonnee", "Abandon décidé en CODIR")]
    for count, (status, comment) in enumerate(path, start=1):
        response = await client.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                                       {"status": status, "comment": comment})
        assert response.status_code == 303
        assert await history_count(world.upcoming) == count
    entries = await HistoryEntry.select(HistoryEntry.from_value, HistoryEntry.to_value).where(
        HistoryEntry.subject_id == world.upcoming).order_by(HistoryEntry.id)
    assert [(e["from_value"], e["to_value"]) for e in entries] == [
        ("a_venir", "en_cours"), ("en_cours", "en_pause"), ("en_pause", "en_cours"), ("en_cours", "realisee"),
        ("realisee", "en_cours"), ("en_cours", "abandonnee")]


async def test_the_history_cannot_be_edited_or_deleted(world, database):
    await HistoryEntry.insert(HistoryEntry(subject_type="action", subject_id=world.upcoming, territory=world.ga,
                                           from_value="a_venir", to_value="en_cours", comment="",
                                           created_at=__import__("arrow").utcnow().datetime))
    # SQLite: the triggers; PostgreSQL: the application's role has no such privilege (and the triggers are there too).
    refused = "append-only|permission denied for table history_entry"
    with pytest.raises(Exception, match=refused):
        await HistoryEntry.update({HistoryEntry.comment: "réécrit"}).where(HistoryEntry.subject_id == world.upcoming)
    with pytest.raises(Exception, match=refused):
        await HistoryEntry.delete().where(HistoryEntry.subject_id == world.upcoming)
    assert await history_count(world.upcoming) == 1


async def test_overdue_is_derived_from_the_deadline_and_never_set_by_hand(client, world):
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}?en_retard=1")
    assert "Portage de repas" in page.text  # en cours, deadline passed
    assert "Carte des initiatives" not in page.text  # réalisée: never overdue
    assert "Guichet unique des associations" not in page.text  # deadline ahead
    # Closing it makes it leave the overdue list without anything else.
    await client.submit(f"/actions/{world.overdue}", f"/actions/{world.overdue}/statut", {"status": "realisee"})
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}?en_retard=1")
    assert "Portage de repas" not in page.text


async def test_a_change_that_loses_the_race_after_its_checks_writes_nothing_and_names_the_winner(
        make_client, world, monkeypatch):
    """The checks run before the write transaction (issue 15); someone else's change lands between them and the
    UPDATE: the version in its WHERE refuses it, everything it sent rolls back, and the message names the other."""
    from tracker.lifecycle import kernel
    from tracker.review import figures

    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_editor"])
    await second.login(EMAILS["ga_referent"])
    action = f"/actions/{world.upcoming}/statut"
    await first.get(f"/actions/{world.upcoming}")
    await second.get(f"/actions/{world.upcoming}")
    winner_form = dict(first.form(action).fields)
    checks = kernel._check
    landed: list[int] = []
    overtaking = []

    async def checked_then_overtaken(*args, **kwargs):
        step = await checks(*args, **kwargs)
        if not overtaking:  # the referent's change passed its checks; the editor's lands now
            overtaking.append(True)
            landed.append((await first.post(action, {**winner_form, "status": "en_cours"})).status_code)
        return step

    monkeypatch.setattr(kernel, "_check", checked_then_overtaken)
    late = await second.post(action, {**dict(second.form(action).fields), "status": "realisee"})
    assert landed == [303]
    assert late.status_code == 409
    assert "modifiée par quelqu’un d’autre" in late.text
    assert "(Claire Éditrice, " in late.text and "(Rita Référente, " not in late.text  # not its own rolled-back entry
    assert await status_of(world.upcoming) == ("en_cours", 2)
    assert await history_count(world.upcoming) == 1
    assert await figures.kept() == await figures.compute(None)


async def test_on_sqlite_a_status_change_holds_the_writer_for_one_job(client, world, database, monkeypatch):
    """BEGIN and the statements in place (the action read before the transaction; the UPDATE, the history entry,
    the figures), COMMIT in the writer's thread: one hop while the other writers wait (issue 15)."""
    if database != "sqlite":
        pytest.skip("moteur SQLite seulement : le fil d’écriture est celui du moteur SQLite (PostgreSQL : pool asyncpg)")
    from tracker.core.db import engine

    await client.login(EMAILS["ga_editor"])
    await client.get(f"/actions/{world.upcoming}")
    fields = dict(client.form(f"/actions/{world.upcoming}/statut").fields)
    writer = engine().writer
    jobs = []
    call = writer.call

    async def counted(function):
        jobs.append(function)
        return await call(function)

    monkeypatch.setattr(writer, "call", counted)
    response = await client.post(f"/actions/{world.upcoming}/statut", {**fields, "status": "realisee"})
    assert response.status_code == 303
    assert len(jobs) == 1
    assert await status_of(world.upcoming) == ("realisee", 2) and await history_count(world.upcoming) == 1
