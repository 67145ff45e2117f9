"""Every export the app has is linked from the page it exports: a download route added without a link on its page
(or without a line here) fails this test."""
from __future__ import annotations

import pytest

from tests.factories import EMAILS, build_agreement_world, build_partner_world

pytestmark = pytest.mark.anyio

# Download route → (who looks, the page it exports, the address linked there). {r} roadmap, {a} action,
# {c} agreement, {k} contact, {p} the contact's partner.
EXPORT_PAGES = {
    "/feuilles-de-route/{roadmap_id:str}/export.{fmt}": ("ga_editor", "/feuilles-de-route/{r}", "/feuilles-de-route/{r}/export.{fmt}"),
    "/actions/{action_id:str}/historique.{fmt}": ("ga_reader", "/actions/{a}", "/actions/{a}/historique.{fmt}"),
    "/contrats/{agreement_id:str}/export.{fmt}": ("ga_reader", "/contrats/{c}", "/contrats/{c}/export.{fmt}"),
    "/feuilles-de-route/{roadmap_id:str}/modele-import.{fmt}": (
        "ga_editor", "/feuilles-de-route/{r}/import", "/feuilles-de-route/{r}/modele-import.{fmt}"),
    "/pilotage/export.{fmt}": ("reviewer", "/pilotage", "/pilotage/export.{fmt}"),
    "/pilotage/actions/export.{fmt}": ("reviewer", "/pilotage/actions", "/pilotage/actions/export.{fmt}"),
    "/pilotage/relances/export.{fmt}": ("reviewer", "/pilotage/relances", "/pilotage/relances/export.{fmt}"),
    "/territoires/{siren:str}/point-codir/export.{fmt}": (
        "ga_reader", "/territoires/200071827/point-codir", "/territoires/200071827/point-codir/export.{fmt}"),
    "/contacts/{contact_id:str}/export": ("ga_referent", "/partenaires/{p}", "/contacts/{k}/export?format={fmt}"),
}


def download_routes() -> set[str]:
    from tracker.app import create_app

    found = set()
    for route in create_app().routes:
        path = route.path
        if "GET" in getattr(route, "methods", ()) and (path.endswith((".xlsx", ".csv")) or path.endswith("/export")):
            found.add(path.rsplit(".", 1)[0] + ".{fmt}" if path.endswith((".xlsx", ".csv")) else path)
    return found


def test_every_download_route_has_its_page_here():
    assert download_routes() == set(EXPORT_PAGES)


async def test_every_export_is_linked_from_the_page_it_exports(make_client, world):
    agreement = await build_agreement_world(world)
    partners = await build_partner_world(world)
    ids = {"r": world.ga_roadmap, "a": world.upcoming, "c": agreement.agreement, "k": partners.sa_volunteer,
           "p": world.ga_pilot}
    clients = {}
    for route, (person, page, link) in EXPORT_PAGES.items():
        if person not in clients:
            clients[person] = await make_client()
            await clients[person].login(EMAILS[person])
        client = clients[person]
        shown = await client.get(page.format(**ids))
        assert shown.status_code == 200, (route, page)
        html = shown.text.replace("&amp;", "&")
        for fmt in ("xlsx", "csv") if "{fmt}" in route or "format=" in link else ("csv",):
            if route.startswith("/contacts/") and fmt == "xlsx":
                fmt = "json"  # a contact's data: JSON or CSV (RGPD art. 15 and 20)
            address = link.format(fmt=fmt, **ids)
            assert f'href="{address}' in html, (route, page, address)
            assert (await client.get(address)).status_code == 200, address
