"""The network-sized data set (DESIGN.md §6): 1,255 EPCI with a roadmap each, ~39,000 actions, ~233,000 history
entries, 5,000 users, and one action with a long history. Built in the bench's own database, then analysed."""
from __future__ import annotations

import random
import sqlite3
import time
from urllib.parse import urlsplit, urlunsplit

PASSWORD = "banc-d-essai-2026"
REVIEWER_EMAIL = "revue@bench.example.org"
STATUSES = ["a_venir", "en_cours", "en_pause", "bloquee", "realisee", "abandonnee"]
LONG_HISTORY = 250  # entries of the one action whose page shows a long history


async def build(actions_wanted: int) -> dict:
    import arrow
    from argon2 import PasswordHasher

    from tracker.accounts.tables import Membership, User
    from tracker.core import clock
    from tracker.core.db import write_transaction
    from tracker.history.tables import HistoryEntry
    from tracker.partners.tables import Partner, PartnerTerritory
    from tracker.roadmaps.tables import Action, ActionNote, Axis, Roadmap, Workshop
    from tracker.territories.reference import load_epci
    from tracker.territories.tables import Territory

    rng = random.Random(2026)
    started = time.perf_counter()
    await load_epci()
    territories = [row["id"] for row in await Territory.select(Territory.id).order_by(Territory.id)]
    per_territory = max(1, actions_wanted // len(territories))
    now = arrow.get(clock.now())
    password_hash = PasswordHasher().hash(PASSWORD)

    async def insert(table, rows):
        for start in range(0, len(rows), 400):
            async with write_transaction():
                await table.insert(*rows[start : start + 400])

    users = [User(email=f"u{i}@bench.example.org", full_name=f"Utilisateur {i}", password_hash=password_hash,
                  created_at=now.datetime) for i in range(5000)]
    users.append(User(email="revue@bench.example.org", full_name="Revue", password_hash=password_hash,
                      is_reviewer=True, created_at=now.datetime))
    await insert(User, users)
    user_ids = [row["id"] for row in await User.select(User.id).order_by(User.id)]
    memberships = [Membership(user=user_ids[i], territory=territories[i % len(territories)],
                              role=("editeur", "lecteur", "referent", "editeur")[i % 4]) for i in range(5000)]
    await insert(Membership, memberships)

    partners = [Partner(name=f"Partenaire {i}", sector="associatif", legal_form="association",
                        created_at=now.datetime) for i in range(len(territories) * 4)]
    await insert(Partner, partners)
    partner_ids = [row["id"] for row in await Partner.select(Partner.id).order_by(Partner.id)]
    await insert(PartnerTerritory, [PartnerTerritory(partner=p, territory=territories[i // 4])
                                    for i, p in enumerate(partner_ids)])

    await insert(Workshop, [Workshop(host=t, held_on=now.shift(days=-rng.randint(60, 900)).date(),
                                     module_primary=rng.randint(1, 4), participants=30, experts="",
                                     created_at=now.datetime) for t in territories])
    workshops = await Workshop.select(Workshop.id, Workshop.host).order_by(Workshop.id)
    await insert(Roadmap, [Roadmap(workshop=w["id"], territory=w["host"], title="Feuille de route",
                                   created_at=now.datetime) for w in workshops])
    roadmaps = await Roadmap.select(Roadmap.id, Roadmap.territory).order_by(Roadmap.id)
    await insert(Axis, [Axis(roadmap=r["id"], position=p, title=f"Axe {p}") for r in roadmaps for p in (1, 2, 3)])
    axes: dict[int, list[int]] = {}
    for row in await Axis.select(Axis.id, Axis.roadmap):
        axes.setdefault(row["roadmap"], []).append(row["id"])

    action_rows = []
    for r in roadmaps:
        for i in range(per_territory):
            created = now.shift(days=-rng.randint(30, 700))
            action_rows.append(Action(
                roadmap=r["id"], territory=r["territory"], axis=rng.choice(axes[r["id"]]),
                title=f"Action {i} du territoire {r['territory']}", description="Description de l’action.",
                module=rng.randint(1, 4), pilot=partner_ids[(r["territory"] * 4 + i) % len(partner_ids)],
                start_on=created.date(), deadline=now.shift(days=rng.randint(-200, 400)).date(),
                status=rng.choice(STATUSES), priority="normale", version=1,
                created_at=created.datetime, updated_at=created.datetime))
    await insert(Action, action_rows)
    actions = await Action.select(Action.id, Action.territory, Action.status, Action.created_at).order_by(Action.id)
    history_rows = []
    for a in actions:
        steps = rng.randint(4, 8)  # ~6 per action: ~250,000 entries for 40,000 actions
        long = a is actions[0]  # the first territory's first action: a long-lived one, changed every day or two
        if long:
            steps = LONG_HISTORY
        when = arrow.get(a["created_at"])
        previous = ""
        for step in range(steps):
            target = a["status"] if step == steps - 1 else rng.choice(STATUSES)
            history_rows.append(HistoryEntry(subject_type="action", subject_id=a["id"], territory=a["territory"],
                                             from_value=previous, to_value=target, actor=rng.choice(user_ids),
                                             comment="Point d’étape." if long else "", created_at=when.datetime))
            previous = target
            gap = when.shift(hours=rng.randint(2, 60)) if long else when.shift(days=rng.randint(1, 20))
            when = min(gap, now.shift(minutes=-1))
    await insert(HistoryEntry, history_rows)
    await insert(ActionNote, [ActionNote(action=a["id"], author=rng.choice(user_ids), body="Point d’étape.",
                                         created_at=now.datetime) for a in actions[::5]])
    from tracker.review.figures import rebuild

    figures = await rebuild()  # the rows above were written in bulk, outside the kernel
    return {
        "territories": len(territories),
        "users": len(user_ids),
        "actions": len(actions),
        "history": len(history_rows),
        "indicateurs_s": figures["secondes"],
        "seconds": round(time.perf_counter() - started, 1),
    }




def remove_sqlite(path: str) -> None:
    from pathlib import Path

    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def recreate_postgres(url: str) -> None:
    """Drop and create the bench's PostgreSQL database. Refused unless its name says it is a bench database,
    so that a DATABASE_URL pointing at real data is never wiped."""
    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"La base PostgreSQL « {name} » ne contient pas « bench » dans son nom : le banc d’essai "
                         "refuse de l’effacer. Donnez une base dédiée (…/suivi_bench) ou relancez avec --keep.")
    maintenance = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await maintenance.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await maintenance.execute(f'CREATE DATABASE "{name}"')
    finally:
        await maintenance.close()


async def analyse(database_url: str | None, sqlite_path: str) -> tuple[float, str]:
    """Statistics for the query planners after the bulk load (issue 15): ANALYZE on SQLite; VACUUM ANALYZE on
    PostgreSQL, which also sets the visibility map that index-only scans need, as autovacuum would in production."""
    started = time.perf_counter()
    if database_url:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("VACUUM ANALYZE")
            autovacuum = await connection.fetchval("SHOW autovacuum")
        finally:
            await connection.close()
        return time.perf_counter() - started, f"VACUUM ANALYZE (autovacuum {autovacuum})"
    with sqlite3.connect(sqlite_path) as connection:
        connection.execute("ANALYZE")
    return time.perf_counter() - started, "ANALYZE"
