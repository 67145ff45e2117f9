import pytest

from tests.factories import EMAILS

pytestmark = pytest.mark.anyio


async def test_an_editor_signs_in_and_sees_the_roadmap(client, world):
    await client.login_through_form(EMAILS["ga_editor"])
    page = await client.get(f"/feuilles-de-route/{world.ga_roadmap}")
    assert page.status_code == 200
    assert "Guichet unique des associations" in page.text
