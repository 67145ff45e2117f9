"""Reminders by email, read back from a real SMTP server on loopback (aiosmtpd): each is written down under a unique
key before it is sent, so that `quotidien` run twice, or twice at the same moment, sends it once; a failing SMTP
server is retried and the failure shown to administrators; a crash resumes without repeating; preferences and the
one-click stop link (no sign-in, its own person only) turn reminders off; deactivated accounts and erased contacts
get nothing; a partner's unanswered commitment gets a fresh signed link."""
from __future__ import annotations

import asyncio
import html
import os
import re
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deadline_world import NOON, build_dated_world
from tests.factories import AGREEMENT_EMAILS, EMAILS, PARTNER_EMAILS, build_partner_world
from tests.test_signed_links import _free_port, inbox, link_in  # noqa: F401 - `inbox`: the SMTP fixture
from tracker.accounts.tables import User
from tracker.commitments.tables import CommitmentLink
from tracker.core import clock
from tracker.deadlines.daily import run_daily
from tracker.deadlines.tables import Reminder, ReminderItem, ReminderPreference
from tracker.history.tables import HistoryEntry

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
ROUTES_COVERED = {
    ("POST", "/compte/echeances"),
    ("GET", "/territoires/{siren:str}/rappels"),
    ("POST", "/territoires/{siren:str}/rappels"),
    ("GET", "/rappels"),
    ("POST", "/rappels/{reminder_id:str}/etat"),
    ("GET", "/rappels/arret/{kind:str}/{token:str}"),
    ("POST", "/rappels/arret/{kind:str}/{token:str}"),
}
GA = "200071827"
DEADLINES = re.compile(r"^\d+ échéances? (à suivre|en retard)")


async def run(at=NOON, **kwargs):
    with clock.fixed_at(at):
        return await run_daily(**kwargs)


def to(inbox, address: str, kind: str | None = None) -> list:
    """The messages sent to an address; `kind`: « echeances », « codir », « reseau », « engagement »."""
    found = [m for m in inbox.messages if m["To"] == address]
    if kind == "echeances":
        found = [m for m in found if DEADLINES.match(m["Subject"])]
    elif kind == "codir":
        found = [m for m in found if m["Subject"].startswith("Point hebdomadaire du CODIR\u00a0: ")]
    elif kind == "reseau":
        found = [m for m in found if m["Subject"].startswith("Synthèse mensuelle")]
    elif kind == "engagement":
        found = [m for m in found if "engagement" in m["Subject"].lower()]
    return found


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\u00a0", " ").replace("\u202f", " ")


def no_duplicate(inbox) -> None:
    counts = Counter((m["To"], m["Subject"]) for m in inbox.messages)
    assert all(n == 1 for n in counts.values()), [k for k, n in counts.items() if n > 1]


async def items_of(email: str) -> set[tuple[str, str]]:
    """(« kind-id », step) of every deadline written down for this user."""
    user = await User.select(User.id).where(User.email == email).first()
    rows = await ReminderItem.select(ReminderItem.subject, ReminderItem.subject_id, ReminderItem.step).where(
        ReminderItem.reminder.user == user["id"])
    return {(f"{r['subject']}-{r['subject_id']}", r["step"]) for r in rows}


# Worked out by hand on Monday 2 November 2026, with the default rules (30 and 7 days before, weekly when late).
STEPS_ON_2_NOVEMBER = {
    "Étude de faisabilité": "retard-1",  # 20 October: 13 days late, second week
    "Réunion de lancement": "avant-7",  # today
    "Diagnostic partagé": "avant-7",  # in 6 days
    "Charte des associations": "avant-7",  # in 7 days
    "Comité de suivi": "avant-30",  # in 13 days
    "Plan de formation": "avant-30",  # in 14 days
    "Bilan intermédiaire": "avant-30",  # in 28 days
    "Évaluation finale": "avant-30",  # in 29 days
    "Audit confidentiel du délégataire": "avant-7",  # in 2 days
    "Portage de repas": "avant-30",  # in 18 days
    "Apport du Grand Angoulême": "avant-30",  # 10 November: in 8 days
    "Revue annuelle": "avant-30",  # in 18 days
}


