"""Real spreadsheet files built in the tests (openpyxl, csv), and the tampered ones an attacker would send:
a zip bomb, formulas with the value a spreadsheet cached, XML with entity declarations. And the upload itself, as
a browser sends it: a multipart form with the page's CSRF token."""
from __future__ import annotations

import csv
import io
import re
import zipfile

import openpyxl

from tracker.imports.columns import TEMPLATE_COLUMNS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [c.header for c in TEMPLATE_COLUMNS]


def row(**values) -> list:
    """A line in the template's column order, from the column keys (title=…, deadline=…)."""
    return [values.get(c.key) for c in TEMPLATE_COLUMNS]


def save(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx(rows: list[list], headers: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers or HEADERS)
    for values in rows:
        sheet.append(values)
    return save(book)


def csv_bytes(rows: list[list], headers: list[str] | None = None, *, delimiter: str = ";",
              encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers or HEADERS)
    writer.writerows([["" if v is None else v for v in values] for values in rows])
    return buffer.getvalue().encode(encoding)


def rewrite(content: bytes, part: str, change) -> bytes:
    """The same zip with one member's text changed by `change(text) -> text`."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == part:
                data = change(data.decode()).encode()
            target.writestr(info.filename, data)
    return buffer.getvalue()


def with_member(content: bytes, name: str, size: int) -> bytes:
    """The same zip with one more member of `size` zeros: deflate packs 100 MB of zeros into about 100 KB."""
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as target:
        with target.open(name, "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def cache_formulas(content: bytes, cached: dict[str, str]) -> bytes:
    """openpyxl writes a formula without the value a spreadsheet would have computed; add it, as Excel saves it."""

    def change(text: str) -> str:
        for ref, value in cached.items():
            text = re.sub(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v ?/>', lambda m: (
                f'<c r="{ref}"{m.group(1)} t="str"><f>{m.group(2)}</f><v>{value}</v>'), text)
        return text

    return rewrite(content, "xl/worksheets/sheet1.xml", change)


async def upload(client, roadmap_id: int, name: str, content: bytes, *, media_type: str | None = None):
    """Open the import page and send the file, as the browser does."""
    await client.get(f"/feuilles-de-route/{roadmap_id}/import")
    media_type = media_type or (XLSX_TYPE if name.endswith(".xlsx") else "text/csv")
    return await client.post(f"/feuilles-de-route/{roadmap_id}/import", {},
                             files={"fichier": (name, content, media_type)})


async def upload_and_preview(client, roadmap_id: int, name: str, content: bytes):
    """Upload, then follow the redirect to the preview page (which becomes the browser's current page)."""
    sent = await upload(client, roadmap_id, name, content)
    assert sent.status_code == 303, sent.text[sent.text.find("<h1"):][:3000]
    preview = await client.get(sent.headers["location"])
    assert preview.status_code == 200, preview.text[:2000]
    return preview


async def confirm(client, preview, changes: dict | None = None):
    """Send the preview's form as shown (its preselected choices), with `changes`."""
    action = preview.url.path
    fields = dict(client.form(action, preview).fields)
    fields.update(changes or {})
    return await client.post(action, fields)
