"""One small API for every list that offers a download: French headers, rows, a kind per column → an XLSX or CSV
file streamed to the browser as it is written.

    from tracker.exports import Column, export_response

    columns = [Column("Territoire"), Column("Échéance", "date"), Column("Montant", "money")]
    return await export_response("xlsx", "Engagements – 27-11-2026", columns, rows, sheet="Engagements")

`rows` is a list, any iterable or an async iterable (e.g. an async generator reading the database page by page);
each row is a sequence in the order of `columns`, or a mapping read with each column's `key`. What a cell holds
(types, formula injection, characters XML forbids) is `tracker.exports.cells`; the XLSX file is
`tracker.exports.xlsx`.

How it streams, and why it does not stall the other pages:

- rows are taken in batches of `BATCH_ROWS`; the first batch is read **before** the response starts, so that an
  error there (a permission, a bad filter, the database) is still a proper error page;
- each batch is rendered (rows → CSV lines or the sheet's XML) away from the event loop. An export that fits in
  one batch is rendered in a worker thread (too short to matter, and no process to start). A longer one is
  rendered in a worker process (`anyio.to_process`: a pool of at most one process per core, kept five minutes
  when idle): rendering is pure Python, which in a thread would hold the serving process's GIL and slow every
  page it serves (measured in the README's « Benchmark »: a light page's p95 during the national export);
- the XLSX zip is compressed in a worker thread (zlib lets go of the GIL while it compresses) and every piece of
  it is sent as soon as it is written: the first bytes leave at once, memory stays flat whatever the row count;
- so a streamed XLSX has no `Content-Length` (chunked transfer), as the CSV never had;
- an error after the first byte (the database gone mid-export) cannot become an error page any more: it is
  logged, and the connection is closed before the end of the file, so the browser reports a failed download
  and no spreadsheet opens a truncated zip (its directory, written last, is missing).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

import anyio.to_process
import anyio.to_thread
from litestar.response import Stream

from tracker.exports.cells import (
    ILLEGAL_CHARACTERS_RE,
    Column,
    Guarded,
    Spec,
    clean_text,
    csv_batch,
    csv_lines,
    csv_text,
    neutralise,
    spec_of,
    typed_value,
)
from tracker.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from tracker.exports.xlsx import StreamedWorkbook, sheet_rows

__all__ = [
    "BATCH_ROWS", "CSV_MEDIA_TYPE", "Column", "FORMATS", "Guarded", "XLSX_MEDIA_TYPE", "clean_text",
    "content_disposition", "csv_chunks", "csv_text", "export_response", "neutralise", "typed_value", "xlsx_chunks",
]

CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" to every text/* type itself (once)
FORMATS = ("xlsx", "csv")
BATCH_ROWS = 500

Renderer = Callable[[Spec, list[Any], int], bytes]


async def _batches(rows: Iterable[Any] | AsyncIterable[Any], size: int) -> AsyncIterator[list[Any]]:
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


class _Batches:
    """The rows in batches, the first one read ahead (`prefetch`), each rendered where it does not hold the event
    loop nor, for a long export, the serving process's GIL."""

    def __init__(self, columns: Sequence[Column], rows: Iterable[Any] | AsyncIterable[Any]) -> None:
        self.spec = spec_of(columns)
        self.size = BATCH_ROWS
        self._rest = _batches(rows, self.size)
        self._first: list[Any] | None = None
        self.in_process = False

    async def prefetch(self) -> None:
        self._first = await anext(self._rest, None)
        # A full first batch: more may follow, and the export may be long.
        self.in_process = self._first is not None and len(self._first) >= self.size

    async def rendered(self, render: Renderer, first_row: int) -> AsyncIterator[tuple[bytes, int]]:
        """(bytes, row count) for each batch; rows numbered from `first_row`."""
        try:
            batch = self._first
            self._first = None
            while batch is not None:
                if self.in_process:
                    data = await anyio.to_process.run_sync(render, self.spec, batch, first_row)
                else:
                    data = await anyio.to_thread.run_sync(render, self.spec, batch, first_row)
                yield data, len(batch)
                first_row += len(batch)
                batch = await anext(self._rest, None)
        finally:
            await self._rest.aclose()


# --- CSV -------------------------------------------------------------------------------------------------


async def _csv(columns: Sequence[Column], batches: _Batches) -> AsyncIterator[bytes]:
    """UTF-8 with BOM (so Excel reads the accents), « ; » between cells, CRLF, one chunk per batch of rows."""
    yield "\ufeff".encode() + csv_lines([[clean_text(c.header) for c in columns]])
    async for data, _ in batches.rendered(csv_batch, 2):
        yield data


async def csv_chunks(columns: Sequence[Column], rows: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[bytes]:
    """The CSV file, chunk by chunk."""
    batches = _Batches(columns, rows)
    await batches.prefetch()
    async for chunk in _csv(columns, batches):
        yield chunk


# --- XLSX ------------------------------------------------------------------------------------------------


async def _xlsx(columns: Sequence[Column], batches: _Batches, sheet: str) -> AsyncIterator[bytes]:
    book = StreamedWorkbook(columns, sheet)
    try:
        yield await anyio.to_thread.run_sync(book.start)
        async for data, count in batches.rendered(sheet_rows, 2):
            chunk = await anyio.to_thread.run_sync(book.add, data, count)
            if chunk:
                yield chunk
        last = await anyio.to_thread.run_sync(book.finish)
    except BaseException:
        book.abandon()
        raise
    yield last


async def xlsx_chunks(
    columns: Sequence[Column], rows: Iterable[Any] | AsyncIterable[Any], sheet: str = "Export"
) -> AsyncIterator[bytes]:
    """The XLSX file, piece by piece as it is written."""
    batches = _Batches(columns, rows)
    await batches.prefetch()
    async for chunk in _xlsx(columns, batches, sheet):
        yield chunk


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
    """A streamed download. `fmt`: "xlsx" or "csv"; `filename` without extension (French, accents welcome).
    The first batch of rows is read here, before the response starts: an error there is an error page."""
    if fmt not in FORMATS:
        raise ValueError(f"format d’export inconnu : {fmt!r}")
    headers = {
        "Content-Disposition": content_disposition(f"{filename}.{fmt}"),
        "Cache-Control": "no-store",
    }
    batches = _Batches(columns, rows)
    await batches.prefetch()
    if fmt == "csv":
        return Stream(_csv(columns, batches), media_type=CSV_MEDIA_TYPE, headers=headers)
    return Stream(_xlsx(columns, batches, sheet), media_type=XLSX_MEDIA_TYPE, headers=headers)
