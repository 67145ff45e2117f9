"""Agreement states (DESIGN.md §4), the allowed transitions and the theme suggestions.
The rules that use them live in lifecycle.py (whose docstring explains each transition)."""
from __future__ import annotations

AGREEMENT_STATE_LABELS = {
    "brouillon": "Brouillon",
    "en_negociation": "En négociation",
    "a_signer": "À signer",
    "en_vigueur": "En vigueur",
    "suspendu": "Suspendu",
    "echu": "Échu",
    "resilie": "Résilié",
}

# from state → the states one may move to by hand (echu also comes from the `contrats-echus` command).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "brouillon": ("en_negociation", "resilie"),
    "en_negociation": ("a_signer", "resilie"),
    "a_signer": ("en_negociation", "en_vigueur", "resilie"),
    "en_vigueur": ("suspendu", "echu", "resilie"),
    "suspendu": ("en_vigueur", "echu", "resilie"),
    "echu": (),
    "resilie": (),
}
FINAL = frozenset({"echu", "resilie"})
# The text of the contract (title, purpose, themes, dates, parties, obligations) is written while it is drafted;
# from « À signer » on, it is what the parties sign and does not change (reopening the negotiation is a transition).
DRAFTING = frozenset({"brouillon", "en_negociation"})
# Obligations are carried out once the contract has taken effect; their outcome may still be recorded after its end.
FOLLOW_UP = frozenset({"en_vigueur", "suspendu", "echu", "resilie"})
# Deliberations are recorded while the text is negotiated or awaits signature.
DELIBERATION = frozenset({"en_negociation", "a_signer"})
# An in-force contract whose end date has passed becomes « Échu ».
EXPIRABLE = frozenset({"en_vigueur", "suspendu"})

# What the state change form says each transition does.
TRANSITION_LABELS = {
    ("brouillon", "en_negociation"): "Ouvrir la négociation",
    ("en_negociation", "a_signer"): "Soumettre à la signature des parties",
    ("a_signer", "en_negociation"): "Rouvrir la négociation (les signatures recueillies sont retirées)",
    ("a_signer", "en_vigueur"): "Déclarer en vigueur (toutes les parties ont signé)",
    ("en_vigueur", "suspendu"): "Suspendre",
    ("suspendu", "en_vigueur"): "Reprendre l’exécution (en vigueur)",
    ("en_vigueur", "echu"): "Déclarer échu (date de fin dépassée)",
    ("suspendu", "echu"): "Déclarer échu (date de fin dépassée)",
}


def transition_label(from_state: str, to_state: str) -> str:
    if to_state == "resilie":
        return "Résilier" if from_state in EXPIRABLE else "Abandonner le projet (résilié)"
    return TRANSITION_LABELS.get((from_state, to_state), AGREEMENT_STATE_LABELS[to_state])


# Suggested themes (offered as the theme fields' list); any other theme may be typed. One row per theme
# (agreement_theme), in the agreement's order.
THEME_SUGGESTIONS = {
    "mobilites": "Mobilités",
    "alimentation": "Alimentation et circuits courts",
    "sante": "Santé",
    "energie": "Énergie",
    "culture": "Culture",
    "economie": "Développement économique",
    "numerique": "Services numériques",
    "tourisme": "Tourisme et loisirs",
    "environnement": "Environnement et biodiversité",
    "eau": "Eau et assainissement",
    "habitat": "Habitat",
    "emploi": "Emploi et formation",
}
THEME_MAX_LENGTH = 80
THEMES_MAX = 12


def normalise_theme(text: str) -> str:
    """One spelling per theme, so that filtering finds them all: spaces collapsed, surrounding quotation marks
    dropped, suggestions' spelling whatever the case typed, a capital first letter otherwise. Never split: a
    theme's name may hold commas (« Mobilités, habitat et services »)."""
    text = unquote(" ".join(text.split())).strip(" .;,")
    if not text:
        return ""
    for label in THEME_SUGGESTIONS.values():
        if label.casefold() == text.casefold():
            return label
    return text[0].upper() + text[1:]


# --- parties, themes, amendments, history (issue 13) ---------------------------------------------------------

PARTY_ROLE_LABELS = {"partie": "Partie", "temoin": "Témoin"}
# The État or the Région may sign as a witness (« en présence de »): they neither bring nor receive.
WITNESS_KINDS = frozenset({"ETAT", "REG"})

THEME_DESCRIPTION_MAX = 300

AMENDMENT_STATE_LABELS = {
    "brouillon": "En préparation",
    "a_signer": "À signer",
    "en_vigueur": "En vigueur",
    "abandonne": "Abandonné",
}
# An amendment is written while the agreement is in force (or suspended), one at a time.
AMENDABLE = frozenset({"en_vigueur", "suspendu"})
AMENDMENT_OPEN = frozenset({"brouillon", "a_signer"})
CHANGE_KINDS = {"ajout": "Ajout d’une obligation", "modification": "Modification d’une obligation",
                "fin": "Fin d’une obligation"}

# States an agreement may be recorded in after the fact (already signed), with what the form says.
RECORDABLE = {"en_vigueur": "Signé et en vigueur", "echu": "Échu (sa date de fin est passée)",
              "resilie": "Résilié"}

# History entries that are not a change of state (their `to_value`), as the history shows them.
EVENT_LABELS = {
    "signature": "Signature",
    "deliberation": "Délibération",
    "protocole": "Protocole",
    "modification": "Modification",
    "partie_ajoutee": "Partie ajoutée",
    "partie_retiree": "Partie retirée",
    "revue_ajoutee": "Revue prévue",
    "revue_retiree": "Revue retirée",
    "supprimee": "Retirée du projet",
    "terminee": "Fin par avenant",
}

_QUOTES = "\"'«»“”‘’„ \u00a0\u202f"


def unquote(text: str) -> str:
    """A theme typed between quotation marks (to protect its commas, as the old form required) keeps its words,
    not the marks."""
    stripped = text.strip()
    while len(stripped) > 1 and stripped[0] in _QUOTES and stripped[-1] in _QUOTES:
        stripped = stripped[1:-1].strip()
    return stripped
