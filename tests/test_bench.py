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
