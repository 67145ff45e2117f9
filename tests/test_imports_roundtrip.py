"""Taking back an exported roadmap after the CODIR edited it: exactly the changed statuses, deadlines and comments,
each status change through the action's life cycle (its comment rules, its version check); a line whose action
changed in the app since the export is a conflict and is not applied."""
from __future__ import annotations

import csv
import html
import io
from datetime import date, timedelta

import openpyxl
import pytest

from tests.factories import EMAILS, history_of
from tracker.core.french import date_fr
from tests.workbooks import confirm, save, upload, upload_and_preview
from tracker.history.tables import HistoryEntry
from tracker.imports.tables import RoadmapImport
from tracker.roadmaps.tables import Action, ActionNote

pytestmark = pytest.mark.anyio
ROUTES_COVERED: set = set()  # the import routes' permissions are in tests/test_imports.py


def page(response) -> str:
    return html.unescape(response.text)


async def state(action_id: int) -> tuple:
    row = await Action.select(Action.status, Action.deadline, Action.version).where(Action.id == action_id).first()
    return row["status"], row["deadline"], row["version"]


class Export:
    """An exported roadmap as a spreadsheet user edits it: cells found by the action's number and the header."""

    def __init__(self, fmt: str, content: bytes) -> None:
        self.fmt = fmt
        if fmt == "xlsx":
            self.book = openpyxl.load_workbook(io.BytesIO(content))
            self.rows = [list(r) for r in self.book.active.iter_rows(values_only=True)]
        else:
            self.rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        self.headers = self.rows[0]

    def set(self, number: int, header: str, value) -> None:
        column = self.headers.index(header)
        line = next(i for i, r in enumerate(self.rows) if i and str(r[self.headers.index("N°")]) == str(number))
        if self.fmt == "xlsx":
            self.book.active.cell(row=line + 1, column=column + 1).value = value  # cell(value=None) would keep it
        else:
            self.rows[line][column] = value.strftime("%d/%m/%Y") if isinstance(value, date) else value

    def add(self, **cells) -> None:
        values = [cells.get(h) for h in self.headers]
        if self.fmt == "xlsx":
            self.book.active.append(values)
        else:
            self.rows.append(["" if v is None else v for v in values])

    def content(self) -> bytes:
        if self.fmt == "xlsx":
            return save(self.book)
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(self.rows)
        return buffer.getvalue().encode("utf-8-sig")


async def exported(client, world, fmt: str = "xlsx") -> Export:
    response = await client.get(f"/feuilles-de-route/{world.ga_roadmap}/export.{fmt}")
    assert response.status_code == 200
    return Export(fmt, response.content)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_an_edited_export_comes_back_as_exactly_its_changes(make_client, world, fmt):
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    sheet = await exported(editor, world, fmt)
    new_deadline = date.today() + timedelta(days=400)
    sheet.set(world.upcoming, "Statut", "En cours")
    sheet.set(world.overdue, "Statut", "Bloquée")
    sheet.set(world.overdue, "Commentaire", "Le prestataire des repas a fait défaut.")
    sheet.set(world.done, "Échéance", new_deadline)
    before = {a: await state(a) for a in (world.upcoming, world.overdue, world.done, world.secret)}
    entries_before = await HistoryEntry.count()

    preview = await upload_and_preview(editor, world.ga_roadmap, f"export modifié.{fmt}", sheet.content())
    text = page(preview)
    assert "3 actions à mettre à jour" in text and "0 conflit" in text and "1 ligne sans changement" in text
    assert "Statut\u00a0: À venir → En cours" in text
    assert "Statut\u00a0: En cours → Bloquée («\u00a0Le prestataire des repas a fait défaut.\u00a0»)" in text
    assert await HistoryEntry.count() == entries_before, "l’aperçu n’écrit rien"

    assert (await confirm(editor, preview)).status_code == 303
    assert await state(world.upcoming) == ("en_cours", before[world.upcoming][1], 2)
    assert await state(world.overdue) == ("bloquee", before[world.overdue][1], 2)
    assert await state(world.done) == ("realisee", new_deadline, 2)
    assert await state(world.secret) == before[world.secret]
    # Exactly one history entry per change, through the same function as the web form.
    assert await HistoryEntry.count() == entries_before + 3
    assert [(h["from_value"], h["to_value"], h["comment"]) for h in await history_of("action", world.upcoming)] == [
        ("a_venir", "en_cours", "")]
    assert [(h["from_value"], h["to_value"], h["comment"]) for h in await history_of("action", world.overdue)] == [
        ("en_cours", "bloquee", "Le prestataire des repas a fait défaut.")]
    (deadline_entry,) = await history_of("action", world.done)
    assert (deadline_entry["from_value"], deadline_entry["to_value"]) == ("realisee", "realisee")
    assert deadline_entry["comment"] == (
        f"Échéance : {date_fr(before[world.done][1])} → {date_fr(new_deadline)} (import)")
    assert await Action.count() == 5 and await ActionNote.count() == 0
    kept = await RoadmapImport.select().first()
    assert (kept["updated_actions"], kept["created_actions"], kept["conflicts"]) == (3, 0, 0)


