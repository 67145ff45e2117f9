"""The pages that `make bench` measures, each as 8 signed-in clients would ask for it.

Everything is reached through HTTP as a person reaches it (sign-in form, CSRF token, token page); the database is
only read, in plain SQL, to choose whom to sign in and which actions to change."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import httpx
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from tracker.bench.dataset import PASSWORD, REVIEWER_EMAIL
from tracker.bench.load import Client

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
STATUS_COMMENT = "Point d’étape (banc d’essai)."


@dataclass
class Page:
    key: str
    label: str
    clients: list[Client]
    mode: str = "paths"  # or "status": each request a real status change (wrk.lua)
    expected: int = 200
    notes: list[str] = field(default_factory=list)
    # status mode: the request that is pre-rendered for the ceiling (a real change made before the run)
    ceiling_client: Client | None = None


@dataclass
class SignedIn:
    email: str
    cookies: dict[str, str]
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


@dataclass
class Editor:
    email: str
    territory: int
    siren: str
    roadmap: int


async def sql(query: str, *args) -> list[dict]:
    return await engine_finder().run_querystring(QueryString(query, *args))


class Bench:
    """What the page preparations share: the server's address, the signed-in people, the chosen editors."""

    def __init__(self, base_url: str, clients: int) -> None:
        self.base_url = base_url
        self.n = clients
        self.http = httpx.AsyncClient(base_url=base_url, timeout=120)
        self.editors: list[Editor] = []
        # The status change's éditeurs: n other territories, so that the changes one configuration writes (1 worker)
        # do not grow the CODIR packs and histories the next one (2 workers) reads.
        self.writers: list[Editor] = []
        self.tokens: list[tuple[SignedIn, int]] = []  # API tokens made for the bench, revoked at the end
        self.feeds: list[tuple[SignedIn, int]] = []  # calendar addresses made for the bench, revoked at the end

    async def sign_in(self, email: str) -> SignedIn:
        """The sign-in form as a browser fills it; a fresh session each time."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as client:
            page = await client.get("/connexion")
            token = CSRF_FIELD.search(page.text).group(1)
            response = await client.post("/connexion", data={"email": email, "password": PASSWORD, "_csrf_token": token})
            if response.status_code != 303:
                raise RuntimeError(f"connexion de {email} refusée ({response.status_code})")
            # The CSRF token is bound to the session: the signed-in pages carry a new one.
            account = await client.get("/compte")
            return SignedIn(email, dict(client.cookies), CSRF_FIELD.search(account.text).group(1))

    async def choose_editors(self) -> None:
        """One éditeur in each of `n` territories, so that the clients read and change different data."""
        rows = await sql(
            'SELECT u.email, m.territory, t.siren, r.id AS roadmap FROM membership m '
            'JOIN app_user u ON u.id = m."user" JOIN territory t ON t.id = m.territory '
            "JOIN roadmap r ON r.territory = m.territory WHERE m.role = 'editeur' ORDER BY m.id LIMIT 200"
        )
        seen: set[int] = set()
        for row in rows:
            if row["territory"] not in seen and len(self.editors) + len(self.writers) < 2 * self.n:
                seen.add(row["territory"])
                chosen = self.editors if len(self.editors) < self.n else self.writers
                chosen.append(Editor(row["email"], row["territory"], row["siren"], row["roadmap"]))

    async def editor_sessions(self) -> list[SignedIn]:
        if not hasattr(self, "_editor_sessions"):
            self._editor_sessions = [await self.sign_in(e.email) for e in self.editors]
        return self._editor_sessions

    async def writer_sessions(self) -> list[SignedIn]:
        if not hasattr(self, "_writer_sessions"):
            self._writer_sessions = [await self.sign_in(e.email) for e in self.writers]
        return self._writer_sessions

    async def reviewer_sessions(self) -> list[SignedIn]:
        if not hasattr(self, "_reviewer_sessions"):
            self._reviewer_sessions = [await self.sign_in(REVIEWER_EMAIL) for _ in range(self.n)]
        return self._reviewer_sessions

    async def api_token(self, person: SignedIn) -> str:
        """A personal access token made on the « Jetons d’accès » page, as its owner would."""
        response = await self.http.post("/compte/jetons", data={"name": "Banc d’essai", "_csrf_token": person.csrf},
                                        headers=person.headers())
        token = re.search(r"sfr_[A-Za-z0-9_-]{20,}", response.text)
        if response.status_code != 201 or token is None:
            raise RuntimeError(f"jeton d’API refusé ({response.status_code})")
        token_id = max(int(i) for i in re.findall(r"/compte/jetons/(\d+)/revoquer", response.text))
        self.tokens.append((person, token_id))
        return token.group(0)

    async def calendar_address(self, person: SignedIn, siren: str) -> str | None:
        """The path of a new feed of the territory's deadlines, made through the form of `/compte/echeances` (with
        the token that page's form carries: the one read before signing in belongs to no session)."""
        page = await self.http.get("/compte/echeances", headers=person.headers())
        form_token = CSRF_FIELD.search(page.text)
        if page.status_code != 200 or form_token is None:
            return None
        response = await self.http.post("/compte/calendriers", headers=person.headers(), data={
            "portee": "territoire", "territoire": siren, "_csrf_token": form_token.group(1)})
        found = re.search(r"/calendrier/[^\"'<>\s]+\.ics", response.text)
        if response.status_code != 201 or found is None:
            return None
        feed_id = max(int(i) for i in re.findall(r"/compte/calendriers/(\d+)/revoquer", response.text))
        self.feeds.append((SignedIn(person.email, person.cookies, form_token.group(1)), feed_id))
        return found.group(0)

    async def close(self) -> None:
        for person, feed_id in self.feeds:  # nor calendar addresses
            await self.http.post(f"/compte/calendriers/{feed_id}/revoquer", data={"_csrf_token": person.csrf},
                                 headers=person.headers())
        for person, token_id in self.tokens:  # the data set does not pile up tokens from run to run
            await self.http.post(f"/compte/jetons/{token_id}/revoquer", data={"_csrf_token": person.csrf},
                                 headers=person.headers())
        await self.http.aclose()


