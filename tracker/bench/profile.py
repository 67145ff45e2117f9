"""Where one request's time goes, in process: `python -m tracker.bench.profile --pages feuille,pilotage`.

Uses the data set `make bench` built (var/bench.sqlite3, or DATABASE_URL / the bench's PostgreSQL database with
`--engine postgres`), the same pages as `make bench` (signed in through the forms), but asks the application
directly (httpx's ASGI transport, one request at a time, no server, no network). It prints each page's mean and
median time per request, the process's CPU time per request (all its threads: steadier than
wall time on a busy machine), the SQL statements each request ran (at the data set's scale: the query-count tests
of tests/test_review.py at network size) and, with `--cprofile N`, the N functions with the most own time and the N with the most
cumulative time. Figures only, nothing asserted: a tool for finding the cause, `make bench` for the measure."""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

from tracker.bench import machine

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/suivi_bench"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tracker.bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pages", default="feuille,action,action-longue,pilotage,pilotage-actions,relances,codir,"
                                           "api,statut,calendrier")
    parser.add_argument("--requests", type=int, default=30, help="per page, after 3 unmeasured ones")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N costliest functions")
    parser.add_argument("--callers", default="", metavar="NAME", help="with --cprofile: who calls the functions "
                        "whose name matches NAME")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    import httpx

    from tracker.bench import pages as bench_pages
    from tracker.app import create_app

    from tracker.core.db import engine

    app = create_app()
    engine_class = type(engine())
    original_run = engine_class.run_querystring
    counted = {"n": 0}

    async def counting(self, *a, **kw):  # the SQL statements each request runs, at the data set's scale
        counted["n"] += 1
        return await original_run(self, *a, **kw)

    engine_class.run_querystring = counting
    if hasattr(engine_class, "run_sql"):  # SQLite: the raw statements of `db.fetch` skip Piccolo's query string
        original_sql = engine_class.run_sql

        async def counting_sql(self, *a, **kw):
            counted["n"] += 1
            return await original_sql(self, *a, **kw)

        engine_class.run_sql = counting_sql
    args.counted = counted
    async with app.lifespan():
        bench = bench_pages.Bench("http://bench", 1)
        await bench.http.aclose()
        transport = httpx.ASGITransport(app=app)
        bench.http = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120)
        original = httpx.AsyncClient

        class InProcess(original):  # Bench.sign_in opens its own client: the same application, in process
            def __init__(self, *a, **kw):
                kw.pop("base_url", None)
                super().__init__(*a, transport=transport, base_url="http://bench", **kw)

        bench_pages.httpx.AsyncClient = InProcess
        try:
            await bench.choose_editors()
            for key in args.pages.split(","):
                page = await bench_pages.CATALOGUE[key][1](bench)
                if page is None:
                    print(f"{key}: absent")
                    continue
                await measure(bench.http, page, args)
        finally:
            await bench.close()
            bench_pages.httpx.AsyncClient = original


def requests_of(page, n: int):
    """(method, path, headers, body) for n requests, round-robin over the page's clients as wrk.lua sends them."""
    out = []
    i = 0
    while len(out) < n:
        client = page.clients[i % len(page.clients)]
        i += 1
        if page.mode == "status":
            action = client.actions[(i // len(page.clients)) % len(client.actions)]
            out.append(("POST", f"{client.prefix}{action['id']}{client.suffix}", client.headers, client, action, None))
        else:
            path = client.paths[(i // len(page.clients)) % len(client.paths)]
            out.append(("GET", path, client.headers, None, None, None))
    return out


async def measure(http, page, args) -> None:
    plan = requests_of(page, args.requests + 3)
    ceiling = page.ceiling_client
    if ceiling is not None and ceiling.method == "POST":  # the real change the ceiling's version counts on
        await http.request("POST", ceiling.paths[0], headers={**ceiling.headers,
                           "Content-Type": "application/x-www-form-urlencoded"}, content=ceiling.body)
    times = []
    statements = []
    cpu = 0.0
    profiler = cProfile.Profile() if args.cprofile else None
    database: dict[int, float] = {}
    for n, (method, path, headers, client, action, _) in enumerate(plan):
        if n == 3:  # PostgreSQL's backends of the bench's database, from the first measured request
            database = machine.cpu_seconds(machine.database_processes())
        body = target = None
        if action is not None:  # the status and version it has now (an action comes round again after a lap)
            target = "a_venir" if action["status"] == "en_cours" else "en_cours"
            body = {"_csrf_token": client.csrf, "status": target, "version": str(action["version"]),
                    "comment": client.comment}
        args.counted["n"] = 0
        start = time.perf_counter()
        cpu_start = time.process_time()
        if n >= 3 and profiler:
            profiler.enable()
        response = await http.request(method, path, headers=headers, data=body)
        if n >= 3 and profiler:
            profiler.disable()
        elapsed = time.perf_counter() - start
        if n >= 3:
            cpu += time.process_time() - cpu_start
            statements.append(args.counted["n"])
        if response.status_code != page.expected:
            print(f"  {method} {path}: {response.status_code} (attendu {page.expected})")
        if action is not None and response.status_code == 303:
            action["version"] += 1
            action["status"] = target
        if n >= 3:
            times.append(elapsed * 1000)
    after = machine.cpu_seconds(machine.database_processes())
    backends = sum(t - database.get(pid, 0.0) for pid, t in after.items())
    print(f"{page.key}: {len(times)} requêtes, moyenne {statistics.mean(times):.1f} ms, "
          f"médiane {statistics.median(times):.1f} ms, min {min(times):.1f} ms, "
          f"CPU du processus {cpu * 1000 / len(times):.1f} ms par requête"
          + (f", CPU de PostgreSQL {backends * 1000 / len(times):.1f} ms par requête" if after else "")
          + f", requêtes SQL par requête {min(statements)}–{max(statements)}")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        stats.sort_stats("cumulative").print_stats(args.cprofile)
        if args.callers:
            stats.print_callers(args.callers)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.engine == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("SQLITE_PATH", str(ROOT / "var" / "bench.sqlite3"))
    else:
        os.environ.setdefault("DATABASE_URL", DEFAULT_POSTGRES)
        # whose backends' CPU is counted (bench.machine.database_processes)
        os.environ.setdefault("BENCH_DATABASE_NAME", urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/"))
    os.environ.setdefault("MAIL_BACKEND", "console")
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("tracker.audit").setLevel(logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
