"""Every life cycle, pair by pair: each machine's allowed transitions are taken through the page's form and write
exactly one history entry; every other pair is refused with nothing written (state, version and history as they
were). The tables are the machines' own (tracker.lifecycle), so a transition added or removed shows up here."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import (
    EMAILS,
    PARTNER_EMAILS,
    amendment,
    build_agreement_world,
    build_partner_world,
)
from tracker.agreements.amendments import AMENDMENT
from tracker.agreements.lifecycle import AGREEMENT, OBLIGATION
from tracker.agreements.tables import Agreement, AgreementParty
from tracker.commitments.lifecycle import COMMITMENT
from tracker.core import clock
from tracker.history.tables import HistoryEntry
from tracker.deadlines.lifecycle import REMINDER, system_change
from tracker.lifecycle import SYSTEM
from tracker.members.invitations import INVITATION
from tracker.partners.attachments import ATTACHMENT
from tracker.roadmaps.lifecycle import ACTION

pytestmark = pytest.mark.anyio

ROUTES_COVERED: set = set()  # the state routes' permissions are in the domains' permission tables


async def _state(machine, ident: int) -> tuple[str, int, int]:
    row = await machine.table.select(machine.state.as_alias("state"), machine.table.version).where(
        machine.table.id == ident
    ).first()
    entries = await HistoryEntry.count().where(
        (HistoryEntry.subject_type == machine.subject) & (HistoryEntry.subject_id == ident)
    )
    return row["state"], row["version"], entries


async def _walk(client, machine, ident: int, path: str, prepare=None, allowed_for_this_actor=None):
    """Put the object in each state (directly), post every target; returns the pairs taken."""
    taken, refused = [], []
    for source in machine.labels:
        for target in [*machine.labels, "inconnu"]:
            await machine.table.update({machine.state: source}).where(machine.table.id == ident)
            if prepare:
                await prepare(source, target)
            before = await _state(machine, ident)
            response = await client.post(path, {"status": target, "comment": "Parce qu’il le fallait.",
                                                "version": str(before[1])})
            after = await _state(machine, ident)
            transition = machine.transition(source, target)
            expected = transition is not None and (allowed_for_this_actor is None or allowed_for_this_actor(transition))
            if expected:
                assert response.status_code == 303, (source, target, response.status_code)
                assert after == (target, before[1] + 1, before[2] + 1), (source, target)
                last = await HistoryEntry.select(HistoryEntry.from_value, HistoryEntry.to_value).where(
                    (HistoryEntry.subject_type == machine.subject) & (HistoryEntry.subject_id == ident)
                ).order_by(HistoryEntry.id, ascending=False).first()
                assert last == {"from_value": source, "to_value": target}
                taken.append((source, target))
            else:
                assert response.status_code in (403, 409, 422), (source, target, response.status_code)
                assert after == before, (source, target)
                refused.append((source, target))
    return taken, refused


async def test_the_action_machine_allows_its_table_and_nothing_else(client, world):
    await client.login(EMAILS["ga_editor"])
    taken, refused = await _walk(client, ACTION, world.upcoming, f"/actions/{world.upcoming}/statut")
    # Any status may follow any other (the comment rules protect the record): 6 × 5 pairs.
    assert len(taken) == 30
    assert all(source == target or target == "inconnu" for source, target in refused)


async def test_the_commitment_machine_allows_its_table_and_nothing_else(client, world):
    pw = await build_partner_world(world)
    await client.login(PARTNER_EMAILS["sa_contact"])
    taken, _ = await _walk(
        client, COMMITMENT, pw.ga_commitment, f"/engagements/{pw.ga_commitment}/etat",
        allowed_for_this_actor=lambda t: "partner" in t.by,
    )
    assert sorted(taken) == [("confirme", "retire"), ("confirme", "tenu"), ("propose", "confirme"),
                             ("propose", "decline")]


async def test_an_editor_takes_only_the_commitment_transitions_of_the_territory(client, world):
    pw = await build_partner_world(world)
    await client.login(EMAILS["ga_editor"])
    taken, _ = await _walk(
        client, COMMITMENT, pw.ga_commitment, f"/engagements/{pw.ga_commitment}/etat",
        allowed_for_this_actor=lambda t: "territory" in t.by,
    )
    assert sorted(taken) == [("confirme", "retire"), ("confirme", "tenu")]


async def test_the_agreement_machine_allows_its_table_and_nothing_else(client, world):
    deal = await build_agreement_world(world)
    today = clock.today()

    async def prepare(source: str, target: str) -> None:
        # What each transition needs besides the table: every party signed, the end date passed only for « échu ».
        ends_on = today - timedelta(days=1) if target == "echu" else today + timedelta(days=400)
        await Agreement.update({Agreement.ends_on: ends_on}).where(Agreement.id == deal.agreement)
        await AgreementParty.update({AgreementParty.signed_on: today, AgreementParty.signed_at: clock.now()}).where(
            AgreementParty.agreement == deal.agreement)

    await client.login(EMAILS["ga_editor"])
    taken, refused = await _walk(client, AGREEMENT, deal.agreement, f"/contrats/{deal.agreement}/etat", prepare,
                                 allowed_for_this_actor=lambda t: "editor" in t.by)
    expected = sorted((t.source, t.target) for t in AGREEMENT.transitions if "editor" in t.by)
    assert sorted(taken) == expected and len(expected) == 13
    # Recording after the fact (brouillon → en vigueur) is never offered to the state form, nor accepted from it.
    assert ("brouillon", "en_vigueur") in refused and AGREEMENT.transition("brouillon", "en_vigueur").internal


async def test_the_obligation_machine_allows_its_table_and_nothing_else(client, world):
    deal = await build_agreement_world(world, state="en_vigueur")
    await client.login(EMAILS["ga_editor"])
    taken, refused = await _walk(client, OBLIGATION, deal.ga_brings, f"/obligations/{deal.ga_brings}/statut")
    assert len(taken) == 30
    assert all(source == target or target == "inconnu" for source, target in refused)


async def test_the_attachment_request_machine_allows_its_table_and_nothing_else(client, world):
    from tracker.partners.attachments import ATTACHMENT
    from tracker.partners.tables import PartnerAttachment

    request = PartnerAttachment(partner=world.ga_pilot, territory=world.vr, state="demande", version=1,
                                created_at=clock.now())
    await request.save()
    await client.login(EMAILS["ga_referent"])
    taken, _ = await _walk(client, ATTACHMENT, request.id, f"/rattachements/{request.id}/etat")
    assert sorted(taken) == [("demande", "accepte"), ("demande", "refuse")]


async def test_a_refused_side_writes_nothing_even_on_an_allowed_pair(client, world):
    """A lecteur posts a transition that the table allows: 403, nothing written."""
    await client.login(EMAILS["ga_reader"])
    before = await _state(ACTION, world.upcoming)
    response = await client.post(f"/actions/{world.upcoming}/statut",
                                 {"status": "en_cours", "comment": "", "version": str(before[1])})
    assert response.status_code == 403
    assert await _state(ACTION, world.upcoming) == before


async def test_the_amendment_machine_allows_its_table_and_nothing_else(client, world):
    """By the state form, editors submit, reopen and abandon; « en vigueur » comes only from the last signature."""
    deal = await build_agreement_world(world, state="en_vigueur")
    amendment_id, _ = await amendment(deal.agreement, new_ends_on=deal.ends_on + timedelta(days=100))
    await client.login(EMAILS["ga_editor"])
    taken, refused = await _walk(client, AMENDMENT, amendment_id, f"/contrats/{deal.agreement}/avenants/1/etat",
                                 allowed_for_this_actor=lambda t: "editor" in t.by)
    assert sorted(taken) == [("a_signer", "abandonne"), ("a_signer", "brouillon"), ("brouillon", "a_signer"),
                             ("brouillon", "abandonne")]
    assert ("a_signer", "en_vigueur") in refused


async def _reminder() -> int:
    from tracker.accounts.tables import User
    from tracker.deadlines.tables import Reminder

    admin = await User.select(User.id).where(User.email == EMAILS["admin"]).first()
    row = Reminder(key="echeances:test", kind="echeances", user=admin["id"], period="2026-11-02",
                   state=REMINDER.initial, attempts=0, last_error="", version=1, created_at=clock.now(),
                   updated_at=clock.now())
    await row.save()
    return row.id


async def test_an_administrator_takes_only_the_reminder_transitions_given_to_them(client, world):
    ident = await _reminder()
    await client.login(EMAILS["admin"])
    taken, _ = await _walk(client, REMINDER, ident, f"/rappels/{ident}/etat",
                           allowed_for_this_actor=lambda t: "admin" in t.by)
    assert sorted(taken) == [("a_envoyer", "annule"), ("echec", "annule"), ("interrompu", "a_envoyer"),
                             ("interrompu", "annule")]


async def test_the_daily_run_takes_the_reminder_transitions_given_to_it_and_nothing_else(world):
    from tracker.core.errors import DomainError

    ident = await _reminder()
    taken = []
    for source in REMINDER.labels:
        for target in REMINDER.labels:
            await REMINDER.table.update({REMINDER.state: source}).where(REMINDER.table.id == ident)
            before = await _state(REMINDER, ident)
            try:
                await system_change(ident, target, before[1], "Parce qu’il le fallait.")
            except DomainError:
                assert await _state(REMINDER, ident) == before
                continue
            assert await _state(REMINDER, ident) == (target, before[1] + 1, before[2] + 1)
            taken.append((source, target))
    assert sorted(taken) == sorted((t.source, t.target) for t in REMINDER.transitions if SYSTEM in t.by)


@pytest.mark.parametrize("machine", [ACTION, COMMITMENT, AGREEMENT, OBLIGATION, AMENDMENT, REMINDER, ATTACHMENT,
                                     INVITATION],
                         ids=lambda m: m.subject)
def test_every_machine_is_declared_as_data(machine):
    """Each machine's transitions only name its own states, and every required comment has a French message."""
    for transition in machine.transitions:
        assert transition.source in machine.labels and transition.target in machine.labels
        assert transition.source != transition.target
        assert transition.by
        assert transition.comment is None or transition.comment.endswith(".")
    assert machine.initial in machine.labels


