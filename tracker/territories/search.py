"""The territory search: case, accents, hyphens and apostrophes do not count, and aliases are names too.
« saint etienne », « SAINT-ÉTIENNE » and an alias set by an administrator all find « Saint-Étienne Métropole ».

Each territory keeps `search_key`: its name, short name and aliases normalised (`normalise`), joined by "|"; it
is rewritten by every write of those (`search_key`), and the search runs LIKE on it, which works alike on SQLite
and PostgreSQL."""
from __future__ import annotations

import re
import unicodedata

from tracker.core.identifiers import clean
from tracker.territories.tables import Territory

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Lower-case, without accents (« œ » kept as « oe »), every run of other characters (hyphens, apostrophes,
    dots, spaces) one space."""
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
                                 .replace("Æ", "ae"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(_NOT_ALNUM.sub(" ", text).split())


def split_aliases(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def search_key(name: str, short_name: str = "", aliases: str = "") -> str:
    parts = [normalise(name), normalise(short_name), *(normalise(a) for a in split_aliases(aliases))]
    return "|".join(part for part in parts if part)


def matching(text: str):
    """The condition « this territory answers to `text` »: by any of its names, or by its SIREN."""
    key = normalise(text)
    condition = Territory.siren == clean(text)
    if key:
        condition = Territory.search_key.like(f"%{key}%") | condition
    return condition