async def test_quotidien_run_twice_sends_each_reminder_once(world, inbox):
    dated = await build_dated_world(world)
    first = await run()
    assert not first.failed and first.sending.sent
    editor = to(inbox, EMAILS["ga_editor"], "echeances")
    assert len(editor) == 1
    assert await items_of(EMAILS["ga_editor"]) == {(dated.ids[n], s) for n, s in STEPS_ON_2_NOVEMBER.items()}
    body = text_of(editor[0])
    for name in STEPS_ON_2_NOVEMBER:
        if dated.ids[name].startswith("action-"):
            assert name in body
    assert "Carte des tiers-lieux" not in body and "Engagement de Solidarité" not in body
    assert "Échéance : 20 octobre 2026 (il y a 13 jours) — En retard" in body
    assert f"http://127.0.0.1:8000/actions/{dated.late}" in body
    assert editor[0]["Subject"] == "12 échéances à suivre, dont 1 en retard"
    # A reader is not reminded; the partner's contacts are, of their own part.
    assert to(inbox, EMAILS["ga_reader"], "echeances") == []
    partner = text_of(to(inbox, "jeanne.martin@solidarite-angoumois.example.org", "echeances")[0])
    assert "Portage de repas" in partner and "Engagement de Solidarité Angoumois" in partner
    assert "Audit confidentiel" not in partner and "http://127.0.0.1:8000/actions" not in partner  # no account
    sent = len(inbox.messages)
    reminders = await Reminder.count()
    assert sent == reminders == len(first.sending.sent)

    second = await run()
    assert second.planned == [] and second.sending.sent == []
    assert len(inbox.messages) == sent and await Reminder.count() == reminders
    no_duplicate(inbox)

    # The next day, only what reached a new step: the obligation is now 7 days away, yesterday's meeting is late.
    await run(NOON + timedelta(days=1))
    again = to(inbox, EMAILS["ga_editor"], "echeances")
    assert len(again) == 2
    assert again[1]["Subject"] == "2 échéances à suivre, dont 1 en retard"
    assert "Ouvrir le centre de santé aux habitants" in text_of(again[1])
    assert "Réunion de lancement" in text_of(again[1]) and "(hier) — En retard" in text_of(again[1])
    assert "Diagnostic partagé" not in text_of(again[1]) and "Étude de faisabilité" not in text_of(again[1])
    # Two days later the late action is in its third week: reminded again, once.
    await run(NOON + timedelta(days=2))
    await run(NOON + timedelta(days=2))
    third = to(inbox, EMAILS["ga_editor"], "echeances")
    assert len(third) == 3 and "Étude de faisabilité" in text_of(third[2])
    no_duplicate(inbox)


async def test_the_weekly_codir_digest_and_the_monthly_adgcf_digest(world, inbox):
    await build_dated_world(world)
    await run()
    digest = to(inbox, EMAILS["ga_reader"], "codir")
    assert len(digest) == 1
    body = text_of(digest[0])
    assert "ÉCHÉANCES DES 30 PROCHAINS JOURS" in body and "Réunion de lancement" in body
    assert f"/territoires/{GA}/point-codir" in body
    assert "Évaluation finale" in body  # 1 December: within 30 days
    assert to(inbox, EMAILS["reviewer"], "reseau") and "Étude de faisabilité" in text_of(
        to(inbox, EMAILS["reviewer"], "reseau")[0])
    # Charente Limousine has no roadmap: no CODIR digest; the same week and month, nothing more.
    assert to(inbox, AGREEMENT_EMAILS["cl_reader"]) == []
    await run(NOON + timedelta(days=3))
    assert len(to(inbox, EMAILS["ga_reader"], "codir")) == 1 and len(to(inbox, EMAILS["reviewer"], "reseau")) == 1
    await run(NOON + timedelta(days=7))  # the next week
    assert len(to(inbox, EMAILS["ga_reader"], "codir")) == 2


