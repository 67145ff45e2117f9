"""The network review computed in SQL (issue 15): the dashboard's order, totals and pages, « à relancer » and the
cross-territory counts, each compared with the same figures computed here, in Python, from the base tables."""
import re
from collections import Counter
from datetime import timedelta

import arrow
import pytest

from tests.factories import EMAILS, action, figures_rebuilt, roadmap, territory, user
from tests.htmltable import table_after
from tracker.core.db import write_transaction
from tracker.review.tables import TerritoryFigures
from tracker.roadmaps.statuses import STATUS_LABELS
from tracker.roadmaps.tables import Action, Roadmap
from tracker.territories.tables import Territory

pytestmark = pytest.mark.anyio

OPEN = ("a_venir", "en_cours", "en_pause", "bloquee")


async def _varied_network(world) -> None:
    """Territories whose figures tie and differ on every sorted column: two with the same name, one with a roadmap
    but no action (no kept figures: « Jamais »), one whose only action is confidential, equal shares (1/2, 2/4),
    different last updates."""
    today = arrow.now("Europe/Paris").date()
    plans = [  # name, kind, [(status, days to the deadline or None, confidential)], days since the last update
        ("CC Alpha", "CC", [("realisee", None, False), ("en_cours", -3, False)], 10),
        ("CC Alpha", "CC", [("realisee", None, False), ("realisee", None, False), ("bloquee", -1, False),
                            ("a_venir", 4, False)], 200),
        ("CC Béta", "CC", [], None),
        ("CC gamma", "CC", [("bloquee", -9, True)], 40),
        ("CA Delta", "CA", [("en_pause", -2, False), ("en_pause", -5, False), ("bloquee", 30, False)], 75),
        ("CC Été", "CC", [("abandonnee", -20, False), ("a_venir", None, False)], 75),
    ]
    async with write_transaction():
        for i, (name, kind, actions, days) in enumerate(plans):
            tid = await territory(f"4000000{i:02d}", name, kind=kind)
            rid = await roadmap(tid)
            for j, (status, due, confidential) in enumerate(actions):
                await action(rid, tid, f"{name} {j}", status=status, confidential=confidential,
                             deadline=today + timedelta(days=due) if due is not None else None)
            if days is not None:
                await Action.update({Action.updated_at: arrow.utcnow().shift(days=-days).datetime}).where(
                    Action.territory == tid)
    await figures_rebuilt()  # updated_at written behind the kernel's back


async def _expected(admin: bool) -> list[dict]:
    """Every territory with a roadmap and its figures, computed here from the base tables (the kept last update
    aside: `test_review_figures` checks it against a rebuild)."""
    today = arrow.now("Europe/Paris").date()
    with_roadmap = {r["territory"] for r in await Roadmap.select(Roadmap.territory)}
    territories = await Territory.select(Territory.id, Territory.siren, Territory.name, Territory.kind).where(
        Territory.id.is_in(sorted(with_roadmap)))
    actions = await Action.select(Action.territory, Action.status, Action.deadline, Action.confidential)
    kept = {r["territory"]: r["last_update"] for r in await TerritoryFigures.select(
        TerritoryFigures.territory, TerritoryFigures.last_update).where(
        TerritoryFigures.audience == ("tout" if admin else "public"))}
    rows = []
    for t in territories:
        mine = [a for a in actions if a["territory"] == t["id"] and (admin or not a["confidential"])]
        counts = Counter(a["status"] for a in mine)
        rows.append({
            "id": t["id"], "siren": t["siren"], "name": t["name"], "kind": t["kind"], "total": len(mine),
            "by_status": [counts[s] for s in STATUS_LABELS], "blocked": counts["bloquee"],
            "share": counts["realisee"] / len(mine) if mine else 0.0,
            "overdue": sum(1 for a in mine if a["status"] in OPEN and a["deadline"] and a["deadline"] < today),
            "last_update": kept.get(t["id"]),
        })
    return rows


def _sorted(rows: list[dict], key: str, descending: bool) -> list[dict]:
    """The dashboard's order as it was computed in Python before issue 15: by name, then (stable) by the column;
    two territories of the same name by their number."""
    never = arrow.get("0001-01-01").datetime
    keys = {"territoire": lambda r: r["name"].lower(), "actions": lambda r: r["total"],
            "realise": lambda r: r["share"], "retard": lambda r: r["overdue"], "bloquees": lambda r: r["blocked"],
            "maj": lambda r: r["last_update"] or never}
    rows = sorted(rows, key=lambda r: (r["name"].lower(), r["id"]))
    return sorted(rows, key=keys[key], reverse=descending)  # stable, also reversed: ties stay by name, then id


def _shown_sirens(html: str) -> list[str]:
    table = html.split('class="table dashboard"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row"><a href="/territoires/(\d{9})">', table)


