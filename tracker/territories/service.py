"""Territories visible to a viewer, and the other bodies an administrator adds."""
from __future__ import annotations

from tracker.core import audit, clock
from tracker.core.db import write_transaction
from tracker.core.errors import Forbidden, InvalidInput, NotFound
from tracker.core.forms import GENERIC
from tracker.core.permissions import Viewer
from tracker.territories.forms import OtherBodyInput
from tracker.territories.tables import Territory

PAGE_SIZE = 50
NOT_FOUND = "Aucun territoire accessible ne porte ce SIREN."
REFUSED = "Seuls les administrateurs ajoutent des territoires."


async def territory_for(viewer: Viewer, siren: str) -> dict:
    if not (len(siren) == 9 and siren.isascii() and siren.isdigit()):
        raise NotFound(NOT_FOUND)
    territory = await Territory.select().where(Territory.siren == siren).first()
    if territory is None or not viewer.can_read_territory(territory["id"]):
        raise NotFound(NOT_FOUND)
    return territory


async def create_other_body(viewer: Viewer, values: OtherBodyInput) -> str:
    """PETR/pays, PNR, syndicat mixte, département, région, État… (EPCI come from the official list)."""
    if not viewer.can_manage_territories():
        raise Forbidden(REFUSED)
    if await Territory.exists().where(Territory.siren == values.siren):
        raise InvalidInput(GENERIC, errors={"siren": "Un territoire porte déjà ce SIREN."})
    async with write_transaction():
        await Territory.insert(
            Territory(
                siren=values.siren,
                name=values.name,
                kind=values.kind,
                population=values.population,
                departement=values.departement,
                region=values.region,
                typology=values.typology,
                is_epci=False,
                created_at=clock.now(),
            )
        )
    audit.record("territoire_ajoute", utilisateur=viewer.user_id, siren=values.siren)
    return values.siren
