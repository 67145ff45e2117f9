"""The review across the network also counts what partners committed and the reciprocity agreements."""
from collections import Counter

import arrow
import pytest

from tests.factories import EMAILS, agreement, commitment, contact, party
from tests.htmltable import table_after
from tracker.commitments.tables import Commitment
from tracker.history.tables import HistoryEntry

pytestmark = pytest.mark.anyio


async def _commitments(world):
    await commitment(world.upcoming, world.ga_pilot, state="confirme")
    await commitment(world.overdue, world.ga_pilot, state="confirme")
    await commitment(world.done, world.ga_pilot, state="propose")
    await commitment(world.secret, world.ga_pilot, state="confirme")  # on a confidential action
    await commitment(world.vr_action, world.vr_pilot, state="propose")
    await commitment(world.vr_action, world.vr_pilot, state="decline")


async def test_dashboard_counts_commitments_and_agreements_per_territory(client, world):
    await _commitments(world)
    deal = await agreement(world.ga, "Contrat GA–VR", state="a_signer")
    await party(deal, world.ga, 1)
    await party(deal, world.vr, 2)
    other = await agreement(world.vr, "Contrat VR seul", state="en_vigueur")
    await party(other, world.vr, 1)
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage")
    table = table_after(page.text, 'class="table dashboard"')
    column = {name: i for i, name in enumerate(table[0])}
    rows = {r[0].split(" Communauté")[0]: r for r in table[1:]}
    ga, vr = rows["CA du Grand Angoulême"], rows["CA Valence Romans Agglo"]
    # A reviewer does not count the commitment on the confidential action.
    assert ga[column["Engagements confirmés / proposés"]] == "2\u00a0/ 1"
    assert vr[column["Engagements confirmés / proposés"]] == "0\u00a0/ 1"
    assert ga[column["Contrats"]] == "1 à signer"
    assert sorted(vr[column["Contrats"]].split(", ")) == ["1 en vigueur", "1 à signer"]


async def test_the_sector_chart_counts_commitments_by_partner_sector(client, world):
    await _commitments(world)
    await client.login(EMAILS["admin"])
    page = await client.get("/pilotage")
    table = table_after(page.text, "Données du graphique «&nbsp;Engagements par secteur du partenaire")
    rows = await Commitment.select(Commitment.partner.sector.as_alias("sector"))
    expected = Counter(r["sector"] for r in rows)
    shown = dict(table[1:])
    assert shown["Associatif et citoyen"] == str(expected["associatif"]) == "4"
    assert shown["Public-privé (EPL)"] == str(expected["public_prive"]) == "2"
    assert shown["Public"] == shown["Privé"] == "0"


async def test_commitments_unanswered_for_two_weeks_are_listed_with_whom_to_contact(make_client, world):
    """The reviewer is sent to the territory's référents and éditeurs, never given the partner's contacts (personal
    data for those who write to them: issue 9, F7), neither on the page nor in the exports; an administrator is."""
    old = await commitment(world.upcoming, world.ga_pilot, state="propose")
    recent = await commitment(world.overdue, world.ga_pilot, state="propose")
    _ = recent
    await Commitment.update({Commitment.updated_at: arrow.utcnow().shift(days=-20).datetime}).where(
        Commitment.id == old)
    await contact(world.ga_pilot, "Sophie Bernard", "sophie@solidarite.example.org", "Présidente")
    client = await make_client()
    await client.login(EMAILS["reviewer"])
    page = await client.get("/pilotage/relances")
    section = page.text.split('id="sans-reponse"')[1].split("</section>")[0]
    assert "Guichet unique des associations" in section  # proposed 20 days ago
    assert "Portage de repas" not in section  # proposed today
    assert "sophie@solidarite.example.org" not in page.text and "Sophie Bernard" not in page.text
    assert f"mailto:{EMAILS['ga_editor']}" in section  # whom the reviewer asks instead
    csv = await client.get("/pilotage/relances/export.csv")
    xlsx = await client.get("/pilotage/relances/export.xlsx")
    import io

    import openpyxl

    cells = " ".join(str(c.value) for row in openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.iter_rows()
                     for c in row)
    for text in (csv.content.decode("utf-8"), cells):
        assert "Guichet unique des associations" in text and EMAILS["ga_editor"] in text
        assert "sophie@solidarite" not in text
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    assert "mailto:sophie@solidarite.example.org" in (await admin.get("/pilotage/relances")).text


async def test_the_codir_pack_lists_commitments_confirmed_or_declined_since_the_date(client, world):
    yes = await commitment(world.upcoming, world.ga_pilot, state="confirme")
    no = await commitment(world.overdue, world.ga_pilot, state="decline")
    earlier = await commitment(world.done, world.ga_pilot, state="confirme")
    now = arrow.utcnow()
    for subject, to, when, comment in [(yes, "confirme", now.shift(days=-3), ""),
                                      (no, "decline", now.shift(days=-2), "Pas de bénévoles cet hiver"),
                                      (earlier, "confirme", now.shift(days=-40), "")]:
        await HistoryEntry(subject_type="commitment", subject_id=subject, territory=world.ga, from_value="propose",
                           to_value=to, comment=comment, created_at=when.datetime).save()
    await client.login(EMAILS["ga_editor"])
    since = arrow.now("Europe/Paris").shift(days=-10).format("YYYY-MM-DD")
    page = await client.get(f"/territoires/200071827/point-codir?depuis={since}")
    section = page.text.split('id="reponses-partenaires"')[1].split("</section>")[0]
    assert section.count("<li>") == 2
    assert "a confirmé son engagement sur <a href=\"/actions/%d\">Guichet unique" % world.upcoming in section
    assert "a décliné" in section and "Pas de bénévoles cet hiver" in section
    assert "Carte des initiatives" not in section
