"""A dated world for the deadlines' tests: the clock is fixed on Monday 2 November 2026 (Paris), and every deadline
is placed by hand. `EXPECTED` says, worked out by hand from the calendar (not by the code under test), in which
group of « Mes échéances » each one falls for Grand Angoulême's éditeurs:

    overdue: before Mon 2 Nov · this week: Mon 2 – Sun 8 Nov · next week: Mon 9 – Sun 15 Nov
    this month: Mon 16 – Mon 30 Nov · later: December on."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.factories import (
    World,
    action,
    build_agreement_world,
    commitment,
    contact,
    user,
)
from tracker.agreements.tables import Agreement, AgreementReview, Obligation
from tracker.commitments.tables import Commitment
from tracker.core.db import write_transaction
from tracker.roadmaps.tables import Action

TODAY = date(2026, 11, 2)  # a Monday
NOON = datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
BOTH_EMAIL = "editrice@deux-territoires.example.org"  # éditrice of Grand Angoulême and of Valence Romans


@dataclass
class Dated:
    ids: dict[str, str]  # name → « kind-id » as the pages and the calendars name them
    expected: dict[str, str]  # name → group, for Grand Angoulême's éditeurs
    closed: set[str]  # names of what is no longer due (calendars: cancelled)
    agreement: int
    portage: int
    commitment: int
    late: int
    vr_secret: int
    cl: int
    sa_user: int
    sa_volunteer: int


async def build_dated_world(world: World) -> Dated:
    agreements = await build_agreement_world(world, state="en_vigueur")
    async with write_transaction():
        return await _build(world, agreements)


async def _build(world: World, agreements) -> Dated:
    # The common world's own deadlines count from the real today: cleared, so that only the dated ones remain.
    await Action.update({Action.deadline: None}).where(Action.id.is_not_null())
    ga, rm = world.ga, world.ga_roadmap
    ids: dict[str, str] = {}
    expected: dict[str, str] = {}

    async def dated(name: str, day: date | None, group: str | None, **kwargs) -> int:
        ident = await action(rm, ga, name, deadline=day, **kwargs)
        ids[name] = f"action-{ident}"
        if group:
            expected[name] = group
        return ident

    late = await dated("Étude de faisabilité", date(2026, 10, 20), "retard", status="en_cours")
    await dated("Réunion de lancement", date(2026, 11, 2), "semaine")
    await dated("Diagnostic partagé", date(2026, 11, 8), "semaine")
    await dated("Charte des associations", date(2026, 11, 9), "semaine_prochaine")
    await dated("Comité de suivi", date(2026, 11, 15), "semaine_prochaine")
    await dated("Plan de formation", date(2026, 11, 16), "mois")
    await dated("Bilan intermédiaire", date(2026, 11, 30), "mois")
    await dated("Évaluation finale", date(2026, 12, 1), "plus_tard")
    await dated("Carte des tiers-lieux", date(2026, 11, 5), None, status="realisee")
    await dated("Navette abandonnée", date(2026, 10, 1), None, status="abandonnee")
    await dated("Audit confidentiel du délégataire", date(2026, 11, 4), "semaine", confidential=True)
    portage = await dated("Portage de repas", date(2026, 11, 20), "mois", pilot=world.ga_pilot, status="en_cours")
    await Action.update({Action.deadline: date(2026, 11, 3)}).where(Action.id == world.vr_action)
    vr_secret = await action(world.vr_roadmap, world.vr, "Dossier confidentiel de Valence", deadline=date(2026, 11, 5),
                             confidential=True)

    # Solidarité Angoumois pilots « Portage de repas » and has confirmed its part, due on Friday 6 November.
    sa_user = await user("contact@solidarite-angoumois.example.org", "Sophie Bernard")
    await contact(world.ga_pilot, "Sophie Bernard", "contact@solidarite-angoumois.example.org", "Présidente",
                  account=sa_user)
    sa_volunteer = await contact(world.ga_pilot, "Jeanne Martin", "jeanne.martin@solidarite-angoumois.example.org")
    kept = await commitment(portage, world.ga_pilot, role="pilote", state="confirme")
    await Commitment.update({Commitment.due_on: date(2026, 11, 6)}).where(Commitment.id == kept)
    ids["Engagement de Solidarité Angoumois"] = f"engagement-{kept}"
    expected["Engagement de Solidarité Angoumois"] = "semaine"

    # The agreement with Charente Limousine, in force: what Grand Angoulême brings, a review, the end.
    await Obligation.update({Obligation.deadline: date(2026, 11, 10)}).where(Obligation.id == agreements.ga_brings)
    await Obligation.update({Obligation.deadline: date(2026, 11, 12)}).where(Obligation.id == agreements.cl_brings)
    ids["Apport du Grand Angoulême"] = f"obligation-{agreements.ga_brings}"
    expected["Apport du Grand Angoulême"] = "semaine_prochaine"
    ids["Apport de Charente Limousine"] = f"obligation-{agreements.cl_brings}"  # Charente Limousine's to keep
    await Agreement.update({Agreement.ends_on: date(2029, 12, 31), Agreement.in_force_on: date(2026, 1, 1)}).where(
        Agreement.id == agreements.agreement)
    review = AgreementReview(agreement=agreements.agreement, review_on=date(2026, 11, 20), title="Revue annuelle")
    await review.save()
    ids["Revue annuelle"] = f"revue-{review.id}"
    expected["Revue annuelle"] = "mois"
    ids["Fin du contrat"] = f"fin-{agreements.agreement}"
    expected["Fin du contrat"] = "plus_tard"

    await user(BOTH_EMAIL, "Brigitte Deux", roles={ga: "editeur", world.vr: "editeur"})
    return Dated(ids=ids, expected=expected, closed={"Carte des tiers-lieux", "Navette abandonnée"},
                 agreement=agreements.agreement, portage=portage, commitment=kept, late=late, vr_secret=vr_secret,
                 cl=agreements.cl, sa_user=sa_user, sa_volunteer=sa_volunteer)


_SECTION = re.compile(r'<section aria-labelledby="groupe-([a-z_]+)"')
_ROW = re.compile(r'<tr id="echeance-([a-z]+-\d+)"')


def groups_on(html: str) -> dict[str, list[str]]:
    """Group → the « kind-id » of its rows, in the page's order."""
    found: dict[str, list[str]] = {}
    parts = _SECTION.split(html)
    for code, body in zip(parts[1::2], parts[2::2]):
        found[code] = _ROW.findall(body)
    return found