def _shuffled(values: list, seed: int) -> list:
    values = list(values)
    random.Random(seed).shuffle(values)
    return values


async def roadmap(bench: Bench) -> Page:
    sessions = await bench.editor_sessions()
    clients = [Client(s.headers(), [f"/feuilles-de-route/{e.roadmap}"]) for s, e in zip(sessions, bench.editors)]
    count = (await sql("SELECT count(*) AS n FROM action WHERE roadmap = {}", bench.editors[0].roadmap))[0]["n"]
    return Page("feuille", "feuille de route (éditeur)", clients, notes=[f"{count} actions par feuille environ"])


async def action(bench: Bench) -> Page:
    sessions = await bench.editor_sessions()
    clients = []
    for n, (s, e) in enumerate(zip(sessions, bench.editors)):
        ids = [r["id"] for r in await sql("SELECT id FROM action WHERE territory = {} ORDER BY id", e.territory)]
        clients.append(Client(s.headers(), [f"/actions/{ident}" for ident in _shuffled(ids, n)]))
    return Page("action", "action (éditeur, au hasard)", clients)


async def longest_history(bench: Bench) -> dict:
    """The action with the most history entries: {subject_id, n}."""
    if not hasattr(bench, "_longest"):
        bench._longest = (await sql("SELECT subject_id, count(*) AS n FROM history_entry WHERE subject_type = 'action' "
                                    "GROUP BY subject_id ORDER BY n DESC LIMIT 1"))[0]
    return bench._longest


async def long_action(bench: Bench) -> Page:
    top = await longest_history(bench)
    territory = (await sql("SELECT territory FROM action WHERE id = {}", top["subject_id"]))[0]["territory"]
    email = (await sql('SELECT u.email FROM membership m JOIN app_user u ON u.id = m."user" '
                       "WHERE m.territory = {} AND m.role IN ('editeur', 'referent') ORDER BY m.id LIMIT 1",
                       territory))[0]["email"]
    sessions = [await bench.sign_in(email) for _ in range(bench.n)]
    clients = [Client(s.headers(), [f"/actions/{top['subject_id']}"]) for s in sessions]
    return Page("action-longue", f"action, longue histoire ({top['n']} entrées)", clients)


async def dashboard(bench: Bench) -> Page:
    clients = [Client(s.headers(), ["/pilotage"]) for s in await bench.reviewer_sessions()]
    return Page("pilotage", "/pilotage (ADGCF, tout le réseau)", clients)


