"""Calendar feeds (/calendrier/{token}.ics): created on the person's « Rappels et calendriers » page, shown once,
parsed here with `icalendar`: exactly the expected all-day events, UIDs stable across changes, what is no longer due
cancelled, a link back to each page; revoked or renewed addresses answer 404; a territory's feed never shows
another territory's confidential actions."""
import html
import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar

from tests.deadline_world import BOTH_EMAIL, NOON, build_dated_world
from tests.factories import EMAILS
from tracker.accounts.tables import User
from tracker.core import clock
from tracker.deadlines.tables import CalendarFeed

pytestmark = pytest.mark.anyio

ROUTES_COVERED = {
    ("GET", "/calendrier/{name:str}"),
    ("GET", "/compte/echeances"),
    ("POST", "/compte/calendriers"),
    ("POST", "/compte/calendriers/{feed_id:str}/revoquer"),
}
GA, VR = "200071827", "200068781"
FEED = re.compile(r'value="(https?://[^"]+/calendrier/([A-Za-z0-9_-]{43})\.ics)"')
HOST = "127.0.0.1"  # BASE_URL's host: the UIDs' domain


async def subscribe(client, fields: dict) -> tuple[str, str]:
    """Create (or renew) a calendar as the page's form does; returns (address, token) shown once."""
    await client.get("/compte/echeances")
    response = await client.post("/compte/calendriers", fields)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    found = FEED.search(response.text)
    assert found, response.text
    return found.group(1), found.group(2)


async def events_of(client, token: str) -> dict[str, dict]:
    """UID → the event's properties, read with icalendar."""
    with clock.fixed_at(NOON):
        response = await client.get(f"/calendrier/{token}.ics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"  # one charset
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["X-WR-TIMEZONE"] == "Europe/Paris"
    assert calendar["METHOD"] == "PUBLISH" and str(calendar["X-PUBLISHED-TTL"]) == "PT3H"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=3)
    assert re.fullmatch(rf"calendrier-\d+@{re.escape(HOST)}", str(calendar["UID"]))
    assert b"\r\n" in response.content and b"\n" not in response.content.replace(b"\r\n", b"")
    found = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event["UID"])
        assert uid not in found, f"UID en double : {uid}"
        found[uid] = {
            "summary": str(event["SUMMARY"]),
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "status": str(event["STATUS"]),
            "url": str(event["URL"]),
            "sequence": int(event["SEQUENCE"]),
        }
    return found


def uid(kind_id: str) -> str:
    return f"{kind_id}@{HOST}"


async def test_a_person_s_feed_holds_exactly_their_deadlines_as_all_day_events(client, world):
    dated = await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    address, token = await subscribe(client, {"portee": "personne"})
    events = await events_of(client, token)
    # Everything of theirs with a date, the closed ones included (cancelled), nothing else.
    names = [n for n in dated.ids if n not in ("Apport de Charente Limousine",)]
    assert set(events) == {uid(dated.ids[n]) for n in names}
    late = events[uid(dated.ids["Étude de faisabilité"])]
    assert late["start"] == date(2026, 10, 20) and late["end"] == date(2026, 10, 21)  # all day (DATE values)
    assert late["summary"] == "Étude de faisabilité — En retard" and late["status"] == "CONFIRMED"
    assert late["url"] == f"http://{HOST}:8000/actions/{dated.late}"
    for name in dated.closed:
        assert events[uid(dated.ids[name])]["status"] == "CANCELLED"
    assert events[uid(dated.ids["Carte des tiers-lieux"])]["summary"].endswith("— Réalisée")
    assert events[uid(dated.ids["Engagement de Solidarité Angoumois"])]["start"] == date(2026, 11, 6)
    assert events[uid(dated.ids["Fin du contrat"])]["start"] == date(2029, 12, 31)
    assert address.startswith("http://127.0.0.1:8000/calendrier/")


async def test_uids_are_stable_and_a_realised_action_becomes_a_cancelled_event(client, world):
    dated = await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    _, token = await subscribe(client, {"portee": "personne"})
    before = await events_of(client, token)
    assert await events_of(client, token) == before  # read twice: the same events, the same UIDs
    with clock.fixed_at(NOON):
        changed = await client.submit(f"/actions/{dated.late}", f"/actions/{dated.late}/statut",
                                      {"status": "realisee", "comment": "Étude rendue."})
    assert changed.status_code == 303
    after = await events_of(client, token)
    assert set(after) == set(before)
    event = after[uid(dated.ids["Étude de faisabilité"])]
    assert event["status"] == "CANCELLED" and event["summary"] == "Étude de faisabilité — Réalisée"
    assert event["sequence"] == before[uid(dated.ids["Étude de faisabilité"])]["sequence"] + 1


