"""Exports of a roadmap's actions and of an action's history, as XLSX and CSV: what a person downloads from the
roadmap page, opened the way a spreadsheet would, and who may download what."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, timedelta
from urllib.parse import quote

import arrow
import pytest
from openpyxl import load_workbook

from tests.factories import EMAILS, action
from tracker.lifecycle import record
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio

HEADERS = [
    "Axe", "Action", "Action parente", "Module", "Pilote", "Statut", "En retard", "Début", "Échéance", "Priorité",
    "Confidentielle", "Dernière mise à jour", "N°", "Version", "Commentaire",
]
# Titles a spreadsheet could take for formulas (OWASP CSV injection), as an import or an old tool may have stored them.
DANGEROUS = ["=HYPERLINK(\"http://x\",\"y\")", "+33 6 12 34 56 78", "-2+3", "@SUM(A1:A2)", "\t=1+1", "  =1+1", "\r=1+1"]


def workbook(response):
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return load_workbook(io.BytesIO(response.content))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf"), "le CSV commence par le BOM UTF-8"
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def sheet_rows(book) -> list[list]:
    return [[cell.value for cell in row] for row in book.active.iter_rows()]


async def signed_in(make_client, person: str):
    client = await make_client()
    await client.login(EMAILS[person])
    return client


# --- the roadmap export -------------------------------------------------------------------------------------


async def test_an_editor_downloads_the_roadmap_as_a_real_spreadsheet(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    book = workbook(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx"))
    sheet = book.active
    assert sheet.title == "Actions"
    rows = sheet_rows(book)
    assert rows[0] == HEADERS
    assert all(cell.font.bold for cell in sheet[1]), "en-têtes en gras"
    assert sheet.freeze_panes == "A2", "la ligne d’en-tête reste visible"
    assert sheet.auto_filter.ref == f"A1:O{len(rows)}", "filtre automatique sur toutes les données"
    assert sheet.column_dimensions["B"].width >= 30
    by_title = {row[1]: row for row in rows[1:]}
    assert set(by_title) == {"Guichet unique des associations", "Portage de repas", "Carte des initiatives",
                             "Audit confidentiel de la DSP"}
    guichet = by_title["Guichet unique des associations"]
    assert guichet[0] == "Faire avec les habitants"
    assert guichet[3].startswith("1 – Initiatives citoyennes")
    assert guichet[4] == "Solidarité Angoumois"
    assert guichet[5] == "À venir"
    # Number and version, so that an edited copy can be taken back (tracker.imports); an empty comment column.
    assert guichet[12:15] == [world.upcoming, 1, None]
    assert by_title["Portage de repas"][5:7] == ["En cours", "Oui"]
    assert by_title["Carte des initiatives"][5:7] == ["Réalisée", "Non"]
    assert by_title["Audit confidentiel de la DSP"][10] == "Oui"
    # Real dates, shown the French way; the last update in Paris time.
    row_index = [r[1] for r in rows].index("Guichet unique des associations") + 1
    deadline = sheet.cell(row=row_index, column=9)
    assert deadline.is_date and deadline.number_format == "DD/MM/YYYY"
    assert deadline.value.date() == arrow.now("Europe/Paris").date() + timedelta(days=30)
    updated = sheet.cell(row=row_index, column=12)
    assert updated.is_date and updated.number_format == "DD/MM/YYYY HH:MM"
    stored = await Action.select(Action.updated_at).where(Action.id == world.upcoming).first()
    paris = arrow.get(stored["updated_at"]).to("Europe/Paris")
    assert updated.value.replace(tzinfo=None) == paris.naive.replace(second=0, microsecond=0)


async def test_the_csv_opens_in_a_french_spreadsheet(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    response = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv")
    assert b"\r\n" in response.content and response.content.count(b"\r\n") == response.content.count(b"\n")
    rows = csv_rows(response)
    assert rows[0] == HEADERS
    by_title = {row[1]: row for row in rows[1:]}
    guichet = by_title["Guichet unique des associations"]
    expected = (arrow.now("Europe/Paris").date() + timedelta(days=30)).strftime("%d/%m/%Y")
    assert guichet[8] == expected
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", guichet[11])
    assert by_title["Portage de repas"][6] == "Oui"


async def test_the_file_has_a_french_name(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    for fmt in ("xlsx", "csv"):
        response = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.{fmt}")
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''" + quote("Feuille de route du Grand Angoulême – CA du Grand Angoulême") in disposition
        assert disposition.endswith(f".{fmt}")
        assert re.search(r'filename="[A-Za-z0-9._-]+\.' + fmt + '"', disposition), "nom de secours en ASCII"
        assert response.headers["cache-control"] == "no-store"


async def test_formulas_in_cells_are_neutralised_in_both_formats(make_client, world):
    for title in DANGEROUS:
        await action(world.ga_roadmap, world.ga, title)
    editor = await signed_in(make_client, "ga_editor")
    book = workbook(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx"))
    titles = [row[1].value for row in book.active.iter_rows(min_row=2)]
    cells = [row[1] for row in book.active.iter_rows(min_row=2)]
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row), "aucune formule"
    for title in DANGEROUS:
        # Read as typed, no guard character shown (XML turns a bare carriage return into a line feed when read back)
        assert title in titles or title.replace("\r", "\n") in titles, title
    assert all(cell.data_type == "s" for cell in cells)
    # … because each such cell is a text cell with the quote-prefix style, which no spreadsheet evaluates.
    guarded = {cell.value: cell.quotePrefix for cell in cells}
    assert all(guarded.get(t, guarded.get(t.replace("\r", "\n"))) is True for t in DANGEROUS)
    assert guarded["Portage de repas"] is False, "le texte ordinaire garde le style par défaut"
    rows = csv_rows(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv"))
    csv_titles = [row[1] for row in rows[1:]]
    for title in DANGEROUS:
        assert "'" + title in csv_titles, title
    # Ordinary text, numbers and dates are left alone.
    assert "Portage de repas" in csv_titles and "Portage de repas" in titles


async def test_a_formula_title_opens_as_the_text_typed_with_the_quote_prefix_style(make_client, world):
    await action(world.ga_roadmap, world.ga, "=1+1")
    await action(world.ga_roadmap, world.ga, "#N/A")  # an error value's name is text too
    editor = await signed_in(make_client, "ga_editor")
    response = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx")
    sheet = workbook(response).active
    cells = {row[1].value: row[1] for row in sheet.iter_rows(min_row=2)}
    for title in ("=1+1", "#N/A"):
        assert cells[title].data_type == "s" and cells[title].quotePrefix is True, title
    assert "'=1+1" not in cells
    raw = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/styles.xml").decode()
    assert 'quotePrefix="1"' in raw, "le style est écrit dans le classeur, pas seulement lu par openpyxl"
    rows = csv_rows(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv"))
    assert "'=1+1" in [row[1] for row in rows[1:]], "le CSV, sans types, garde son apostrophe"


async def test_csv_responses_name_their_charset_once(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    for path in (f"/feuilles-de-route/{world.ga_roadmap}/export.csv", f"/actions/{world.upcoming}/historique.csv",
                 f"/feuilles-de-route/{world.ga_roadmap}/modele-import.csv"):
        content_type = (await editor.get(path)).headers["content-type"]
        assert content_type == "text/csv; charset=utf-8", (path, content_type)


async def test_the_history_export_is_linked_from_the_action_page(make_client, world):
    for person in ("ga_editor", "ga_reader", "reviewer"):
        client = await signed_in(make_client, person)
        page = await client.get(f"/actions/{world.upcoming}")
        for fmt in ("xlsx", "csv"):
            link = f'href="/actions/{world.upcoming}/historique.{fmt}"'
            assert link in page.text, (person, fmt)
            assert (await client.get(f"/actions/{world.upcoming}/historique.{fmt}")).status_code == 200


async def test_the_export_keeps_the_page_filters(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    page = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}?statut=realisee")
    assert f'href="/feuilles-de-route/{world.ga_roadmap}/export.xlsx?statut=realisee"' in page.text
    assert f'href="/feuilles-de-route/{world.ga_roadmap}/export.csv?statut=realisee"' in page.text
    # Filtering with htmx replaces the list, links included: they follow the filters just chosen.
    fragment = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}?en_retard=1&module=4", htmx=True)
    assert f'href="/feuilles-de-route/{world.ga_roadmap}/export.csv?module=4&amp;en_retard=1"' in fragment.text
    assert "<html" not in fragment.text
    unfiltered = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert f'href="/feuilles-de-route/{world.ga_roadmap}/export.xlsx"' in unfiltered.text
    done = csv_rows(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv?statut=realisee"))
    assert [row[1] for row in done[1:]] == ["Carte des initiatives"]
    late = sheet_rows(workbook(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx?en_retard=1")))
    assert [row[1] for row in late[1:]] == ["Portage de repas"]
    pilot = csv_rows(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv?pilote={world.ga_pilot}"))
    assert [row[1] for row in pilot[1:]] == ["Guichet unique des associations"]


async def test_a_bad_filter_is_refused_with_a_french_message(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    for query in ("module=9", "statut=inconnu", "axe=abc"):
        response = await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv?{query}")
        assert response.status_code == 400, query
        assert "Filtre invalide" in response.text


async def test_a_sub_action_names_its_parent_unless_the_parent_is_confidential(make_client, world):
    await action(world.ga_roadmap, world.ga, "Recenser les associations", parent=world.upcoming)
    await action(world.ga_roadmap, world.ga, "Volet public de l’audit", parent=world.secret)
    reader = await signed_in(make_client, "ga_reader")
    rows = {r[1]: r for r in csv_rows(await reader.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv"))[1:]}
    assert rows["Recenser les associations"][2] == "Guichet unique des associations"
    assert rows["Volet public de l’audit"][2] == "Audit confidentiel de la DSP"
    reviewer = await signed_in(make_client, "reviewer")
    rows = {r[1]: r for r in csv_rows(await reviewer.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv"))[1:]}
    assert rows["Volet public de l’audit"][2] == "", "le titre d’une action confidentielle ne sort pas du territoire"
    # A parent left out by the filters is still named.
    filtered = csv_rows(await reader.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv?module=1&statut=a_venir"))
    assert {r[1]: r[2] for r in filtered[1:]}["Recenser les associations"] == "Guichet unique des associations"


# --- an action's history ------------------------------------------------------------------------------------


async def test_an_actions_history_downloads_with_who_when_and_why(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    await editor.submit(f"/actions/{world.upcoming}", f"/actions/{world.upcoming}/statut",
                        {"status": "bloquee", "comment": "=HYPERLINK(\"http://x\") en attente du financement"})
    rows = csv_rows(await editor.get(f"/actions/{world.upcoming}/historique.csv"))
    assert rows[0] == ["Date", "Ancien statut", "Nouveau statut", "Par", "Commentaire"]
    assert rows[1][1:4] == ["À venir", "Bloquée", "Claire Éditrice"]
    assert rows[1][4] == "'=HYPERLINK(\"http://x\") en attente du financement"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", rows[1][0])
    book = workbook(await editor.get(f"/actions/{world.upcoming}/historique.xlsx"))
    sheet = book.active
    assert [c.value for c in sheet[1]] == rows[0]
    assert sheet["A2"].is_date and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E2"
    assert sheet["E2"].value.startswith("=HYPERLINK") and sheet["E2"].data_type == "s" and sheet["E2"].quotePrefix
    disposition = (await editor.get(f"/actions/{world.upcoming}/historique.csv")).headers["content-disposition"]
    assert "filename*=UTF-8''" + quote("Historique – Guichet unique des associations") in disposition


async def test_history_dates_are_paris_time(make_client, world):
    winter = arrow.get("2026-01-15T09:30:00+00:00").datetime
    from tracker.core.db import write_transaction

    async with write_transaction():
        await record(subject="action", subject_id=world.upcoming, territory_id=world.ga, source="a_venir",
                     target="en_cours", actor=None, comment="", at=winter)
    editor = await signed_in(make_client, "ga_editor")
    rows = csv_rows(await editor.get(f"/actions/{world.upcoming}/historique.csv"))
    assert rows[1][0] == "15/01/2026 10:30"
    assert rows[1][3] == "Système"
    sheet = workbook(await editor.get(f"/actions/{world.upcoming}/historique.xlsx")).active
    assert sheet["A2"].value.hour == 10 and sheet["A2"].value.tzinfo is None


# --- who may download what ----------------------------------------------------------------------------------

EXPORTS = {
    "/feuilles-de-route/{roadmap_id:str}/export.xlsx": lambda w: f"/feuilles-de-route/{w.ga_roadmap}/export.xlsx",
    "/feuilles-de-route/{roadmap_id:str}/export.csv": lambda w: f"/feuilles-de-route/{w.ga_roadmap}/export.csv",
    "/actions/{action_id:str}/historique.xlsx": lambda w: f"/actions/{w.upcoming}/historique.xlsx",
    "/actions/{action_id:str}/historique.csv": lambda w: f"/actions/{w.upcoming}/historique.csv",
}
ROUTES_COVERED = {("GET", path) for path in EXPORTS}
# As the pages they come from: the territory's members and the ADGCF; 404 for everyone else.
EXPECTED = {"admin": 200, "reviewer": 200, "ga_editor": 200, "ga_reader": 200, "vr_editor": 404, "nobody": 404}


@pytest.mark.parametrize("person", list(EXPECTED))
async def test_exports_obey_the_page_permissions(make_client, world, person):
    client = await signed_in(make_client, person)
    for template, path in EXPORTS.items():
        response = await client.get(path(world))
        assert response.status_code == EXPECTED[person], (person, template)
        if EXPECTED[person] == 404:
            assert "existe pas ou ne vous est pas accessible" in response.text
            assert "Guichet" not in response.text


async def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for path in EXPORTS.values():
        response = await client.get(path(world))
        assert response.status_code == 303
        assert response.headers["location"] == "/connexion?suivant=" + quote(path(world))


async def test_a_valence_editor_cannot_export_grand_angouleme_even_by_guessing_ids(make_client, world):
    vr = await signed_in(make_client, "vr_editor")
    assert (await vr.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx")).status_code == 404
    assert (await vr.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv?statut=a_venir")).status_code == 404
    assert (await vr.get(f"/actions/{world.secret}/historique.csv")).status_code == 404
    assert (await vr.get("/feuilles-de-route/abc/export.csv")).status_code == 404
    own = csv_rows(await vr.get(f"/feuilles-de-route/{world.vr_roadmap}/export.csv"))
    assert [row[1] for row in own[1:]] == ["Tableau de bord des satellites"]


async def test_confidential_actions_are_left_out_for_the_adgcf(make_client, world):
    reviewer = await signed_in(make_client, "reviewer")
    xlsx = sheet_rows(workbook(await reviewer.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx")))
    csv_ = csv_rows(await reviewer.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv"))
    for rows in (xlsx, csv_):
        titles = [row[1] for row in rows[1:]]
        assert "Audit confidentiel de la DSP" not in titles
        assert "Portage de repas" in titles
    assert (await reviewer.get(f"/actions/{world.secret}/historique.xlsx")).status_code == 404
    member = await signed_in(make_client, "ga_reader")
    titles = [row[1] for row in csv_rows(await member.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv"))[1:]]
    assert "Audit confidentiel de la DSP" in titles
    assert (await member.get(f"/actions/{world.secret}/historique.csv")).status_code == 200


async def test_an_empty_list_still_gives_a_file_with_its_headers(make_client, world):
    editor = await signed_in(make_client, "ga_editor")
    rows = csv_rows(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.csv?statut=bloquee"))
    assert rows == [HEADERS]
    sheet = workbook(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx?statut=bloquee")).active
    assert sheet.max_row == 1 and sheet.auto_filter.ref == "A1:O1"


# --- the building block the other lists use -----------------------------------------------------------------


async def test_the_writer_keeps_numbers_and_dates_and_neutralises_text():
    from datetime import datetime, timezone
    from decimal import Decimal

    from tracker.exports.writer import Column, csv_chunks, neutralise, typed_value, xlsx_chunks

    assert neutralise("=1") == "'=1" and neutralise("   @x") == "'   @x" and neutralise("\n\t=1") == "'\n\t=1"
    assert neutralise("Bonjour = salut") == "Bonjour = salut" and neutralise("") == ""
    # The typed value keeps its guard: a writer that ignored the quote-prefix style would still write no formula.
    assert typed_value(Column("T"), "=1") == "'=1" and typed_value(Column("T"), "=1").as_typed == "=1"
    columns = [Column("Territoire"), Column("Montant", "money"), Column("Jours", "integer"), Column("Taux", "decimal"),
               Column("Le", "date"), Column("À", "datetime")]
    summer = datetime(2026, 7, 1, 22, 15, tzinfo=timezone.utc)

    async def rows():
        yield ["=cmd|' /C calc'!A0", Decimal("12500.5"), -3, 0.25, date(2026, 11, 27), summer]
        yield [None, None, None, None, None, None]
        yield [True, "-12", "x", "y", "pas une date", "=2"]

    chunks = [chunk async for chunk in csv_chunks(columns, rows())]
    text = b"".join(chunks).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert lines[1] == ["'=cmd|' /C calc'!A0", "12500,50", "-3", "0,25", "27/11/2026", "02/07/2026 00:15"]
    assert lines[2] == ["", "", "", "", "", ""]
    # A value that does not fit its column is exported as neutralised text, never as a formula.
    assert lines[3] == ["Oui", "'-12", "x", "y", "pas une date", "'=2"]

    written = b"".join([chunk async for chunk in xlsx_chunks(columns, rows(), "Essai : [1]/2")])
    sheet = load_workbook(io.BytesIO(written)).active
    assert sheet.title.startswith("Essai") and not set("[]:*?/\\") & set(sheet.title)
    assert sheet["A2"].value == "=cmd|' /C calc'!A0" and sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix
    assert sheet["B2"].value == 12500.5 and sheet["B2"].data_type == "n" and "€" in sheet["B2"].number_format
    assert sheet["C2"].value == -3 and sheet["C2"].data_type == "n"
    assert sheet["E2"].is_date and sheet["E2"].value.date() == date(2026, 11, 27)
    assert sheet["F2"].is_date and (sheet["F2"].value.day, sheet["F2"].value.hour) == (2, 0)
    assert sheet["B4"].value == "-12" and sheet["F4"].value == "=2"
    assert sheet["B4"].data_type == sheet["F4"].data_type == "s" and sheet["B4"].quotePrefix and sheet["F4"].quotePrefix
    assert not sheet["C3"].quotePrefix and not sheet["D4"].quotePrefix  # only text a spreadsheet could evaluate
    assert sheet.auto_filter.ref == "A1:F4"


async def test_text_the_xml_forbids_is_exported_without_error(make_client, world):
    await action(world.ga_roadmap, world.ga, "Titre\x07avec\x08des\x1fcontrôles")
    editor = await signed_in(make_client, "ga_editor")
    titles = [r[1] for r in sheet_rows(workbook(await editor.get(f"/feuilles-de-route/{world.ga_roadmap}/export.xlsx")))]
    assert "Titreavecdescontrôles" in titles
