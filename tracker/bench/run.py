"""`make bench`: builds (or reuses) the data set, serves it as `python -m tracker serve` does, and measures each page
at 8 signed-in clients beside its ceiling, then the national XLSX export and a light page while it runs.
Figures are printed, never asserted."""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/suivi_bench"
FORM = "application/x-www-form-urlencoded"
KEPT_HEADERS = {"location", "set-cookie", "cache-control", "vary", "content-disposition"}


@dataclass
class Row:
    label: str
    page: object = None  # load.Result
    page_cpu: object = None  # machine.CpuShare
    ceiling: object = None
    ceiling_cpu: object = None
    notes: str = ""
    skipped: str = ""
    expected: int = 200  # the status every response should have


@dataclass
class Config:
    engine: str
    workers: int
    close: bool  # a connection per request

    @property
    def title(self) -> str:
        engine = "SQLite" if self.engine == "sqlite" else "PostgreSQL"
        processes = "1 processus uvicorn" if self.workers == 1 else f"{self.workers} workers uvicorn"
        connections = "une connexion par requête (Connection: close)" if self.close else "connexions gardées (keep-alive)"
        return f"{engine}, {processes}, {connections}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    from tracker.bench.pages import CATALOGUE, EXPORT

    keys = [*CATALOGUE, EXPORT]
    parser = argparse.ArgumentParser(prog="python -m tracker.bench", description=__doc__)
    parser.add_argument("--engine", choices=["sqlite", "postgres"],
                        help="sqlite (var/bench.sqlite3) or postgres (DATABASE_URL, else " + DEFAULT_POSTGRES + ")")
    parser.add_argument("--keep", action="store_true", help="reuse the data set built by a previous run")
    parser.add_argument("--pages", default=",".join(keys), help="comma-separated, among: " + ", ".join(keys))
    parser.add_argument("--seconds", type=float, default=20, help="per page (default 20)")
    parser.add_argument("--ceiling-seconds", type=float, default=5,
                        help="per ceiling (default 5: thousands of requests, its figures settle fast)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", help="uvicorn workers, comma-separated (default: 1 on SQLite, 1,2 on PostgreSQL)")
    parser.add_argument("--connections", choices=["auto", "keep-alive", "per-request"], default="auto",
                        help="auto: a connection per request in every configuration of a run that has several "
                             "workers (so that the kernel spreads them and the ratio compares like with like), "
                             "keep-alive otherwise")
    parser.add_argument("--actions", type=int, default=40_000, help="size of the data set (default 40000)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quiet-load", type=float, default=float(os.cpu_count() or 2) / 2,
                        help="1-minute load average under which a configuration starts (default: half the cores)")
    parser.add_argument("--quiet-wait", type=float, default=60, help="at most this long for it, in seconds")
    parser.add_argument("--quiet-cpu", type=float, default=0.5,
                        help="before each measurement, wait until other processes use under this many cores…")
    parser.add_argument("--quiet-cpu-wait", type=float, default=3, help="…at most this long, in seconds (default 3)")
    parser.add_argument("--export-clients", type=int, default=1, help="clients of the light page during the export")
    args = parser.parse_args(argv)
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = set(args.pages) - set(keys)
    if unknown:
        parser.error("pages inconnues : " + ", ".join(sorted(unknown)))
    return args


def setup_environment(args: argparse.Namespace) -> None:
    """Before anything imports tracker.config: the bench's own database and a fixed key (several workers)."""
    if args.engine is None:
        args.engine = "postgres" if os.environ.get("DATABASE_URL") else "sqlite"
    if args.engine == "postgres":
        os.environ.setdefault("DATABASE_URL", DEFAULT_POSTGRES)
        os.environ["BENCH_DATABASE_NAME"] = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("SQLITE_PATH", str(ROOT / "var" / "bench.sqlite3"))
    os.environ.setdefault("SECRET_KEY", "cle-de-banc-d-essai-" + "x" * 30)
    default_workers = "1,2" if args.engine == "postgres" else "1"
    args.workers = [int(w) for w in (args.workers or default_workers).split(",")]