async def test_a_territory_s_feed_never_shows_another_territory_s_confidential_actions(make_client, world):
    dated = await build_dated_world(world)
    both = await make_client()
    await both.login(BOTH_EMAIL)  # éditrice of both: she may see Valence's confidential action…
    _, mine = await subscribe(both, {"portee": "personne"})
    assert uid(f"action-{dated.vr_secret}") in await events_of(both, mine)
    _, ga_feed = await subscribe(both, {"portee": "territoire", "territoire": GA})
    ga_events = await events_of(both, ga_feed)
    # …but Grand Angoulême's feed holds Grand Angoulême's deadlines only.
    assert uid(f"action-{dated.vr_secret}") not in ga_events
    assert uid(f"action-{world.vr_action}") not in ga_events
    assert uid(dated.ids["Audit confidentiel du délégataire"]) in ga_events
    reviewer = await make_client()
    await reviewer.login(EMAILS["reviewer"])
    _, seen_by_adgcf = await subscribe(reviewer, {"portee": "territoire", "territoire": GA})
    adgcf_events = await events_of(reviewer, seen_by_adgcf)
    assert uid(dated.ids["Audit confidentiel du délégataire"]) not in adgcf_events
    assert set(ga_events) - set(adgcf_events) == {uid(dated.ids["Audit confidentiel du délégataire"])}


async def test_a_partner_s_feed_holds_its_commitments_and_piloted_actions_only(client, world):
    dated = await build_dated_world(world)
    await client.login("contact@solidarite-angoumois.example.org")
    _, token = await subscribe(client, {"portee": "partenaire", "partenaire": str(world.ga_pilot)})
    assert set(await events_of(client, token)) == {
        uid(dated.ids["Engagement de Solidarité Angoumois"]), uid(dated.ids["Portage de repas"])}


async def test_a_revoked_or_renewed_address_answers_404(client, world):
    await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    _, first = await subscribe(client, {"portee": "personne"})
    _, second = await subscribe(client, {"portee": "personne"})  # renewing revokes the first address
    assert (await client.get(f"/calendrier/{first}.ics")).status_code == 404
    assert (await client.get(f"/calendrier/{second}.ics")).status_code == 200
    feed = await CalendarFeed.select(CalendarFeed.id).where(CalendarFeed.revoked_at.is_null()).first()
    page = await client.get("/compte/echeances")
    assert f"/compte/calendriers/{feed['id']}/revoquer" in page.text and second not in page.text  # shown once
    revoked = await client.post(f"/compte/calendriers/{feed['id']}/revoquer")
    assert revoked.status_code == 303
    gone = await client.get(f"/calendrier/{second}.ics")
    assert gone.status_code == 404 and "révoqué" in html.unescape(gone.text)
    # Only the SHA-256 of a token is kept.
    assert not await CalendarFeed.exists().where(CalendarFeed.token_hash == second)


async def test_a_feed_follows_its_owner_s_rights(make_client, world):
    await build_dated_world(world)
    owner = await make_client()
    await owner.login(EMAILS["ga_editor"])
    _, token = await subscribe(owner, {"portee": "territoire", "territoire": GA})
    await User.update({User.is_active: False}).where(User.email == EMAILS["ga_editor"])
    assert (await owner.get(f"/calendrier/{token}.ics")).status_code == 404


@pytest.mark.parametrize("path", ["/calendrier/inconnu.ics", "/calendrier/" + "A" * 43 + ".ics",
                                  "/calendrier/" + "A" * 43, "/calendrier/%00.ics"])
async def test_a_forged_address_is_a_404(client, world, path):
    response = await client.get(path)
    assert response.status_code == 404


async def test_who_may_create_which_calendar(make_client, world):
    await build_dated_world(world)
    other = await make_client()
    await other.login(EMAILS["vr_editor"])
    await other.get("/compte/echeances")
    assert (await other.post("/compte/calendriers", {"portee": "territoire", "territoire": GA})).status_code == 404
    assert (await other.post("/compte/calendriers", {"portee": "partenaire", "partenaire": str(world.ga_pilot)})
            ).status_code == 404
    bad = await other.post("/compte/calendriers", {"portee": "planete"})
    assert bad.status_code == 422 and "Calendrier" in html.unescape(bad.text)
    assert (await other.post("/compte/calendriers", {"portee": "territoire", "territoire": "12"})).status_code == 422
    assert await CalendarFeed.count() == 0
    # Nobody revokes someone else's address.
    owner = await make_client()
    await owner.login(EMAILS["ga_editor"])
    await subscribe(owner, {"portee": "personne"})
    feed = await CalendarFeed.select(CalendarFeed.id).first()
    assert (await other.post(f"/compte/calendriers/{feed['id']}/revoquer")).status_code == 404
    assert await CalendarFeed.exists().where(CalendarFeed.revoked_at.is_null())
    anonymous = await make_client()
    assert (await anonymous.get("/compte/echeances")).status_code == 303


