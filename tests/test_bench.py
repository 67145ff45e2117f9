"""The bench's wiring, not its figures (make bench prints those and never asserts them): its ceiling is the same
application answering stored bytes behind the same middleware, and its plans reach wrk intact."""
import pytest

pytestmark = pytest.mark.anyio


async def test_the_ceiling_answers_stored_bytes_behind_the_applications_middleware(app, tmp_path, monkeypatch):
    import httpx

    from tests.browser import Browser
    from tracker.bench.server import ceiling, save_prerendered

    monkeypatch.setenv("BENCH_CEILING_DIR", str(tmp_path))
    page_path = save_prerendered(tmp_path, "feuille", 200, "text/html; charset=utf-8", {},
                                 "<p>Feuille de route</p>".encode())
    post_path = save_prerendered(tmp_path, "statut", 303, "text/plain", {"location": "/actions/1"}, b"")
    app.register(ceiling)  # as tracker.bench.server.create_app does
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        browser = Browser(http)
        page = await browser.get(page_path)
        assert page.status_code == 200
        assert page.content == "<p>Feuille de route</p>".encode()
        assert page.headers["x-frame-options"] == "DENY"  # the application's own response headers

        assert (await browser.post(post_path, {}, csrf=False)).status_code == 403  # the same CSRF check
        await browser.get("/connexion")
        answered = await browser.post(post_path, {})
        assert answered.status_code == 303
        assert answered.headers["location"] == "/actions/1"


def test_a_plan_becomes_a_lua_literal_with_its_strings_intact():
    from tracker.bench.load import _lua

    plan = {"close": True, "clients": [{"paths": ["/a?b=1"], "comment": "Point d’étape \"x\"\n", "n": 3}]}
    assert _lua(plan) == '{["close"] = true, ["clients"] = {{["paths"] = {"/a?b=1"}, ' \
                         '["comment"] = "Point d’étape \\"x\\"\\n", ["n"] = 3}}}'



async def test_the_bench_finds_the_calendar_feed_where_the_account_makes_it(app, world):
    """Issue 11 put the feed's address on « Rappels et calendriers » (shown once, in the answer to its form): the
    bench makes one per éditeur there, a calendar program reads it with the address alone, and the bench revokes
    it at the end."""
    import httpx

    from tests.browser import Browser
    from tests.factories import EMAILS
    from tracker.bench.pages import Bench, SignedIn

    def http() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    async with http() as anonymous:
        bench = Bench("http://testserver", 1)
        await bench.http.aclose()
        bench.http = http()  # the application itself rather than a server
        await Browser(bench.http).login(EMAILS["ga_editor"])
        # As the bench signs in: the token it holds is the sign-in page's, worth nothing once signed in.
        person = SignedIn(EMAILS["ga_editor"], dict(bench.http.cookies), "jeton-de-la-page-de-connexion")
        feed = await bench.calendar_address(person, "200071827")  # the world's Grand Angoulême
        assert feed is not None and feed.startswith("/calendrier/") and feed.endswith(".ics")
        calendar = await anonymous.get(feed)
        assert calendar.status_code == 200 and calendar.text.startswith("BEGIN:VCALENDAR")
        await bench.close()
        assert (await anonymous.get(feed)).status_code == 404
