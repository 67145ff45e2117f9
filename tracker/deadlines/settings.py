"""A territory's reminder rules (« Rappels du territoire »), changed by its référents and administrators."""
from __future__ import annotations

from collections.abc import Iterable

from tracker import lifecycle
from tracker.core import clock
from tracker.core.db import write_transaction
from tracker.core.errors import Conflict, Forbidden
from tracker.core.permissions import Viewer
from tracker.deadlines.forms import TerritorySettings
from tracker.deadlines.tables import ReminderSettings

DEFAULTS = TerritorySettings(first_days=30, second_days=7, overdue_weekly=True, codir_digest=True)
VERSIONED = lifecycle.Versioned(subject="reminder_settings", table=ReminderSettings,
                                this="Ce réglage des rappels", feminine=False)
REFUSED = "Seuls les référents du territoire (et les administrateurs) changent ses rappels."


def _as_settings(row: dict) -> TerritorySettings:
    return TerritorySettings(first_days=row["first_days"], second_days=row["second_days"],
                             overdue_weekly=row["overdue_weekly"], codir_digest=row["codir_digest"])


async def settings_of(territory_ids: Iterable[int] | None = None) -> dict[int, TerritorySettings]:
    """The saved settings of these territories (None: all); a territory missing here has the DEFAULTS."""
    query = ReminderSettings.select(
        ReminderSettings.territory, ReminderSettings.first_days, ReminderSettings.second_days,
        ReminderSettings.overdue_weekly, ReminderSettings.codir_digest,
    )
    if territory_ids is not None:
        query = query.where(ReminderSettings.territory.is_in(sorted(territory_ids) or [0]))
    return {row["territory"]: _as_settings(row) for row in await query}


async def settings_for(territory_id: int) -> tuple[TerritorySettings, int]:
    """One territory's settings and their version (0: never saved, the defaults)."""
    row = await ReminderSettings.select().where(ReminderSettings.territory == territory_id).first()
    return (_as_settings(row), row["version"]) if row else (DEFAULTS, 0)


async def save_settings(viewer: Viewer, territory_id: int, values: TerritorySettings, version: int | None) -> None:
    """Write the settings read at `version` (0 for the defaults); a stale version is a Conflict."""
    if not viewer.can_manage_territory(territory_id):
        raise Forbidden(REFUSED)
    columns = {
        ReminderSettings.first_days: values.first_days,
        ReminderSettings.second_days: values.second_days,
        ReminderSettings.overdue_weekly: values.overdue_weekly,
        ReminderSettings.codir_digest: values.codir_digest,
        ReminderSettings.updated_by: viewer.user_id,
    }
    if version:
        row = await ReminderSettings.select(ReminderSettings.id).where(
            ReminderSettings.territory == territory_id).first()
        if row is None:
            raise Conflict("Ces réglages ont changé depuis que vous avez ouvert la page : rechargez-la.")
        await lifecycle.save_edit(VERSIONED, row["id"], version, columns)
        return
    async with write_transaction():
        inserted = await ReminderSettings.insert(ReminderSettings(
            territory=territory_id, first_days=values.first_days, second_days=values.second_days,
            overdue_weekly=values.overdue_weekly, codir_digest=values.codir_digest, version=1,
            updated_at=clock.now(), updated_by=viewer.user_id,
        )).on_conflict(action="DO NOTHING").returning(ReminderSettings.id)
        if not inserted:
            raise Conflict("Quelqu’un d’autre vient d’enregistrer les rappels de ce territoire : rechargez la page.")
