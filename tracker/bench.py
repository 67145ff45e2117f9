"""Network-scale benchmark (DESIGN.md §6): 1,255 EPCI with a roadmap each, ~40,000 actions, ~250,000 history
entries, ~5,000 users. Builds that data set in its own database, serves the app with uvicorn on loopback, and
prints latency percentiles per page and the server's memory. Figures are printed, never asserted.

    make bench                      # SQLite file var/bench.sqlite3
    DATABASE_URL=postgresql://…/bench make bench

Options: --actions N (default 40000), --requests N per page (default 200), --concurrency N (default 4),
--keep (reuse the data set built by a previous run)."""
from __future__ import annotations

from tracker.core import clock
import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("SQLITE_PATH", str(ROOT / "var" / "bench.sqlite3"))
os.environ.setdefault("SECRET_KEY", "cle-de-banc-d-essai-" + "x" * 30)

PASSWORD = "banc-d-essai-2026"
STATUSES = ["a_venir", "en_cours", "en_pause", "bloquee", "realisee", "abandonnee"]


async def build(actions_wanted: int) -> dict:
    import arrow
    from argon2 import PasswordHasher

    from tracker.accounts.tables import Membership, User
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
    actions = await Action.select(Action.id, Action.territory, Action.status, Action.created_at)
    history_rows = []
    for a in actions:
        steps = rng.randint(4, 8)  # ~6 per action: ~250,000 entries for 40,000 actions
        when = arrow.get(a["created_at"])
        previous = ""
        for step in range(steps):
            target = a["status"] if step == steps - 1 else rng.choice(STATUSES)
            history_rows.append(HistoryEntry(subject_type="action", subject_id=a["id"], territory=a["territory"],
                                             from_value=previous, to_value=target, actor=rng.choice(user_ids),
                                             comment="", created_at=when.datetime))
            previous = target
            when = min(when.shift(days=rng.randint(1, 20)), now.shift(minutes=-1))
    await insert(HistoryEntry, history_rows)
    await insert(ActionNote, [ActionNote(action=a["id"], author=rng.choice(user_ids), body="Point d’étape.",
                                         created_at=now.datetime) for a in actions[::5]])
    return {
        "territories": len(territories),
        "users": len(user_ids),
        "actions": len(actions),
        "history": len(history_rows),
        "seconds": round(time.perf_counter() - started, 1),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def measure(requests: int, concurrency: int, port: int) -> None:
    import httpx

    from tracker.accounts.tables import Membership, User
    from tracker.roadmaps.tables import Action, Roadmap

    rng = random.Random(7)
    editor = await Membership.select(Membership.user.email.as_alias("email"), Membership.territory).where(
        Membership.role == "editeur").first()
    roadmap = await Roadmap.select(Roadmap.id).where(Roadmap.territory == editor["territory"]).first()
    own_actions = [r["id"] for r in await Action.select(Action.id).where(Action.territory == editor["territory"])]
    roadmap_ids = [r["id"] for r in await Roadmap.select(Roadmap.id)]
    siren = (await Roadmap.select(Roadmap.territory.siren.as_alias("siren")).where(
        Roadmap.id == roadmap["id"]).first())["siren"]
    base = f"http://127.0.0.1:{port}"

    async def signed_in(email: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=base, timeout=30)
        page = await client.get("/connexion")
        token = page.text.split('name="_csrf_token" value="')[1].split('"')[0]
        response = await client.post("/connexion", data={"email": email, "password": PASSWORD, "_csrf_token": token})
        assert response.status_code == 303, response.status_code
        return client

    codir = await signed_in(editor["email"])
    reviewer = await signed_in("revue@bench.example.org")
    pages = {
        "feuille de route (éditeur)": (codir, lambda: f"/feuilles-de-route/{roadmap['id']}"),
        "feuille filtrée en retard": (codir, lambda: f"/feuilles-de-route/{roadmap['id']}?en_retard=1"),
        "action (éditeur)": (codir, lambda: f"/actions/{rng.choice(own_actions)}"),
        "territoires (ADGCF, recherche)": (reviewer, lambda: f"/territoires?q=commu&page={rng.randint(1, 10)}"),
        "feuille de route (ADGCF, au hasard)": (reviewer, lambda: f"/feuilles-de-route/{rng.choice(roadmap_ids)}"),
        "pilotage (ADGCF, tout le réseau)": (reviewer, lambda: "/pilotage"),
        "pilotage filtré (région, tri)": (reviewer, lambda: "/pilotage?region=84&tri=retard&ordre=desc"),
        "toutes les actions (en retard, page)": (reviewer, lambda: f"/pilotage/actions?en_retard=1&page={rng.randint(1, 20)}"),
        "à relancer": (reviewer, lambda: "/pilotage/relances"),
        "point CODIR": (codir, lambda: f"/territoires/{siren}/point-codir"),
    }
    print(f"\n{'page':40} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, (client, path) in pages.items():
        timings: list[float] = []
        errors = 0
        semaphore = asyncio.Semaphore(concurrency)

        async def one() -> None:
            nonlocal errors
            async with semaphore:
                started = time.perf_counter()
                response = await client.get(path())
                timings.append((time.perf_counter() - started) * 1000)
                errors += response.status_code != 200

        await asyncio.gather(*(one() for _ in range(requests)))
        print(f"{label:40} {len(timings):5d} {statistics.median(timings):8.1f} {percentile(timings, 95):8.1f} "
              f"{max(timings):8.1f}" + (f"  ({errors} erreurs)" if errors else ""))
    await codir.aclose()
    await reviewer.aclose()
    _ = User


def _wait_until_up(port: int, seconds: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("le serveur n’a pas démarré")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=40_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    if not args.keep:
        if not os.environ.get("DATABASE_URL"):
            for suffix in ("", "-wal", "-shm"):
                Path(os.environ["SQLITE_PATH"] + suffix).unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "tracker", "migrate"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        figures = asyncio.run(build(args.actions))
        print("Jeu de données : " + ", ".join(f"{k} = {v}" for k, v in figures.items()))
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tracker.app:create_app", "--factory", "--port", str(args.port),
         "--log-level", "warning"], cwd=ROOT)
    try:
        _wait_until_up(args.port)
        asyncio.run(measure(args.requests, args.concurrency, args.port))
        rss_kib = int(Path(f"/proc/{server.pid}/status").read_text().split("VmRSS:")[1].split()[0])
        print(f"\nMémoire du serveur (RSS) : {rss_kib / 1024:.0f} Mio, un processus uvicorn, "
              f"{os.cpu_count()} cœurs, moteur {'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}")
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
