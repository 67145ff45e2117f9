"""The form of a territory (adding another body, or an administrator editing any territory), read at the edge into
a typed value with French messages. Whether a territory already has this SIREN is checked by the service."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.core.forms import FormReader
from tracker.core.identifiers import clean, siren_ok
from tracker.territories.reference import KIND_LABELS, OTHER_KINDS, TYPOLOGY_LABELS, departements, regions
from tracker.territories.search import split_aliases

# Thousands written the French way: a space, a no-break space (U+00A0), a narrow no-break space (U+202F) or a thin
# space (U+2009), and the dot some people type: « 100 000 », « 100 000 », « 100.000 ».
_THOUSANDS = re.compile(r"^\d{1,3}([ \u00a0\u202f\u2009.]\d{3})+$")
_CODES = re.compile(r"[\s,;/]+")
MAX_ALIASES = 20


@dataclass(frozen=True)
class TerritoryInput:
    name: str
    siren: str
    kind: str
    departements: tuple[str, ...] = ()  # the first is the main one
    regions: tuple[str, ...] = ()  # those given, then those of the départements
    typology: str = ""
    population: int | None = None
    short_name: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def departement(self) -> str:
        return self.departements[0] if self.departements else ""

    @property
    def region(self) -> str:
        return self.regions[0] if self.regions else ""


# The name the other bodies' form had before editing existed.
OtherBodyInput = TerritoryInput


def french_integer(text: str) -> str:
    """« 100 000 » (any of the spaces above, or dots, between groups of three digits) as « 100000 »; anything else
    unchanged, for the integer reader to judge."""
    text = text.strip()
    return re.sub(r"[ \u00a0\u202f\u2009.]", "", text) if _THOUSANDS.match(text) else text


def _codes(form: FormReader, names: tuple[str, ...], label: str, known: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for name in names:
        for code in _CODES.split(form.raw(name).strip().upper()):
            if not code:
                continue
            if code not in known or len(found) >= 20:
                form.check(False, names[-1], f"« {label} » : valeur inconnue ({code[:10]}), choisissez dans la liste."
                           if code not in known else f"« {label} » : au plus 20.")
                continue
            if code not in found:
                found.append(code)
    return found


def read_territory(data: Mapping[str, Any], *, any_kind: bool = False) -> TerritoryInput:
    """`any_kind`: an administrator editing may set any kind (an EPCI's too); adding is for the other bodies only.
    Départements and régions: codes separated by commas or spaces (`departements`, `regions`); `departement` and
    `region`, a single code from a list, are read first when sent."""
    form = FormReader(data)
    name = form.text("name", "Nom", max_length=200, required=True)
    short_name = form.text("short_name", "Nom court", max_length=100)
    aliases_text = form.text("aliases", "Autres noms", max_length=2000, multiline=True)
    aliases = tuple(dict.fromkeys(a[:200] for a in split_aliases(aliases_text)))
    form.check(len(aliases) <= MAX_ALIASES, "aliases", f"« Autres noms » : au plus {MAX_ALIASES}, un par ligne.")
    siren = clean(form.text("siren", "SIREN", max_length=20, required=True))
    kinds = KIND_LABELS if any_kind else {k: KIND_LABELS[k] for k in OTHER_KINDS}
    kind = form.choice("kind", "Nature", kinds, required=True)
    deps = _codes(form, ("departement", "departements"), "Départements", departements())
    regs = _codes(form, ("region", "regions"), "Régions", regions())
    for code in deps:
        if departements()[code][1] not in regs:
            regs.append(departements()[code][1])
    typology = form.choice("typology", "Typologie", TYPOLOGY_LABELS) or ""
    population = FormReader({"population": french_integer(form.raw("population"))}).integer(
        "population", "Population", minimum=0, maximum=100_000_000) if form.raw("population").strip() else None
    if form.raw("population").strip() and population is None:
        form.check(False, "population", "« Population » doit être un nombre entier entre 0 et 100 000 000 "
                                        "(par exemple 100 000).")
    if siren and not form.errors.get("siren"):
        form.check(siren_ok(siren), "siren", "Ce SIREN n’est pas valide (9 chiffres, clé de Luhn).")
    form.raise_if_errors()
    return TerritoryInput(name=name, siren=siren, kind=kind, departements=tuple(deps), regions=tuple(regs),
                          typology=typology, population=population, short_name=short_name, aliases=aliases)


def read_other_body(data: Mapping[str, Any]) -> TerritoryInput:
    return read_territory(data, any_kind=False)
