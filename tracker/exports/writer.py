"""One small API for every list that offers a download: French headers, rows, a kind per column → an XLSX or CSV
file streamed to the browser.

    from tracker.exports import Column, export_response

    columns = [Column("Territoire"), Column("Échéance", "date"), Column("Montant", "money")]
    return await export_response("xlsx", "Engagements – 27-11-2026", columns, rows, sheet="Engagements")

`rows` is a list, any iterable or an async iterable (e.g. an async generator reading the database page by page);
each row is a sequence in the order of `columns`, or a mapping read with each column's `key`.
Memory stays flat whatever the number of rows: rows are consumed in batches; the XLSX is built by openpyxl in
write-only mode into an anonymous temporary file (in a worker thread, so the event loop keeps serving), then
streamed; the CSV is streamed as it is written.

Every text cell is neutralised against formula injection (OWASP « CSV injection »): text whose first character,
after any leading spaces, is = + - @ tab or carriage return gets a leading apostrophe in CSV (which has no types);
in XLSX it is written as typed, as a text cell with the quote-prefix style, so that spreadsheets neither evaluate it
nor show a guard character. Numbers and dates stay numbers and dates. Characters XML forbids are dropped, so any text the database holds exports without error.
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import anyio.to_thread
from litestar.response import Stream
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tracker.core.french import PARIS

PARIS_ZONE = ZoneInfo(PARIS)
KINDS = ("text", "date", "datetime", "integer", "money", "decimal")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" to every text/* type itself (once)
FORMATS = ("xlsx", "csv")

# First characters a spreadsheet may read as the start of a formula (OWASP CSV injection).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
EXCEL_CELL_MAX = 32_767  # characters a cell may hold
BATCH_ROWS = 500
CHUNK_BYTES = 64 * 1024

XLSX_FORMATS = {
    "date": "DD/MM/YYYY",
    "datetime": "DD/MM/YYYY HH:MM",
    "integer": "0",
    "money": '#,##0.00\\ "€"',
    "decimal": "General",
}
DEFAULT_WIDTHS = {"text": 30, "date": 12, "datetime": 17, "integer": 10, "money": 14, "decimal": 12}


@dataclass(frozen=True)
class Column:
    """A column: its French header, the kind of its values, where to read them in a mapping row (`key`),
    and an optional XLSX width in characters (else one suited to the kind and the header)."""

    header: str
    kind: str = "text"
    key: str | None = None
    width: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"type de colonne inconnu : {self.kind!r} (attendu : {', '.join(KINDS)})")

    @property
    def xlsx_width(self) -> float:
        if self.width:
            return self.width
        return min(60, max(DEFAULT_WIDTHS[self.kind], len(self.header) + 4))


# --- cell values -----------------------------------------------------------------------------------------


class Guarded(str):
    """Text a spreadsheet could read as a formula, with its leading apostrophe (what the CSV writes). `as_typed`
    is the text itself, which the XLSX writes as a text cell with the quote-prefix style. A writer that does not
    know this class still writes the apostrophe: never a formula."""

    __slots__ = ()

    @property
    def as_typed(self) -> str:
        return str.__str__(self)[1:]


def neutralise(text: str) -> str:
    """A leading apostrophe when the text could be read as a formula, also behind leading spaces."""
    for char in text:
        if char in FORMULA_TRIGGERS:
            return Guarded("'" + text)
        if not char.isspace():
            break
    return text


def clean_text(value: Any) -> str:
    """Any value as safe cell text: booleans as Oui/Non, characters XML forbids dropped, neutralised, cut to what
    a cell may hold."""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    text = neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    return text if len(text) <= EXCEL_CELL_MAX else type(text)(text[:EXCEL_CELL_MAX])


def _paris(value: datetime) -> datetime:
    """Europe/Paris wall-clock time without time zone (spreadsheets have none); naive values are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(PARIS_ZONE).replace(tzinfo=None, second=0, microsecond=0)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return _paris(value).date()
    return value if isinstance(value, date) else None


def _number(value: Any) -> int | float | Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return value


