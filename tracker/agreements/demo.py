"""Demo agreements, loaded at the end of tracker.demo.load_demo through the same service and lifecycle functions as
the pages, so that every state, signature and status has its history:
- Grand Angoulême (urban) ↔ Charente Limousine (rural), « À signer »: Grand Angoulême has signed, Charente Limousine
  has deliberated and its référent (codir@charentelimousine.example.org) may sign;
- Valence Romans Agglo ↔ CC du Royans-Vercors, in force for eight months, obligations in several statuses, and an
  amendment signed by both (end date moved by a year, one obligation added);
- Charente Limousine ↔ Grand Angoulême, a first agreement signed in 2017 and expired in 2020, recorded after the
  fact with its real dates."""
from __future__ import annotations

from datetime import date, datetime

import arrow

from tracker.accounts.tables import Membership, User
from tracker.agreements import amendments, linked_actions, obligations, parties, reading, recording, reviews, text
from tracker.agreements.forms import (
    AgreementInput,
    AmendmentChangeInput,
    AmendmentInput,
    DeliberationInput,
    DocumentInput,
    ObligationInput,
    RecordedParty,
    RecordingInput,
    ReviewInput,
)
from tracker.agreements.lifecycle import change_agreement_state, change_obligation_status, sign_for_party
from tracker.agreements.states import THEME_SUGGESTIONS
from tracker.core import clock
from tracker.core.permissions import Viewer
from tracker.territories.tables import Territory

GRAND_ANGOULEME = "200071827"
CHARENTE_LIMOUSINE = "200072049"
VALENCE_ROMANS = "200068781"
ROYANS_VERCORS = "200067767"


async def _viewer(email: str) -> Viewer:
    user = await User.select(User.id, User.full_name).where(User.email == email).first()
    memberships = await Membership.select(Membership.territory, Membership.role).where(Membership.user == user["id"])
    return Viewer(user_id=user["id"], email=email, full_name=user["full_name"],
                  roles={m["territory"]: m["role"] for m in memberships})


async def _territory(siren: str) -> int:
    row = await Territory.select(Territory.id).where(Territory.siren == siren).first()
    return row["id"]


def _day(days: int) -> date:
    return arrow.get(clock.now()).to("Europe/Paris").shift(days=days).date()


def _at(days: int) -> datetime:
    return arrow.get(clock.now()).shift(days=days).datetime


class _Agreement:
    """One demo agreement moved through the services as its parties would, back in time: it keeps the versions
    the services return, as a page would between two forms."""

    def __init__(self, agreement_id: int, version: int = 1) -> None:
        self.id = agreement_id
        self.version = version
        self.party_versions: dict[int, int] = {}  # party id → version

    async def party_of(self, viewer: Viewer, territory_id: int) -> int:
        agreement = await reading.agreement_for(viewer, self.id)
        party = next(p for p in agreement["parties"] if p["territory"] == territory_id)
        self.party_versions.setdefault(party["id"], party["version"])
        return party["id"]

    async def move(self, viewer: Viewer, state: str, days: int, comment: str = "") -> None:
        change = await change_agreement_state(viewer, self.id, state, comment, self.version, at=_at(days))
        self.version = change.version

    async def deliberate_and_sign(self, referent: Viewer, territory_id: int, deliberated: date, number: str,
                                  signed_days: int | None) -> None:
        """The party's deliberation (recorded the day it was taken), then its signature if `signed_days`."""
        party = await self.party_of(referent, territory_id)
        self.party_versions[party] = await parties.record_deliberation(
            referent, self.id, party, DeliberationInput(deliberation_on=deliberated, reference=number),
            self.party_versions[party], at=arrow.get(deliberated).shift(hours=18).datetime,
        )
        if signed_days is not None:
            change = await sign_for_party(referent, self.id, party, _day(signed_days), self.party_versions[party],
                                          at=_at(signed_days))
            self.party_versions[party] = change.version

    async def obligations(self, viewer: Viewer, specs: list, partners: dict[str, int]) -> dict[str, int]:
        """specs: (title, theme name, owner territory id, partner name or None, deadline offset days, days ago
        created)."""
        agreement = await reading.agreement_for(viewer, self.id)
        themes = {t["theme"]: t["id"] for t in agreement["theme_rows"]}
        ids = {}
        for title, theme, owner_territory, partner, deadline, created in specs:
            values = ObligationInput(title=title, owner=await self.party_of(viewer, owner_territory),
                                     partner=partners[partner] if partner else None, deadline=_day(deadline),
                                     theme=themes[theme])
            ids[title] = await obligations.create_obligation(viewer, self.id, values, at=_at(-created))
        return ids


