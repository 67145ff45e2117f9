"""The ADGCF reviews progress across the network: /pilotage, its charts, the cross-territory list, « à relancer »."""
from collections import Counter
from datetime import timedelta

import arrow
import pytest

from tests.factories import EMAILS, action, figures_rebuilt, roadmap, territory
from tests.htmltable import table_after
from tracker.accounts.tables import Membership, User
from tracker.core.db import write_transaction
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.tables import Action, ActionNote
from tracker.roadmaps.statuses import STATUS_LABELS

pytestmark = pytest.mark.anyio

ROUTES_COVERED = {("GET", "/pilotage"), ("GET", "/pilotage/actions"), ("GET", "/pilotage/relances")}


@pytest.mark.parametrize("person", ["ga_editor", "ga_reader", "ga_referent", "vr_editor", "nobody"])
async def test_only_the_adgcf_and_administrators_open_the_review_pages(make_client, world, person):
    client = await make_client()
    await client.login(EMAILS[person])
    for _, path in sorted(ROUTES_COVERED):
        response = await client.get(path)
        assert response.status_code == 403, (person, path)
        assert "réservé aux chargés de mission" in response.text


async def test_the_review_pages_send_anonymous_visitors_to_sign_in(client, world):
    for path in ("/pilotage", "/pilotage/actions", "/pilotage/relances"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


async def _network(world, extra_territories: int = 3):
    """More territories and actions in known statuses; returns what the test expects, computed here."""
    today = arrow.now("Europe/Paris").date()
    statuses = list(STATUS_LABELS)
    created = []
    async with write_transaction():  # one commit for all the rows: faster tests
        for t in range(extra_territories):
            tid = await territory(f"2000000{t:02d}", f"CC Test {t}", kind="CC")
            rid = await roadmap(tid)
            for i in range(t + 2):
                status = statuses[(t + i) % len(statuses)]
                deadline = today - timedelta(days=5) if i % 2 == 0 else today + timedelta(days=5)
                created.append((tid, status, deadline, False))
                await action(rid, tid, f"Action {t}-{i}", status=status, deadline=deadline)
    return created


async def test_dashboard_numbers_equal_counts_computed_from_the_data(client, world):
    await _network(world)
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage")
    assert page.status_code == 200
    rows = await Action.select(Action.territory, Action.territory.name.as_alias("name"), Action.status,
                               Action.deadline, Action.confidential)
    today = arrow.now("Europe/Paris").date()
    table = table_after(page.text, 'class="table dashboard"')
    header, body = table[0], table[1:]
    assert header[0].startswith("Territoire") and header[1] == "Actions"
    shown = {line[0]: line for line in body}
    names = {r["name"] for r in rows}
    assert len(body) == len(names)
    for name in names:
        mine = [r for r in rows if r["name"] == name and not r["confidential"]]  # a reviewer: no confidential
        counts = Counter(r["status"] for r in mine)
        overdue = sum(1 for r in mine if r["deadline"] and r["deadline"] < today
                      and r["status"] not in ("realisee", "abandonnee"))
        line = next(v for k, v in shown.items() if k.startswith(name))
        assert int(line[1]) == len(mine), name
        assert [int(x) for x in line[2:8]] == [counts[s] for s in STATUS_LABELS], name
        share = round(100 * counts["realisee"] / len(mine)) if mine else 0
        assert line[8] == f"{share}\u00a0%"
        assert int(line[9]) == overdue, name


async def test_administrators_count_confidential_actions_reviewers_do_not(make_client, world):
    reviewer, admin = await make_client(), await make_client()
    await reviewer.login(EMAILS["reviewer"])
    await admin.login(EMAILS["admin"])

    def ga_total(html):
        return next(int(r[1]) for r in table_after(html, 'class="table dashboard"')[1:] if "Grand Angoulême" in r[0])

    assert ga_total((await reviewer.get("/pilotage")).text) == 3
    assert ga_total((await admin.get("/pilotage")).text) == 4


async def test_filters_and_sort_stay_in_the_query_string(client, world):
    await _network(world)
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage?type=CC&tri=actions&ordre=desc")
    body = table_after(page.text, 'class="table dashboard"')[1:]
    assert [r[0].split(" Communauté")[0] for r in body] == ["CC Test 2", "CC Test 1", "CC Test 0"]
    assert all("Communauté de communes" in r[0] for r in body)
    assert 'aria-sort="descending"' in page.text
    fragment = await client.get("/pilotage?type=CC&tri=actions&ordre=desc&region=", htmx=True)
    assert fragment.text.lstrip().startswith('<div id="tableau-de-bord"')
    assert fragment.headers["hx-push-url"] == "/pilotage?type=CC&tri=actions&ordre=desc"
    assert (await client.get("/pilotage?region=99")).status_code == 400
    assert (await client.get("/pilotage?tri=population")).status_code == 400


async def test_each_chart_is_an_svg_with_its_data_table(client, world):
    await client.login(EMAILS["admin"])
    page = await client.get("/pilotage")
    for title in ("Répartition des actions par statut", "Actions par module", "Actions réalisées en fin de mois",
                  "Engagements par secteur du partenaire"):
        assert title in page.text
    assert page.text.count('<svg viewBox=') == 4 and page.text.count('role="img"') == 4
    status_table = table_after(page.text, "Données du graphique «&nbsp;Répartition des actions par statut")
    # An administrator: the confidential action is counted (3 à venir: 2 in GA, 1 in VR).
    assert status_table[1:] == [["À venir", "3"], ["En cours", "1"], ["En pause", "0"], ["Bloquée", "0"],
                                ["Réalisée", "1"], ["Abandonnée", "0"]]


async def test_progress_over_time_is_rebuilt_from_the_history(client, world):
    """Realised two months ago, another last month then reopened this month: the month ends say 1, 2, 1."""
    now = arrow.utcnow().floor("month")
    entries = [
        (world.upcoming, "en_cours", "realisee", now.shift(months=-2, days=10)),
        (world.overdue, "en_cours", "realisee", now.shift(months=-1, days=10)),
        (world.overdue, "realisee", "en_cours", now.shift(days=1, hours=2)),
    ]
    for subject, before, after, when in entries:
        await HistoryEntry(subject_type="action", subject_id=subject, territory=world.ga, from_value=before,
                           to_value=after, comment="", created_at=when.datetime).save()
    await figures_rebuilt()  # entries written behind the kernel's back
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage")
    table = table_after(page.text, "Données du graphique «&nbsp;Actions réalisées en fin de mois")
    values = [int(v) for _, v in table[1:]]
    assert len(values) == 12
    assert values[-3:] == [1, 2, 1] and values[:-3] == [0] * 9
    # The same curve read from the network's kept months (a reviewer, an administrator, no filter) and summed from
    # the territories' (filters; a reviewer who is also a territory's member).
    for email, query in ((EMAILS["admin"], ""), (EMAILS["reviewer"], "?type=CA"), (EMAILS["admin"], "?type=CA")):
        await client.login(email)
        page = await client.get(f"/pilotage{query}")
        table = table_after(page.text, "Données du graphique «&nbsp;Actions réalisées en fin de mois")
        assert [int(v) for _, v in table[1:]][-3:] == [1, 2, 1], (email, query)
    await Membership(user=(await User.select(User.id).where(User.email == EMAILS["reviewer"]).first())["id"],
                     territory=world.vr, role="lecteur").save()
    await client.login(EMAILS["reviewer"])
    table = table_after((await client.get("/pilotage")).text, "Données du graphique «&nbsp;Actions réalisées en fin de mois")
    assert [int(v) for _, v in table[1:]][-3:] == [1, 2, 1]


async def test_the_cross_territory_list_combines_filters_and_counts(client, world):
    await _network(world)
    await client.login(EMAILS["reviewer"])
    everything = await Action.select(Action.title, Action.status, Action.confidential, Action.module)
    visible = [a for a in everything if not a["confidential"]]
    page = await client.get("/pilotage/actions")
    assert f"{len(visible)} actions" in page.text
    en_cours = [a["title"] for a in visible if a["status"] == "en_cours"]
    page = await client.get("/pilotage/actions?statut=en_cours")
    body = table_after(page.text, 'id="resultats"')[1:]
    assert sorted(r[0].split(" Module")[0] for r in body) == sorted(en_cours)
    page = await client.get("/pilotage/actions?q=portage&en_retard=1&territoire=200071827")
    assert [r[0].split(" Module")[0] for r in table_after(page.text, 'id="resultats"')[1:]] == ["Portage de repas"]
    assert "Audit confidentiel" not in (await client.get("/pilotage/actions?q=audit")).text
    for bad in ("du=2026-05-01&au=2026-04-01", "territoire=abc", "page=0", "secteur=inconnu"):
        assert (await client.get(f"/pilotage/actions?{bad}")).status_code == 400, bad


async def test_the_cross_territory_list_is_paginated(client, world):
    async with write_transaction():  # one commit for all the rows: faster tests
        for i in range(60):
            await action(world.vr_roadmap, world.vr, f"Action paginée {i:02d}")
    await client.login(EMAILS["reviewer"])
    first = await client.get("/pilotage/actions?q=pagin")
    assert "60 actions" in first.text and "page 1 sur 2" in first.text
    assert len(table_after(first.text, 'id="resultats"')) == 51
    second = await client.get("/pilotage/actions?q=pagin&page=2")
    assert len(table_after(second.text, 'id="resultats"')) == 11


async def test_follow_ups_list_idle_territories_and_silent_overdue_actions_with_who_to_contact(client, world):
    old = arrow.utcnow().shift(days=-90).datetime
    await Action.update({Action.updated_at: old}).where(Action.territory == world.vr)
    await ActionNote(action=world.overdue, author=1, body="Note ancienne",
                     created_at=arrow.utcnow().shift(days=-45).datetime).save()
    await figures_rebuilt()  # rows written behind the kernel's back
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage/relances")
    idle = page.text.split('id="inactifs"')[1].split('id="retards"')[0]
    assert "CA Valence Romans Agglo" in idle and "Grand Angoulême" not in idle
    assert "Victor Valence" in idle and f"mailto:{EMAILS['vr_editor']}" in idle
    silent = page.text.split('id="retards"')[1]
    assert "Portage de repas" in silent and "Rita Référente" in silent
    await ActionNote(action=world.overdue, author=1, body="Note récente", created_at=arrow.utcnow().datetime).save()
    await figures_rebuilt()
    page = await client.get("/pilotage/relances?jours=120")
    assert "Portage de repas" not in page.text.split('id="retards"')[1]
    assert "CA Valence Romans Agglo" not in page.text.split('id="inactifs"')[1].split('id="retards"')[0]
    assert (await client.get("/pilotage/relances?jours=abc")).status_code == 400


async def test_a_note_written_through_the_form_takes_its_action_off_the_silent_list_with_no_rebuild(
        make_client, world):
    """« À relancer » reads each action's newest note from `action.last_note_at`, which the note form keeps (in
    its transaction): no rebuild between the note and the page. A later rebuild finds nothing to correct; a note
    written behind `add_note`'s back is what `recalculer-indicateurs` corrects."""
    from tracker.review.figures import rebuild

    async def last_notes() -> dict[int, object]:
        rows = await Action.raw("SELECT a.id, a.last_note_at, (SELECT MAX(n.created_at) FROM action_note n "
                                "WHERE n.action = a.id) AS newest FROM action a")
        return {r["id"]: (r["last_note_at"], r["newest"]) for r in rows}

    reviewer, editor = await make_client(), await make_client()
    await reviewer.login(EMAILS["reviewer"])
    await editor.login(EMAILS["ga_editor"])

    def silent(page) -> str:
        return page.text.split('id="retards"')[1]

    assert "Portage de repas" in silent(await reviewer.get("/pilotage/relances"))
    sent = await editor.submit(f"/actions/{world.overdue}", f"/actions/{world.overdue}/notes",
                               {"body": "Relance faite auprès du pilote"})
    assert sent.status_code == 303
    assert "Portage de repas" not in silent(await reviewer.get("/pilotage/relances"))
    kept = await last_notes()
    assert kept[world.overdue][0] is not None
    assert (await rebuild())["notes_corrigees"] == 0 and await last_notes() == kept

    # Behind add_note's back (as a bulk load writes): stale until the rebuild, which corrects that one action.
    await Action.update({Action.last_note_at: None}).where(Action.id == world.overdue)
    assert "Portage de repas" in silent(await reviewer.get("/pilotage/relances"))
    assert (await rebuild())["notes_corrigees"] == 1 and await last_notes() == kept
    assert "Portage de repas" not in silent(await reviewer.get("/pilotage/relances"))


async def test_an_older_note_does_not_move_an_actions_newest_note_back(world):
    """An import may write a note dated before one already there: the newest stays the newest."""
    from tracker.core.permissions import Viewer
    from tracker.roadmaps.service import add_note
    from tracker.accounts.tables import User

    found = await User.select(User.id).where(User.email == EMAILS["ga_editor"]).first()
    editor = Viewer(user_id=found["id"], email=EMAILS["ga_editor"], roles={world.ga: "editeur"})
    recent, old = arrow.utcnow().datetime, arrow.utcnow().shift(days=-60).datetime
    await add_note(editor, world.overdue, "Récente", at=recent)
    await add_note(editor, world.overdue, "Ancienne", at=old)
    row = await Action.select(Action.last_note_at).where(Action.id == world.overdue).first()
    assert row["last_note_at"] == recent


async def test_a_note_on_a_confidential_action_does_not_date_the_territory_for_reviewers(make_client, world):
    await Action.update({Action.updated_at: arrow.utcnow().shift(days=-90).datetime}).where(Action.territory == world.ga)
    await ActionNote(action=world.secret, author=1, body="Note confidentielle", created_at=arrow.utcnow().datetime).save()
    await figures_rebuilt()  # rows written behind the kernel's back
    reviewer, admin = await make_client(), await make_client()
    await reviewer.login(EMAILS["reviewer"])
    await admin.login(EMAILS["admin"])

    def idle(page) -> str:
        return page.text.split('id="inactifs"')[1].split('id="retards"')[0]

    assert "Grand Angoulême" in idle(await reviewer.get("/pilotage/relances")), "la note confidentielle ne compte pas"
    assert "Grand Angoulême" not in idle(await admin.get("/pilotage/relances"))


@pytest.fixture
def query_counter(app, monkeypatch):
    """Counts every SQL statement the engine runs."""
    from tracker.core.db import engine

    engine_class = type(engine())
    original = engine_class.run_querystring
    counter = {"n": 0}

    async def counting(self, *args, **kwargs):
        counter["n"] += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    return counter


async def test_the_number_of_queries_does_not_grow_with_territories_or_actions(client, world, query_counter):
    await client.login(EMAILS["admin"])
    roadmap_page = f"/feuilles-de-route/{world.ga_roadmap}"

    async def queries(path: str) -> int:
        await client.get(path)  # warm: session touch and the like
        query_counter["n"] = 0
        response = await client.get(path)
        assert response.status_code == 200
        return query_counter["n"]

    small = {path: await queries(path) for path in ("/pilotage", roadmap_page, "/pilotage/actions")}
    await _network(world, extra_territories=8)
    async with write_transaction():  # one commit for all the rows: faster tests
        for i in range(40):
            await action(world.ga_roadmap, world.ga, f"Action supplémentaire {i}",
                         parent=world.upcoming if i % 3 else None)
    large = {path: await queries(path) for path in small}
    print("requêtes SQL par page :", small)
    assert large == small, (small, large)
    assert all(0 < n <= 20 for n in small.values()), small


async def test_the_dashboard_shows_a_hundred_territories_a_page(client, world):
    async with write_transaction():  # one commit for all the rows: faster tests
        for i in range(103):
            tid = await territory(f"3{i:08d}", f"CC Page {i:03d}", kind="CC")
            await roadmap(tid)
    await client.login(EMAILS["reviewer"])
    first = await client.get("/pilotage?type=CC")
    assert "103 territoires" in first.text and "Page 1 sur 2" in first.text
    assert len(table_after(first.text, 'class="table dashboard"')) == 101
    second = await client.get("/pilotage?type=CC&page=2")
    assert [r[0].split(" Communauté")[0] for r in table_after(second.text, 'class="table dashboard"')[1:]] == [
        "CC Page 100", "CC Page 101", "CC Page 102"]
    # « À relancer » looks at every territory, not only the dashboard's first page: the page shows 100 of them
    # and says so, the download has them all.
    follow = await client.get("/pilotage/relances")
    idle = follow.text.split('id="inactifs"')[1].split('id="retards"')[0]
    assert "Les 100 premiers sur 10" in idle
    download = await client.get("/pilotage/relances/export.csv")
    assert "CC Page 102" in download.content.decode("utf-8-sig")


async def test_the_curves_months_are_those_arrow_counted(world):
    """The last 12 months of the curve, cut in UTC, as `arrow.get(now).floor('month').shift(months=-i)` labelled
    them with `format('MMM YYYY', locale='fr')`, at a month's edges and across a year."""
    from datetime import datetime, timezone

    from tracker.core import clock
    from tracker.core.permissions import Viewer
    from tracker.review import service

    for moment in (datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc), datetime(2026, 3, 1, 0, 10, tzinfo=timezone.utc),
                   datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc), datetime(2027, 11, 30, 23, 59, tzinfo=timezone.utc)):
        with clock.fixed_at(moment):
            points = await service.realised_by_month(Viewer(user_id=1, is_reviewer=True))
        end = arrow.get(moment).floor("month")
        assert [label for label, _ in points] == [
            end.shift(months=-i).format("MMM YYYY", locale="fr") for i in range(11, -1, -1)], moment


