"""The spreadsheet to fill in at the end of a workshop: a sheet « Actions » with the columns (and lists to choose
the module, status, priority and confidentiality from), and a sheet « Mode d’emploi » that explains each column
with an example. The CSV template is the header line alone (the same columns)."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tracker.exports import Column
from tracker.imports.columns import TEMPLATE_COLUMNS
from tracker.imports.files import MAX_ROWS
from tracker.roadmaps.statuses import PRIORITY_LABELS, STATUS_LABELS

TEMPLATE_NAME = "Modèle d’import de feuille de route"
CSV_COLUMNS = [Column(c.header) for c in TEMPLATE_COLUMNS]
LISTS = {
    "module": ["1", "2", "3", "4"],
    "status": list(STATUS_LABELS.values()),
    "priority": list(PRIORITY_LABELS.values()),
    "confidential": ["Oui", "Non"],
}


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Actions"
    bold = Font(bold=True)
    for index, column in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.key in LISTS:
            choices = DataValidation(type="list", formula1='"' + ",".join(LISTS[column.key]) + '"', allow_blank=True,
                                     showErrorMessage=True, errorTitle="Valeur inconnue",
                                     error="Choisissez dans la liste.")
            sheet.add_data_validation(choices)
            choices.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
    sheet.freeze_panes = "A2"

    guide = book.create_sheet("Mode d’emploi")
    for index, (header, width) in enumerate((("Colonne", 24), ("Ce qu’elle contient", 80), ("Exemple", 40)), 1):
        guide.cell(row=1, column=index, value=header).font = bold
        guide.column_dimensions[get_column_letter(index)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, column in enumerate(TEMPLATE_COLUMNS, start=2):
        for index, value in enumerate((column.header, column.explanation, column.example), start=1):
            guide.cell(row=row, column=index, value=value).alignment = wrap
    last = len(TEMPLATE_COLUMNS) + 3
    guide.cell(row=last, column=1, value="Limites").font = bold
    guide.cell(row=last, column=2, value=(
        f"Une ligne par action, {MAX_ROWS} lignes et 5 Mo au plus. Classeur Excel (.xlsx) ou fichier CSV "
        "(séparateur point-virgule ou virgule, UTF-8 ou Windows-1252). Rien n’est écrit avant l’aperçu : "
        "chaque ligne y est contrôlée, et le moindre problème bloque tout l’import.")).alignment = wrap
    guide.freeze_panes = "A2"

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
