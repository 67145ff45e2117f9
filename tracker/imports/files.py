"""Reading an uploaded spreadsheet into rows of cell values, refusing what could hurt the server.

XLSX: the zip is checked with `zipfile` before openpyxl opens anything — number of members and their declared
unpacked sizes (zipfile never unpacks beyond a member's declared size: a lying zip bomb fails its CRC instead), and
the area of merged cells — then openpyxl reads it in read-only mode (streamed, flat memory) with `data_only`, so
a formula is read as the value the spreadsheet saved and never evaluated. defusedxml being installed, openpyxl
parses every XML part with it and refuses entities and DTDs. Hidden sheets are ignored; a merged cell's value is
given to every cell of its range.

CSV: UTF-8 with or without BOM, else Windows-1252; `;`, `,` or tab between cells, found on the header line.

Pure functions, no database: the service runs them in a worker thread."""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from openpyxl.utils.cell import range_boundaries

from tracker.core.errors import InvalidInput
from tracker.core.french import number_fr
from tracker.imports.columns import HEADERS, header_key

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000  # lines of actions, the header not counted
MAX_MEMBERS = 200  # a workbook holds a few dozen parts
MAX_UNPACKED_BYTES = 40 * 1024 * 1024  # all members together, as declared in the zip
MAX_MERGED_CELLS = 200_000
MAX_COLUMNS = 60  # columns read; the template has 15
HEADER_SEARCH_ROWS = 10  # the header may sit under a title line or two
CELL_MAX = 32_767

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, or a workbook protected by a password
XML_NAMESPACE = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class FileRefused(InvalidInput):
    """The file cannot be read at all: nothing of it is shown nor kept."""


class FileTooLarge(FileRefused):
    status_code = 413
    title = "Fichier trop volumineux"


@dataclass
class RawSheet:
    """What the file holds: its header row mapped to column keys, and each non-empty line under it."""

    kind: str  # xlsx | csv
    header_row: int
    columns: dict[int, str]  # position in the row → column key (tracker.imports.columns)
    headers: dict[str, str]  # column key → the header as the file writes it (for the messages)
    rows: list[tuple[int, list[Any]]]  # (line number as the spreadsheet shows it, values)
    ignored_headers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def megabytes(size: int) -> str:
    value = round(size / 1024 / 1024, 1)
    return f"{number_fr(int(value) if value.is_integer() else value)} Mo"


def read_file(content: bytes, file_name: str) -> RawSheet:
    """The rows of an uploaded file, or FileRefused with the French reason."""
    if len(content) > MAX_FILE_BYTES:
        raise FileTooLarge(f"Le fichier pèse {megabytes(len(content))} : 5 Mo au plus.")
    if not content.strip():
        raise FileRefused("Le fichier est vide.")
    if content.startswith(ZIP_MAGIC):
        return _read_xlsx(content)
    if content.startswith(OLE_MAGIC):
        raise FileRefused(
            "Ce fichier est au format Excel 97-2003 (.xls) ou protégé par un mot de passe : enregistrez-le au "
            "format .xlsx (ou .csv), sans mot de passe, puis déposez-le à nouveau."
        )
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        raise FileRefused("Ce fichier porte l’extension .xlsx mais n’est pas un classeur Excel lisible.")
    return _read_csv(content)


# --- XLSX ----------------------------------------------------------------------------------------------------


