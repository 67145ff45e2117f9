"""The review's figures are kept by the life-cycle kernel in the transaction of each change (review/figures.py):
after a burst of concurrent changes they equal a rebuild from the base tables and the history, a refused or
rolled-back change leaves them as they were, and « en retard » follows the date with no write."""
import re
from datetime import datetime, time, timedelta

import anyio
import pytest

from tests.factories import (
    EMAILS,
    PARTNER_EMAILS,
    action,
    build_agreement_world,
    build_partner_world,
    roadmap,
    territory,
    user,
)
from tests.htmltable import table_after
from tracker import lifecycle
from tracker.accounts.tables import User
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.permissions import Viewer
from tracker.deadlines.daily import run_daily
from tracker.review import figures
from tracker.roadmaps.lifecycle import change_action_status
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio


async def _territories_with_actions(count: int, per_territory: int) -> list[tuple[int, int, str, list[int]]]:
    """(territory, roadmap, its éditeur's address, its actions « en cours »), written in one transaction."""
    made = []
    async with write_transaction(), lifecycle.deferred():
        for t in range(count):
            tid = await territory(f"2100000{t:02d}", f"CC Rafale {t}", kind="CC")
            rid = await roadmap(tid)
            email = f"editeur{t}@rafale.example.org"
            await user(email, f"Éditeur {t}", roles={tid: "editeur"})
            ids = [await action(rid, tid, f"Action {t}-{i}", status="en_cours", module=1 + i % 4)
                   for i in range(per_territory)]
            made.append((tid, rid, email, ids))
    return made


async def _status_forms(client, roadmap_id: int, ids: list[int]) -> dict[int, dict]:
    await client.get(f"/feuilles-de-route/{roadmap_id}")
    forms = {}
    for action_id in ids:
        fields = dict(client.form(f"/actions/{action_id}/statut").fields)
        fields.pop("_csrf_token")  # sent by htmx in a header
        forms[action_id] = fields
    return forms


async def test_kept_figures_equal_a_rebuild_after_a_burst_of_concurrent_changes(make_client, world):
    deal = await build_agreement_world(world)
    partners = await build_partner_world(world)
    network = await _territories_with_actions(4, 5)
    before = {row["territory"]: row for row in (await figures.kept())[0] if row["audience"] == figures.EVERY}

    # 20 status changes at once on 4 territories (half to « réalisée »: the monthly curve moves too)...
    editors, jobs = [], []
    for tid, rid, email, ids in network:
        client = await make_client()
        await client.login(email)
        forms = await _status_forms(client, rid, ids)
        for n, action_id in enumerate(ids):
            jobs.append((client, action_id, {**forms[action_id], "status": "realisee" if n % 2 else "en_pause",
                                             "comment": "Point d’étape"}))
        editors.append(client)
    # ...while an éditeur creates an action and writes a note, a partner confirms, an agreement goes back to
    # negotiation.
    ga_editor, second_editor, partner, referent = [await make_client() for _ in range(4)]
    await ga_editor.login(EMAILS["ga_editor"])
    await second_editor.login(EMAILS["ga_editor"])
    await partner.login(PARTNER_EMAILS["sa_contact"])
    await referent.login(EMAILS["ga_referent"])
    statuses: list[int] = []

    async def change(client, action_id: int, fields: dict) -> None:
        statuses.append((await client.post(f"/actions/{action_id}/statut", fields, htmx=True)).status_code)

    async def create() -> None:
        path = f"/feuilles-de-route/{world.ga_roadmap}/actions/nouvelle"
        statuses.append((await ga_editor.submit(path, path, {"title": "Action de la rafale", "module": "3"})).status_code)

    async def note() -> None:
        statuses.append((await second_editor.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/notes",
                                                    {"body": "Note de la rafale"})).status_code)

    async def confirm() -> None:
        statuses.append((await partner.submit("/engagements", f"/engagements/{partners.ga_commitment}/etat",
                                              {"status": "confirme"})).status_code)

    async def renegotiate() -> None:
        statuses.append((await referent.submit(f"/contrats/{deal.agreement}", f"/contrats/{deal.agreement}/etat",
                                               {"status": "en_negociation", "comment": "Texte à revoir"})).status_code)

    async with anyio.create_task_group() as group:
        for client, action_id, fields in jobs:
            group.start_soon(change, client, action_id, fields)
        for job in (create, note, confirm, renegotiate):
            group.start_soon(job)
    assert sorted(statuses) == [200] * 20 + [303] * 4, statuses

    kept = await figures.kept()
    assert kept == await figures.compute(None)  # row for row, the three tables
    assert kept[2] == figures._network(kept[1]) != []  # the network's months: the territories' months summed
    # Each action's newest note, kept beside it for « à relancer », equals the notes' own newest.
    notes = await Action.raw("SELECT a.id, a.last_note_at AS kept, (SELECT MAX(n.created_at) FROM action_note n "
                             "WHERE n.action = a.id) AS newest FROM action a")
    assert [r for r in notes if figures.instant(r["kept"]) != figures.instant(r["newest"])] == []
    assert next(r for r in notes if r["id"] == world.upcoming)["kept"] is not None
    after = {row["territory"]: row for row in kept[0] if row["audience"] == figures.EVERY}
    for tid, _, _, ids in network:
        assert after[tid]["s_realisee"] == 2 and after[tid]["s_en_pause"] == 3 and before[tid]["s_en_cours"] == 5
    assert after[world.ga]["total"] == before[world.ga]["total"] + 1
    assert after[world.ga]["commitments"]["confirme"] == before[world.ga]["commitments"].get("confirme", 0) + 1
    assert after[deal.cl]["agreements"] == {"en_negociation": 1} != before[deal.cl]["agreements"]
    months = {(m["territory"], m["audience"]): m["delta"] for m in kept[1]}
    assert all(months[(tid, audience)] == 2 for tid, *_ in network for audience in figures.AUDIENCES)


