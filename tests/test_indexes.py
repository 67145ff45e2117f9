"""Every foreign key a page filters on has an index, and the planners use it (issue 15): `EXPLAIN QUERY PLAN` on
SQLite, `EXPLAIN` on PostgreSQL, on data shaped like the network's (many territories, roadmaps, actions, members),
after `ANALYZE`. And every column declared `index=True` has its index, under Piccolo's name, in the migrated
schema: the migrations made it, not only the table classes."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest

from tracker.accounts.tables import Membership, User, UserSession
from tracker.core.db import analyse, engine, is_sqlite, write_transaction
from tracker.partners.tables import Partner, PartnerTerritory
from tracker.piccolo_app import TABLES
from tracker.roadmaps.tables import Action, Axis

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 3, 8, tzinfo=timezone.utc)

# What the pages ask, by foreign key -> the index that must answer it.
SHAPES = {
    "action_parent": ('SELECT "id", "title" FROM "action" WHERE "parent" = {}', "sub-actions of an action page"),
    "action_axis": ('SELECT "id" FROM "action" WHERE "axis" = {}', "a roadmap filtered by axis"),
    "roadmap_axis_roadmap": ('SELECT "id", "title" FROM "roadmap_axis" WHERE "roadmap" = {}', "a roadmap's axes"),
    "membership_territory": ('SELECT "user", "role" FROM "membership" WHERE "territory" = {}', "members, relances"),
    "partner_territory_territory": ('SELECT "partner" FROM "partner_territory" WHERE "territory" = {}',
                                    "the pilots a roadmap page offers"),
    "user_session_user": ('SELECT "id" FROM "user_session" WHERE "user" = {}', "/compte: my sessions"),
}


def _declared_indexes() -> set[str]:
    return {table._get_index_name([column._meta.db_column_name])
            for table in TABLES for column in table._meta.columns if column._meta.index}


async def _indexes_in_database() -> set[str]:
    from piccolo.querystring import QueryString

    query = ("SELECT name FROM sqlite_master WHERE type = 'index'" if is_sqlite()
             else "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'")
    return {row["name"] for row in await engine().run_querystring(QueryString(query))}


async def test_every_declared_index_is_in_the_migrated_schema(app):
    assert set(SHAPES) <= _declared_indexes()
    assert _declared_indexes() - await _indexes_in_database() == set()


async def _network_shaped(world) -> dict[str, int]:
    """60 territories, each with a roadmap of 10 axes and ~65 actions (one in eight a sub-action), 20 members
    with a session, 50 partners: selective filters, as on the national data set."""
    from tests.factories import roadmap, territory

    probe: dict[str, int] = {}
    async with write_transaction():
        territories = [await territory(f"2{i:08d}", f"Territoire {i}") for i in range(60)]
        roadmaps = [await roadmap(t, f"Feuille {t}") for t in territories]
        axes = await Axis.insert(*[Axis(roadmap=r, position=p, title=f"Axe {p}") for r in roadmaps
                                   for p in range(10)]).returning(Axis.id, Axis.roadmap)
        axes_of: dict[int, list[int]] = {}
        for row in axes:
            axes_of.setdefault(row["roadmap"], []).append(row["id"])
        for r, t in zip(roadmaps, territories):
            tops = await Action.insert(*[Action(
                roadmap=r, territory=t, title=f"Action {i}", description="", status="a_venir", module=1,
                axis=axes_of[r][i % 10] if i % 3 == 0 else None, version=1, created_at=NOW, updated_at=NOW)
                for i in range(57)]).returning(Action.id)
            await Action.insert(*[Action(
                roadmap=r, territory=t, title=f"Sous-action {i}", description="", status="a_venir", module=1,
                parent=tops[i]["id"], version=1, created_at=NOW, updated_at=NOW) for i in range(8)])
        users = await User.insert(*[User(email=f"membre{i}@exemple.org", full_name=f"Membre {i}", password_hash="x",
                                         created_at=NOW) for i in range(1200)]).returning(User.id)
        await Membership.insert(*[Membership(user=u["id"], territory=territories[i % 60], role="lecteur")
                                  for i, u in enumerate(users)])
        await UserSession.insert(*[UserSession(token_hash=f"{i:064d}", user=u["id"], created_at=NOW,
                                               last_seen_at=NOW, expires_at=NOW) for i, u in enumerate(users)])
        partners = await Partner.insert(*[Partner(name=f"Partenaire {i}", sector="associatif",
                                                  legal_form="association", created_at=NOW)
                                          for i in range(3000)]).returning(Partner.id)
        await PartnerTerritory.insert(*[PartnerTerritory(partner=p["id"], territory=territories[i % 60])
                                        for i, p in enumerate(partners)])
        parent = await Action.select(Action.parent).where(Action.parent.is_not_null()).first()
        probe.update(action_parent=parent["parent"], action_axis=axes[0]["id"], roadmap_axis_roadmap=roadmaps[7],
                     membership_territory=territories[7], partner_territory_territory=territories[7],
                     user_session_user=users[7]["id"])
    return probe


async def _analyse() -> None:
    if is_sqlite():
        await analyse()  # the application's own helper
        return
    import asyncpg  # the tables' owner: the application's role may not ANALYZE them (a warning, no statistics)

    connection = await asyncpg.connect(os.environ["SUIVI_TEST_OWNER_URL"])
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def test_the_pages_filters_on_foreign_keys_use_their_indexes(world):
    from piccolo.querystring import QueryString

    probe = await _network_shaped(world)
    await _analyse()
    explain = "EXPLAIN QUERY PLAN " if is_sqlite() else "EXPLAIN "
    for index, (sql, page) in SHAPES.items():
        rows = await engine().run_querystring(QueryString(explain + sql, probe[index]))
        plan = " / ".join(str(row.get("detail", row.get("QUERY PLAN"))) for row in rows)
        assert index in plan, f"{page}: {plan}"


async def test_the_dashboards_page_reads_territories_in_name_order_and_each_ones_overdue_actions_alone(
        world, monkeypatch):
    """/pilotage's page of 100 territories (service.dashboard, as it asks it): SQLite walks `territory_name_key` in
    the page's order (no sort of every territory) and counts each shown territory's « en retard » from
    `action_open_territory`. PostgreSQL chooses by its costs (on 60 territories, a sort is as cheap)."""
    if not is_sqlite():
        pytest.skip("plan SQLite : PostgreSQL choisit selon ses coûts")
    from tracker.core import sqlite_engine
    from tracker.core.permissions import Viewer
    from tracker.review import service
    from tracker.review.queries import DashboardFilters

    await _network_shaped(world)
    await _analyse()
    asked: list[tuple[str, list]] = []
    original = sqlite_engine._rows

    def recording(connection, sql, args):
        asked.append((sql, list(args)))
        return original(connection, sql, args)

    monkeypatch.setattr(sqlite_engine, "_rows", recording)
    board = await service.dashboard(Viewer(user_id=1, is_reviewer=True), DashboardFilters())
    monkeypatch.setattr(sqlite_engine, "_rows", original)
    names = [row["name"].lower() for row in board["rows"]]
    assert len(names) == 62 and names == sorted(names)
    sql, args = next((s, a) for s, a in asked if " LIMIT " in s)
    plan = " / ".join(row["detail"] for row in await engine().run_sql("EXPLAIN QUERY PLAN " + sql, args))
    assert "SCAN t USING INDEX territory_name_key" in plan, plan
    assert "action_open_territory (territory=? AND deadline<?)" in plan, plan
