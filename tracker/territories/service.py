"""Territories visible to a viewer, and the other bodies an administrator adds."""
from __future__ import annotations

from tracker.core import clock
from typing import Any, Mapping


from tracker.core.permissions import Viewer
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, NotFound
from tracker.core.identifiers import clean, siren_ok
from tracker.territories.reference import (
    KIND_LABELS,
    OTHER_KINDS,
    TYPOLOGY_LABELS,
    departements,
    regions,
)
from tracker.territories.tables import Territory
from tracker.core.forms import FormReader

PAGE_SIZE = 50
NOT_FOUND = "Aucun territoire accessible ne porte ce SIREN."


async def territory_for(viewer: Viewer, siren: str) -> dict:
    if not (len(siren) == 9 and siren.isascii() and siren.isdigit()):
        raise NotFound(NOT_FOUND)
    territory = await Territory.select().where(Territory.siren == siren).first()
    if territory is None or not viewer.can_read_territory(territory["id"]):
        raise NotFound(NOT_FOUND)
    return territory


async def create_other_body(viewer: Viewer, data: Mapping[str, Any]) -> str:
    """PETR/pays, PNR, syndicat mixte, département, région, État… (EPCI come from the official list)."""
    if not viewer.can_manage_territories():
        raise Forbidden("Seuls les administrateurs ajoutent des territoires.")
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
        if siren_ok(siren):
            form.check(
                not await Territory.exists().where(Territory.siren == siren),
                "siren",
                "Un territoire porte déjà ce SIREN.",
            )
    if departement and not region:
        region = departements()[departement][1]
    form.raise_if_errors()
    async with write_transaction():
        await Territory.insert(
            Territory(
                siren=siren,
                name=name,
                kind=kind,
                population=population,
                departement=departement,
                region=region,
                typology=typology,
                is_epci=False,
                created_at=clock.now(),
            )
        )
    return siren