async def test_a_note_and_an_edit_outside_the_life_cycles_move_the_figures_too(client, world):
    before = {(r["territory"], r["audience"]): r for r in (await figures.kept())[0]}
    await client.login(EMAILS["vr_editor"])
    response = await client.submit(f"/actions/{world.vr_action}", f"/actions/{world.vr_action}/notes",
                                   {"body": "Une note"})
    assert response.status_code == 303
    edited = await client.submit(f"/actions/{world.vr_action}/modifier", f"/actions/{world.vr_action}/modifier",
                                 {"module": "3"})
    assert edited.status_code == 303
    kept = await figures.kept()
    assert kept == await figures.compute(None)
    after = {(r["territory"], r["audience"]): r for r in kept[0]}
    assert after[(world.vr, "public")]["last_update"] > before[(world.vr, "public")]["last_update"]
    assert after[(world.vr, "public")]["m_3"] == before[(world.vr, "public")]["m_3"] + 1


async def test_a_refused_change_leaves_the_figures_as_they_were(make_client, world):
    first, second, reader = await make_client(), await make_client(), await make_client()
    for client, who in ((first, "ga_editor"), (second, "ga_referent"), (reader, "ga_reader")):
        await client.login(EMAILS[who])
    stale = await _status_forms(second, world.ga_roadmap, [world.upcoming])
    moved = await first.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                               {"status": "realisee"})
    assert moved.status_code == 303
    kept = await figures.kept()

    conflict = await second.post(f"/actions/{world.upcoming}/statut",
                                 {**stale[world.upcoming], "status": "en_cours"}, htmx=True)
    assert conflict.status_code == 409
    forbidden = await reader.post(f"/actions/{world.overdue}/statut",
                                  {"status": "realisee", "version": "1", "comment": ""})
    assert forbidden.status_code == 403
    assert await figures.kept() == kept

    # A change the kernel wrote, figures included, then rolled back with its transaction.
    found = await User.select(User.id).where(User.email == EMAILS["ga_editor"]).first()
    editor = Viewer(user_id=found["id"], email=EMAILS["ga_editor"], roles={world.ga: "editeur"})
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await change_action_status(editor, world.overdue, "realisee", "", 1)
            assert await figures.kept() != kept  # written inside the transaction…
            raise RuntimeError("refusé après coup")
    assert await figures.kept() == kept  # …and gone with it
    assert (await Action.select(Action.status).where(Action.id == world.overdue).first())["status"] == "en_cours"


def _summary_overdue(html: str) -> int:
    """« … dont N en retard » of the dashboard's summary line."""
    return int(re.search(r"dont ([\d\u202f ]+) en retard", html).group(1).replace("\u202f", "").replace(" ", ""))


