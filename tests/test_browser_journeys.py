"""What a person sees and does, in a real browser against the real server (tests/live_server.py, the demo's world):
the CODIR éditeur's status change in place, a partner's signed link, the ADGCF reviewer's dashboard; each with
JavaScript and without it (plain forms), the status change with the keyboard alone and on a phone-sized screen.
Each journey's last step is saved to var/screenshots/. Each journey works on actions of its own: they may run in
any order."""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser_fixtures import screenshot
from tests.live_server import GRAND_ANGOULEME

pytestmark = pytest.mark.anyio

STATUS_BADGE = '.status-cell > .badge[class*="status-"]'  # the row's status (not « En retard »)
LINK = re.compile(r"https?://[^/\s]+(/e/[A-Za-z0-9_-]+)")


def action_id(live_server, title: str) -> int:
    return live_server.one("SELECT id FROM action WHERE title = ?", title)


def roadmap_id(live_server) -> int:
    return live_server.one("SELECT r.id FROM roadmap r JOIN territory t ON t.id = r.territory WHERE t.siren = ?",
                           GRAND_ANGOULEME)


async def count(page, status: str) -> int:
    return int(await page.locator(f'#compteurs a[href="?statut={status}"] .count').inner_text())


async def has_visible_focus(page) -> dict:
    """The focused element and whether it shows a focus indicator (an outline or a box shadow)."""
    return await page.evaluate("""() => {
      const el = document.activeElement, style = getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
      const shadow = style.boxShadow && style.boxShadow !== 'none';
      return {id: el.id, tag: el.tagName, row: el.closest('tr') ? el.closest('tr').id : null,
              visible: Boolean(outline || shadow), outline: style.outline, shadow: style.boxShadow};
    }""")


def link_sent_to(live_server, address: str) -> str:
    for mail in reversed(live_server.outbox()):
        if mail["To"] == address:
            found = LINK.search(mail.get_body(("plain",)).get_content())
            assert found, "pas de lien signé dans le courriel"
            return found.group(1)
    raise AssertionError(f"aucun courriel pour {address} dans la boîte d’envoi")


# --- 1. the CODIR éditeur changes a status in place ---------------------------------------------------------------


async def test_an_editor_filters_the_roadmap_and_changes_a_status_in_place(open_as, live_server):
    action = action_id(live_server, "Plateforme de mise en relation des bénévoles")
    page = await (await open_as("editor")).new_page()
    await page.goto(f"/feuilles-de-route/{roadmap_id(live_server)}")
    await page.get_by_label("Statut", exact=True).select_option("en_cours")  # htmx: the list, not the page
    await expect(page.locator("#actions [role=status]")).to_contain_text("(filtrées)")
    assert "statut=en_cours" in page.url  # the filtered view has its address
    row = page.locator(f"#action-{action}")
    await expect(row.locator(STATUS_BADGE)).to_have_text("En cours")
    paused_before = await count(page, "en_pause")
    await page.evaluate("window.__sameDocument = true")

    await row.get_by_label(re.compile("Nouveau statut")).select_option("en_pause")
    await row.get_by_label(re.compile("Commentaire")).fill("Attente du vote du budget supplémentaire.")
    await row.get_by_role("button", name="Enregistrer").click()

    await expect(row.locator(".saved")).to_have_text("Statut enregistré.")
    await expect(row.locator(STATUS_BADGE)).to_have_text("En pause")
    assert await count(page, "en_pause") == paused_before + 1  # the counters, swapped out of band
    assert await page.evaluate("window.__sameDocument === true"), "la page a été rechargée"
    assert (await has_visible_focus(page))["row"] == f"action-{action}", "le focus a quitté la ligne"

    await row.get_by_role("link", name="Plateforme de mise en relation des bénévoles").click()
    await page.wait_for_url(f"**/actions/{action}")
    entry = page.locator("#historique li").first
    await expect(entry).to_contain_text("En pause")
    await expect(entry).to_contain_text("Attente du vote du budget supplémentaire.")
    await expect(entry).to_contain_text("Claire Martin")
    await screenshot(page, live_server, "1-editeur-statut-historique")


# --- 2. a partner answers through a signed link -----------------------------------------------------------------


async def test_a_partner_confirms_through_the_signed_link_of_the_outbox_and_the_editor_sees_it(open_as, live_server):
    # The demo sent one link: the Banque alimentaire's commitment on Valence Romans' food plan.
    path = link_sent_to(live_server, "luc.morel@ba26.example.org")
    commitment = live_server.one("SELECT id FROM commitment WHERE partner = (SELECT id FROM partner WHERE name = ?)",
                                 "Banque alimentaire de la Drôme")
    action = live_server.one("SELECT action FROM commitment WHERE id = ?", commitment)
    partner = await (await open_as(None)).new_page()
    await partner.goto(path)
    await expect(partner.get_by_role("heading", level=1)).to_contain_text("Engagement à confirmer")
    await partner.get_by_role("button", name="Confirmer l’engagement").click()
    await expect(partner.locator("[role=status]")).to_contain_text("votre engagement est confirmé")

    editor = await (await open_as("vr_editor")).new_page()
    await editor.goto(f"/actions/{action}")
    card = editor.locator(f"#engagement-{commitment}")
    await expect(card).to_contain_text("Confirmé")
    await expect(card).to_contain_text("Luc Morel")
    await screenshot(editor, live_server, "2-partenaire-lien-signe-confirme")


