"""The pages public bodies must publish: « Accessibilité » (RGAA declaration), « Données personnelles » (the
processing register entry, RGPD art. 30, and how to exercise one's rights) and « Mentions légales » (LCEN art. 6).
Public: anyone reads them, signed in or not; linked from every page's footer (templates/base.html).
Who publishes, hosts and answers comes from the configuration (`tracker.core.config.publisher`)."""
from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from tracker.core import config
from tracker.core.http import render

RGAA_VERSION = "4.1.2"


def _context() -> dict:
    return {
        "publisher": config.publisher,
        "rgaa_version": RGAA_VERSION,
        "base_url": config.settings.base_url,
        "session_idle_minutes": config.settings.session_idle_minutes,
        "session_absolute_hours": config.settings.session_absolute_hours,
    }


@get("/accessibilite", name="legal_accessibility")
async def accessibility(request: Request) -> Template:
    return render(request, "legal/accessibilite.html", _context())


@get("/donnees-personnelles", name="legal_personal_data")
async def personal_data(request: Request) -> Template:
    return render(request, "legal/donnees_personnelles.html", _context())


@get("/mentions-legales", name="legal_notice")
async def legal_notice(request: Request) -> Template:
    return render(request, "legal/mentions_legales.html", _context())


PUBLIC_ROUTES = [accessibility, personal_data, legal_notice]