async def test_overdue_counts_follow_the_date_with_no_write(client, world):
    """« En retard » is kept as of a day (issue 15) but follows the date with no write: once a deadline passes, the
    row no longer holds and the pages count it; `quotidien` recounts it, and the pages say the same."""
    today = clock.today()
    async with write_transaction(), lifecycle.deferred():
        await action(world.vr_roadmap, world.vr, "Échéance demain", status="en_cours",
                     deadline=today + timedelta(days=1))
    kept = await figures.kept()

    async def overdue() -> dict[str, int]:
        await client.login(EMAILS["reviewer"])  # a session of that day (one two days old has ended)
        page = (await client.get("/pilotage")).text
        table = table_after(page, 'class="table dashboard"')
        by_territory = {name: next(int(r[9]) for r in table[1:] if r[0].startswith(name))
                        for name in ("CA du Grand Angoulême", "CA Valence Romans Agglo")}
        by_territory["total"] = _summary_overdue(page)
        sorted_page = (await client.get("/pilotage", params={"tri": "retard", "ordre": "desc"})).text
        column = [int(r[9]) for r in table_after(sorted_page, 'class="table dashboard"')[1:]]
        assert column == sorted(column, reverse=True)
        return by_territory

    with clock.fixed_at(datetime.combine(today, time(9), tzinfo=clock.PARIS)):
        before = await overdue()
        assert world.vr not in await figures.stale_overdue()
    later = datetime.combine(today + timedelta(days=2), time(9), tzinfo=clock.PARIS)
    with clock.fixed_at(later):
        assert world.vr in await figures.stale_overdue()  # tomorrow's deadline has passed since it was counted
        after = await overdue()
        follow = await client.get("/pilotage/relances")
    assert after["CA Valence Romans Agglo"] == before["CA Valence Romans Agglo"] + 1
    assert after["CA du Grand Angoulême"] == before["CA du Grand Angoulême"]
    assert after["total"] == before["total"] + 1
    assert "Échéance demain" in follow.text.split('id="retards"')[1]
    assert await figures.kept() == kept  # nothing was written by the pages

    with clock.fixed_at(later):
        report = await run_daily()
        assert report.recounted >= 1 and await figures.stale_overdue() == []
        kept = await figures.kept()
        rows = {(r["territory"], r["audience"]): r for r in kept[0]}
        assert rows[(world.vr, figures.PUBLIC)]["overdue"] == after["CA Valence Romans Agglo"]
        assert rows[(world.vr, figures.PUBLIC)]["overdue_on"] == later.date()
        # As a rebuild today, but for the day each count was made on (one that still holds was not recounted).
        assert [{**r, "overdue_on": None} for r in kept[0]] == [
            {**r, "overdue_on": None} for r in (await figures.compute(None))[0]]
        assert await overdue() == after  # read from the kept counts now, the same figures


async def test_the_dashboard_reads_the_kept_overdue_while_its_day_holds_and_counts_it_once_a_deadline_passed(
        client, world):
    """The kept count is what /pilotage shows (its rows, its total, its sort) while no deadline has passed since it
    was counted; after one has, the page counts from the actions. Shown by a kept count set apart from the actions
    by hand (no writer does that: the tests above compare the kept rows with a rebuild)."""
    await client.login(EMAILS["reviewer"])

    async def shown() -> tuple[int, int, bool]:
        page = (await client.get("/pilotage")).text
        row = next(r for r in table_after(page, 'class="table dashboard"')[1:] if r[0].startswith("CA Valence"))
        first = table_after((await client.get("/pilotage", params={"tri": "retard", "ordre": "desc"})).text,
                            'class="table dashboard"')[1][0]
        return int(row[9]), _summary_overdue(page), first.startswith("CA Valence Romans Agglo")

    counted, total, first = await shown()
    async with write_transaction():
        await Action.raw("UPDATE territory_figures SET overdue = overdue + 40 WHERE territory = {}", world.vr)
    assert await shown() == (counted + 40, total + 40, True) != (counted, total, first)
    async with write_transaction():  # as if counted before a deadline that has passed since
        await Action.raw("UPDATE territory_figures SET overdue_on = {}, next_deadline = {} WHERE territory = {}",
                         clock.today() - timedelta(days=3), clock.today() - timedelta(days=1), world.vr)
    assert (await shown())[:2] == (counted, total)

    # « À relancer »'s count likewise: the kept silent count while it holds, counted once a recent note has aged.
    async def silent_total() -> int:
        page = (await client.get("/pilotage/relances")).text
        return int(re.search(r"depuis 30 jours \(([\d\u202f ]+)\)", page).group(1).replace("\u202f", ""))

    await figures.refresh_stale_overdue()
    silent = await silent_total()
    async with write_transaction():
        await Action.raw("UPDATE territory_figures SET silent = silent + 40 WHERE territory = {}", world.vr)
    assert await silent_total() == silent + 40
    async with write_transaction():
        await Action.raw("UPDATE territory_figures SET silent_until = {} WHERE territory = {}",
                         clock.now() - timedelta(hours=1), world.vr)
    assert await silent_total() == silent


