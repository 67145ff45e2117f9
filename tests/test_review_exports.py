"""Every review list downloads as XLSX and CSV, with the page's filters and permissions."""
import csv
import io

import openpyxl
import pytest

from tests.factories import EMAILS, action
from tests.htmltable import table_after
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio

PATHS = ["/pilotage/export", "/pilotage/actions/export", "/pilotage/relances/export"]
ROUTES_COVERED = {("GET", f"{p}.{fmt}") for p in PATHS for fmt in ("xlsx", "csv")} | {
    ("GET", f"/territoires/{{siren:str}}/point-codir/export.{fmt}") for fmt in ("xlsx", "csv")}


def read_csv(response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, for French spreadsheets
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


async def test_the_dashboard_csv_has_the_numbers_of_the_page(client, world):
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage")
    shown = {r[0].split(" Communauté")[0]: r for r in table_after(page.text, 'class="table dashboard"')[1:]}
    rows = read_csv(await client.get("/pilotage/export.csv"))
    header, body = rows[0], rows[1:]
    assert header[:6] == ["Territoire", "SIREN", "Type", "Département", "Région", "Actions"]
    for line in body:
        assert line[5] == shown[line[0]][1]  # the same action count as the page


async def test_the_cross_territory_export_is_unpaginated_filtered_and_neutralised(client, world):
    for i in range(55):
        await action(world.vr_roadmap, world.vr, f"Action exportée {i:02d}")
    await action(world.vr_roadmap, world.vr, "=HYPERLINK(\"http://exemple.invalid\")")
    await client.login(EMAILS["reviewer"])
    rows = read_csv(await client.get("/pilotage/actions/export.csv?territoire=200068781"))
    titles = [r[0] for r in rows[1:]]
    assert len(titles) == 57  # 55 + the formula + VR's own action: every page, one file
    assert "'=HYPERLINK(\"http://exemple.invalid\")" in titles
    xlsx = await client.get("/pilotage/actions/export.xlsx?territoire=200068781&q=export")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].value == "Action"
    assert sheet.max_row == 56
    assert sheet.cell(row=2, column=10).is_date  # « Dernière mise à jour » is a real date cell


async def test_the_follow_up_and_codir_exports(client, world):
    await client.login(EMAILS["reviewer"])
    follow = read_csv(await client.get("/pilotage/relances/export.csv?jours=1"))
    assert follow[0] == ["Motif", "Territoire", "Objet", "Date", "Échéance", "À contacter"]
    assert any(r[2] == "Portage de repas" and r[0].startswith("En retard") for r in follow[1:])
    pack = read_csv(await client.get("/territoires/200071827/point-codir/export.csv"))
    assert pack[0][0] == "Rubrique"
    assert any(r[0] == "Passée en retard" and r[2] == "Portage de repas" for r in pack[1:])


async def test_deadlines_are_date_columns_of_their_own(client, world):
    """The CODIR pack's « passée en retard », « bloquée » and « prochaine échéance » rows, and the overdue actions
    of « à relancer », give the deadline as a real date cell, never inside a text."""
    deadlines = {a["title"]: a["deadline"] for a in await Action.select(Action.title, Action.deadline)}
    await client.login(EMAILS["reviewer"])
    for path, rubric, column in (
        ("/territoires/200071827/point-codir/export", "Passée en retard", "Échéance"),
        ("/pilotage/relances/export", "En retard sans note depuis 30 jours", "Échéance"),
    ):
        sheet = openpyxl.load_workbook(io.BytesIO((await client.get(f"{path}.xlsx")).content)).active
        header = [c.value for c in sheet[1]]
        at = header.index(column)
        title_at = header.index("Action" if "Action" in header else "Objet")
        rows = [r for r in sheet.iter_rows(min_row=2) if r[0].value == rubric]
        assert rows, (path, rubric)
        for r in rows:
            cell = r[at]
            assert cell.is_date and cell.value.date() == deadlines[r[title_at].value], (path, r[title_at].value)
            assert not any("Échéance" in str(c.value or "") or "/20" in str(c.value or "") for c in r[title_at + 1:]
                           if c is not cell and not c.is_date), "la date n’est plus dans un texte"
        text = read_csv(await client.get(f"{path}.csv"))
        csv_at = text[0].index(column)
        overdue = next(r for r in text[1:] if r[0] == rubric and r[title_at] == "Portage de repas")
        assert overdue[csv_at] == deadlines["Portage de repas"].strftime("%d/%m/%Y")
    pack = read_csv(await client.get("/territoires/200071827/point-codir/export.csv"))
    assert pack[0] == ["Rubrique", "Date", "Action", "Échéance", "Détail", "Par"]
    upcoming = next(r for r in pack[1:] if r[0] == "Prochaine échéance" and r[2] == "Guichet unique des associations")
    assert upcoming[3] == deadlines["Guichet unique des associations"].strftime("%d/%m/%Y")


@pytest.mark.parametrize("person", ["ga_editor", "ga_reader", "vr_editor"])
async def test_review_exports_are_for_the_adgcf_only(make_client, world, person):
    client = await make_client()
    await client.login(EMAILS[person])
    for path in PATHS:
        for fmt in ("xlsx", "csv"):
            assert (await client.get(f"{path}.{fmt}")).status_code == 403, (person, path)


async def test_the_codir_export_obeys_the_pack_permissions(make_client, world):
    outsider = await make_client()
    await outsider.login(EMAILS["vr_editor"])
    for fmt in ("xlsx", "csv"):
        assert (await outsider.get(f"/territoires/200071827/point-codir/export.{fmt}")).status_code == 404
    member = await make_client()
    await member.login(EMAILS["ga_reader"])
    assert (await member.get("/territoires/200071827/point-codir/export.xlsx")).status_code == 200
    anonymous = await make_client()
    for path in [*PATHS, "/territoires/200071827/point-codir/export"]:
        assert (await anonymous.get(f"{path}.csv")).status_code == 303
