"""Territories visible to a viewer, and the other bodies an administrator adds."""
from __future__ import annotations

from typing import Any, Mapping

import arrow

from tracker.accounts.permissions import Viewer
from tracker.db import name_contains, write_transaction
from tracker.errors import Forbidden, InvalidInput, NotFound
from tracker.partners.identifiers import clean, siren_ok
from tracker.roadmaps.tables import Roadmap
from tracker.territories.reference import (
    KIND_LABELS,
    OTHER_KINDS,
    TYPOLOGY_LABELS,
    departements,
    regions,
)
from tracker.territories.tables import Territory
from tracker.web.forms import FormReader

PAGE_SIZE = 50
NOT_FOUND = "Aucun territoire accessible ne porte ce SIREN."


async def territory_for(viewer: Viewer, siren: str) -> dict:
    if not (len(siren) == 9 and siren.isascii() and siren.isdigit()):
        raise NotFound(NOT_FOUND)
    territory = await Territory.select().where(Territory.siren == siren).first()
    if territory is None or not viewer.can_read_territory(territory["id"]):
        raise NotFound(NOT_FOUND)
    return territory


async def visible_territories(viewer: Viewer, query: Mapping[str, Any]) -> dict:
    """Members see their territories; the ADGCF and administrators search all of them (paginated)."""
    form = FormReader(query)
    text = form.text("q", "Recherche", max_length=100)
    page = form.integer("page", "Page", minimum=1, maximum=10_000) or 1
    only_roadmaps = form.boolean("avec_feuille")
    if form.errors:
        error = InvalidInput("Paramètre invalide : " + " ".join(form.errors.values()), errors=form.errors)
        error.status_code = 400
        raise error
    where = Territory.id.is_not_null()
    if not viewer.sees_all_territories:
        if not viewer.roles:
            return {"rows": [], "total": 0, "page": 1, "pages": 1, "q": text, "avec_feuille": only_roadmaps}
        where &= Territory.id.is_in(list(viewer.roles))
    if text:
        where &= name_contains(Territory.name, text) | (Territory.siren == clean(text))
    if only_roadmaps:
        where &= Territory.id.is_in(Roadmap.select(Roadmap.territory))
    total = await Territory.count().where(where)
    rows = (
        await Territory.select(
            Territory.id, Territory.siren, Territory.name, Territory.kind, Territory.departement, Territory.population
        )
        .where(where)
        .order_by(Territory.name)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    with_roadmap = {
        r["territory"]
        for r in await Roadmap.select(Roadmap.territory).where(Roadmap.territory.is_in([r["id"] for r in rows] or [0]))
    }
    for row in rows:
        row["has_roadmap"] = row["id"] in with_roadmap
        row["role"] = viewer.roles.get(row["id"])
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "q": text,
        "avec_feuille": only_roadmaps,
    }


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
                created_at=arrow.utcnow().datetime,
            )
        )
    return siren
