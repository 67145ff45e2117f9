"""What an agreement's export contains: its balance, theme by theme as on its page — for each theme, what each
party brings (party by party, deadlines first) and how far each obligation has gone. Read through the agreements
domain (`agreement_for`, `balance_of`): the same permissions as the page."""
from __future__ import annotations

from tracker.agreements.reading import agreement_for, balance_of
from tracker.core import clock
from tracker.core.french import date_fr
from tracker.core.permissions import Viewer
from tracker.exports.writer import Column
from tracker.roadmaps.statuses import STATUS_LABELS

NO_THEME = "Sans thème"

BALANCE_COLUMNS = [
    Column("Thème", width=30),
    Column("Description du thème", width=36),
    Column("Partie qui apporte", width=30),
    Column("Ce qui est apporté", width=48),
    Column("Précisions", width=40),
    Column("Au bénéfice de", width=28),
    Column("Porté par le partenaire", width=28),
    Column("Échéance", "date"),
    Column("Statut", width=13),
    Column("En retard", width=11),
    Column("Avenant", width=30),
]


def _amendment(row: dict) -> str:
    notes = []
    if row["added_by_number"]:
        notes.append(f"ajoutée par l’avenant n° {row['added_by_number']}")
    if row["ended"]:
        notes.append(f"fin le {date_fr(row['ended_on'])} (avenant n° {row['ended_by_number']})")
    return " ; ".join(notes)


async def agreement_export(viewer: Viewer, agreement_id: int) -> tuple[str, list[list]]:
    """(file name, rows) of an agreement's balance; NotFound when this person may not read the agreement."""
    agreement = await agreement_for(viewer, agreement_id)
    balance = await balance_of(agreement)
    rows = []
    for group in balance["themes"]:
        theme = group["theme"]
        for cell in group["sides"]:
            for row in cell["obligations"]:
                rows.append([
                    theme["theme"] if theme else NO_THEME,
                    theme["description"] if theme else "",
                    cell["party"]["name"],
                    row["title"],
                    row["description"],
                    row["for_label"],
                    row["partner_name"] or "",
                    row["deadline"],
                    STATUS_LABELS.get(row["status"], row["status"]),
                    "Oui" if row["overdue"] else "Non",
                    _amendment(row),
                ])
    return f"{agreement['title']} – bilan – {clock.today().isoformat()}", rows
