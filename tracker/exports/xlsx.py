"""An XLSX workbook of one sheet, written as a stream: the zip leaves in pieces as the rows are written, so the
first byte goes out at once and memory stays flat whatever the number of rows.

Why the sheet's XML is written here rather than by openpyxl: openpyxl's write-only mode builds the whole workbook
into a file and writes the zip at `save()`, so nothing can leave before the last row, and its per-cell objects cost
~0.3 ms a row (the national export: 39,000 rows, 14 s). No well-kept Python library streams XLSX (stream-zip,
well kept, streams only the zip; the XLSX streamers on PyPI are unmaintained one-offs). So:

- the zip is the standard library's `zipfile` writing to a sink that cannot seek: it then writes each entry's
  sizes in a data descriptor after its data (what every spreadsheet and openpyxl read), and `take()` hands over what
  has been written so far;
- the parts are the smallest a spreadsheet accepts (content types, relationships, styles, workbook, one sheet),
  with the sheet's XML produced row by row (`sheet_rows`): inline strings (no shared-string table to hold in memory),
  dates and numbers as numbers with their number formats, `r` references on every cell.

What the file holds, as openpyxl read it in the tests: typed cells (dates and date-times as serial numbers with
DD/MM/YYYY and DD/MM/YYYY HH:MM formats, integers, amounts in euros), text that could be read as a formula (or an
error value) written as typed with the quote-prefix style, a bold header, the first row frozen, column widths, an
auto-filter over every row (and its hidden defined name, as spreadsheets write it), the sheet's title.

Standard library only, so that a worker process can render rows without importing the web framework.
"""
from __future__ import annotations