async def _follow(viewer: Viewer, obligation_id: int, path: list[tuple[str, int, str]]) -> None:
    version = 1  # as created
    for status, days_ago, comment in path:
        change = await change_obligation_status(viewer, obligation_id, status, comment, version, at=_at(-days_ago))
        version = change.version


async def load_agreements_demo(users: dict[str, int], partners: dict[str, int], actions: dict[str, int]) -> None:
    ga, cl = await _territory(GRAND_ANGOULEME), await _territory(CHARENTE_LIMOUSINE)
    vr, rv = await _territory(VALENCE_ROMANS), await _territory(ROYANS_VERCORS)
    ga_editor = await _viewer("codir@grandangouleme.example.org")
    ga_referent = await _viewer("dgs@grandangouleme.example.org")
    cl_referent = await _viewer("codir@charentelimousine.example.org")
    vr_editor = await _viewer("codir@valenceromans.example.org")
    vr_referent = await _viewer("dgs@valenceromans.example.org")
    rv_referent = await _viewer("codir@royansvercors.example.org")
    end = arrow.get(clock.now()).to("Europe/Paris").shift(years=3).replace(month=12, day=31).date()
    themes = THEME_SUGGESTIONS

    # 1. Urban ↔ rural, awaiting the second signature.
    first = _Agreement(await text.create_agreement(ga_editor, ga, AgreementInput(
        title="Contrat de réciprocité Grand Angoulême – Charente Limousine",
        purpose="Organiser l’accès des habitants de Charente Limousine aux services de santé et de mobilité de "
                "l’agglomération, et l’approvisionnement de la restauration collective de l’agglomération en "
                "produits du territoire rural.",
        themes=(themes["sante"], themes["mobilites"], themes["alimentation"]),
        ends_on=end,
    ), at=_at(-120)))
    await parties.add_party(ga_editor, first.id, cl, at=_at(-119))
    await first.obligations(ga_editor, [
        ("Ouvrir les téléconsultations du centre de santé aux habitants de Charente Limousine", themes["sante"], ga,
         None, 365, 118),
        ("Prolonger le transport à la demande jusqu’à Confolens deux jours par semaine", themes["mobilites"], ga,
         "Transports de l’agglomération (délégataire)", 540, 118),
    ], partners)
    await first.obligations(cl_referent, [
        ("Approvisionner la restauration collective de l’agglomération en produits locaux", themes["alimentation"],
         cl, "Épicerie solidaire de Confolens", 450, 110),
        ("Accueillir des classes de l’agglomération en séjours nature", themes["sante"], cl, None, 300, 110),
    ], partners)
    await first.move(ga_editor, "en_negociation", -100)
    await reviews.add_review(ga_editor, first.id, ReviewInput(review_on=_day(540), title="Revue à mi-parcours"),
                             at=_at(-99))
    for viewer, title, days in ((cl_referent, "Accord de santé avec le Grand Angoulême", -90),
                                (cl_referent, "Navettes vers les services d’Angoulême", -90),
                                (ga_editor, "Réseau des tiers-lieux", -80)):
        await linked_actions.link_action(viewer, first.id, actions[title], at=_at(days))
    await first.move(ga_editor, "a_signer", -20)
    await first.deliberate_and_sign(ga_referent, ga, _day(-14), "Délibération n° 2026-112", signed_days=-7)
    # Charente Limousine has deliberated: its référent may sign.
    await first.deliberate_and_sign(cl_referent, cl, _day(-3), "Délibération n° 2026-058", signed_days=None)

    # 2. In force for eight months, obligations in several statuses.
    second = _Agreement(await text.create_agreement(vr_editor, vr, AgreementInput(
        title="Contrat de réciprocité Valence Romans – Royans-Vercors",
        purpose="Une alliance entre l’agglomération et la montagne voisine : alimentation, énergie, loisirs et "
                "mobilités, chacun apportant ce que l’autre n’a pas.",
        themes=(themes["alimentation"], themes["energie"], themes["tourisme"], themes["mobilites"]),
        in_force_on=_day(-245), ends_on=end,
    ), at=_at(-400)))
    await parties.add_party(vr_editor, second.id, rv, at=_at(-399))
    vr_ids = await second.obligations(vr_editor, [
        ("Tarif agglomération sur les bus Citéa pour les habitants du Royans", themes["mobilites"], vr,
         "SEMOP Mobilités Valentinoises", -60, 390),
        ("Accompagner le plan climat du Royans-Vercors", themes["energie"], vr, "SEM Énergies Drôme-Ardèche", 200, 390),
        ("Ouvrir la cuisine centrale aux produits du Royans", themes["alimentation"], vr, None, 120, 385),
    ], partners)
    await second.move(vr_editor, "en_negociation", -380)
    rv_ids = await second.obligations(rv_referent, [
        ("Approvisionner la restauration scolaire en noix et bleu du Vercors", themes["alimentation"], rv, None, 300,
         380),
        ("Accueillir les centres de loisirs de l’agglomération en séjours nature", themes["tourisme"], rv, None, -30,
         380),
        ("Fournir du bois-énergie aux chaufferies de l’agglomération", themes["energie"], rv, None, 400, 375),
        ("Baliser les itinéraires cyclables de liaison vers Romans", themes["mobilites"], rv, None, -15, 375),
    ], partners)
    await reviews.add_review(vr_editor, second.id, ReviewInput(review_on=_day(120), title="Revue annuelle"),
                             at=_at(-370))
    await reviews.add_review(vr_editor, second.id, ReviewInput(review_on=_day(485), title="Revue à mi-parcours"),
                             at=_at(-370))
    await linked_actions.link_action(vr_editor, second.id, actions["Plan alimentaire avec la banque alimentaire"],
                                     at=_at(-360))
    await second.move(vr_editor, "a_signer", -300)
    for referent, territory, days, number in ((vr_referent, vr, 265, 87), (rv_referent, rv, 255, 31)):
        deliberated = _day(-days - 20)
        await second.deliberate_and_sign(referent, territory, deliberated,
                                         f"Délibération n° {deliberated.year}-{number:03d}", signed_days=-days)
    await second.move(vr_editor, "en_vigueur", -245)
    await _follow(vr_editor, vr_ids["Tarif agglomération sur les bus Citéa pour les habitants du Royans"],
                  [("en_cours", 230, ""), ("realisee", 90, "Tarif voté et appliqué depuis la rentrée.")])
    await _follow(vr_editor, vr_ids["Accompagner le plan climat du Royans-Vercors"], [("en_cours", 200, "")])
    await _follow(vr_editor, vr_ids["Ouvrir la cuisine centrale aux produits du Royans"],
                  [("en_cours", 180, ""), ("bloquee", 40, "Le marché public de la cuisine centrale est en cours de "
                                                          "renouvellement : attendre le nouveau cahier des charges.")])
    await _follow(rv_referent, rv_ids["Approvisionner la restauration scolaire en noix et bleu du Vercors"],
                  [("en_cours", 150, "")])
    await _follow(rv_referent, rv_ids["Accueillir les centres de loisirs de l’agglomération en séjours nature"],
                  [("en_cours", 200, ""), ("realisee", 60, "Trois séjours d’été accueillis.")])
    await _follow(rv_referent, rv_ids["Fournir du bois-énergie aux chaufferies de l’agglomération"],
                  [("en_cours", 160, ""), ("en_pause", 30, "Étude d’approvisionnement relancée après la tempête.")])
    await _amend(second, vr_editor, vr_referent, rv_referent, vr, rv, end)
    await _recorded(cl_referent, cl, ga)
    print("Contrats de réciprocité de démonstration : 3 contrats (à signer ; en vigueur, avec un avenant ; "
          "échu, enregistré a posteriori).")


