"""The server the bench measures: the application exactly as `python -m tracker serve` runs it, plus one route that
answers pre-rendered bytes (the ceiling: what the same uvicorn and Litestar reach when a page costs nothing).

    python -m tracker.bench.server --port 8765 --workers 2   # what the bench starts

The pre-rendered responses are files that the bench writes into BENCH_CEILING_DIR; each worker reads a file once
and keeps it in memory."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from litestar import Litestar, Response, route
from litestar.params import FromPath

CEILING_PATH = "/_banc/plafond"
_prerendered: dict[str, tuple[int, dict[str, str], str, bytes]] = {}


def save_prerendered(directory: Path, key: str, status: int, media_type: str, headers: dict[str, str],
                     body: bytes) -> str:
    """Stores a response for the ceiling route; returns the path that serves it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{key}.json").write_text(json.dumps({"status": status, "media_type": media_type, "headers": headers}))
    (directory / f"{key}.body").write_bytes(body)
    _prerendered.pop(key, None)
    return f"{CEILING_PATH}/{key}"


def _load(key: str) -> tuple[int, dict[str, str], str, bytes]:
    if key not in _prerendered:
        directory = Path(os.environ["BENCH_CEILING_DIR"])
        meta = json.loads((directory / f"{key}.json").read_text())
        _prerendered[key] = (meta["status"], meta["headers"], meta["media_type"], (directory / f"{key}.body").read_bytes())
    return _prerendered[key]


# GET and POST: the status change's ceiling goes through the same CSRF check (the form is read) as the real POST.
@route(f"{CEILING_PATH}/{{key:str}}", http_method=["GET", "POST"], name="bench_ceiling", include_in_schema=False)
async def ceiling(key: FromPath[str]) -> Response:
    status, headers, media_type, body = _load(key)
    return Response(content=body, status_code=status, headers=headers, media_type=media_type)


def create_app() -> Litestar:
    """The application's own factory, untouched, with the ceiling route registered beside its routes."""
    from tracker.app import create_app as create_real_app

    app = create_real_app()
    app.register(ceiling)
    return app


def main(argv: list[str]) -> int:
    """Runs `python -m tracker serve ARGS` with this module's factory in place of the application's, so that
    uvicorn's options (workers, proxy headers…) are the ones `serve` sets, whatever they become."""
    import uvicorn

    from tracker.__main__ import main as tracker_main

    real_run = uvicorn.run

    def run(_app: str, **options) -> None:
        real_run("tracker.bench.server:create_app", **options)

    uvicorn.run = run
    return tracker_main(["serve", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