# --- 3. the ADGCF reviewer's dashboard: an address per view, the back button, the export --------------------------


async def test_a_reviewer_filters_the_dashboard_reloads_goes_back_and_downloads_the_xlsx(open_as, live_server, tmp_path):
    page = await (await open_as("reviewer")).new_page()
    await page.goto("/pilotage")
    summary = page.locator("#tableau-de-bord [role=status]")
    unfiltered = await summary.inner_text()
    await page.get_by_label("Type de territoire").select_option("CC")
    await expect(summary).to_contain_text("(filtrés)")
    await expect(page.locator("#tableau-de-bord table.dashboard tbody")).to_contain_text("CC de Charente Limousine")
    await expect(page.locator("#tableau-de-bord table.dashboard tbody")).not_to_contain_text("CA du Grand Angoulême")
    assert "type=CC" in page.url
    filtered = await summary.inner_text()

    await page.reload()
    await expect(summary).to_have_text(filtered)
    await expect(page.get_by_label("Type de territoire")).to_have_value("CC")

    await page.go_back()
    await page.wait_for_url(re.compile(r"/pilotage$"))
    await expect(summary).to_have_text(unfiltered)

    await page.go_forward()
    await expect(summary).to_have_text(filtered)
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="tableur (XLSX)").click()
    download = await waiting.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    assert saved.suffix == ".xlsx"
    from openpyxl import load_workbook

    sheet = load_workbook(saved, read_only=True).active
    rows = [row for row in sheet.iter_rows(values_only=True) if any(row)]
    assert any("Charente Limousine" in str(cell) for row in rows for cell in row)
    assert not any("Grand Angoulême" in str(cell) for row in rows for cell in row)  # the filter went with it
    await screenshot(page, live_server, "3-revue-pilotage-filtre")


# --- 4. the same three without JavaScript, through plain forms ----------------------------------------------------


async def test_without_javascript_an_editor_filters_and_changes_a_status_through_plain_forms(open_as, live_server):
    action = action_id(live_server, "Ateliers d’inclusion numérique dans les quartiers")  # module 4
    page = await (await open_as("editor", java_script_enabled=False)).new_page()
    await page.goto(f"/feuilles-de-route/{roadmap_id(live_server)}")
    await page.get_by_label("Module").select_option("4")
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url(re.compile(r"module=4"))
    await expect(page.locator("#actions [role=status]")).to_contain_text("(filtrées)")
    row = page.locator(f"#action-{action}")
    await row.get_by_label(re.compile("Nouveau statut")).select_option("bloquee")
    await row.get_by_label(re.compile("Commentaire")).fill("Salle de quartier fermée pour travaux.")
    async with page.expect_navigation():
        await row.get_by_role("button", name="Enregistrer").click()
    assert "module=4" in page.url  # back to the same filtered list, with the flash message
    await expect(page.locator("#messages")).to_contain_text("Le statut de l’action a été enregistré.")
    await expect(page.locator(f"#action-{action}").locator(STATUS_BADGE)).to_have_text("Bloquée")

    await page.goto(f"/actions/{action}")
    entry = page.locator("#historique li").first
    await expect(entry).to_contain_text("Bloquée")
    await expect(entry).to_contain_text("Salle de quartier fermée pour travaux.")
    await screenshot(page, live_server, "4a-sans-js-editeur-statut")


async def test_without_javascript_a_link_sent_by_the_editor_is_confirmed_by_the_partner(open_as, live_server):
    action = action_id(live_server, "Créer un guichet unique pour les associations")
    commitment = live_server.one("SELECT id FROM commitment WHERE action = ? AND state = 'propose'", action)
    editor = await (await open_as("editor", java_script_enabled=False)).new_page()
    await editor.goto(f"/engagements/{commitment}/envoyer")
    await editor.get_by_label(re.compile("Jeanne Martin")).check()
    async with editor.expect_navigation():
        await editor.get_by_role("button", name="Envoyer le lien").click()

    path = link_sent_to(live_server, "jeanne.martin@solidarite-angoumois.example.org")
    partner = await (await open_as(None, java_script_enabled=False)).new_page()
    await partner.goto(path)
    async with partner.expect_navigation():
        await partner.get_by_role("button", name="Confirmer l’engagement").click()
    await expect(partner.locator("[role=status]")).to_contain_text("votre engagement est confirmé")

    await editor.goto(f"/actions/{action}")
    card = editor.locator(f"#engagement-{commitment}")
    await expect(card).to_contain_text("Confirmé")
    await expect(card).to_contain_text("Jeanne Martin")
    await screenshot(editor, live_server, "4b-sans-js-partenaire-confirme")


