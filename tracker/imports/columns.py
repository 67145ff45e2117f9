"""The columns of an imported spreadsheet, declared once: the template's headers, what each holds (the template's
second sheet and the import page explain them with an example), and the other headers accepted for the same column
(the roadmap export's, so that an exported file comes back as it left)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class SheetColumn:
    key: str
    header: str  # as the template writes it
    explanation: str
    example: str
    aliases: tuple[str, ...] = ()
    in_template: bool = True
    width: float = 20


COLUMNS = (
    SheetColumn("axis", "Axe", "L’axe de la feuille de route. Un axe qui n’existe pas encore est créé.",
                "Faire avec les habitants", width=28),
    SheetColumn("title", "Titre", "L’intitulé de l’action (obligatoire, 200 caractères au plus).",
                "Ouvrir un guichet unique des associations", aliases=("Action", "Intitulé", "Intitulé de l’action"),
                width=45),
    SheetColumn("description", "Description", "Ce que l’action recouvre, en quelques phrases.",
                "Un lieu et un numéro pour toutes les démarches des associations.", width=45),
    SheetColumn("module", "Module", "Le numéro du module de l’atelier (1 à 4), ou son titre.", "1", width=10),
    SheetColumn("pilot", "Pilote", "Le partenaire qui pilote l’action : il est reconnu par son identifiant, "
                "sinon par son nom (l’aperçu propose les partenaires de nom proche).", "Solidarité Angoumois",
                width=28),
    SheetColumn("pilot_id", "Identifiant du pilote", "SIREN (9 chiffres), SIRET (14 chiffres) ou numéro RNA "
                "(W suivi de 9 chiffres) du pilote, s’il est connu.", "W161000123",
                aliases=("SIREN du pilote", "SIRET du pilote", "RNA du pilote", "SIREN/SIRET ou RNA du pilote"),
                width=18),
    SheetColumn("contributors", "Contributeurs", "Les autres partenaires qui contribuent, séparés par des "
                "points-virgules : chacun reçoit un engagement « Contributeur » à confirmer.",
                "Ville d’Angoulême ; Centre social de la Grand Font", width=36),
    SheetColumn("start_on", "Début", "Date de début : 31/12/2026, 31 décembre 2026 ou 2026-12-31.", "01/01/2027",
                aliases=("Date de début",), width=12),
    SheetColumn("deadline", "Échéance", "Date à laquelle l’action doit être réalisée, même format que le début.",
                "30 juin 2027", aliases=("Date d’échéance", "Date limite"), width=12),
    SheetColumn("status", "Statut", "À venir, En cours, En pause, Bloquée, Réalisée ou Abandonnée "
                "(vide : À venir).", "En cours", width=13),
    SheetColumn("priority", "Priorité", "Haute, Normale ou Basse (vide : Normale).", "Haute", width=11),
    SheetColumn("confidential", "Confidentielle", "Oui pour une action que seuls les membres du territoire "
                "voient (vide : Non).", "Non", width=15),
    # The export's columns that bring an edited roadmap back (not in the template).
    SheetColumn("number", "N°", "Le numéro de l’action, écrit par l’export : ne le modifiez pas.", "",
                aliases=("No", "Numéro", "Numéro de l’action"), in_template=False),
    SheetColumn("version", "Version", "La version de l’action au moment de l’export : ne la modifiez pas.", "",
                in_template=False),
    SheetColumn("comment", "Commentaire", "Pourquoi le statut change (obligatoire pour Bloquée, En pause, "
                "Abandonnée ou pour rouvrir une action) ; sans changement de statut, il devient une note de suivi.",
                "", in_template=False),
)
TEMPLATE_COLUMNS = tuple(c for c in COLUMNS if c.in_template)
BY_KEY = {c.key: c for c in COLUMNS}


def header_key(text: str) -> str:
    """« Échéance », « ECHEANCE », « échéance  » → « echeance »; « N° » → « numero »."""
    text = str(text).replace("°", " numero ").replace("’", "'")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.split(r"[^a-z0-9]+", text)
    words = ["numero" if w in ("n", "no", "num") else w for w in words if w]
    # « N° » gives « n numero »: one word is enough.
    collapsed: list[str] = []
    for word in words:
        if not (collapsed and collapsed[-1] == word == "numero"):
            collapsed.append(word)
    return " ".join(collapsed)


HEADERS = {header_key(name): c.key for c in COLUMNS for name in (c.header, *c.aliases)}
