"""Spreadsheet exports (XLSX and CSV) any list can offer: see `writer.export_response`."""
from tracker.exports.writer import Column, export_response, neutralise

__all__ = ["Column", "export_response", "neutralise"]