async def test_a_line_whose_action_changed_in_the_app_since_the_export_is_a_conflict(make_client, world):
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    sheet = await exported(editor, world)
    sheet.set(world.upcoming, "Statut", "Réalisée")
    sheet.set(world.overdue, "Statut", "Réalisée")
    # Meanwhile, someone moves « upcoming » on in the app.
    changed = await editor.post(f"/actions/{world.upcoming}/statut", {"status": "en_cours", "version": "1"})
    assert changed.status_code == 303

    preview = await upload_and_preview(editor, world.ga_roadmap, "export.xlsx", sheet.content())
    text = page(preview)
    assert "1 action à mettre à jour" in text and "1 conflit" in text
    assert "Conflit\u00a0: l’action a été modifiée dans l’application depuis l’export" in text
    assert (await confirm(editor, preview)).status_code == 303
    assert (await state(world.upcoming))[0] == "en_cours", "la ligne en conflit n’est pas appliquée"
    assert (await state(world.overdue))[0] == "realisee"
    assert len(await history_of("action", world.upcoming)) == 1
    assert len(await history_of("action", world.overdue)) == 1
    assert (await RoadmapImport.select(RoadmapImport.conflicts).first())["conflicts"] == 1


async def test_the_commit_reads_the_database_again_and_does_not_trust_the_preview(make_client, world):
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    sheet = await exported(editor, world)
    sheet.set(world.upcoming, "Statut", "En cours")
    preview = await upload_and_preview(editor, world.ga_roadmap, "export.xlsx", sheet.content())
    assert "1 action à mettre à jour" in page(preview)
    # Between the preview and the click, the action changes in the app.
    other = await make_client()
    await other.login(EMAILS["ga_referent"])
    assert (await other.post(f"/actions/{world.upcoming}/statut", {"status": "en_pause", "version": "1",
                                                                    "comment": "En attente du budget"})).status_code == 303
    assert (await confirm(editor, preview)).status_code == 303
    status, _, version = await state(world.upcoming)
    assert (status, version) == ("en_pause", 2), "le changement fait dans l’application reste"
    assert (await RoadmapImport.select(RoadmapImport.conflicts).first())["conflicts"] == 1


async def test_the_action_comment_rules_apply_to_an_imported_status_change(make_client, world):
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    sheet = await exported(editor, world)
    sheet.set(world.overdue, "Statut", "En pause")  # needs a comment
    sheet.set(world.done, "Statut", "En cours")  # reopening needs one too
    sheet.set(world.upcoming, "Statut", "En cours")  # a valid line: blocked with the others
    line = 1 + next(i for i, r in enumerate(sheet.rows) if i and r[sheet.headers.index("N°")] == world.overdue)
    before = await HistoryEntry.count()
    response = await upload(editor, world.ga_roadmap, "export.xlsx", sheet.content())
    assert response.status_code == 422
    text = page(response)
    assert (f"Ligne {line}, colonne Commentaire\u00a0: Un commentaire est obligatoire pour passer une action au "
            "statut «\u00a0En pause\u00a0»") in text
    assert "Un commentaire est obligatoire pour rouvrir une action «\u00a0réalisée\u00a0»" in text
    assert await HistoryEntry.count() == before
    assert [(await state(a))[0] for a in (world.upcoming, world.overdue, world.done)] == [
        "a_venir", "en_cours", "realisee"]


async def test_an_export_also_brings_back_notes_and_new_lines_but_not_other_roadmaps_actions(make_client, world):
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    sheet = await exported(editor, world)
    sheet.set(world.upcoming, "Commentaire", "Point fait en CODIR : le local est trouvé.")
    sheet.add(Action="Nouvelle action ajoutée en CODIR", Statut="À venir")
    preview = await upload_and_preview(editor, world.ga_roadmap, "export.xlsx", sheet.content())
    assert "1 action à créer" in page(preview) and "Note de suivi" in page(preview)
    assert (await confirm(editor, preview)).status_code == 303
    note = await ActionNote.select().where(ActionNote.action == world.upcoming).first()
    assert note["body"] == "Point fait en CODIR : le local est trouvé."
    status, _, version = await state(world.upcoming)
    assert (status, version) == ("a_venir", 1), "une note ne change ni le statut ni la version"
    assert await Action.exists().where(Action.title == "Nouvelle action ajoutée en CODIR")

    sheet = await exported(editor, world)
    sheet.add(**{"N°": world.vr_action, "Version": 1, "Action": "Tableau de bord des satellites", "Statut": "Réalisée"})
    sheet.set(world.overdue, "N°", None)  # a line that lost its number would create a copy of its action
    before = await HistoryEntry.count()
    response = await upload(editor, world.ga_roadmap, "export.xlsx", sheet.content())
    assert response.status_code == 422
    assert f"l’action n° {world.vr_action} n’existe pas dans cette feuille de route." in page(response)
    assert "colonne N°\u00a0: le numéro de l’action manque alors que sa version est donnée" in page(response)
    assert await HistoryEntry.count() == before and (await state(world.vr_action))[0] == "a_venir"