async def _amend(agreement: _Agreement, editor: Viewer, vr_referent: Viewer, rv_referent: Viewer, vr: int, rv: int,
                 end: date) -> None:
    """Amendment n° 1 of the agreement in force: one more year, and wood chips bought from the Royans."""
    number = await amendments.create_amendment(editor, agreement.id, AmendmentInput(
        title="Prolongation d’un an et achat de plaquette forestière",
        purpose="Prolonger le contrat d’un an et y ajouter l’achat de plaquette forestière par l’agglomération.",
        new_ends_on=end.replace(year=end.year + 1)), at=_at(-60))
    found = await reading.agreement_for(editor, agreement.id)
    energy = next(t["id"] for t in found["theme_rows"] if t["theme"] == THEME_SUGGESTIONS["energie"])
    owner = next(p["id"] for p in found["parties"] if p["territory"] == vr)
    await amendments.add_change(editor, agreement.id, number, AmendmentChangeInput(kind="ajout", new=ObligationInput(
        title="Acheter la plaquette forestière du Royans pour les chaufferies", owner=owner, theme=energy,
        deadline=_day(500))), at=_at(-59))
    row = await amendments.amendment_for(editor, agreement.id, number)
    await amendments.change_amendment_state(editor, agreement.id, number, "a_signer", "", row["version"], at=_at(-50))
    for referent, territory, days in ((vr_referent, vr, 40), (rv_referent, rv, 35)):
        row = await amendments.amendment_for(referent, agreement.id, number)
        signing = next(p for p in row["parties"] if p["territory"] == territory)
        version = await amendments.record_deliberation(
            referent, agreement.id, number, signing["id"],
            DeliberationInput(deliberation_on=_day(-days), reference=f"Délibération n° {_day(-days).year}-A{days}"),
            signing["version"], at=_at(-days))
        await amendments.sign_amendment(referent, agreement.id, number, signing["id"], _day(-days + 20), version,
                                        at=_at(-days + 20))


