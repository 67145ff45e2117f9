"""Spreadsheet exports (XLSX and CSV) any list can offer: see `writer.export_response`.

`export_response` is imported on first use (PEP 562): a worker process that renders rows imports
`tracker.exports.cells` and `tracker.exports.xlsx` (standard library only) without the web framework."""
from __future__ import annotations

from typing import Any

from tracker.exports.cells import Column, neutralise

__all__ = ["Column", "export_response", "neutralise"]


def __getattr__(name: str) -> Any:
    if name == "export_response":
        from tracker.exports.writer import export_response

        return export_response
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
