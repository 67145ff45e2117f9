"""Demo agreements, loaded at the end of tracker.demo.load_demo through the same service and lifecycle functions as
the pages, so that every state, signature and status has its history:
- Grand Angoulême (urban) ↔ Charente Limousine (rural), « À signer »: Grand Angoulême has signed, Charente Limousine
  has deliberated and its référent (codir@charentelimousine.example.org) may sign;
- Valence Romans Agglo ↔ CC du Royans-Vercors, in force for eight months, obligations in several statuses."""
from __future__ import annotations

from tracker.core import clock
import arrow

from tracker.core.permissions import Viewer
from tracker.accounts.tables import Membership, User
from tracker.agreements import service
from tracker.agreements.lifecycle import change_agreement_state, change_obligation_status, party_rows, sign_for_party
from tracker.agreements.tables import Agreement, Obligation
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


def _day(days: int) -> str:
    return arrow.get(clock.now()).to("Europe/Paris").shift(days=days).date().isoformat()


def _at(days: int):
    return arrow.get(clock.now()).shift(days=days).datetime


async def _version(agreement_id: int) -> int:
    return (await Agreement.select(Agreement.version).where(Agreement.id == agreement_id).first())["version"]


async def _party(agreement_id: int, territory_id: int) -> dict:
    return next(p for p in await party_rows(agreement_id) if p["territory"] == territory_id)


async def _move(viewer: Viewer, agreement_id: int, state: str, days: int, comment: str = "") -> None:
    await change_agreement_state(viewer, agreement_id, state, comment, await _version(agreement_id), at=_at(days))


async def _obligations(viewer: Viewer, agreement_id: int, specs: list, partners: dict[str, int]) -> dict[str, int]:
    """specs: (title, owner territory id, partner name or None, deadline offset days, days ago created)."""
    ids = {}
    for title, owner_territory, partner, deadline, created in specs:
        owner = await _party(agreement_id, owner_territory)
        data = {"title": title, "owner": str(owner["id"]), "deadline": _day(deadline),
                "partner": str(partners[partner]) if partner else ""}
        ids[title] = await service.create_obligation(viewer, agreement_id, data, at=_at(-created))
    return ids


async def _follow(viewer: Viewer, obligation_id: int, path: list[tuple[str, int, str]]) -> None:
    for status, days_ago, comment in path:
        version = (await Obligation.select(Obligation.version).where(Obligation.id == obligation_id).first())["version"]
        await change_obligation_status(viewer, obligation_id, status, comment, version, at=_at(-days_ago))


