"""The national XLSX streams as it is written: its response starts before the rows are all read (the rows come from
the database batch by batch, keyset-paginated), leaves in several pieces, has no Content-Length, and opens in
openpyxl with every row in the page's order. Batches are made tiny here rather than building 40,000 actions."""
from __future__ import annotations

import io
import traceback
import zipfile
from datetime import timedelta

import anyio
import arrow
import openpyxl
import pytest

from tests.factories import EMAILS, action
from tracker.core.db import write_transaction
from tracker.exports import writer
from tracker.review import exports as review_exports
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio

EXPORT = "/pilotage/actions/export"


class Sent:
    """What the server sent: status, headers, the body pieces as they went, whether it said the body was complete,
    and the error the application raised, if any."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.pieces: list[bytes] = []
        self.complete = False
        self.error: Exception | None = None


async def asgi_get(app, client, path: str, on_body=None) -> Sent:
    """GET through the app's ASGI interface with the client's session cookie, seeing each piece of the body as the
    server sends it (httpx's ASGI transport joins them). `on_body` is called at each piece."""
    cookie = "; ".join(f"{name}={value}" for name, value in client.http.cookies.items())
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    sent = Sent()
    asked = False
    done = anyio.Event()

    async def receive():
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # as a server does: the client is gone once the response is complete
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            sent.status = message["status"]
            sent.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            if message.get("body"):
                sent.pieces.append(message["body"])
                if on_body:
                    on_body()
            sent.complete = not message.get("more_body", False)
            if sent.complete:
                done.set()

    try:
        await app(scope, receive, send)
    except Exception as error:  # what uvicorn would log before closing the connection
        sent.error = error
    return sent


async def many_actions(world, count: int) -> list[str]:
    """`count` actions over both territories, deadlines spread over a few days (several per day) and some without
    one; their titles in the export's order: deadline, then number, those without a deadline last."""
    today = arrow.now("Europe/Paris").date()
    made = []
    async with write_transaction():
        for i in range(count):
            deadline = None if i % 7 == 3 else today + timedelta(days=i % 4)
            roadmap, territory = (world.ga_roadmap, world.ga) if i % 2 else (world.vr_roadmap, world.vr)
            made.append((f"Action en lot {i:02d}", deadline, await action(roadmap, territory, f"Action en lot {i:02d}",
                                                                           deadline=deadline)))
    rows = await Action.select(Action.id, Action.title, Action.deadline).where(Action.confidential.eq(False))
    with_deadline = sorted((r for r in rows if r["deadline"]), key=lambda r: (r["deadline"], r["id"]))
    without = sorted((r for r in rows if not r["deadline"]), key=lambda r: r["id"])
    return [r["title"] for r in [*with_deadline, *without]]


async def test_the_national_xlsx_streams_in_pieces_from_batched_reads_and_opens_with_every_row(
        app, client, world, monkeypatch):
    expected = await many_actions(world, 30)
    monkeypatch.setattr(review_exports, "ACTION_BATCH", 4)  # 34 actions: 9 keyset queries
    monkeypatch.setattr(writer, "BATCH_ROWS", 5)  # rendered 5 rows at a time, in a worker process
    read = []
    real = review_exports.is_overdue
    monkeypatch.setattr(review_exports, "is_overdue", lambda *args: read.append(1) or real(*args))
    read_at_pieces: list[int] = []
    await client.login(EMAILS["reviewer"])

    sent = await asgi_get(app, client, f"{EXPORT}.xlsx", on_body=lambda: read_at_pieces.append(len(read)))

    assert sent.status == 200 and sent.complete and sent.error is None
    assert sent.headers["content-type"].startswith(writer.XLSX_MEDIA_TYPE)
    assert "content-length" not in sent.headers, "un XLSX diffusé n’annonce pas sa taille"
    pieces = sent.pieces
    assert len(pieces) >= 2
    assert read_at_pieces[0] <= 5 < len(expected), "le début du fichier part dès le premier lot lu"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(pieces))).active
    assert sheet.freeze_panes == "A2" and all(cell.font.bold for cell in sheet[1])
    assert sheet.auto_filter.ref == f"A1:J{len(expected) + 1}"
    titles = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert titles == expected, "chaque action une fois, dans l’ordre de la page, celles sans échéance à la fin"
    first = {row[0].value: row for row in sheet.iter_rows(min_row=2)}["Action en lot 00"]
    assert first[8].is_date and first[8].number_format == "DD/MM/YYYY"
    assert first[9].is_date and first[9].number_format == "DD/MM/YYYY HH:MM"
    assert first[5].value == 1 and first[5].data_type == "n"
    # The same rows as the CSV, which streams through the same batches.
    csv = (await client.get(f"{EXPORT}.csv")).content.decode("utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in csv[1:]] == expected


async def test_a_formula_title_in_a_long_export_is_text_with_the_quote_prefix_style(app, client, world, monkeypatch):
    await action(world.vr_roadmap, world.vr, "=1+1")
    await action(world.vr_roadmap, world.vr, "@SOMME(A1:A2)")
    monkeypatch.setattr(writer, "BATCH_ROWS", 2)  # several batches: rendered in a worker process
    await client.login(EMAILS["reviewer"])
    response = await client.get(f"{EXPORT}.xlsx")
    assert response.status_code == 200
    cells = {row[0].value: row[0] for row in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(
        min_row=2)}
    for title in ("=1+1", "@SOMME(A1:A2)"):
        assert cells[title].data_type == "s" and cells[title].quotePrefix is True, title
    assert cells["Portage de repas"].quotePrefix is False
    assert "'=1+1" not in cells
    styles = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/styles.xml").decode()
    assert 'quotePrefix="1"' in styles
    assert all(cell.data_type != "f" for cell in cells.values())


async def test_an_error_before_the_first_byte_is_an_error_page(client, world):
    await client.login(EMAILS["reviewer"])
    response = await client.get(f"{EXPORT}.xlsx?statut=inconnu")
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"] and "Statut" in response.text


async def test_an_error_mid_stream_leaves_the_file_unfinished(app, client, world, monkeypatch):
    """After the first byte no error page is possible: the response is left incomplete (the server closes the
    connection), never ended as if the file were whole."""
    async def failing(viewer, search):
        for i in range(12):
            yield {"title": f"Ligne {i}", "territory_name": "T", "siren": "1", "pilot_name": None,
                   "pilot_sector": None, "module": 1, "status": "a_venir", "overdue": False, "deadline": None,
                   "updated_at": None}
        raise RuntimeError("base perdue")

    monkeypatch.setattr(review_exports, "_actions_in_batches", failing)
    monkeypatch.setattr(writer, "BATCH_ROWS", 5)
    await client.login(EMAILS["reviewer"])
    sent = await asgi_get(app, client, f"{EXPORT}.xlsx")
    assert sent.status == 200 and sent.pieces, "la réponse avait commencé"
    assert not sent.complete, "jamais terminée comme si le fichier était entier"
    assert sent.error is not None and "RuntimeError: base perdue" in "".join(traceback.format_exception(sent.error))
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(b"".join(sent.pieces)))