async def _recorded(referent: Viewer, cl: int, ga: int) -> None:
    """The first agreement between Charente Limousine and Grand Angoulême, signed in 2017 and expired since,
    typed in as a draft and recorded as it was."""
    themes = ("Santé, soins de proximité et autonomie", "Mobilités, habitat et services")
    first = await text.create_agreement(referent, cl, AgreementInput(
        title="Premier contrat de réciprocité Charente Limousine – Grand Angoulême (2017-2020)",
        purpose="Le premier contrat entre les deux territoires, signé à Confolens en 2017.",
        themes=themes, protocol_on=date(2016, 11, 18)), at=_at(-5))
    await parties.add_party(referent, first, ga, at=_at(-5))
    found = await reading.agreement_for(referent, first)
    theme_ids = [t["id"] for t in found["theme_rows"]]
    party_ids = {p["territory"]: p["id"] for p in found["parties"]}
    for title, owner, theme in (("Permanences de médecins de l’agglomération à Confolens", ga, theme_ids[0]),
                                ("Navette hebdomadaire vers Angoulême", cl, theme_ids[1])):
        await obligations.create_obligation(referent, first, ObligationInput(
            title=title, owner=party_ids[owner], theme=theme, deadline=date(2019, 6, 30)), at=_at(-5))
    found = await reading.agreement_for(referent, first)
    await recording.record_signed_agreement(referent, first, RecordingInput(
        state="echu", in_force_on=date(2017, 7, 1), ends_on=date(2020, 12, 31),
        parties=(RecordedParty(party=party_ids[cl], deliberation_on=date(2017, 5, 22),
                               deliberation_ref="Délibération n° 2017-061", signed_on=date(2017, 6, 23)),
                 RecordedParty(party=party_ids[ga], deliberation_on=date(2017, 6, 1),
                               deliberation_ref="Délibération n° 2017-148", signed_on=date(2017, 6, 23))),
        document=DocumentInput(signing_place="Confolens", document_ref="CR-2017-01")), found["version"])
