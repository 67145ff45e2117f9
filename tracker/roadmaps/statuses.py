"""Action statuses (DESIGN.md §4). « En retard » is derived, never stored."""
from __future__ import annotations

from datetime import date

STATUS_LABELS = {
    "a_venir": "À venir",
    "en_cours": "En cours",
    "en_pause": "En pause",
    "bloquee": "Bloquée",
    "realisee": "Réalisée",
    "abandonnee": "Abandonnée",
}
CLOSED = frozenset({"realisee", "abandonnee"})
# Moving to these needs a comment…
NEEDS_COMMENT_TO = frozenset({"bloquee", "en_pause", "abandonnee"})
# …and so does reopening a closed action.
NEEDS_COMMENT_FROM = CLOSED

PRIORITY_LABELS = {"haute": "Haute", "normale": "Normale", "basse": "Basse"}

MODULE_TITLES = {
    1: "Initiatives citoyennes et associatives (encourager, réguler, optimiser)",
    2: "Pilotage des « satellites » et des opérateurs privés locaux",
    3: "Nouvelles chaînes de solidarité entre les territoires (alliances intra et extra muros)",
    4: "Hybridation du service public : logiques collaboratives et outils numériques",
}


def is_overdue(status: str, deadline: date | None, today: date) -> bool:
    return deadline is not None and deadline < today and status not in CLOSED


def comment_required(from_status: str, to_status: str) -> bool:
    return to_status in NEEDS_COMMENT_TO or (from_status in NEEDS_COMMENT_FROM and to_status != from_status)