def typed_value(column: Column, value: Any) -> Any:
    """The value as the column's kind: date, naive Paris datetime, number; else safe text (None stays None).
    A value that does not fit its column's kind is exported as text, never as a formula."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if column.kind == "date":
        found = _as_date(value)
        if found is not None:
            return found
    elif column.kind == "datetime":
        if isinstance(value, datetime):
            return _paris(value)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
    elif column.kind == "integer":
        number = _number(value)
        if number is not None:
            return int(number)
    elif column.kind in ("money", "decimal"):
        number = _number(value)
        if number is not None:
            return number
    return clean_text(value)


def csv_text(column: Column, value: Any) -> str:
    """A cell as French spreadsheets read it: JJ/MM/AAAA, JJ/MM/AAAA HH:MM, decimal comma, no thousands separator."""
    typed = typed_value(column, value)
    if typed is None:
        return ""
    if isinstance(typed, str):
        return typed
    if isinstance(typed, datetime):
        return typed.strftime("%d/%m/%Y %H:%M")
    if isinstance(typed, date):
        return typed.strftime("%d/%m/%Y")
    if column.kind == "money":
        return f"{Decimal(str(typed)):.2f}".replace(".", ",")
    if isinstance(typed, float) and typed.is_integer():
        typed = int(typed)
    return str(typed).replace(".", ",")


def _values(columns: Sequence[Column], row: Any) -> list[Any]:
    if isinstance(row, Mapping):
        return [row.get(column.key or column.header) for column in columns]
    values = list(row)
    if len(values) != len(columns):
        raise ValueError(f"ligne de {len(values)} valeurs pour {len(columns)} colonnes")
    return values


async def _batches(rows: Iterable[Any] | AsyncIterable[Any], size: int = BATCH_ROWS) -> AsyncIterator[list[Any]]:
    batch: list[Any] = []
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
    else:
        for row in rows:
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


# --- CSV -------------------------------------------------------------------------------------------------


def _csv_lines(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


async def csv_chunks(columns: Sequence[Column], rows: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[bytes]:
    """UTF-8 with BOM (so Excel reads the accents), « ; » between cells, CRLF, one chunk per batch of rows
    (formatted in a worker thread, so that a large export does not hold the event loop)."""
    yield "\ufeff".encode() + _csv_lines([[clean_text(c.header) for c in columns]])
    async for batch in _batches(rows):
        yield await anyio.to_thread.run_sync(_csv_batch, columns, batch)


def _csv_batch(columns: Sequence[Column], batch: list[Any]) -> bytes:
    return _csv_lines([csv_text(c, v) for c, v in zip(columns, _values(columns, row))] for row in batch)


# --- XLSX ------------------------------------------------------------------------------------------------


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", ILLEGAL_CHARACTERS_RE.sub("", title)).strip(" '")
    return cleaned[:31] or "Export"


class XlsxBuilder:
    """openpyxl in write-only mode: rows go to a temporary file as they are appended, so memory stays flat."""

    def __init__(self, columns: Sequence[Column], sheet: str) -> None:
        self.columns = list(columns)
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(_sheet_title(sheet))
        for index, column in enumerate(self.columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.xlsx_width
        self.sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in self.columns:
            cell = WriteOnlyCell(self.sheet, value=clean_text(column.header))
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)
        self.rows = 1

    def _cell(self, column: Column, value: Any) -> Any:
        typed = typed_value(column, value)
        if typed is None:
            return None
        if isinstance(typed, Guarded) or typed in ERROR_CODES:
            # The text as typed, never a formula nor an error value: a text cell with the quote-prefix style, as a
            # spreadsheet stores what a person typed after an apostrophe (and shows it without the apostrophe).
            cell = WriteOnlyCell(self.sheet, value=typed.as_typed if isinstance(typed, Guarded) else str(typed))
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
        if isinstance(typed, str):
            # Not Guarded, so it cannot start with "=": openpyxl keeps it as text.
            return typed
        cell = WriteOnlyCell(self.sheet, value=typed)
        cell.number_format = XLSX_FORMATS[column.kind]
        return cell

    def append(self, batch: list[Any]) -> None:
        for row in batch:
            self.sheet.append([self._cell(c, v) for c, v in zip(self.columns, _values(self.columns, row))])
        self.rows += len(batch)

    def save(self, target: Any) -> None:
        last = get_column_letter(len(self.columns))
        self.sheet.auto_filter.ref = f"A1:{last}{self.rows}"
        self.book.save(target)


async def build_xlsx(
    columns: Sequence[Column], rows: Iterable[Any] | AsyncIterable[Any], sheet: str = "Export"
) -> tempfile.SpooledTemporaryFile:
    """The workbook, fully written (so an error is still a proper error page), in a temporary file kept in memory
    up to 1 MB and on disk beyond, positioned at its start. The CPU-bound work runs in a worker thread."""
    builder = await anyio.to_thread.run_sync(XlsxBuilder, columns, sheet)
    async for batch in _batches(rows):
        await anyio.to_thread.run_sync(builder.append, batch)
    target = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    try:
        await anyio.to_thread.run_sync(builder.save, target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target


async def _file_chunks(handle: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


# --- the response ----------------------------------------------------------------------------------------


def content_disposition(filename: str) -> str:
    """attachment; an ASCII fallback name, and the French name itself (RFC 6266 / RFC 5987)."""
    name = " ".join(ILLEGAL_CHARACTERS_RE.sub("", filename).replace("/", "-").replace("\\", "-").split())[:150]
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.") or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def export_response(
    fmt: str,
    filename: str,
    columns: Sequence[Column],
    rows: Iterable[Any] | AsyncIterable[Any],
    *,
    sheet: str = "Export",
) -> Stream:
    """A streamed download. `fmt`: "xlsx" or "csv"; `filename` without extension (French, accents welcome)."""
    if fmt not in FORMATS:
        raise ValueError(f"format d’export inconnu : {fmt!r}")
    headers = {
        "Content-Disposition": content_disposition(f"{filename}.{fmt}"),
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        return Stream(csv_chunks(columns, rows), media_type=CSV_MEDIA_TYPE, headers=headers)
    handle = await build_xlsx(columns, rows, sheet)
    size = handle.seek(0, io.SEEK_END)
    handle.seek(0)
    headers["Content-Length"] = str(size)
    return Stream(_file_chunks(handle), media_type=XLSX_MEDIA_TYPE, headers=headers)