async def test_two_runs_at_the_same_moment_send_no_duplicate(world, inbox):
    await build_dated_world(world)
    with clock.fixed_at(NOON):
        one, two = await asyncio.gather(run_daily(), run_daily())
    assert len(one.sending.sent) + len(two.sending.sent) == len(inbox.messages) == await Reminder.count()
    assert await Reminder.count() == await Reminder.count().where(Reminder.state == "envoye")
    no_duplicate(inbox)
    assert len(to(inbox, EMAILS["ga_editor"], "echeances")) == 1


async def test_two_processes_started_together_send_no_duplicate(world, inbox):
    """Two `python -m tracker quotidien` against the same database (PostgreSQL, or the SQLite file), at once."""
    await build_partner_world(world)

    async def quotidien():
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tracker", "quotidien", cwd=ROOT, env=os.environ.copy(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    processes = [await quotidien(), await quotidien()]
    outputs = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert inbox.messages, outputs
    no_duplicate(inbox)
    assert len(inbox.messages) == await Reminder.count() == await Reminder.count().where(Reminder.state == "envoye")
    # The world's late action (10 days) and upcoming one (30 days) reach Grand Angoulême's éditeurs once.
    assert len(to(inbox, EMAILS["ga_editor"], "echeances")) == 1
    printed = [out.decode() for out, _ in outputs]
    assert sum(int(re.search(r"Envoyés : (\d+)\.", text).group(1)) for text in printed) == len(inbox.messages)


async def test_an_smtp_failure_is_retried_and_shown_to_administrators(make_client, world, inbox, monkeypatch):
    await build_dated_world(world)
    port = os.environ["SMTP_PORT"]
    monkeypatch.setenv("SMTP_PORT", str(_free_port()))  # nobody listens there
    failed = await run()
    assert failed.failed and failed.sending.sent == [] and inbox.messages == []
    waiting = await Reminder.count()
    assert waiting and await Reminder.count().where(Reminder.state == "echec") == waiting
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    board = await admin.get("/rappels")
    assert board.status_code == 200
    text = html.unescape(board.text)
    assert f"À surveiller ({waiting})" in text and "ConnectionRefusedError" in text and EMAILS["ga_editor"] in text
    for person in ("ga_editor", "reviewer"):
        other = await make_client()
        await other.login(EMAILS[person])
        assert (await other.get("/rappels")).status_code == 403

    monkeypatch.setenv("SMTP_PORT", port)
    retried = await run(NOON + timedelta(hours=2))
    assert len(retried.sending.sent) == waiting == len(inbox.messages)
    await run(NOON + timedelta(hours=3))
    assert len(inbox.messages) == waiting
    no_duplicate(inbox)
    reminder = await Reminder.select(Reminder.id, Reminder.attempts).where(
        Reminder.user == (await User.select(User.id).where(User.email == EMAILS["ga_editor"]).first())["id"]).first()
    assert reminder["attempts"] == 2
    steps = await HistoryEntry.select(HistoryEntry.from_value, HistoryEntry.to_value).where(
        (HistoryEntry.subject_type == "reminder") & (HistoryEntry.subject_id == reminder["id"])).order_by(HistoryEntry.id)
    assert [(s["from_value"], s["to_value"]) for s in steps] == [
        ("", "a_envoyer"), ("a_envoyer", "en_envoi"), ("en_envoi", "echec"), ("echec", "en_envoi"),
        ("en_envoi", "envoye")]
    assert "Aucun rappel en échec" in html.unescape((await admin.get("/rappels")).text)


class Crash(BaseException):
    """The process dies (killed, machine stopped): nothing in the run can catch it."""