async def test_one_day_without_update_is_written_in_the_singular(client, world):
    """« depuis 1 jour », not « 1 jours » (found by looking at the page), on the page and in its download."""
    await Action.update({Action.updated_at: arrow.utcnow().shift(days=-90).datetime}).where(Action.territory == world.vr)
    await figures_rebuilt()  # rows written behind the kernel's back
    await client.login(EMAILS["reviewer"])
    one = await client.get("/pilotage/relances?jours=1")
    assert "Territoires sans mise à jour depuis 1 jour</h2>" in one.text and "1 jours" not in one.text
    assert "Territoires sans mise à jour depuis 2 jours</h2>" in (await client.get("/pilotage/relances?jours=2")).text
    download = (await client.get("/pilotage/relances/export.csv?jours=1")).text
    assert "Sans mise à jour depuis 1 jour;" in download or "Sans mise à jour depuis 1 jour," in download
    assert "1 jours" not in download


async def test_the_dashboards_summary_writes_one_action_in_the_singular(client, world):
    """« 1 action, dont 0 en retard », not « 1 actions » (a filter can leave one action)."""
    async with write_transaction():
        lone = await territory("200000777", "CC du Test", kind="CC")
        await action(await roadmap(lone), lone, "Seule action")
    await figures_rebuilt()
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage?type=CC")
    assert "1 territoire avec une feuille de route (filtrés) — 1 action, dont 0 en retard." in page.text
    assert "actions, dont" in (await client.get("/pilotage")).text