import re
import time
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from tracker.exports.cells import (
    ERROR_CODES,
    ILLEGAL_CHARACTERS_RE,
    Column,
    Guarded,
    Spec,
    clean_text,
    row_values,
    typed_value,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_PART = "xl/worksheets/sheet1.xml"
COMPRESS_LEVEL = 6

# Number formats by kind. 164 and above are a workbook's own formats; 0 (General) and 1 ("0") are built in.
XLSX_FORMATS = {
    "date": "DD/MM/YYYY",
    "datetime": "DD/MM/YYYY HH:MM",
    "integer": "0",
    "money": '#,##0.00\\ "€"',
    "decimal": "General",
}
# Cell styles (index in cellXfs below) by what a cell is.
STYLE_TEXT, STYLE_HEADER, STYLE_DATE, STYLE_DATETIME, STYLE_INTEGER, STYLE_MONEY, STYLE_QUOTED, STYLE_HEADER_QUOTED = range(8)
NUMBER_STYLES = {"date": STYLE_DATE, "datetime": STYLE_DATETIME, "integer": STYLE_INTEGER, "money": STYLE_MONEY,
                 "decimal": STYLE_TEXT}

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = (
    XML_DECLARATION
    + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    XML_DECLARATION + f'<Relationships xmlns="{PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    XML_DECLARATION + f'<Relationships xmlns="{PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>'
)
_XF = '<xf numFmtId="{fmt}" fontId="{font}" fillId="0" borderId="0" xfId="0"{extra}/>'
STYLES = (
    XML_DECLARATION + f'<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="DD/MM/YYYY"/>'
    '<numFmt numFmtId="165" formatCode="DD/MM/YYYY HH:MM"/>'
    '<numFmt numFmtId="166" formatCode="#,##0.00\\ &quot;€&quot;"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="8">'
    + _XF.format(fmt=0, font=0, extra="")  # STYLE_TEXT
    + _XF.format(fmt=0, font=1, extra=' applyFont="1"')  # STYLE_HEADER
    + _XF.format(fmt=164, font=0, extra=' applyNumberFormat="1"')  # STYLE_DATE
    + _XF.format(fmt=165, font=0, extra=' applyNumberFormat="1"')  # STYLE_DATETIME
    + _XF.format(fmt=1, font=0, extra=' applyNumberFormat="1"')  # STYLE_INTEGER
    + _XF.format(fmt=166, font=0, extra=' applyNumberFormat="1"')  # STYLE_MONEY
    + _XF.format(fmt=0, font=0, extra=' quotePrefix="1"')  # STYLE_QUOTED
    + _XF.format(fmt=0, font=1, extra=' applyFont="1" quotePrefix="1"')  # STYLE_HEADER_QUOTED
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

EXCEL_EPOCH = date(1899, 12, 30)  # serial 0 of the 1900 date system, as counted from 1 March 1900 on
FIRST_SERIAL_DATE = date(1900, 3, 1)  # before it, serials and the calendar disagree (Lotus's 29 February 1900)


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_title(title: str) -> str:
    """What a sheet may be called: at most 31 characters, none of [ ] : * ? / \\, not starting or ending with '."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", ILLEGAL_CHARACTERS_RE.sub("", title)).strip(" '")
    return cleaned[:31] or "Export"


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A carriage return would be read back as a line feed (XML end-of-line handling): written as a reference.
    return text.replace("\r", "&#13;") if "\r" in text else text


def _attribute(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


def _text_cell(ref: str, text: str, style: int) -> str:
    """Inline text; `xml:space="preserve"` so that leading and trailing spaces stay."""
    shown = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{shown}><is><t xml:space="preserve">{_escape(text)}</t></is></c>'


def _serial(value: date) -> int | float | None:
    """A date or a naive date-time as a serial number of the 1900 date system (None before 1 March 1900)."""
    day = value.date() if isinstance(value, datetime) else value
    if day < FIRST_SERIAL_DATE:
        return None
    days = (day - EXCEL_EPOCH).days
    if not isinstance(value, datetime):
        return days
    return days + (value.hour * 3600 + value.minute * 60 + value.second) / 86400


def _cell(ref: str, kind: str, value: Any) -> str:
    typed = typed_value(kind, value)
    if typed is None:
        return ""
    if isinstance(typed, str):
        if isinstance(typed, Guarded):
            # The text as typed, never a formula: a text cell with the quote-prefix style, as a spreadsheet stores
            # what a person typed after an apostrophe (and shows it without the apostrophe).
            return _text_cell(ref, typed.as_typed, STYLE_QUOTED)
        # An error value's name (« #N/A ») is text too, and kept as typed the same way.
        return _text_cell(ref, typed, STYLE_QUOTED if typed in ERROR_CODES else STYLE_TEXT)
    if isinstance(typed, date):
        serial = _serial(typed)
        if serial is None:  # a spreadsheet cannot show it as a date: the text, JJ/MM/AAAA
            return _text_cell(ref, typed.strftime("%d/%m/%Y %H:%M" if kind == "datetime" else "%d/%m/%Y"), STYLE_TEXT)
        return f'<c r="{ref}" s="{NUMBER_STYLES[kind]}"><v>{serial!r}</v></c>'
    style = NUMBER_STYLES.get(kind, STYLE_TEXT)
    shown = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{shown}><v>{typed}</v></c>'


def sheet_rows(spec: Spec, batch: list[Any], first_row: int) -> bytes:
    """The <row> elements of a batch of rows, numbered from `first_row` (the header is row 1), as UTF-8."""
    kinds = [kind for kind, _ in spec]
    letters = [column_letter(i) for i in range(1, len(spec) + 1)]
    parts = []
    for number, row in enumerate(batch, start=first_row):
        cells = "".join(
            _cell(f"{letter}{number}", kind, value)
            for letter, kind, value in zip(letters, kinds, row_values(spec, row))
        )
        parts.append(f'<row r="{number}">{cells}</row>')
    # Text the database holds may still carry a lone surrogate, which UTF-8 cannot encode: it becomes « ? ».
    return "".join(parts).encode("utf-8", "replace")


def _header_row(columns: Sequence[Column]) -> str:
    cells = []
    for index, column in enumerate(columns, start=1):
        text = clean_text(column.header)
        quoted = isinstance(text, Guarded)
        cells.append(_text_cell(f"{column_letter(index)}1", text.as_typed if quoted else text,
                                STYLE_HEADER_QUOTED if quoted else STYLE_HEADER))
    return f'<row r="1">{"".join(cells)}</row>'


def _sheet_head(columns: Sequence[Column]) -> str:
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{column.xlsx_width:g}" customWidth="1"/>'
        for i, column in enumerate(columns, start=1)
    )
    return (
        XML_DECLARATION + f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{widths}</cols><sheetData>" + _header_row(columns)
    )


def _workbook(title: str, filter_ref: str) -> str:
    sheet = _attribute(title)
    absolute = re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", filter_ref)  # A1:O40 → $A$1:$O$40
    quoted = "'" + title.replace("'", "''") + "'"
    return (
        XML_DECLARATION + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<bookViews><workbookView/></bookViews>'
        f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{_escape(quoted)}!{absolute}</definedName></definedNames>"
        "</workbook>"
    )


class _Sink:
    """Where the zip is written: it cannot seek (so `zipfile` writes data descriptors); `take()` empties it."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class StreamedWorkbook:
    """One sheet written as a stream. `start()`, then `add()` for each batch of rendered rows (`sheet_rows`), then
    `finish()`: each returns the bytes of the file written since the last call (possibly none, zlib keeps some).
    Not thread-safe: one call at a time (a worker thread may make it, never two at once)."""

    def __init__(self, columns: Sequence[Column], title: str) -> None:
        self.columns = list(columns)
        self.title = sheet_title(title)
        self.rows = 1  # the header
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self._sheet: Any = None

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def start(self) -> bytes:
        for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", PACKAGE_RELS),
                           ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS), ("xl/styles.xml", STYLES)):
            self._zip.writestr(self._info(name), text.encode("utf-8"), compresslevel=COMPRESS_LEVEL)
        self._sheet = self._zip.open(self._info(SHEET_PART), "w")
        self._sheet.write(_sheet_head(self.columns).encode("utf-8"))
        return self._sink.take()

    def add(self, rendered: bytes, count: int) -> bytes:
        self._sheet.write(rendered)
        self.rows += count
        return self._sink.take()

    def finish(self) -> bytes:
        """The end of the sheet (its auto-filter over every row written), the workbook part (written last: its
        filter's defined name needs the row count; a zip's entries may come in any order), the zip's directory."""
        ref = f"A1:{column_letter(len(self.columns))}{self.rows}"
        self._sheet.write(f'</sheetData><autoFilter ref="{ref}"/></worksheet>'.encode())
        self._sheet.close()
        self._zip.writestr(self._info("xl/workbook.xml"), _workbook(self.title, ref).encode("utf-8"),
                           compresslevel=COMPRESS_LEVEL)
        self._zip.close()
        return self._sink.take()

    def abandon(self) -> None:
        """After an error or a client gone: close what is open, and throw away what it writes."""
        if self._sheet is not None and not self._sheet.closed:
            self._sheet.close()
        self._zip.close()
        self._sink.take()
