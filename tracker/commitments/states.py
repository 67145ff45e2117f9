"""Commitment states, roles and units (DESIGN.md §3–§4). Who may move a commitment from which state to which is
the machine's (lifecycle.py)."""
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

# Still part of the action: a second commitment of the same partner in the same role is refused.
ACTIVE = frozenset({"propose", "confirme", "tenu"})
CONFIRMED = frozenset({"confirme", "tenu"})
EDITABLE = frozenset({"propose", "confirme"})

# The partner's own list (/engagements?etat=…), grouped: to confirm, to fulfil, closed.
GROUPS = (
    ("propose", "À confirmer", ("propose",)),
    ("confirme", "Confirmés, à tenir", ("confirme",)),
    ("clos", "Clos", ("tenu", "decline", "retire")),
)
GROUP_LABELS = {code: title for code, title, _ in GROUPS}

# Badge colours reuse the action status palette (same contrast checks).
BADGE_CLASS = {
    "propose": "status-a_venir",
    "confirme": "status-en_cours",
    "decline": "status-bloquee",
    "tenu": "status-realisee",
    "retire": "status-abandonnee",
}

