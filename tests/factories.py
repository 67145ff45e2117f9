"""Test data, created directly in the database: each test then acts through HTTP."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import arrow
from argon2 import PasswordHasher

from tests.browser import PASSWORD
from tracker.accounts.tables import Membership, User
from tracker.history.tables import HistoryEntry
from tracker.partners.tables import Partner, PartnerTerritory
from tracker.roadmaps.tables import Action, Axis, Roadmap, Workshop
from tracker.territories.tables import Territory

_HASH = PasswordHasher().hash(PASSWORD)


@dataclass
class World:
    ga: int
    vr: int
    ga_roadmap: int
    vr_roadmap: int
    ga_axis: int
    ga_pilot: int
    vr_pilot: int
    upcoming: int  # GA, a_venir, deadline in the future
    overdue: int  # GA, en_cours, deadline passed
    done: int  # GA, realisee, deadline passed (not overdue)
    secret: int  # GA, confidential
    vr_action: int


EMAILS = {
    "admin": "admin@test.example.org",
    "reviewer": "revue@test.example.org",
    "ga_editor": "editeur@ga.example.org",
    "ga_reader": "lecteur@ga.example.org",
    "ga_referent": "referent@ga.example.org",
    "vr_editor": "editeur@vr.example.org",
    "nobody": "personne@test.example.org",
}


async def territory(siren: str, name: str, kind: str = "CA") -> int:
    row = Territory(siren=siren, name=name, kind=kind, departement="16", region="75", typology="periurbain",
                    is_epci=True, created_at=arrow.utcnow().datetime)
    await row.save()
    return row.id


async def user(email: str, name: str, *, admin: bool = False, reviewer: bool = False,
               roles: dict[int, str] | None = None) -> int:
    row = User(email=email, full_name=name, password_hash=_HASH, is_admin=admin, is_reviewer=reviewer,
               created_at=arrow.utcnow().datetime)
    await row.save()
    for territory_id, role in (roles or {}).items():
        await Membership(user=row.id, territory=territory_id, role=role).save()
    return row.id


async def partner(name: str, sector: str, legal_form: str, territory_id: int) -> int:
    row = Partner(name=name, sector=sector, legal_form=legal_form, created_at=arrow.utcnow().datetime)
    await row.save()
    await PartnerTerritory(partner=row.id, territory=territory_id).save()
    return row.id


async def roadmap(territory_id: int, title: str = "Feuille de route") -> int:
    workshop = Workshop(host=territory_id, held_on=date(2026, 3, 12), module_primary=1, module_secondary=4,
                        participants=30, experts="", created_at=arrow.utcnow().datetime)
    await workshop.save()
    row = Roadmap(workshop=workshop.id, territory=territory_id, title=title, created_at=arrow.utcnow().datetime)
    await row.save()
    return row.id


async def action(roadmap_id: int, territory_id: int, title: str, *, status: str = "a_venir",
                 deadline: date | None = None, start_on: date | None = None, module: int | None = 1,
                 axis: int | None = None, pilot: int | None = None, confidential: bool = False,
                 parent: int | None = None) -> int:
    now = arrow.utcnow().datetime
    row = Action(roadmap=roadmap_id, territory=territory_id, title=title, description="", status=status,
                 deadline=deadline, start_on=start_on, module=module, axis=axis, pilot=pilot,
                 confidential=confidential, parent=parent, version=1, created_at=now, updated_at=now)
    await row.save()
    return row.id


async def history_count(action_id: int) -> int:
    return await HistoryEntry.count().where(
        (HistoryEntry.subject_type == "action") & (HistoryEntry.subject_id == action_id)
    )


async def build_world() -> World:
    today = arrow.now("Europe/Paris").date()
    ga = await territory("200071827", "CA du Grand Angoulême")
    vr = await territory("200068781", "CA Valence Romans Agglo")
    await user(EMAILS["admin"], "Alice Admin", admin=True)
    await user(EMAILS["reviewer"], "Rémi Revue", reviewer=True)
    await user(EMAILS["ga_editor"], "Claire Éditrice", roles={ga: "editeur"})
    await user(EMAILS["ga_reader"], "Louis Lecteur", roles={ga: "lecteur"})
    await user(EMAILS["ga_referent"], "Rita Référente", roles={ga: "referent"})
    await user(EMAILS["vr_editor"], "Victor Valence", roles={vr: "editeur"})
    await user(EMAILS["nobody"], "Sans Rôle")
    ga_pilot = await partner("Solidarité Angoumois", "associatif", "association", ga)
    vr_pilot = await partner("SEM Drôme", "public_prive", "sem", vr)
    ga_roadmap = await roadmap(ga, "Feuille de route du Grand Angoulême")
    vr_roadmap = await roadmap(vr, "Feuille de route de Valence Romans")
    axis = Axis(roadmap=ga_roadmap, position=1, title="Faire avec les habitants")
    await axis.save()
    return World(
        ga=ga,
        vr=vr,
        ga_roadmap=ga_roadmap,
        vr_roadmap=vr_roadmap,
        ga_axis=axis.id,
        ga_pilot=ga_pilot,
        vr_pilot=vr_pilot,
        upcoming=await action(ga_roadmap, ga, "Guichet unique des associations", deadline=today + timedelta(days=30),
                              axis=axis.id, pilot=ga_pilot),
        overdue=await action(ga_roadmap, ga, "Portage de repas", status="en_cours",
                             deadline=today - timedelta(days=10), module=4),
        done=await action(ga_roadmap, ga, "Carte des initiatives", status="realisee",
                          deadline=today - timedelta(days=40)),
        secret=await action(ga_roadmap, ga, "Audit confidentiel de la DSP", confidential=True),
        vr_action=await action(vr_roadmap, vr, "Tableau de bord des satellites", pilot=vr_pilot),
    )
