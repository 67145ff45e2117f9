"""Fixtures of the browser tests (tests/test_browser_*.py): one real server (tests/live_server.py) and one Chromium
(Debian's, driven by Playwright) for the whole session; each role signed in once through the sign-in form, its
cookies then reused by every context of that role.

The browser tests run with `--db=sqlite` (the server has its own SQLite file whatever `--db` says): under
`--db=postgres` they are deselected, and the header says so, so that `make test` runs them once."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.live_server import DEMO, DEMO_PASSWORD, LiveServer, start, stop

CHROMIUM = os.environ.get("SUIVI_CHROMIUM", "/usr/bin/chromium")


def _is_browser_test(item: pytest.Item) -> bool:
    return Path(str(item.fspath)).name.startswith("test_browser_")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") != "postgres":
        # The page checks first, on the demo as loaded (its signed link not yet used), then the journeys, which
        # change it; the other tests keep their places.
        slots = [index for index, item in enumerate(items) if _is_browser_test(item)]
        ordered = sorted((items[index] for index in slots),
                         key=lambda item: Path(str(item.fspath)).name != "test_browser_pages.py")
        for index, item in zip(slots, ordered):
            items[index] = item
        return
    browser = [item for item in items if _is_browser_test(item)]
    if browser:
        config.hook.pytest_deselected(items=browser)
        items[:] = [item for item in items if not _is_browser_test(item)]


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("--db") == "postgres":
        return "tests dans le navigateur (tests/test_browser_*.py) : désélectionnés, ils tournent avec --db=sqlite"
    return None


@pytest.fixture(scope="session")
def live_server() -> LiveServer:
    server = start()
    yield server
    stop(server)


@pytest.fixture(scope="session")
async def chromium():
    """Chromium, or a clear failure (never a skip: CI must say the browser is missing)."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium introuvable ({CHROMIUM}) : les tests dans le navigateur en ont besoin "
                    "(apt-get install chromium, ou SUIVI_CHROMIUM=chemin).", pytrace=False)
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=15_000)  # a loaded 2-core machine (CI, six people) may take more than 5 s

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
async def sessions(chromium, live_server):
    """{role: storage state}, each role signed in once through the form (the real sign-in, full argon2 cost)."""
    states: dict[str, dict] = {}

    async def state(role: str) -> dict:
        if role not in states:
            context = await chromium.new_context(base_url=live_server.url)
            page = await context.new_page()
            await page.goto("/connexion")
            await page.get_by_label("Adresse électronique").fill(DEMO[role])
            await page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
            await page.get_by_role("button", name="Se connecter").click()
            await page.wait_for_url(lambda url: "/connexion" not in url)
            states[role] = await context.storage_state()
            await context.close()
        return states[role]

    return state


@pytest.fixture
async def open_as(chromium, live_server, sessions):
    """`context = await open_as(role, **options)`: a fresh browser context for that role (None: anonymous), at the
    server's address; closed after the test."""
    contexts = []

    async def make(role: str | None, **options):
        if role is not None:
            options["storage_state"] = await sessions(role)
        options.setdefault("locale", "fr-FR")
        context = await chromium.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


async def screenshot(page, live_server: LiveServer, name: str) -> Path:
    """The journey's last step, for people to look at: var/screenshots/NAME.png (git-ignored)."""
    live_server.screenshots.mkdir(parents=True, exist_ok=True)
    path = live_server.screenshots / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