async def test_without_javascript_a_reviewer_filters_reloads_goes_back_and_downloads(open_as, live_server, tmp_path):
    page = await (await open_as("reviewer", java_script_enabled=False)).new_page()
    await page.goto("/pilotage")
    summary = page.locator("#tableau-de-bord [role=status]")
    unfiltered = await summary.inner_text()
    await page.get_by_label("Type de territoire").select_option("CC")
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_url(re.compile(r"type=CC"))
    filtered = await summary.inner_text()
    assert filtered != unfiltered and "(filtrés)" in filtered
    await page.reload()
    await expect(summary).to_have_text(filtered)
    await page.go_back()
    await page.wait_for_url(re.compile(r"/pilotage$"))
    await expect(summary).to_have_text(unfiltered)
    await page.go_forward()
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="tableur (XLSX)").click()
    download = await waiting.value
    saved = tmp_path / "pilotage.xlsx"
    await download.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"  # a zip: an XLSX workbook
    await screenshot(page, live_server, "4c-sans-js-revue-pilotage")


# --- 5. the keyboard alone, with visible focus --------------------------------------------------------------------


async def test_the_status_change_with_the_keyboard_alone_shows_where_the_focus_is(open_as, live_server):
    action = action_id(live_server, "Budget participatif intercommunal")
    page = await (await open_as("editor")).new_page()
    await page.goto(f"/feuilles-de-route/{roadmap_id(live_server)}")
    await page.evaluate("window.__sameDocument = true")
    target = f"statut-{action}"
    seen = []
    for _ in range(300):  # Tab from the top of the page to the action's status field
        await page.keyboard.press("Tab")
        focus = await has_visible_focus(page)
        seen.append(focus)
        assert focus["visible"], f"focus invisible sur {focus}"
        if focus["id"] == target:
            break
    else:
        raise AssertionError(f"la touche Tab n’atteint pas #{target}")
    assert seen[0]["tag"] == "A"  # the skip link comes first

    select = page.locator(f"#{target}")
    for _ in range(6):
        if await select.input_value() == "realisee":
            break
        await page.keyboard.press("ArrowDown")
    assert await select.input_value() == "realisee"
    await page.keyboard.press("Tab")
    assert (await has_visible_focus(page))["id"] == f"commentaire-{action}"
    await page.keyboard.type("Budget voté le 12 novembre.")
    await page.keyboard.press("Tab")
    focus = await has_visible_focus(page)
    assert focus["id"] == f"enregistrer-{action}" and focus["visible"], focus
    await page.keyboard.press("Enter")

    row = page.locator(f"#action-{action}")
    await expect(row.locator(".saved")).to_have_text("Statut enregistré.")
    await expect(row.locator(STATUS_BADGE)).to_have_text("Réalisée")
    assert await page.evaluate("window.__sameDocument === true"), "la page a été rechargée"
    focus = await has_visible_focus(page)
    assert focus["row"] == f"action-{action}" and focus["visible"], focus
    await screenshot(page, live_server, "5-clavier-statut")


# --- 6. on a phone-sized screen -----------------------------------------------------------------------------------


async def test_the_status_change_works_on_a_phone_sized_screen(open_as, live_server):
    action = action_id(live_server, "Réseau des tiers-lieux")
    # 390 CSS px wide, touch screen. (Chromium's is_mobile emulation is left out: with a page wider than the
    # screen, which the roadmap still is, it lays the page out at its full width and taps land on other rows.)
    context = await open_as("editor", viewport={"width": 390, "height": 844}, has_touch=True, device_scale_factor=2)
    page = await context.new_page()
    await page.goto(f"/feuilles-de-route/{roadmap_id(live_server)}")
    assert await page.evaluate("document.documentElement.clientWidth") == 390
    await page.evaluate("window.__sameDocument = true")
    row = page.locator(f"#action-{action}")
    await row.get_by_label(re.compile("Nouveau statut")).select_option("en_pause")
    await row.get_by_label(re.compile("Commentaire")).fill("Reprise après l’été.")
    await row.get_by_role("button", name="Enregistrer").tap()
    await expect(row.locator(".saved")).to_have_text("Statut enregistré.")
    await expect(row.locator(STATUS_BADGE)).to_have_text("En pause")
    assert await page.evaluate("window.__sameDocument === true")
    await row.scroll_into_view_if_needed()
    await screenshot(page, live_server, "6-telephone-statut")
