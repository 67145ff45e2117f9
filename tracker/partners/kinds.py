"""Partner sectors and legal forms (DESIGN.md §3). A legal form belongs to exactly one sector."""

SECTOR_LABELS = {
    "public": "Public",
    "public_prive": "Public-privé (EPL)",
    "prive": "Privé",
    "associatif": "Associatif et citoyen",
}

LEGAL_FORMS = {
    "commune": ("Commune", "public"),
    "epci": ("EPCI", "public"),
    "departement": ("Département", "public"),
    "region": ("Région", "public"),
    "etat": ("État", "public"),
    "etablissement_public": ("Établissement public", "public"),
    "regie": ("Régie", "public"),
    "syndicat": ("Syndicat", "public"),
    "sem": ("SEM (société d’économie mixte)", "public_prive"),
    "spl": ("SPL (société publique locale)", "public_prive"),
    "semop": ("SEMOP (SEM à opération unique)", "public_prive"),
    "entreprise": ("Entreprise", "prive"),
    "dsp": ("Délégataire de service public", "prive"),
    "association": ("Association loi 1901", "associatif"),
    "fondation": ("Fondation", "associatif"),
    "collectif": ("Collectif citoyen", "associatif"),
}

LEGAL_FORM_LABELS = {code: label for code, (label, _) in LEGAL_FORMS.items()}


def sector_of(legal_form: str) -> str:
    return LEGAL_FORMS[legal_form][1]
