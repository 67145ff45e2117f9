"""Commitment states and roles (DESIGN.md §3–§4): who may move a commitment from which state to which."""
from __future__ import annotations

STATE_LABELS = {
    "propose": "Proposé",
    "confirme": "Confirmé",
    "decline": "Décliné",
    "tenu": "Tenu",
    "retire": "Retiré",
}
ROLE_LABELS = {
    "pilote": "Pilote",
    "copilote": "Co-pilote",
    "contributeur": "Contributeur",
    "financeur": "Financeur",
}
UNIT_LABELS = {"euros": "euros", "jours": "jours"}

TRANSITIONS = {
    "propose": frozenset({"confirme", "decline"}),
    "confirme": frozenset({"tenu", "retire"}),
}
# Only the partner itself (signed in as its contact, or through the signed link) confirms or declines.
PARTNER_ONLY = frozenset({"confirme", "decline"})
# A signed link answers the one question it was sent for.
BY_LINK = PARTNER_ONLY
# Those end states need a reason, whoever sets them.
REASON_REQUIRED = frozenset({"decline", "retire"})
# The territory's editors may record « tenu » for the partner, with a comment saying how they know.
EDITOR_MAY_SET = frozenset({"tenu", "retire"})

# Still part of the action: a second commitment of the same partner in the same role is refused.
ACTIVE = frozenset({"propose", "confirme", "tenu"})
CONFIRMED = frozenset({"confirme", "tenu"})
EDITABLE = frozenset({"propose", "confirme"})

# Badge colours reuse the action status palette (same contrast checks).
BADGE_CLASS = {
    "propose": "status-a_venir",
    "confirme": "status-en_cours",
    "decline": "status-bloquee",
    "tenu": "status-realisee",
    "retire": "status-abandonnee",
}


def allowed(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())
