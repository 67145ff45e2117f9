"""Issue 9, items 4, 5, 7 and 9, tested from outside: security headers on every response (F8), odd static paths
(F9), tokens and control characters in the logs (F6), CSRF bound to the session (F11), the API's rate limit."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser import CSRF_IN_PAGE
from tests.factories import EMAILS, api_token
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio

ROUTES_COVERED: set = set()

CSP = "frame-ancestors 'none'"


def assert_secured(response) -> None:
    assert CSP in response.headers.get("content-security-policy", ""), (response.request.url, response.status_code)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_every_kind_of_response_carries_the_security_headers(client, world, monkeypatch):
    import tracker.web.territory_pages as pages

    seen = {}
    seen["page"] = await client.get("/connexion")
    seen["redirect"] = await client.get(f"/actions/{world.upcoming}")
    seen["400"] = await client.post("/connexion", {"email": "x"}, csrf=False)  # CSRF: 403 in fact
    seen["404"] = await client.get("/nulle-part")
    seen["405"] = await client.get("/deconnexion")
    seen["static"] = await client.get("/static/style.css")
    seen["static 404"] = await client.get("/static/absent.css")
    seen["api 401"] = await client.get("/api/v1/territoires")
    seen["healthz"] = await client.get("/healthz")
    await client.login(EMAILS["ga_editor"])
    seen["bad query 400"] = await client.get(f"/feuilles-de-route/{world.ga_roadmap}?module=9")

    async def broken(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(pages, "visible_territories", broken)
    seen["500"] = await client.get("/territoires")
    statuses = {name: r.status_code for name, r in seen.items()}
    assert statuses == {"page": 200, "redirect": 303, "400": 403, "404": 404, "405": 405, "static": 200,
                        "static 404": 404, "api 401": 401, "healthz": 200, "bad query 400": 400, "500": 500}
    for response in seen.values():
        assert_secured(response)


@pytest.mark.parametrize("path", [
    "/static/a%0AERROR%20-%202026-01-01%20-%20tracker%20-%20faux%20message%00",
    "/static/%00", "/static/a%0Db", "/static/..%2F..%2Fpiccolo_conf.py", "/static/%2e%2e/%2e%2e/README.md",
])
async def test_odd_static_paths_are_not_found_and_forge_no_log_line(client, path, caplog):
    response = await client.get(path)
    assert response.status_code == 404
    assert_secured(response)
    assert not any(r.levelno >= 40 for r in caplog.records)  # no « erreur non gérée » logged


def test_tokens_are_masked_and_control_characters_escaped_in_log_lines():
    from tracker.core.logs import mask_tokens, safe

    token = "Zx3_kP9-aaaaBBBBccccDDDDeeeeFFFFgggg1234567"
    assert mask_tokens(f"GET /e/{token} HTTP/1.1") == "GET /e/*** HTTP/1.1"
    assert mask_tokens(f"/invitation/{token}") == "/invitation/***"
    assert mask_tokens(f"/calendrier/{token}.ics") == "/calendrier/***.ics"
    assert mask_tokens(f"/reinitialisation/{token}?x=1") == "/reinitialisation/***?x=1"
    # A route added later, under a prefix nobody listed, is covered by the token's shape.
    assert mask_tokens(f"/nouvelle-route/{token}/suite") == "/nouvelle-route/***/suite"
    assert mask_tokens("/exports?jeton=abc123&x=1") == "/exports?jeton=***&x=1"
    assert mask_tokens("/feuilles-de-route/12/actions/nouvelle") == "/feuilles-de-route/12/actions/nouvelle"
    assert safe("a\nERROR - forgé\x00\r") == "a\\nERROR - forgé\\x00\\r"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_served_application_masks_tokens_and_escapes_paths_in_its_logs(tmp_path):
    """The real server (`python -m tracker serve` and its log configuration), asked as an attacker would."""
    from tests.conftest import ROOT

    env = {**os.environ, "SUIVI_VAR_DIR": str(tmp_path), "SQLITE_PATH": str(tmp_path / "logs.sqlite3"),
           "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "tracker", "migrate"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    port = _free_port()
    out = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=out, stderr=subprocess.STDOUT)
    token = "Zx3_kP9-aaaaBBBBccccDDDDeeeeFFFFgggg1234567"
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        for path in (f"/e/{token}", f"/calendrier/{token}.ics", f"/invitation/{token}",
                     "/static/a%0AERROR%20-%20faux%00", "/a%0AERROR%20-%20faux%20message"):
            try:
                urllib.request.urlopen(base + path, timeout=5)
            except urllib.error.HTTPError as error:
                assert error.code == 404, (path, error.code)
    finally:
        server.terminate()
        server.wait(timeout=10)
        out.close()
    log = (tmp_path / "server.log").read_text()
    assert "/e/***" in log and "/calendrier/***.ics" in log and "/invitation/***" in log
    assert token not in log
    assert not re.search(r"^\S*\s*ERROR - faux", log, re.MULTILINE)


async def test_the_csrf_token_is_bound_to_the_session(make_client, world):
    first, second = await make_client(), await make_client()
    await first.login(EMAILS["ga_editor"])
    await second.login(EMAILS["ga_referent"])
    assert first.csrf != second.csrf
    # Each one's token works only in its own session, whatever cookie goes with it.
    stolen = await second.post(f"/actions/{world.upcoming}/statut",
                               {"status": "en_cours", "version": "1", "_csrf_token": first.csrf})
    assert stolen.status_code == 403 and "Formulaire expiré" in stolen.text
    stolen_htmx = await second.http.post(f"/actions/{world.upcoming}/statut", data={"status": "en_cours",
                                         "version": "1"}, headers={"HX-Request": "true", "x-csrftoken": first.csrf})
    assert stolen_htmx.status_code == 403
    assert (await Action.select(Action.version).where(Action.id == world.upcoming).first())["version"] == 1
    # A new session (sign-in again) gets a new token; the old one is worth nothing.
    old = first.csrf
    await first.login(EMAILS["ga_editor"])
    assert first.csrf != old
    refused = await first.post(f"/actions/{world.upcoming}/statut",
                               {"status": "en_cours", "version": "1", "_csrf_token": old})
    assert refused.status_code == 403
    ok = await first.post(f"/actions/{world.upcoming}/statut", {"status": "en_cours", "version": "1"})
    assert ok.status_code == 303


async def test_the_csrf_cookie_is_httponly_and_htmx_reads_the_token_from_the_page(client, world):
    response = await client.get("/connexion")
    cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("suivi_csrf=")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=lax" in cookie[0].replace("Lax", "lax")
    await client.login(EMAILS["ga_editor"])
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    header = re.search(r"data-hx-headers='\{\"x-csrftoken\": \"([0-9a-f]+)\"\}'", page.text)
    assert header and header.group(1) == CSRF_IN_PAGE.search(page.text).group(1)
    response = await client.http.post(f"/actions/{world.upcoming}/statut", data={"status": "en_cours", "version": "1"},
                                      headers={"HX-Request": "true", "x-csrftoken": header.group(1)})
    assert response.status_code in (200, 303)
    assert (await Action.select(Action.status).where(Action.id == world.upcoming).first())["status"] == "en_cours"


async def test_the_api_limits_each_token_and_says_when_to_come_back(client, world):
    from tracker.api.limits import PER_MINUTE

    token = await api_token(EMAILS["ga_editor"])
    other = await api_token(EMAILS["ga_reader"])
    statuses = []
    for _ in range(PER_MINUTE + 1):
        response = await client.http.get("/api/v1/territoires?par_page=1", headers={"Authorization": f"Bearer {token}"})
        statuses.append(response.status_code)
    assert statuses[:PER_MINUTE] == [200] * PER_MINUTE
    assert statuses[-1] == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.json()["erreur"]["statut"] == 429 and "Retry-After" in response.json()["erreur"]["message"]
    assert_secured(response)
    # Another token is not held back by the first one.
    fresh = await client.http.get("/api/v1/territoires?par_page=1", headers={"Authorization": f"Bearer {other}"})
    assert fresh.status_code == 200
