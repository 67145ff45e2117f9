"""What a cell holds, whatever the file: the columns, values typed by their column's kind, text made safe against
formula injection and against characters XML forbids, and a batch of rows as CSV lines.

Standard library only (and the clock's time zone): a worker process that writes a large export imports this module
and `tracker.exports.xlsx`, never the web framework (see `tracker.exports.writer`).

Every text cell is neutralised against formula injection (OWASP « CSV injection »): text whose first character,
after any leading spaces, is = + - @ tab or carriage return gets a leading apostrophe in CSV (which has no types);
in XLSX it is written as typed, as a text cell with the quote-prefix style, so that spreadsheets neither evaluate it
nor show a guard character. Numbers and dates stay numbers and dates. Characters XML forbids are dropped, so any
text the database holds exports without error.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from tracker.core.clock import PARIS

KINDS = ("text", "date", "datetime", "integer", "money", "decimal")

# First characters a spreadsheet may read as the start of a formula (OWASP CSV injection).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
EXCEL_CELL_MAX = 32_767  # characters a cell may hold
# The control characters XML 1.0 forbids (the same expression as openpyxl's ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
# Error values a spreadsheet would take « #N/A » typed in a cell for (openpyxl's ERROR_CODES).
ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))
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
    return value.astimezone(PARIS).replace(tzinfo=None, second=0, microsecond=0)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return _paris(value).date()
    return value if isinstance(value, date) else None


def _number(value: Any) -> int | float | Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return value


def typed_value(column: Column | str, value: Any) -> Any:
    """The value as the column's kind (a Column or the kind itself): date, naive Paris datetime, number; else
    safe text (None stays None). A value that does not fit its column's kind is exported as text, never as a
    formula."""
    kind = column if isinstance(column, str) else column.kind
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if kind == "date":
        found = _as_date(value)
        if found is not None:
            return found
    elif kind == "datetime":
        if isinstance(value, datetime):
            return _paris(value)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
    elif kind == "integer":
        number = _number(value)
        if number is not None:
            return int(number)
    elif kind in ("money", "decimal"):
        number = _number(value)
        if number is not None:
            return number
    return clean_text(value)


def csv_text(column: Column | str, value: Any) -> str:
    """A cell as French spreadsheets read it: JJ/MM/AAAA, JJ/MM/AAAA HH:MM, decimal comma, no thousands separator."""
    kind = column if isinstance(column, str) else column.kind
    typed = typed_value(kind, value)
    if typed is None:
        return ""
    if isinstance(typed, str):
        return typed
    if isinstance(typed, datetime):
        return typed.strftime("%d/%m/%Y %H:%M")
    if isinstance(typed, date):
        return typed.strftime("%d/%m/%Y")
    if kind == "money":
        return f"{Decimal(str(typed)):.2f}".replace(".", ",")
    if isinstance(typed, float) and typed.is_integer():
        typed = int(typed)
    return str(typed).replace(".", ",")


# --- rows ------------------------------------------------------------------------------------------------

# What a worker needs of the columns, as plain tuples (kind, key): cheap to send to another process.
Spec = tuple[tuple[str, str], ...]


def spec_of(columns: Sequence[Column]) -> Spec:
    return tuple((column.kind, column.key or column.header) for column in columns)


def row_values(spec: Spec, row: Any) -> list[Any]:
    """A row's values in the columns' order: a sequence as it is (of the right length), a mapping read by key."""
    if isinstance(row, Mapping):
        return [row.get(key) for _, key in spec]
    values = list(row)
    if len(values) != len(spec):
        raise ValueError(f"ligne de {len(values)} valeurs pour {len(spec)} colonnes")
    return values


def csv_lines(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def csv_batch(spec: Spec, batch: list[Any], first_row: int = 0) -> bytes:
    """A batch of rows as CSV lines (UTF-8). `first_row` is unused: the same signature as `xlsx.sheet_rows`."""
    kinds = [kind for kind, _ in spec]
    return csv_lines([csv_text(k, v) for k, v in zip(kinds, row_values(spec, row))] for row in batch)
