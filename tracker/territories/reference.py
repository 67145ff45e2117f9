"""Reference data shipped with the package: the 1,255 EPCI, départements and régions, territory kinds."""
from __future__ import annotations

from tracker.core import clock
import csv
from functools import cache
from pathlib import Path


DATA = Path(__file__).parent / "data"

KIND_LABELS = {
    "CC": "Communauté de communes",
    "CA": "Communauté d’agglomération",
    "CU": "Communauté urbaine",
    "METRO": "Métropole",
    "MET69": "Métropole de Lyon",
    "PETR": "PETR / pays",
    "PNR": "Parc naturel régional",
    "SM": "Syndicat mixte",
    "DEP": "Département",
    "REG": "Région",
    "ETAT": "État",
    "AUTRE": "Autre organisme",
}
EPCI_KINDS = ("CC", "CA", "CU", "METRO", "MET69")
OTHER_KINDS = ("PETR", "PNR", "SM", "DEP", "REG", "ETAT", "AUTRE")

TYPOLOGY_LABELS = {"urbain": "Urbain", "periurbain": "Périurbain", "rural": "Rural"}


def default_typology(kind: str) -> str:
    """A first guess from the legal kind, editable later: métropoles and CU are urban, CA periurban, CC rural."""
    return {"METRO": "urbain", "MET69": "urbain", "CU": "urbain", "CA": "periurbain", "CC": "rural"}.get(kind, "")


@cache
def departements() -> dict[str, tuple[str, str]]:
    """code → (name, region code)."""
    with open(DATA / "departements.csv", encoding="utf-8") as handle:
        return {row["code"]: (row["name"], row["region"]) for row in csv.DictReader(handle)}


@cache
def regions() -> dict[str, str]:
    with open(DATA / "regions.csv", encoding="utf-8") as handle:
        return {row["code"]: row["name"] for row in csv.DictReader(handle)}


def departement_name(code: str) -> str:
    return departements().get(code, ("", ""))[0]


def region_name(code: str) -> str:
    return regions().get(code, "")


def epci_rows() -> list[dict[str, str]]:
    with open(DATA / "epci.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def load_epci() -> int:
    """Insert the EPCI that are missing; existing rows (maybe edited by an administrator) are kept."""
    from tracker.core.db import analyse, write_transaction
    from tracker.territories.search import search_key
    from tracker.territories.tables import Territory

    existing = {row["siren"] for row in await Territory.select(Territory.siren).where(Territory.is_epci.eq(True))}
    now = clock.now()
    missing = [
        Territory(
            siren=row["siren"],
            name=row["name"],
            kind=row["kind"],
            population=int(row["population"]) if row["population"] else None,
            departement=row["departement"],
            region=row["region"],
            departements=row["departement"],
            regions=row["region"],
            search_key=search_key(row["name"]),
            typology=default_typology(row["kind"]),
            is_epci=True,
            created_at=now,
        )
        for row in epci_rows()
        if row["siren"] not in existing
    ]
    async with write_transaction():
        for start in range(0, len(missing), 200):
            await Territory.insert(*missing[start : start + 200]).on_conflict(action="DO NOTHING")
    if missing:
        await analyse("territory")
    return len(missing)
