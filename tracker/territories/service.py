"""Territories visible to a viewer, the other bodies an administrator adds, and an administrator's corrections."""
from __future__ import annotations

from tracker.core import audit, clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.permissions import Viewer
from tracker.territories.forms import TerritoryInput
from tracker.territories.search import search_key
from tracker.territories.tables import Territory

PAGE_SIZE = 50
NOT_FOUND = "Aucun territoire accessible ne porte ce SIREN."
REFUSED = "Seuls les administrateurs ajoutent des territoires."
EDIT_REFUSED = "Seuls les administrateurs modifient un territoire."
SIREN_TAKEN = "Un territoire porte déjà ce SIREN."


async def territory_for(viewer: Viewer, siren: str) -> dict:
    if not (len(siren) == 9 and siren.isascii() and siren.isdigit()):
        raise NotFound(NOT_FOUND)
    territory = await Territory.select().where(Territory.siren == siren).first()
    if territory is None or not viewer.can_read_territory(territory["id"]):
        raise NotFound(NOT_FOUND)
    return territory


def _columns(values: TerritoryInput) -> dict:
    """What the form sets, the search key with it (always written together)."""
    aliases = "\n".join(values.aliases)
    return {
        Territory.name: values.name,
        Territory.short_name: values.short_name,
        Territory.aliases: aliases,
        Territory.kind: values.kind,
        Territory.population: values.population,
        Territory.departement: values.departement,
        Territory.region: values.region,
        Territory.departements: ",".join(values.departements),
        Territory.regions: ",".join(values.regions),
        Territory.typology: values.typology,
        Territory.search_key: search_key(values.name, values.short_name, aliases),
    }


async def create_other_body(viewer: Viewer, values: TerritoryInput) -> str:
    """PETR/pays, PNR, syndicat mixte, département, région, État… (EPCI come from the official list)."""
    if not viewer.can_manage_territories():
        raise Forbidden(REFUSED)
    if await Territory.exists().where(Territory.siren == values.siren):
        raise InvalidInput(GENERIC, errors={"siren": SIREN_TAKEN})
    async with write_transaction():
        row = Territory(siren=values.siren, is_epci=False, created_at=clock.now())
        for column, value in _columns(values).items():
            setattr(row, column._meta.name, value)
        await Territory.insert(row)
    audit.record("territoire_ajoute", utilisateur=viewer.user_id, siren=values.siren)
    return values.siren


async def update_territory(viewer: Viewer, siren: str, values: TerritoryInput) -> str:
    """An administrator corrects a territory (any kind, EPCI included): names, aliases, kind, population,
    départements and régions, SIREN (Luhn-checked by the form, unique here). Returns the SIREN it now has."""
    if not viewer.can_manage_territories():
        raise Forbidden(EDIT_REFUSED)
    async with write_transaction():
        current = await Territory.select(Territory.id, Territory.siren).where(Territory.siren == siren).first()
        if current is None:
            raise NotFound(NOT_FOUND)
        if values.siren != siren and await Territory.exists().where(Territory.siren == values.siren):
            raise InvalidInput(GENERIC, errors={"siren": SIREN_TAKEN})
        await Territory.update({**_columns(values), Territory.siren: values.siren}).where(
            Territory.id == current["id"])
    audit.record("territoire_modifie", utilisateur=viewer.user_id, territoire=current["id"], siren=values.siren,
                 ancien_siren=siren if values.siren != siren else None)
    return values.siren