async def test_the_feed_is_read_in_a_fixed_number_of_queries(client, world, monkeypatch):
    """The calendar must stay fast at the network's size (`make bench`): its queries do not grow with its events."""
    from tests.factories import action
    from tracker.core.db import engine, write_transaction

    await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    _, token = await subscribe(client, {"portee": "personne"})
    engine_class = type(engine())
    real = engine_class.run_querystring
    calls: list[str] = []

    async def counting(self, querystring, *args, **kwargs):
        calls.append(str(querystring))
        return await real(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    small = len(await events_of(client, token)), len(calls)
    async with write_transaction():
        for n in range(40):
            await action(world.ga_roadmap, world.ga, f"Action {n}", deadline=date(2026, 11, 2) + timedelta(days=n))
    calls.clear()
    large = len(await events_of(client, token)), len(calls)
    assert large[0] == small[0] + 40
    assert large[1] == small[1] <= 15


def icalendar_events(deadlines, host: str, stamp) -> bytes:
    """The events as `icalendar` wrote them before issue 15: the reference `feeds._event` must equal, byte for byte."""
    from icalendar import Event

    from tracker.core.config import settings
    from tracker.deadlines.items import KIND_LABELS, KIND_SINGULAR

    out = b""
    for deadline in deadlines:
        url = settings.base_url + deadline.path
        status = deadline.status_text(clock.today())
        out += Event.new(
            uid=f"{deadline.uid_part}@{host}", summary=f"{deadline.title} — {status}",
            description=f"{KIND_SINGULAR[deadline.kind]} · {deadline.context}\nStatut : {status}\n{url}",
            start=deadline.due, end=deadline.due + timedelta(days=1), stamp=stamp, last_modified=deadline.updated_at,
            sequence=deadline.version, url=url, categories=[KIND_LABELS[deadline.kind]],
            status="CANCELLED" if deadline.cancelled else "CONFIRMED", transparency="TRANSPARENT",
        ).to_ical()
    return out


def test_the_feed_s_events_are_written_as_icalendar_wrote_them():
    """Issue 15: the events are written directly (not one icalendar component each). Escapes (; , \\ and line
    breaks), folding at 75 octets (accents, emoji, an escape never cut at a fold), no last-modified date: the same
    bytes as icalendar's."""
    import random
    from datetime import datetime, timezone

    from tracker.deadlines import feeds
    from tracker.deadlines.items import KIND_LABELS, Deadline

    rng = random.Random(15)
    alphabet = ["a", "é", "€", "😀", ";", ",", "\\", "^", "\n", "\r\n", "\r", "\\N", " ", "«", "’", "x" * 7]
    stamp = datetime(2026, 11, 27, 8, 30, 12, 345678, tzinfo=timezone.utc)
    deadlines = []
    for n in range(600):
        title = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        context = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        deadlines.append(Deadline(
            kind=rng.choice(sorted(KIND_LABELS)), id=n, title=title, context=context,
            due=date(2026, 1, 1) + timedelta(days=rng.randrange(-400, 400)), state="x", state_label=rng.choice(
                ["En cours", "Réalisée", "Proposé ; confirmé"]), open=rng.random() < 0.5, cancelled=rng.random() < 0.3,
            can_be_late=rng.random() < 0.5, remind=False, path=f"/actions/{n}#engagement-{n}", territory_id=1,
            territory_name="T", confidential=False, editors_of=frozenset({1}), partners=frozenset(),
            version=rng.choice([0, 1, 17, 123456]),
            updated_at=rng.choice([None, datetime(2025, 3, 2, 8, 53, 34, 650226, tzinfo=timezone.utc)]),
        ))
    with clock.fixed_at(stamp):
        ours = "".join(feeds._event(d, "127.0.0.1", clock.today(), feeds._utc(stamp)) for d in deadlines).encode()
        assert ours == icalendar_events(deadlines, "127.0.0.1", stamp)


async def test_a_served_feed_is_what_icalendar_reads_and_writes_again(client, world):
    """Through HTTP: icalendar reads the served feed and writes it again to the same bytes (escapes, folds, order)."""
    await build_dated_world(world)
    await client.login(EMAILS["ga_editor"])
    for fields in ({"portee": "personne"}, {"portee": "territoire", "territoire": GA}):
        _, token = await subscribe(client, fields)
        with clock.fixed_at(NOON):
            response = await client.get(f"/calendrier/{token}.ics")
        assert response.status_code == 200
        assert response.content.count(b"BEGIN:VEVENT") >= 3
        assert Calendar.from_ical(response.content).to_ical() == response.content