async def network_actions(bench: Bench) -> Page:
    clients = [Client(s.headers(), ["/pilotage/actions"]) for s in await bench.reviewer_sessions()]
    return Page("pilotage-actions", "/pilotage/actions (ADGCF)", clients)


async def follow_ups(bench: Bench) -> Page:
    clients = [Client(s.headers(), ["/pilotage/relances"]) for s in await bench.reviewer_sessions()]
    return Page("relances", "/pilotage/relances (ADGCF)", clients)


async def codir_pack(bench: Bench) -> Page:
    sessions = await bench.editor_sessions()
    clients = [Client(s.headers(), [f"/territoires/{e.siren}/point-codir"]) for s, e in zip(sessions, bench.editors)]
    return Page("codir", "point CODIR (éditeur)", clients)


async def api_actions(bench: Bench) -> Page:
    sessions = await bench.editor_sessions()
    clients = []
    for s, e in zip(sessions, bench.editors):
        token = await bench.api_token(s)
        clients.append(Client({"Authorization": f"Bearer {token}"}, [f"/api/v1/feuilles-de-route/{e.roadmap}/actions"]))
    return Page("api", "API actions d’une feuille (jeton)", clients)


async def status_change(bench: Bench) -> Page:
    """Each client (an éditeur of a territory the read pages do not use) moves its own territory's actions between
    « En cours » and « À venir » at the version it last saw. No two clients share an action, so every request is a valid change; the history entries written are counted."""
    sessions = await bench.writer_sessions()
    clients = []
    for s, e in zip(sessions, bench.writers):
        rows = await sql("SELECT id, version, status FROM action WHERE territory = {} AND id <> {} ORDER BY id",
                         e.territory, (await longest_history(bench))["subject_id"])  # its page stays as it was
        page = await bench.http.get(f"/actions/{rows[0]['id']}", headers=s.headers())
        csrf = CSRF_FIELD.search(page.text).group(1)  # the token the action page's form carries
        clients.append(Client(s.headers(), actions=[dict(r) for r in rows], csrf=csrf, prefix="/actions/",
                              suffix="/statut", comment=STATUS_COMMENT))
    # The ceiling answers the bytes of one real change, made now on the first client's first action.
    first = clients[0].actions[0]
    target = "a_venir" if first["status"] == "en_cours" else "en_cours"
    body = (f"_csrf_token={clients[0].csrf}&status={target}&version={first['version']}&comment=Plafond")
    first["version"] += 1
    first["status"] = target
    ceiling = Client(clients[0].headers, ["/actions/{}/statut".format(first["id"])], method="POST", body=body)
    per_client = len(clients[0].actions)
    return Page("statut", "changement de statut (POST, éditeur)", clients, mode="status", expected=303,
                ceiling_client=ceiling, notes=[f"{per_client} actions par client environ, tour à tour"])


async def calendar_feed(bench: Bench) -> Page | None:
    """The deadline feed (`/calendrier/{token}.ics`). Its address is made on « Rappels et calendriers »
    (`/compte/echeances`, where issue 11 put it) and shown once, in the answer to the form: each éditeur makes the
    address of its territory's deadlines, as a CODIR member subscribing their calendar would (revoked at the end).
    A server without that form has no feed: the bench then says it is absent."""
    sessions = await bench.editor_sessions()
    clients = []
    for person, editor in zip(sessions, bench.editors):
        feed = await bench.calendar_address(person, editor.siren)
        if feed is None:
            return None
        clients.append(Client({}, [feed]))  # a calendar application subscribes with the address alone
    return Page("calendrier", "flux de calendrier (.ics, échéances d’un territoire)", clients)


CATALOGUE: dict[str, tuple[str, Callable[[Bench], Awaitable[Page | None]]]] = {
    "feuille": ("feuille de route", roadmap),
    "action": ("action", action),
    "action-longue": ("action, longue histoire", long_action),
    "pilotage": ("/pilotage", dashboard),
    "pilotage-actions": ("/pilotage/actions", network_actions),
    "relances": ("/pilotage/relances", follow_ups),
    "codir": ("point CODIR", codir_pack),
    "api": ("API actions", api_actions),
    "statut": ("changement de statut (POST)", status_change),
    "calendrier": ("flux de calendrier", calendar_feed),
}
EXPORT = "export"  # the national XLSX export, then a light page while it runs (measured apart, see run.py)
NATIONAL_EXPORT = "/pilotage/actions/export.xlsx"
