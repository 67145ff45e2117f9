"""The form of another body (PETR, PNR, syndicat mixte, département, région, État…), read at the edge into a typed
value with French messages. Whether a territory already has this SIREN is checked by the service."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.core.forms import FormReader
from tracker.core.identifiers import clean, siren_ok
from tracker.territories.reference import KIND_LABELS, OTHER_KINDS, TYPOLOGY_LABELS, departements, regions


@dataclass(frozen=True)
class OtherBodyInput:
    name: str
    siren: str
    kind: str
    departement: str = ""
    region: str = ""  # the département's when not given
    typology: str = ""
    population: int | None = None


def read_other_body(data: Mapping[str, Any]) -> OtherBodyInput:
    form = FormReader(data)
    name = form.text("name", "Nom", max_length=200, required=True)
    siren = clean(form.text("siren", "SIREN", max_length=20, required=True))
    kind = form.choice("kind", "Nature", {k: KIND_LABELS[k] for k in OTHER_KINDS}, required=True)
    departement = form.choice("departement", "Département", departements()) or ""
    region = form.choice("region", "Région", regions()) or ""
    typology = form.choice("typology", "Typologie", TYPOLOGY_LABELS) or ""
    population = form.integer("population", "Population", minimum=0, maximum=100_000_000)
    if siren and not form.errors.get("siren"):
        form.check(siren_ok(siren), "siren", "Ce SIREN n’est pas valide (9 chiffres, clé de Luhn).")
    if departement and not region:
        region = departements()[departement][1]
    form.raise_if_errors()
    return OtherBodyInput(name=name, siren=siren, kind=kind, departement=departement, region=region,
                          typology=typology, population=population)