async def test_a_crash_in_the_middle_resumes_without_repeating(make_client, world, inbox, monkeypatch):
    await build_dated_world(world)
    from tracker.deadlines import send

    real = send.send_mail
    calls = []

    async def dies_on_the_third(**kwargs):
        calls.append(kwargs["to"])
        if len(calls) == 3:
            raise Crash()
        await real(**kwargs)

    monkeypatch.setattr(send, "send_mail", dies_on_the_third)
    with pytest.raises(Crash):
        await run()
    assert len(inbox.messages) == 2
    in_flight = await Reminder.select(Reminder.id).where(Reminder.state == "en_envoi").first()
    assert in_flight is not None
    monkeypatch.setattr(send, "send_mail", real)

    # The next run, later: the two sent are not sent again; the one in flight may have left: not sent again either.
    resumed = await run(NOON + timedelta(minutes=30))
    assert len(resumed.sending.interrupted) == 1
    total = await Reminder.count()
    assert len(inbox.messages) == total - 1
    no_duplicate(inbox)
    row = await Reminder.select(Reminder.state, Reminder.version).where(Reminder.id == in_flight["id"]).first()
    assert row["state"] == "interrompu"

    # An administrator sees it and asks for it to be sent again, saying why; the next run sends it.
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    assert "Interrompu" in (await admin.get("/rappels")).text
    missing = await admin.post(f"/rappels/{in_flight['id']}/etat", {"status": "a_envoyer", "version": str(row["version"])})
    assert missing.status_code == 422
    resend = await admin.post(f"/rappels/{in_flight['id']}/etat", {
        "status": "a_envoyer", "comment": "Le destinataire ne l’a pas reçu.", "version": str(row["version"])})
    assert resend.status_code == 303
    await run(NOON + timedelta(minutes=40))
    assert len(inbox.messages) == total
    no_duplicate(inbox)


async def test_preferences_turn_reminders_off(client, world, inbox):
    await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    page = await client.get("/compte/echeances")
    assert page.status_code == 200
    fields = dict(client.form("/compte/echeances").fields)
    assert fields["echeances"] == fields["codir"] == "1"
    fields.pop("echeances")  # untick « Rappels d’échéance »
    saved = await client.post("/compte/echeances", fields)
    assert saved.status_code == 303
    await run()
    assert to(inbox, EMAILS["ga_editor"], "echeances") == []
    assert len(to(inbox, EMAILS["ga_editor"], "codir")) == 1  # the other kinds still come
    assert len(to(inbox, EMAILS["ga_referent"], "echeances")) == 1  # and others still get theirs
    # Nothing ticked: no mail at all.
    await client.get("/compte/echeances")
    await client.post("/compte/echeances", {})
    await run(NOON + timedelta(days=7))
    assert len(to(inbox, EMAILS["ga_editor"])) == 1


async def test_a_preference_turned_off_after_planning_cancels_the_reminder(client, world, inbox, monkeypatch):
    await build_dated_world(world)
    port = os.environ["SMTP_PORT"]
    monkeypatch.setenv("SMTP_PORT", str(_free_port()))
    await run()  # written down, not sent
    monkeypatch.setenv("SMTP_PORT", port)
    await client.login(EMAILS["ga_editor"])
    await client.get("/compte/echeances")
    await client.post("/compte/echeances", {"codir": "1", "engagements": "1", "reseau": "1"})
    await run(NOON + timedelta(hours=1))
    assert to(inbox, EMAILS["ga_editor"], "echeances") == []
    cancelled = await Reminder.select(Reminder.state).where(
        Reminder.key.like("echeances:u%") & (Reminder.state == "annule"))
    assert len(cancelled) == 1