async def load_agreements_demo(users: dict[str, int], partners: dict[str, int], actions: dict[str, int]) -> None:
    ga, cl = await _territory(GRAND_ANGOULEME), await _territory(CHARENTE_LIMOUSINE)
    vr, rv = await _territory(VALENCE_ROMANS), await _territory(ROYANS_VERCORS)
    ga_editor = await _viewer("codir@grandangouleme.example.org")
    ga_referent = await _viewer("dgs@grandangouleme.example.org")
    cl_referent = await _viewer("codir@charentelimousine.example.org")
    vr_editor = await _viewer("codir@valenceromans.example.org")
    vr_referent = await _viewer("dgs@valenceromans.example.org")
    rv_referent = await _viewer("codir@royansvercors.example.org")
    end = arrow.get(clock.now()).to("Europe/Paris").shift(years=3).replace(month=12, day=31).date().isoformat()

    # 1. Urban ↔ rural, awaiting the second signature.
    first = await service.create_agreement(ga_editor, {
        "title": "Contrat de réciprocité Grand Angoulême – Charente Limousine",
        "territory": str(ga),
        "purpose": "Organiser l’accès des habitants de Charente Limousine aux services de santé et de mobilité de "
                   "l’agglomération, et l’approvisionnement de la restauration collective de l’agglomération en "
                   "produits du territoire rural.",
        "theme_sante": "1", "theme_mobilites": "1", "theme_alimentation": "1",
        "ends_on": end,
    }, at=_at(-120))
    await service.add_party(ga_editor, first, {"territory": str(cl)})
    await _obligations(ga_editor, first, [
        ("Ouvrir les téléconsultations du centre de santé aux habitants de Charente Limousine", ga, None, 365, 118),
        ("Prolonger le transport à la demande jusqu’à Confolens deux jours par semaine", ga,
         "Transports de l’agglomération (délégataire)", 540, 118),
    ], partners)
    await _obligations(cl_referent, first, [
        ("Approvisionner la restauration collective de l’agglomération en produits locaux", cl,
         "Épicerie solidaire de Confolens", 450, 110),
        ("Accueillir des classes de l’agglomération en séjours nature", cl, None, 300, 110),
    ], partners)
    await _move(ga_editor, first, "en_negociation", -100)
    await service.add_review(ga_editor, first, {"review_on": _day(540), "review_title": "Revue à mi-parcours"})
    await service.link_action(cl_referent, first, {"action": str(actions["Accord de santé avec le Grand Angoulême"])})
    await service.link_action(cl_referent, first, {"action": str(actions["Navettes vers les services d’Angoulême"])})
    await service.link_action(ga_editor, first, {"action": str(actions["Réseau des tiers-lieux"])})
    await _move(ga_editor, first, "a_signer", -20)
    ga_party = await _party(first, ga)
    await service.record_deliberation(ga_referent, first, ga_party["id"], {
        "deliberation_on": _day(-14), "deliberation_ref": "Délibération n° 2026-112", "version": str(ga_party["version"])})
    ga_party = await _party(first, ga)
    await sign_for_party(ga_referent, first, ga_party["id"], arrow.get(_day(-7)).date(), ga_party["version"],
                         at=_at(-7))
    cl_party = await _party(first, cl)
    await service.record_deliberation(cl_referent, first, cl_party["id"], {
        "deliberation_on": _day(-3), "deliberation_ref": "Délibération n° 2026-058", "version": str(cl_party["version"])})

    # 2. In force for eight months, obligations in several statuses.
    second = await service.create_agreement(vr_editor, {
        "title": "Contrat de réciprocité Valence Romans – Royans-Vercors",
        "territory": str(vr),
        "purpose": "Une alliance entre l’agglomération et la montagne voisine : alimentation, énergie, loisirs et "
                   "mobilités, chacun apportant ce que l’autre n’a pas.",
        "theme_alimentation": "1", "theme_energie": "1", "theme_tourisme": "1", "theme_mobilites": "1",
        "in_force_on": _day(-245), "ends_on": end,
    }, at=_at(-400))
    await service.add_party(vr_editor, second, {"territory": str(rv)})
    vr_ids = await _obligations(vr_editor, second, [
        ("Tarif agglomération sur les bus Citéa pour les habitants du Royans", vr, "SEMOP Mobilités Valentinoises",
         -60, 390),
        ("Accompagner le plan climat du Royans-Vercors", vr, "SEM Énergies Drôme-Ardèche", 200, 390),
        ("Ouvrir la cuisine centrale aux produits du Royans", vr, None, 120, 385),
    ], partners)
    rv_ids = await _obligations(rv_referent, second, [
        ("Approvisionner la restauration scolaire en noix et bleu du Vercors", rv, None, 300, 380),
        ("Accueillir les centres de loisirs de l’agglomération en séjours nature", rv, None, -30, 380),
        ("Fournir du bois-énergie aux chaufferies de l’agglomération", rv, None, 400, 375),
        ("Baliser les itinéraires cyclables de liaison vers Romans", rv, None, -15, 375),
    ], partners)
    await _move(vr_editor, second, "en_negociation", -380)
    await service.add_review(vr_editor, second, {"review_on": _day(120), "review_title": "Revue annuelle"})
    await service.add_review(vr_editor, second, {"review_on": _day(485), "review_title": "Revue à mi-parcours"})
    await service.link_action(vr_editor, second, {"action": str(actions["Plan alimentaire avec la banque alimentaire"])})
    await _move(vr_editor, second, "a_signer", -300)
    for referent, territory, days, number in ((vr_referent, vr, 265, 87), (rv_referent, rv, 255, 31)):
        party = await _party(second, territory)
        deliberated = _day(-days - 20)
        await service.record_deliberation(referent, second, party["id"], {
            "deliberation_on": deliberated, "deliberation_ref": f"Délibération n° {deliberated[:4]}-{number:03d}",
            "version": str(party["version"])})
        party = await _party(second, territory)
        await sign_for_party(referent, second, party["id"], arrow.get(_day(-days)).date(), party["version"],
                             at=_at(-days))
    await _move(vr_editor, second, "en_vigueur", -245)
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
    print("Contrats de réciprocité de démonstration : 2 contrats (l’un à signer, l’autre en vigueur).")