def _check_zip(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise FileRefused(
            f"Le classeur contient {len(members)} éléments ({MAX_MEMBERS} au plus) : il est refusé sans être ouvert."
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileRefused(
            f"Le classeur se décompresserait en {megabytes(unpacked)} ({megabytes(MAX_UNPACKED_BYTES)} au plus) : "
            "il est refusé sans être décompressé."
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise FileRefused("Le classeur est chiffré : enregistrez-le sans mot de passe.")


def _merged_ranges(archive: zipfile.ZipFile, part: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges of one worksheet (min_col, min_row, max_col, max_row), read before openpyxl sees them:
    a single range can name millions of cells."""
    ranges = []
    area = 0
    with archive.open(part) as source:
        for _, element in iterparse(source, forbid_dtd=True):
            if element.tag == f"{XML_NAMESPACE}mergeCell":
                bounds = range_boundaries(element.get("ref", ""))
                if None in bounds:
                    continue
                min_col, min_row, max_col, max_row = bounds
                area += (max_col - min_col + 1) * (max_row - min_row + 1)
                if area > MAX_MERGED_CELLS:
                    raise FileRefused("Le classeur fusionne des millions de cellules : il est refusé.")
                ranges.append((min_col, min_row, max_col, max_row))
            element.clear()
    return ranges


def _unreadable(error: BaseException) -> FileRefused:
    """Why openpyxl could not read the workbook: defusedxml refused its XML (openpyxl wraps that error in its own),
    or it is not a workbook."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return FileRefused(
                "Le classeur contient des déclarations XML interdites (entités ou DTD) : il est refusé. "
                "Enregistrez-le à nouveau depuis votre tableur."
            )
        seen = seen.__cause__ or seen.__context__
    return FileRefused("Ce fichier n’est pas un classeur Excel (.xlsx) lisible.")


def _read_xlsx(content: bytes) -> RawSheet:
    if not openpyxl.DEFUSEDXML:  # never parse a workbook's XML without defusedxml
        raise FileRefused("L’import des classeurs Excel est indisponible sur ce serveur : déposez un fichier CSV.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        _check_zip(archive)
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    except FileRefused:
        raise
    except Exception as error:  # noqa: BLE001 - whatever a broken zip or XML raises, the answer is one of two
        raise _unreadable(error) from None
    try:
        hidden = [ws.title for ws in book.worksheets if ws.sheet_state != "visible"]
        for sheet in book.worksheets:
            if sheet.sheet_state != "visible":
                continue
            found = _read_sheet(archive, sheet)
            if found is not None:
                if hidden:
                    found.notes.append("Feuilles masquées, non lues : " + ", ".join(f"« {t} »" for t in hidden) + ".")
                if len(book.worksheets) - len(hidden) > 1:
                    found.notes.append(f"Feuille lue : « {sheet.title} ».")
                return found
    except FileRefused:
        raise
    except Exception as error:  # noqa: BLE001
        raise _unreadable(error) from None
    finally:
        book.close()
    raise FileRefused(
        "Aucune feuille visible du classeur ne contient la ligne d’en-tête attendue : il faut au moins une colonne "
        "« Titre ». Partez du modèle à télécharger sur cette page."
    )


def _read_sheet(archive: zipfile.ZipFile, sheet) -> RawSheet | None:
    rows: list[tuple[int, list[Any]]] = []
    header: tuple[int, dict[int, str], dict[str, str], list[str]] | None = None
    for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
        # openpyxl yields every empty row up to the last used one (a space in A1048576 makes a million): skip
        # them in C before the Python check, or a 6 KB file holds the server for seconds.
        if values.count(None) == len(values) or not any(_present(v) for v in values):
            continue
        if header is None:
            header = _header(list(values))
            if header is None:
                if number >= HEADER_SEARCH_ROWS:
                    return None
                continue
            header = (number, *header)
            continue
        rows.append((number, list(values)))
        if len(rows) > MAX_ROWS:
            raise FileRefused(f"Le fichier compte plus de {number_fr(MAX_ROWS)} lignes d’actions : "
                              "découpez-le en plusieurs fichiers.")
    if header is None:
        return None
    # The sheet's part in the zip: openpyxl's read-only sheets keep it there (openpyxl is pinned; a test covers it).
    _fill_merged(rows, _merged_ranges(archive, sheet._worksheet_path))
    header_row, columns, headers, ignored = header
    return RawSheet(kind="xlsx", header_row=header_row, columns=columns, headers=headers, rows=rows,
                    ignored_headers=ignored)


def _fill_merged(rows: list[tuple[int, list[Any]]], ranges: list[tuple[int, int, int, int]]) -> None:
    """A merged cell's value for every cell of its range (an axis written once beside five actions), in the lines
    that hold something of their own."""
    if not ranges:
        return
    by_number = {number: values for number, values in rows}
    for min_col, min_row, max_col, max_row in ranges:
        top = by_number.get(min_row)
        if top is None or min_col > MAX_COLUMNS:
            continue
        value = top[min_col - 1]
        for number in range(min_row, max_row + 1):
            values = by_number.get(number)
            if values is None:
                continue
            for col in range(min_col, min(max_col, MAX_COLUMNS) + 1):
                if not _present(values[col - 1]):
                    values[col - 1] = value


# --- CSV -----------------------------------------------------------------------------------------------------


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="strict"), "UTF-8"
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        raise FileRefused(
            "L’encodage du fichier CSV n’est pas reconnu : enregistrez-le en « CSV UTF-8 » depuis votre tableur."
        ) from None


def _read_csv(content: bytes) -> RawSheet:
    if b"\x00" in content:
        raise FileRefused("Ce fichier n’est ni un classeur Excel (.xlsx) ni un fichier CSV.")
    try:
        text, encoding = _decode(content)
    except UnicodeDecodeError:
        raise FileRefused("Le fichier CSV contient des caractères illisibles en UTF-8.") from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(";,\t", key=lambda d: len(next(csv.reader([first_line], delimiter=d))))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[Any]]] = []
    header = None
    number = 0
    try:
        for number, values in enumerate(reader, start=1):
            values = values[:MAX_COLUMNS]
            if not any(_present(v) for v in values):
                continue
            if header is None:
                found = _header(values)
                if found is None:
                    if number >= HEADER_SEARCH_ROWS:
                        break
                    continue
                header = (number, *found)
                continue
            rows.append((number, values))
            if len(rows) > MAX_ROWS:
                raise FileRefused(f"Le fichier compte plus de {number_fr(MAX_ROWS)} lignes d’actions : "
                                  "découpez-le en plusieurs fichiers.")
    except csv.Error:
        raise FileRefused(f"Ligne {number + 1} : le fichier CSV est mal formé (un guillemet n’est pas refermé ?).") from None
    if header is None:
        raise FileRefused(
            "La ligne d’en-tête attendue est introuvable : il faut au moins une colonne « Titre ». "
            "Partez du modèle à télécharger sur cette page."
        )
    header_row, columns, headers, ignored = header
    names = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
    return RawSheet(kind="csv", header_row=header_row, columns=columns, headers=headers, rows=rows,
                    ignored_headers=ignored, notes=[f"Fichier CSV lu en {encoding}, séparateur : {names[delimiter]}."])


# --- both ----------------------------------------------------------------------------------------------------


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _header(values: list[Any]) -> tuple[dict[int, str], dict[str, str], list[str]] | None:
    """The columns a header row names, or None when it is not the header (no « Titre »)."""
    columns: dict[int, str] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for position, value in enumerate(values):
        if not _present(value) or isinstance(value, (int, float, date, datetime)):
            if _present(value):
                ignored.append(str(value))
            continue
        text = " ".join(str(value).split())[:80]
        key = HEADERS.get(header_key(text))
        if key is None:
            ignored.append(text)
        elif key in headers:
            raise FileRefused(f"La colonne « {text} » apparaît deux fois dans la ligne d’en-tête.")
        else:
            columns[position] = key
            headers[key] = text
    if "title" not in headers:
        return None
    return columns, headers, ignored
