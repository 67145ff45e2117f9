"""« Un partenaire au nom proche existe déjà » : names compared without accents, case, punctuation or little words."""
from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

_SMALL_WORDS = frozenset(
    "de du des la le les l d et en a au aux pour sur par un une the of and".split()
)
THRESHOLD = 0.86


def name_key(name: str) -> str:
    """« Solidarité de l’Angoumois » → « solidarite angoumois »."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _SMALL_WORDS]
    return " ".join(words)


def similar(key: str, other_key: str) -> bool:
    if not key or not other_key:
        return False
    words, other_words = set(key.split()), set(other_key.split())
    if words == other_words:
        return True
    # « Association Solidarité Angoumois » and « Solidarité Angoumois »: all the words of the shorter name.
    shorter, longer = sorted((words, other_words), key=len)
    if len(shorter) >= 2 and shorter <= longer:
        return True
    matcher = SequenceMatcher(None, key, other_key, autojunk=False)
    return (
        matcher.real_quick_ratio() >= THRESHOLD
        and matcher.quick_ratio() >= THRESHOLD
        and matcher.ratio() >= THRESHOLD
    )


def similar_names(name: str, candidates: list[dict]) -> list[dict]:
    """The candidates ({id, name}) whose name is close to `name`, closest first, at most five."""
    key = name_key(name)
    found = [c for c in candidates if similar(key, name_key(c["name"]))]
    found.sort(key=lambda c: -SequenceMatcher(None, key, name_key(c["name"])).ratio())
    return found[:5]
