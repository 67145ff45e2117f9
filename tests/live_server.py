"""The real server for the browser tests: `python -m tracker serve` in a subprocess on a free loopback port, with
its own SQLite file and var folder (mail outbox included), migrated and filled with the demo (`load-demo`: the
territories, roadmaps, partners, contacts, commitments and agreements, all written through the app's services).
Started once per test session."""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "suivi-demo-2026"
DEMO = {
    "admin": "admin@adgcf.example.org",
    "reviewer": "revue@adgcf.example.org",
    "editor": "codir@grandangouleme.example.org",  # éditeur, Grand Angoulême
    "vr_editor": "codir@valenceromans.example.org",  # éditrice, Valence Romans
    "reader": "lecture@grandangouleme.example.org",  # lecteur, Grand Angoulême
    "referent": "dgs@grandangouleme.example.org",  # référente, Grand Angoulême
    "partner": "contact@solidarite-angoumois.example.org",  # contact of Solidarité Angoumois, with an account
}
GRAND_ANGOULEME = "200071827"


@dataclass
class LiveServer:
    url: str
    var_dir: Path
    process: subprocess.Popen
    log: Path
    screenshots: Path = field(default=ROOT / "var" / "screenshots")

    def query(self, sql: str, *params) -> list[sqlite3.Row]:
        """Read the server's database (ids for the URLs, what a journey changed): read-only, never written."""
        connection = sqlite3.connect(f"file:{self.var_dir / 'suivi.sqlite3'}?mode=ro", uri=True)
        connection.row_factory = sqlite3.Row
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    def one(self, sql: str, *params):
        rows = self.query(sql, *params)
        assert rows, f"rien pour {sql} {params}"
        return rows[0][0]

    def outbox(self) -> list:
        """The mails the server wrote to its outbox, oldest first."""
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(path.read_bytes()) for path in sorted((self.var_dir / "outbox").glob("*.eml"))]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start() -> LiveServer:
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    var_dir = Path(tempfile.mkdtemp(prefix="suivi-live-", dir=shm))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SUIVI_TEST_OWNER_URL")}
    env.update(SUIVI_VAR_DIR=str(var_dir), SQLITE_PATH=str(var_dir / "suivi.sqlite3"), BASE_URL=url,
               MAIL_BACKEND="fichier", AUDIT_LOG=str(var_dir / "audit.log"), PYTHONUNBUFFERED="1")
    for command in (["migrate"], ["load-demo"]):
        subprocess.run([sys.executable, "-m", "tracker", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    log = var_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1", "--port",
                                    str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(url=url, var_dir=var_dir, process=process, log=log)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"le serveur de test n’a pas démarré : {server.log_tail()}")
        time.sleep(0.1)


def stop(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    import shutil

    shutil.rmtree(server.var_dir, ignore_errors=True)
