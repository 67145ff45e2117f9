"""Twenty status changes at once: no "database is locked", no lost history entry, no silent lost update."""
import anyio
import pytest

from tests.factories import EMAILS, action, history_count
from tracker.core.db import write_transaction
from tracker.history.tables import HistoryEntry
from tracker.roadmaps.tables import Action

pytestmark = pytest.mark.anyio


async def test_twenty_simultaneous_changes_on_twenty_actions_all_succeed(make_client, world):
    async with write_transaction():  # one commit for all the rows: faster tests
        ids = [await action(world.ga_roadmap, world.ga, f"Action {i}") for i in range(20)]
    client = await make_client()
    await client.login(EMAILS["ga_editor"])
    await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    forms = {i: dict(client.form(f"/actions/{i}/statut").fields) for i in ids}
    statuses: list[int] = []

    async def change(action_id: int) -> None:
        fields = {**forms[action_id], "status": "en_cours"}
        fields.pop("_csrf_token")
        response = await client.post(f"/actions/{action_id}/statut", fields, htmx=True)
        statuses.append(response.status_code)

    async with anyio.create_task_group() as group:
        for action_id in ids:
            group.start_soon(change, action_id)
    assert statuses == [200] * 20
    assert await Action.count().where(Action.id.is_in(ids) & (Action.status == "en_cours")) == 20
    assert await HistoryEntry.count().where(HistoryEntry.subject_id.is_in(ids)) == 20


async def test_twenty_people_changing_the_same_action_at_once_one_wins_the_others_are_told(make_client, world):
    clients = []
    for _ in range(20):
        client = await make_client()
        await client.login(EMAILS["ga_editor"])
        await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
        clients.append(client)
    statuses: list[int] = []

    async def change(client) -> None:
        fields = dict(client.form(f"/actions/{world.upcoming}/statut").fields)
        fields["status"] = "en_cours"
        response = await client.post(f"/actions/{world.upcoming}/statut", fields)
        statuses.append(response.status_code)

    async with anyio.create_task_group() as group:
        for client in clients:
            group.start_soon(change, client)
    assert sorted(statuses) == [303] + [409] * 19
    assert await history_count(world.upcoming) == 1
    row = await Action.select(Action.version).where(Action.id == world.upcoming).first()
    assert row["version"] == 2