async def prepare_data(args: argparse.Namespace) -> None:
    from tracker.bench import dataset

    url = os.environ.get("DATABASE_URL")
    if not args.keep:
        if url:
            await dataset.recreate_postgres(url)
        else:
            Path(os.environ["SQLITE_PATH"]).parent.mkdir(parents=True, exist_ok=True)
            dataset.remove_sqlite(os.environ["SQLITE_PATH"])
        subprocess.run([sys.executable, "-m", "tracker", "migrate"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        figures = await dataset.build(args.actions)
        print("Jeu de données construit : " + ", ".join(f"{k} = {v}" for k, v in figures.items()), flush=True)
    else:  # migrated to this checkout's schema (a data set kept from an earlier version lacks its new columns)
        subprocess.run([sys.executable, "-m", "tracker", "migrate"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        print("Jeu de données réutilisé (--keep), migré.", flush=True)
    seconds, what = await dataset.analyse(url, os.environ["SQLITE_PATH"])
    print(f"{what} en {seconds:.1f} s.", flush=True)


class Server:
    """`python -m tracker serve` (through tracker.bench.server, which adds the ceiling route), on loopback."""

    def __init__(self, workers: int, port: int, ceiling_dir: Path, log: Path) -> None:
        self.port = port
        self.workers = workers
        env = dict(os.environ, BENCH_CEILING_DIR=str(ceiling_dir))
        self.log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker.bench.server", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_up(self, seconds: float = 60) -> None:
        import httpx

        from tracker.bench.machine import tree

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"le serveur s’est arrêté (code {self.process.returncode}) : voir {self.log.name}")
            try:
                up = httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                up = False
            # with several workers, each must have started before the clients connect
            if up and len(tree(self.process.pid)) > (self.workers if self.workers > 1 else 0):
                return
            time.sleep(0.3)
        raise SystemExit("le serveur n’a pas démarré")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _kept_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}


async def measure_page(args, config: Config, server: Server, bench, page, ceiling_dir: Path) -> Row:
    from tracker.bench import load, machine
    from tracker.bench.load import Client
    from tracker.bench.pages import sql
    from tracker.bench.server import save_prerendered

    row = Row(page.label, notes=" ; ".join(page.notes), expected=page.expected)
    sample = page.ceiling_client or page.clients[0]
    headers = dict(sample.headers, **({"Content-Type": FORM} if sample.method == "POST" else {}))
    # One request first: it warms the page (as users before would have) and gives the bytes of the ceiling.
    response = await bench.http.request(sample.method, sample.paths[0], headers=headers, content=sample.body)
    if response.status_code != page.expected:
        row.skipped = f"réponse {response.status_code} au lieu de {page.expected} pour {sample.paths[0]}"
        return row
    media_type = response.headers.get("content-type", "text/html; charset=utf-8")
    ceiling_path = save_prerendered(ceiling_dir, page.key, response.status_code, media_type, _kept_headers(response),
                                    response.content)
    if page.mode == "status":
        ceiling_clients = [
            Client(dict(c.headers, **{"Content-Type": FORM}), [ceiling_path], method="POST",
                   body=f"_csrf_token={quote(c.csrf)}&status=en_cours&version=1&comment=Plafond")
            for c in page.clients
        ]
    else:
        ceiling_clients = [Client(c.headers, [ceiling_path]) for c in page.clients]

    machine.wait_for_quiet_cpu(server.process.pid, args.quiet_cpu, args.quiet_cpu_wait)
    history_before = (await sql("SELECT count(*) AS n FROM history_entry"))[0]["n"] if page.mode == "status" else 0
    window = machine.CpuWindow(server.process.pid)
    row.page = await asyncio.to_thread(load.run, server.base_url, page.clients, args.seconds, mode=page.mode,
                                       close=config.close)
    row.page_cpu = window.stop(row.page.cpu_seconds)
    if page.mode == "status":
        await asyncio.sleep(1)  # requests still in flight when wrk stopped
        written = (await sql("SELECT count(*) AS n FROM history_entry"))[0]["n"] - history_before
        extra = f"réels : {row.page.changes} réponses 303, {written} entrées d’historique écrites"
        row.notes = " ; ".join(filter(None, [row.notes, extra]))

    machine.wait_for_quiet_cpu(server.process.pid, args.quiet_cpu, args.quiet_cpu_wait)
    window = machine.CpuWindow(server.process.pid)
    row.ceiling = await asyncio.to_thread(load.run, server.base_url, ceiling_clients, args.ceiling_seconds,
                                          close=config.close)
    row.ceiling_cpu = window.stop(row.ceiling.cpu_seconds)
    return row


async def measure_export(args, config: Config, server: Server, bench) -> list[str]:
    """The national XLSX export alone (seconds, first byte, the server's peak memory), then a light page measured
    alone and while the same export runs."""
    from tracker.bench import load, machine
    from tracker.bench.pages import NATIONAL_EXPORT, action, sql

    reviewer = (await bench.reviewer_sessions())[0]
    actions = (await sql("SELECT count(*) AS n FROM action"))[0]["n"]

    async def download() -> dict:
        started = time.perf_counter()
        first = None
        size = 0
        async with bench.http.stream("GET", NATIONAL_EXPORT, headers=reviewer.headers()) as response:
            async for chunk in response.aiter_raw():
                first = first if first is not None else time.perf_counter() - started
                size += len(chunk)
        return {"status": response.status_code, "seconds": time.perf_counter() - started, "first": first or 0.0,
                "bytes": size}

    lines = []
    machine.wait_for_quiet_cpu(server.process.pid, args.quiet_cpu, args.quiet_cpu_wait)
    serving = [p.pid for p in machine.tree(server.process.pid)]
    rss_before = {pid: machine.rss_kib(pid) for pid in serving}
    peak_exact = machine.reset_peak_rss(serving)
    window = machine.CpuWindow(server.process.pid)
    alone = await download()
    cpu = window.stop()
    peaks = {pid: machine.rss_kib(pid, "VmHWM") for pid in serving}
    worker = max(serving, key=lambda pid: peaks[pid] - rss_before[pid])
    peak_text = (f"RSS maximal du processus qui l’a servi {peaks[worker] / 1024:.0f} Mio "
                 f"(+{(peaks[worker] - rss_before[worker]) / 1024:.0f} Mio sur ses {rss_before[worker] / 1024:.0f} Mio d’avant)")
    if not peak_exact:
        peak_text += " [VmHWM non remis à zéro : maximum depuis le démarrage]"
    lines.append(f"Export XLSX national ({NATIONAL_EXPORT}, {actions} actions, réponse {alone['status']}) : "
                 f"{alone['seconds']:.1f} s, premier octet à {alone['first']:.1f} s, {alone['bytes'] / 1e6:.1f} Mo ; "
                 f"{peak_text} ; charge {cpu.load1_end:.2f} ; cœurs : serveur {cpu.server_total:.2f}, base {_cores(cpu.database)}, "
                 f"autres {cpu.others:.2f}")

    light_page = await action(bench)
    light = light_page.clients[: args.export_clients]
    machine.wait_for_quiet_cpu(server.process.pid, args.quiet_cpu, args.quiet_cpu_wait)
    window = machine.CpuWindow(server.process.pid)
    baseline = await asyncio.to_thread(load.run, server.base_url, light, min(args.seconds, 10), close=config.close)
    baseline_cpu = window.stop(baseline.cpu_seconds)

    machine.wait_for_quiet_cpu(server.process.pid, args.quiet_cpu, args.quiet_cpu_wait)
    window = machine.CpuWindow(server.process.pid)
    export = asyncio.create_task(download())
    await asyncio.sleep(0.5)  # the export has started; the light page is measured while it runs
    during = await asyncio.to_thread(load.run, server.base_url, light, max(2.0, alone["seconds"] - 1.5),
                                     close=config.close)
    ended_at = time.perf_counter()
    concurrent = await export
    during_cpu = window.stop(during.cpu_seconds)
    overran = "" if time.perf_counter() - ended_at > 0.2 else " (l’export a fini avant la fin de cette mesure)"
    lines.append(
        f"Page légère ({light_page.label}, {len(light)} client{'s' if len(light) > 1 else ''}) : "
        f"p50 {baseline.p50_ms:.0f} ms, p95 {baseline.p95_ms:.0f} ms, p99 {baseline.p99_ms:.0f} ms seule "
        f"({baseline.requests} requêtes) "
        f"(charge {baseline_cpu.load1_end:.2f}) → p50 {during.p50_ms:.0f} ms, p95 {during.p95_ms:.0f} ms, "
        f"p99 {during.p99_ms:.0f} ms, max {during.max_ms:.0f} ms ({during.requests} requêtes) pendant l’export{overran} "
        f"(charge {during_cpu.load1_end:.2f}, autres {during_cpu.others:.2f} cœur) ; l’export a pris "
        f"{concurrent['seconds']:.1f} s pendant ce temps"
    )
    for result in (baseline, during):
        odd = result.unexpected(200)
        if odd:
            lines.append(f"  réponses inattendues : {odd}")
    return lines


def _cores(value: float) -> str:
    """The database's cores: none of its own on SQLite (it runs inside uvicorn), so a dash there."""
    return f"{value:.2f}" if os.environ.get("BENCH_DATABASE_NAME") else "–"


def _ms(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value >= 10 else f"{value:.1f}"


HEADER = (f"{'page':42} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} {'plafond':>8} {'ratio':>6} "
          f"{'charge':>9} {'serveur':>7} {'base':>5} {'wrk':>5} {'autres':>6}")


def print_header(config: Config, args, quiet: str) -> None:
    print(f"\n## {config.title}")
    print(f"{args.clients} clients connectés (wrk, un fil et une connexion chacun), {args.seconds:g} s par page, "
          f"{args.ceiling_seconds:g} s par plafond ; {os.cpu_count()} cœurs ; au départ : {quiet}")
    print("plafond = req/s du même serveur rendant les octets de la page pré-rendus ; ratio = req/s ÷ plafond ; "
          "charge = moyenne de charge sur 1 min à la fin de la mesure (page/plafond) ; serveur, base, wrk, autres = cœurs "
          "utilisés en moyenne pendant la page par uvicorn, par les processus PostgreSQL de la base du banc, par wrk "
          "et par tous les autres processus de la machine")
    print(HEADER)
    print("-" * len(HEADER), flush=True)


def print_row(row: Row) -> None:
    if row.skipped:
        print(f"{row.label:42} {row.skipped}", flush=True)
        return
    p, c = row.page, row.ceiling
    ratio = p.rate / c.rate if c.rate else 0.0
    print(f"{row.label:42} {_ms(p.p50_ms):>7} {_ms(p.p95_ms):>7} {_ms(p.p99_ms):>7} {p.rate:7.1f} "
          f"{c.rate:8.0f} {ratio:6.3f} {row.page_cpu.load1_end:4.1f}/{row.ceiling_cpu.load1_end:<4.1f} "
          f"{row.page_cpu.server_total:7.2f} {_cores(row.page_cpu.database):>5} {row.page_cpu.load_generator:5.2f} "
          f"{row.page_cpu.others:6.2f}")
    details = [row.notes] if row.notes else []
    for what, result in (("page", p), ("plafond", c)):
        odd = result.unexpected(row.expected)
        if odd:
            details.append(f"{what} : {odd}")
    spread = row.page_cpu.spread()
    if spread:
        details.append(f"CPU par worker pendant la page : {spread}")
    details.append(f"{p.requests} requêtes, plafond p95 {_ms(c.p95_ms)} ms")
    print(f"{'':44}" + " ; ".join(details), flush=True)


def print_scaling(args, results: dict[int, list[Row]]) -> None:
    if len(results) < 2:
        return
    base, *others = sorted(results)
    for workers in others:
        print(f"\n## Passage à l’échelle : {workers} workers ÷ {base} (req/s, même mode de connexion)")
        print(f"{'page':42} {f'{base} w req/s':>11} {f'{workers} w req/s':>11} {'rapport':>8} {'p95 ms':>13}")
        by_label = {row.label: row for row in results[workers]}
        for row in results[base]:
            other = by_label.get(row.label)
            if row.skipped or other is None or other.skipped:
                continue
            ratio = other.page.rate / row.page.rate if row.page.rate else 0.0
            p95 = f"{_ms(row.page.p95_ms)} → {_ms(other.page.p95_ms)}"
            print(f"{row.label:42} {row.page.rate:11.1f} {other.page.rate:11.1f} {ratio:8.2f} {p95:>13}")


async def run_config(args, config: Config, ceiling_dir: Path) -> list[Row]:
    from tracker.bench import machine
    from tracker.bench.pages import CATALOGUE, EXPORT, Bench

    quiet = machine.wait_for_low_load(args.quiet_load, args.quiet_wait)
    print_header(config, args, f"{quiet} ({time.strftime('%H:%M:%S')})")
    server = Server(config.workers, args.port, ceiling_dir, ROOT / "var" / "bench-serveur.log")
    rows: list[Row] = []
    bench = None
    try:
        await asyncio.to_thread(server.wait_until_up)
        bench = Bench(server.base_url, args.clients)
        await bench.choose_editors()
        for key in args.pages:
            if key == EXPORT:
                continue
            label, prepare = CATALOGUE[key]
            page = await prepare(bench)
            if page is None:
                row = Row(label, skipped="absent de l’application pour l’instant : rien à mesurer (voir pages.py)")
            else:
                row = await measure_page(args, config, server, bench, page, ceiling_dir)
            rows.append(row)
            print_row(row)
        if EXPORT in args.pages:
            for line in await measure_export(args, config, server, bench):
                print(line, flush=True)
    finally:
        if bench is not None:
            await bench.close()
        server.stop()
    return rows


async def run(args: argparse.Namespace) -> None:
    await prepare_data(args)
    several = max(args.workers) > 1
    close = args.connections == "per-request" or (args.connections == "auto" and several)
    (ROOT / "var").mkdir(exist_ok=True)
    (ROOT / "var" / "bench-serveur.log").write_text("")
    results: dict[int, list[Row]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-plafond-") as ceiling_dir:
        for workers in args.workers:
            config = Config(args.engine, workers, close)
            results[workers] = await run_config(args, config, Path(ceiling_dir))
    print_scaling(args, results)


def main(argv: list[str] | None = None) -> int:
    from tracker.bench import load

    args = parse_args(sys.argv[1:] if argv is None else argv)
    if load.wrk_path() is None:
        print(load.INSTALL_HINT, file=sys.stderr)
        return 2
    setup_environment(args)
    started = time.monotonic()
    # pages, their ceilings, the quiet checks; the export's three steps; the wait for a low load at each start
    per_config = len(args.pages) * (args.seconds + args.ceiling_seconds + 2 * args.quiet_cpu_wait + 3) + 60 + 30
    build = 0 if args.keep else (2 if args.engine == "sqlite" else 3)
    print(f"Banc d’essai : moteur {args.engine}, workers {args.workers}, pages {', '.join(args.pages)}"
          " ; environ "
          f"{build + per_config * len(args.workers) / 60:.0f} min en tout sur une machine chargée.", flush=True)
    asyncio.run(run(args))
    print(f"\nDurée totale : {(time.monotonic() - started) / 60:.1f} min. Journal du serveur : var/bench-serveur.log")
    return 0
