"""What an edit changed, as the history says it: one line per field, « label : before → after ». The entry of an
edit (`to_value` « modification ») carries these lines as its comment; the history shows them as a list."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from tracker.core.french import date_fr

UNSET = "non renseigné"


def shown(value: Any) -> str:
    """A value as the history writes it: dates in French, texts between guillemets, nothing as « non renseigné »."""
    if value is None or value == "":
        return UNSET
    if isinstance(value, date):
        return date_fr(value)
    if isinstance(value, (list, tuple)):
        return " ; ".join(f"« {item} »" for item in value) if value else "aucun"
    return f"« {value} »"


def changes(fields: Iterable[tuple[str, Any, Any]]) -> list[str]:
    """The lines of the fields whose value changed: (label, before, after) → « label : before → after »."""
    return [f"{label} : {shown(before)} → {shown(after)}" for label, before, after in fields if before != after]


def comment(lines: list[str], *, intro: str = "") -> str:
    """The entry's comment: an optional first line, then one line per change."""
    return "\n".join([intro, *lines] if intro else lines)