async def test_the_stop_link_works_without_signing_in_and_only_for_its_own_person(make_client, world, inbox):
    await build_dated_world(world)
    await run()
    message = to(inbox, EMAILS["ga_editor"], "echeances")[0]
    header = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header in text_of(message) and header in message.get_body(("html",)).get_content()
    path = urlsplit(header).path
    anonymous = await make_client()
    page = await anonymous.get(path)  # opening the page (or a link checker) changes nothing
    assert page.status_code == 200 and "Ne plus recevoir ces courriels" in page.text
    assert not await ReminderPreference.exists()

    # Someone else's reference under this signature: refused, nothing changes.
    referent = await User.select(User.id).where(User.email == EMAILS["ga_referent"]).first()
    forged = re.sub(r"/u\d+-", f"/u{referent['id']}-", path)
    assert (await anonymous.get(forged)).status_code == 404
    assert (await anonymous.post(forged, {"List-Unsubscribe": "One-Click"}, csrf=False)).status_code == 404
    assert (await anonymous.post(path + "x", {"List-Unsubscribe": "One-Click"}, csrf=False)).status_code == 404
    assert (await anonymous.get(path.replace("/echeances/", "/inconnu/"))).status_code == 404
    assert not await ReminderPreference.exists()

    # The mail program's one click (RFC 8058): a POST without session nor CSRF token.
    stopped = await anonymous.post(path, {"List-Unsubscribe": "One-Click"}, csrf=False)
    assert stopped.status_code == 200 and "C’est fait" in html.unescape(stopped.text)
    editor = await User.select(User.id).where(User.email == EMAILS["ga_editor"]).first()
    prefs = await ReminderPreference.select().where(ReminderPreference.user == editor["id"]).first()
    assert (prefs["deadlines"], prefs["codir"], prefs["commitments"], prefs["network"]) == (False, True, True, True)
    assert await ReminderPreference.count() == 1  # nobody else's

    await run(NOON + timedelta(days=2))
    assert len(to(inbox, EMAILS["ga_editor"], "echeances")) == 1
    assert len(to(inbox, EMAILS["ga_referent"], "echeances")) == 2

    # « Ne plus recevoir aucun courriel » from the same link: every kind off.
    everything = await anonymous.post(path, {"tout": "1"}, csrf=False)
    assert everything.status_code == 200
    prefs = await ReminderPreference.select().where(ReminderPreference.user == editor["id"]).first()
    assert not any(prefs[k] for k in ("deadlines", "codir", "commitments", "network"))


async def test_nothing_goes_to_a_deactivated_account_or_an_erased_contact(make_client, world, inbox, monkeypatch):
    dated = await build_dated_world(world)
    await User.update({User.is_active: False}).where(User.email == EMAILS["ga_referent"])
    port = os.environ["SMTP_PORT"]
    monkeypatch.setenv("SMTP_PORT", str(_free_port()))
    await run()  # Jeanne Martin's reminder is written down, then she is erased before it leaves
    monkeypatch.setenv("SMTP_PORT", port)
    referent = await make_client()
    await User.update({User.is_active: True}).where(User.email == EMAILS["ga_referent"])
    await referent.login(EMAILS["ga_referent"])
    erased = await referent.submit(f"/contacts/{dated.sa_volunteer}/effacer", f"/contacts/{dated.sa_volunteer}/effacer",
                                   {"confirmation": "1"})
    assert erased.status_code == 303
    await User.update({User.is_active: False}).where(User.email == EMAILS["ga_referent"])
    await run(NOON + timedelta(hours=1))
    assert to(inbox, EMAILS["ga_referent"]) == []
    assert to(inbox, "jeanne.martin@solidarite-angoumois.example.org") == []
    assert len(to(inbox, EMAILS["ga_editor"], "echeances")) == 1
    gone = await Reminder.select(Reminder.state).where(Reminder.contact == dated.sa_volunteer).first()
    assert gone["state"] == "annule"
    assert not await Reminder.exists().where(
        Reminder.user == (await User.select(User.id).where(User.email == EMAILS["ga_referent"]).first())["id"])