async def test_the_invitation_machine_allows_its_table_and_nothing_else(make_client, world):
    """en_attente → revoquee (the sender's form), remplacee (re-sent), acceptee (the link): from any other state,
    each is refused with nothing written. Expiry is a date, not a state."""
    from tracker.members.tables import Invitation

    assert sorted((t.source, t.target) for t in INVITATION.transitions) == [
        ("en_attente", "acceptee"), ("en_attente", "remplacee"), ("en_attente", "revoquee")]
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    await referent.get("/territoires/200071827/membres")
    taken = []
    for source in INVITATION.labels:
        for target, path in (("revoquee", "revocation"), ("remplacee", "renvoi")):
            await Invitation.delete(force=True)
            ident = (await Invitation.insert(Invitation(
                email="machine@ga.example.org", territory=world.ga, role="lecteur", token_hash="h" * 64,
                state=source, created_at=clock.now(), expires_at=clock.now() + timedelta(days=7),
            )).returning(Invitation.id))[0]["id"]
            before = await _state(INVITATION, ident)
            response = await referent.post(f"/invitations/{ident}/{path}")
            if INVITATION.transition(source, target):
                assert response.status_code == 303 and (await _state(INVITATION, ident))[0] == target
                taken.append((source, target))
            else:
                assert response.status_code == 422, (source, target, response.status_code)
                assert await _state(INVITATION, ident) == before
    assert sorted(taken) == [("en_attente", "remplacee"), ("en_attente", "revoquee")]


async def test_obligations_and_their_statuses_use_the_version_in_the_update(client, world):
    """Two editors read the same version; the second one's change is refused as a conflict, nothing written."""
    deal = await build_agreement_world(world, state="en_vigueur")
    await client.login(EMAILS["ga_editor"])
    before = await _state(OBLIGATION, deal.ga_brings)
    first = await client.post(f"/obligations/{deal.ga_brings}/statut",
                              {"status": "en_cours", "version": str(before[1])})
    second = await client.post(f"/obligations/{deal.ga_brings}/statut",
                               {"status": "realisee", "version": str(before[1])})
    assert (first.status_code, second.status_code) == (303, 409)
    assert await _state(OBLIGATION, deal.ga_brings) == ("en_cours", before[1] + 1, before[2] + 1)
