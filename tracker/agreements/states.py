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


# Suggested themes (checkboxes); any other theme may be typed. Stored one row per theme (agreement_theme).
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
    """One spelling per theme, so that filtering finds them all: spaces collapsed, suggestions' spelling
    whatever the case typed, a capital first letter otherwise."""
    text = " ".join(text.split()).strip(" .;,")
    if not text:
        return ""
    for label in THEME_SUGGESTIONS.values():
        if label.casefold() == text.casefold():
            return label
    return text[0].upper() + text[1:]