async def test_an_unanswered_commitment_gets_a_fresh_signed_link_once(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    with clock.fixed_at(NOON - timedelta(days=8)):
        sent = await editor.submit(f"/engagements/{pw.ga_commitment}/envoyer",
                                   f"/engagements/{pw.ga_commitment}/envoyer", {"contact": str(pw.sa_volunteer)})
    assert sent.status_code == 303
    address = "jeanne.martin@solidarite-angoumois.example.org"
    first_path, _ = link_in(to(inbox, address)[0])
    await run()
    relances = [m for m in to(inbox, address) if m["Subject"].startswith("Rappel")]
    assert len(relances) == 1
    assert relances[0]["List-Unsubscribe"] and "/rappels/arret/engagements/" in relances[0]["List-Unsubscribe"]
    new_path, _ = link_in(relances[0])
    assert new_path != first_path
    visitor = await make_client()
    with clock.fixed_at(NOON):
        assert (await visitor.get(first_path)).status_code == 410  # replaced
        assert (await visitor.get(new_path)).status_code == 200
    await run(NOON + timedelta(days=1))
    await run(NOON + timedelta(days=8))
    assert len([m for m in to(inbox, address) if m["Subject"].startswith("Rappel")]) == 1
    assert await CommitmentLink.count() == 2

    # Sent again by the territory, the new link gets its own reminder, a week after it was sent.
    with clock.fixed_at(NOON + timedelta(days=9)):
        again = await editor.submit(f"/engagements/{pw.ga_commitment}/envoyer",
                                    f"/engagements/{pw.ga_commitment}/envoyer", {"contact": str(pw.sa_volunteer)})
    assert again.status_code == 303
    await run(NOON + timedelta(days=15))
    assert len([m for m in to(inbox, address) if m["Subject"].startswith("Rappel")]) == 1
    await run(NOON + timedelta(days=16))
    assert len([m for m in to(inbox, address) if m["Subject"].startswith("Rappel")]) == 2
    assert PARTNER_EMAILS["sa_contact"] not in {m["To"] for m in inbox.messages}  # the contact it was not sent to


async def test_a_link_sent_less_than_a_week_ago_is_not_reminded(make_client, world, inbox):
    pw = await build_partner_world(world)
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    with clock.fixed_at(NOON - timedelta(days=6)):
        await editor.submit(f"/engagements/{pw.ga_commitment}/envoyer", f"/engagements/{pw.ga_commitment}/envoyer",
                            {"contact": str(pw.sa_volunteer)})
    await run()
    assert [m for m in inbox.messages if m["Subject"].startswith("Rappel")] == []


async def test_dry_run_lists_and_writes_nothing(world, inbox):
    await build_dated_world(world)
    report = await run(dry_run=True)
    lines = "\n".join(report.lines(True))
    assert "Simulation" in lines and f"<{EMAILS['ga_editor']}>" in lines and "Rappel d’échéances" in lines
    assert await Reminder.count() == 0 and inbox.messages == []
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tracker", "quotidien", "--dry-run", cwd=ROOT, env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err
    assert "rien n’est écrit ni envoyé" in out.decode()
    assert await Reminder.count() == 0 and inbox.messages == []


async def test_a_referent_sets_the_territory_s_reminders(make_client, world, inbox):
    await build_dated_world(world)
    referent = await make_client()
    await referent.login(EMAILS["ga_referent"])
    page = await referent.get(f"/territoires/{GA}/rappels")
    assert page.status_code == 200
    form = referent.form(f"/territoires/{GA}/rappels")
    assert (form.fields["first_days"], form.fields["second_days"]) == ("30", "7")
    wrong = await referent.post(f"/territoires/{GA}/rappels", {**form.fields, "first_days": "5", "second_days": "10"})
    assert wrong.status_code == 422 and "Le second rappel doit venir après le premier" in html.unescape(wrong.text)
    fields = {**form.fields, "first_days": "0", "second_days": "3"}
    fields.pop("codir_digest")  # no weekly digest
    fields.pop("overdue_weekly")  # no reminder once late
    saved = await referent.post(f"/territoires/{GA}/rappels", fields)
    assert saved.status_code == 303
    stale = await referent.post(f"/territoires/{GA}/rappels", fields)  # the same form again: version 0 is stale
    assert stale.status_code == 409
    await run()
    body = text_of(to(inbox, EMAILS["ga_editor"], "echeances")[0])
    # Only what is due within 3 days: today's meeting and the confidential audit (in 2 days); not the late one.
    assert "Réunion de lancement" in body and "Audit confidentiel" in body
    assert "Étude de faisabilité" not in body and "Diagnostic partagé" not in body
    assert to(inbox, EMAILS["ga_reader"], "codir") == []
    assert len(to(inbox, EMAILS["vr_editor"], "codir")) == 1  # Valence keeps its own settings
    # Others may read the settings but not change them.
    for person, expected in (("ga_editor", 403), ("reviewer", 403), ("vr_editor", 404)):
        other = await make_client()
        await other.login(EMAILS[person])
        assert (await other.get(f"/territoires/{GA}/rappels")).status_code == (404 if expected == 404 else 200)
        theirs = {k: v for k, v in fields.items() if k != "_csrf_token"}  # their own page's token
        response = await other.post(f"/territoires/{GA}/rappels", {**theirs, "version": "1"})
        assert response.status_code == expected, response.text
    admin = await make_client()
    await admin.login(EMAILS["admin"])  # help desk: as the référent
    form = (await admin.get(f"/territoires/{GA}/rappels")) and admin.form(f"/territoires/{GA}/rappels")
    assert (await admin.post(f"/territoires/{GA}/rappels", {**form.fields, "first_days": "20"})).status_code == 303


@pytest.mark.parametrize("changes,field", [
    ({"first_days": "abc"}, "Premier rappel"),
    ({"second_days": "-1"}, "Second rappel"),
    ({"first_days": "999"}, "Premier rappel"),
    ({"version": ""}, "Version"),
])
async def test_bad_settings_are_refused_in_french_and_change_nothing(client, world, changes, field):
    from tracker.deadlines.tables import ReminderSettings

    await client.login(EMAILS["ga_referent"])
    await client.get(f"/territoires/{GA}/rappels")
    fields = {**client.form(f"/territoires/{GA}/rappels").fields, **changes}
    response = await client.post(f"/territoires/{GA}/rappels", fields)
    assert response.status_code == 422 and field in html.unescape(response.text)
    assert await ReminderSettings.count() == 0


async def test_an_administrator_may_give_up_a_failed_reminder_others_may_not(make_client, world, inbox, monkeypatch):
    await build_dated_world(world)
    port = os.environ["SMTP_PORT"]
    monkeypatch.setenv("SMTP_PORT", str(_free_port()))
    await run()
    monkeypatch.setenv("SMTP_PORT", port)
    row = await Reminder.select(Reminder.id, Reminder.version).order_by(Reminder.id).first()
    editor = await make_client()
    await editor.login(EMAILS["ga_editor"])
    refused = await editor.post(f"/rappels/{row['id']}/etat", {"status": "annule", "comment": "x",
                                                                "version": str(row["version"])})
    assert refused.status_code == 403
    admin = await make_client()
    await admin.login(EMAILS["admin"])
    gave_up = await admin.post(f"/rappels/{row['id']}/etat", {"status": "annule", "comment": "Adresse fausse.",
                                                              "version": str(row["version"])})
    assert gave_up.status_code == 303
    stale = await admin.post(f"/rappels/{row['id']}/etat", {"status": "annule", "comment": "Encore.",
                                                            "version": str(row["version"])})
    assert stale.status_code == 409
    sending = await admin.post(f"/rappels/{row['id']}/etat", {"status": "envoye", "comment": "x",
                                                              "version": str(row["version"] + 1)})
    assert sending.status_code == 422  # only the daily run sends
    await run(NOON + timedelta(hours=1))
    assert len(inbox.messages) == await Reminder.count() - 1


async def test_quotidien_also_declares_ended_agreements_expired(world, inbox):
    from tests.factories import build_agreement_world
    from tracker.agreements.tables import Agreement

    deal = await build_agreement_world(world, state="en_vigueur")
    await Agreement.update({Agreement.ends_on: NOON.date() - timedelta(days=1)}).where(Agreement.id == deal.agreement)
    dry = await run(dry_run=True)
    assert dry.expired == [deal.agreement]
    assert (await Agreement.select(Agreement.state).where(Agreement.id == deal.agreement).first())["state"] == "en_vigueur"
    report = await run()
    assert report.expired == [deal.agreement]
    assert (await Agreement.select(Agreement.state).where(Agreement.id == deal.agreement).first())["state"] == "echu"
    entry = await HistoryEntry.select(HistoryEntry.to_value, HistoryEntry.actor).where(
        (HistoryEntry.subject_type == "agreement") & (HistoryEntry.subject_id == deal.agreement)).first()
    assert entry == {"to_value": "echu", "actor": None}


async def test_quotidien_exits_with_1_when_a_mail_could_not_be_sent(world, inbox, monkeypatch):
    monkeypatch.setenv("SMTP_PORT", str(_free_port()))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tracker", "quotidien", cwd=ROOT, env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 1, (out, err)
    assert "En échec (réessayés au prochain passage)" in out.decode()
    assert await Reminder.count() == await Reminder.count().where(Reminder.state == "echec") > 0