async def test_a_note_ageing_past_thirty_days_makes_its_action_silent_with_no_write(client, world):
    """An overdue action noted 29 days ago is not « à relancer »; two days later it is, though nothing was written:
    the kept silent count of its territory held until that note's thirtieth day."""
    now = clock.now()
    with clock.fixed_at(now - timedelta(days=29)):
        await client.login(EMAILS["ga_editor"])
        noted = await client.submit(f"/actions/{world.overdue}", f"/actions/{world.overdue}/notes",
                                    {"body": "Relancé par téléphone"})
        assert noted.status_code == 303
    await figures.refresh_stale_overdue()  # everything counted now, as `quotidien` leaves it
    kept = await figures.kept()
    row = next(r for r in kept[0] if r["territory"] == world.ga and r["audience"] == figures.PUBLIC)
    later = now + timedelta(days=1, hours=1)
    assert row["silent_until"] < later  # the note's thirtieth day comes first…
    assert row["next_deadline"] is None or row["next_deadline"] > later.date()  # …before any deadline passes

    async def silent() -> tuple[int, bool]:
        await client.login(EMAILS["reviewer"])
        page = (await client.get("/pilotage/relances")).text
        listed = page.split('id="retards"')[1]
        return (int(re.search(r"depuis 30 jours \(([\d\u202f ]+)\)", page).group(1).replace("\u202f", "")),
                f"/actions/{world.overdue}\"" in listed)

    before = await silent()
    with clock.fixed_at(later):
        assert world.ga in await figures.stale_overdue()
        after = await silent()
    assert before[1] is False and after == (before[0] + 1, True)
    assert await figures.kept() == kept  # nothing was written


async def test_a_status_change_between_open_statuses_moves_the_kept_counts_in_one_statement(make_client, world,
                                                                                             monkeypatch):
    """Issue 15: a move between open statuses is applied to its territory's kept rows (both audiences, « tout »
    alone for a confidential action) by one UPDATE, not by recomputing the territory; into « réalisée » it is
    recomputed (a month of the curve moves). Kept == rebuilt after each."""
    written: list[str] = []
    original = figures.fetch

    async def recording(sql: str, *args):
        written.append(sql)
        return await original(sql, *args)

    monkeypatch.setattr(figures, "fetch", recording)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    before = {(r["territory"], r["audience"]): r for r in (await figures.kept())[0]}
    forms = await _status_forms(editor, world.ga_roadmap, [world.upcoming, world.secret])
    for action_id, target in ((world.upcoming, "en_cours"), (world.secret, "en_cours")):
        written.clear()
        moved = await editor.post(f"/actions/{action_id}/statut", {**forms[action_id], "status": target},
                                  htmx=True)
        assert moved.status_code == 200
        figures_sql = [sql for sql in written if "territory_figures" in sql or "GROUP BY" in sql]
        assert len(figures_sql) == 1 and figures_sql[0].startswith("UPDATE territory_figures"), figures_sql
    kept = await figures.kept()
    assert kept == await figures.compute(None)
    after = {(r["territory"], r["audience"]): r for r in kept[0]}
    every, public = (world.ga, figures.EVERY), (world.ga, figures.PUBLIC)
    assert after[every]["s_en_cours"] == before[every]["s_en_cours"] + 2
    assert after[every]["s_a_venir"] == before[every]["s_a_venir"] - 2
    assert after[public]["s_en_cours"] == before[public]["s_en_cours"] + 1  # the confidential one not counted
    assert after[every]["last_update"] > before[every]["last_update"]

    forms = await _status_forms(editor, world.ga_roadmap, [world.upcoming])
    written.clear()
    done = await editor.post(f"/actions/{world.upcoming}/statut",
                             {**forms[world.upcoming], "status": "realisee", "comment": "Fait"}, htmx=True)
    assert done.status_code == 200
    assert any("GROUP BY" in sql for sql in written)  # recomputed: the month of the curve moved
    assert await figures.kept() == await figures.compute(None)