@pytest.mark.parametrize("person", ["reviewer", "admin"])
async def test_every_sort_of_the_dashboard_equals_the_order_computed_from_the_data(make_client, world, person):
    await _varied_network(world)
    client = await make_client()
    await client.login(EMAILS[person])
    expected = await _expected(admin=person == "admin")
    for key in ("territoire", "actions", "realise", "retard", "bloquees", "maj"):
        for descending in (False, True):
            page = await client.get(f"/pilotage?tri={key}" + ("&ordre=desc" if descending else ""))
            assert page.status_code == 200
            want = [r["siren"] for r in _sorted(expected, key, descending)]
            assert _shown_sirens(page.text) == want, (key, descending)
    page = await client.get("/pilotage?tri=retard&ordre=desc")
    for row, line in zip(_sorted(expected, "retard", True), table_after(page.text, 'class="table dashboard"')[1:]):
        assert int(line[1]) == row["total"] and [int(x) for x in line[2:8]] == row["by_status"], row["name"]
        assert int(line[9]) == row["overdue"], row["name"]


@pytest.mark.parametrize("person", ["reviewer", "admin"])
async def test_dashboard_totals_with_and_without_filters_equal_the_data(make_client, world, person):
    await _varied_network(world)
    client = await make_client()
    await client.login(EMAILS[person])
    expected = await _expected(admin=person == "admin")
    for query, chosen in (("", expected), ("?type=CC", [r for r in expected if r["kind"] == "CC"])):
        page = await client.get(f"/pilotage{query}")
        total = sum(r["total"] for r in chosen)
        overdue = sum(r["overdue"] for r in chosen)
        plural = "s" if len(chosen) > 1 else ""
        assert (f"{len(chosen)} territoire{plural} avec une feuille de route" in page.text), query
        assert f"— {total} actions, dont {overdue} en retard." in page.text, query
        status_table = table_after(page.text, "Données du graphique «&nbsp;Répartition des actions par statut")
        assert [int(v) for _, v in status_table[1:]] == [sum(r["by_status"][i] for r in chosen)
                                                         for i in range(len(STATUS_LABELS))], query


async def test_a_page_of_the_dashboard_beyond_the_last_shows_no_row_and_the_totals(client, world):
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage?page=7")
    assert page.status_code == 200
    assert "Aucun territoire ne correspond à ces filtres." in page.text
    assert "2 territoires avec une feuille de route" in page.text


async def test_follow_ups_list_never_updated_territories_first_then_the_oldest(client, world):
    await _varied_network(world)
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage/relances?jours=30")
    idle = page.text.split('id="inactifs"')[1].split('id="sans-reponse"')[0]
    sirens = re.findall(r'href="/territoires/(\d{9})"', idle)
    # « CC Béta » never (no action), then 200 days, then 75 days (two: by name, CA Delta before CC Été), then 40
    # (« CC gamma »: its only action is confidential, so for a reviewer it was never updated: first).
    expected = await _expected(admin=False)
    never = [r for r in expected if r["last_update"] is None]
    dated = [r for r in expected if r["last_update"] is not None
             and r["last_update"] < arrow.utcnow().shift(days=-30).datetime]
    want = [r["siren"] for r in sorted(never, key=lambda r: (r["name"].lower(), r["id"]))] + [
        r["siren"] for r in sorted(dated, key=lambda r: (r["last_update"], r["name"].lower(), r["id"]))]
    assert sirens == want and len(want) == 5


@pytest.mark.parametrize("person", ["reviewer", "admin", "member_reviewer"])
async def test_the_unfiltered_action_list_counts_what_each_viewer_may_read(make_client, world, person):
    """Without filters the counts come from the kept figures: the same numbers as the actions themselves, for an
    administrator (confidential counted), a reviewer (not counted) and a reviewer member of a territory (counted
    there only)."""
    await _varied_network(world)
    email = EMAILS.get(person, "membre-revue@test.example.org")
    if person == "member_reviewer":
        await user(email, "Revue Membre", reviewer=True, roles={world.ga: "lecteur"})
    client = await make_client()
    await client.login(email)
    actions = await Action.select(Action.territory, Action.status, Action.confidential)
    readable = [a for a in actions if person == "admin" or not a["confidential"]
                or (person == "member_reviewer" and a["territory"] == world.ga)]
    assert any(a["confidential"] for a in actions)
    page = await client.get("/pilotage/actions")
    status = page.text.split('role="status">', 1)[1].split("</p>", 1)[0]
    assert status.startswith(f"{len(readable)} actions :"), status
    for code, n in Counter(a["status"] for a in readable).items():
        assert f"{STATUS_LABELS[code].lower()} {n}" in status, (code, status)
    # A filter that keeps them all counts the actions themselves: the same numbers.
    filtered = await client.get("/pilotage/actions?du=1900-01-01")
    undated = sum(1 for a in await Action.select(Action.deadline, Action.confidential, Action.territory)
                  if a["deadline"] is None and (person == "admin" or not a["confidential"]
                                                or (person == "member_reviewer" and a["territory"] == world.ga)))
    assert f"{len(readable) - undated} action" in filtered.text.split('role="status">', 1)[1]
