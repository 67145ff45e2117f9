"""Test data, created directly in the database: each test then acts through HTTP. Like every writer outside the
kernel, the factories of actions, commitments, agreements and parties tell the kernel's observers
(`lifecycle.touched`), which keep the review's figures; a test that writes other rows directly (a note, a history
entry) calls `figures_rebuilt()` before reading the review pages."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import arrow

from tests.browser import PASSWORD
from tracker.accounts.passwords import make_hasher
from tracker.accounts.tables import Membership, User
from tracker import lifecycle
from tracker.core.db import write_transaction
from tracker.history.tables import HistoryEntry
from tracker.partners.tables import Partner, PartnerTerritory
from tracker.roadmaps.tables import Action, Axis, Roadmap, Workshop
from tracker.territories.tables import Territory

_HASH = make_hasher(cheap=True).hash(PASSWORD)  # as the app hashes under tests: verified in microseconds


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
    from tracker.territories.search import search_key

    row = Territory(siren=siren, name=name, kind=kind, departement="16", region="75", typology="periurbain",
                    departements="16", regions="75", search_key=search_key(name), is_epci=True,
                    created_at=arrow.utcnow().datetime)
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
    await lifecycle.touched("action", row.id, territory_id)
    return row.id


async def figures_rebuilt() -> None:
    """The review's kept figures rebuilt from the base tables and the history, after rows written behind the
    kernel's back (a note, a history entry, an update)."""
    from tracker.review.figures import rebuild

    await rebuild()


async def history_count(action_id: int) -> int:
    return await HistoryEntry.count().where(
        (HistoryEntry.subject_type == "action") & (HistoryEntry.subject_id == action_id)
    )


async def build_world() -> World:
    # One transaction: one connection and one commit for the whole world, instead of one per row.
    async with write_transaction(), lifecycle.deferred():  # the review's figures: once, at the end
        return await _build_world()


async def _build_world() -> World:
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


# --- contrats de réciprocité (tests/test_agreements*.py) ---------------------------------------------------

from tracker.agreements.tables import Agreement, AgreementParty, Obligation  # noqa: E402 (appended section)

AGREEMENT_EMAILS = {
    "cl_referent": "referent@cl.example.org",
    "cl_editor": "editeur@cl.example.org",
    "cl_reader": "lecteur@cl.example.org",
}


@dataclass
class AgreementWorld:
    cl: int  # CC de Charente Limousine, rural, the other party
    agreement: int  # GA ↔ CL
    ga_party: int
    cl_party: int
    ga_brings: int  # obligation owned by GA, for CL
    cl_brings: int  # obligation owned by CL, for GA
    ends_on: date


async def agreement(territory_id: int, title: str, *, state: str = "brouillon", in_force_on: date | None = None,
                    ends_on: date | None = None) -> int:
    now = arrow.utcnow().datetime
    row = Agreement(title=title, purpose="", territory=territory_id, state=state, in_force_on=in_force_on,
                    ends_on=ends_on, version=1, created_at=now, updated_at=now)
    await row.save()
    await lifecycle.touched("agreement", row.id, territory_id)
    return row.id


async def party(agreement_id: int, territory_id: int, position: int, *, deliberation_on: date | None = None,
                deliberation_ref: str = "", signed_by: int | None = None) -> int:
    row = AgreementParty(agreement=agreement_id, territory=territory_id, position=position,
                         deliberation_on=deliberation_on, deliberation_ref=deliberation_ref, version=1,
                         signed_on=deliberation_on if signed_by else None,
                         signed_at=arrow.utcnow().datetime if signed_by else None, signed_by=signed_by)
    await row.save()
    await lifecycle.touched("agreement", agreement_id, territory_id)
    return row.id


async def obligation(agreement_id: int, owner: int, title: str, *, status: str = "a_venir",
                     deadline: date | None = None, beneficiary: int | None = None, partner_id: int | None = None) -> int:
    now = arrow.utcnow().datetime
    row = Obligation(agreement=agreement_id, owner=owner, beneficiary=beneficiary, partner=partner_id, title=title,
                     description="", deadline=deadline, status=status, version=1, created_at=now, updated_at=now)
    await row.save()
    return row.id


async def history_of(subject_type: str, subject_id: int) -> list[dict]:
    return await HistoryEntry.select(
        HistoryEntry.from_value, HistoryEntry.to_value, HistoryEntry.actor, HistoryEntry.comment,
        HistoryEntry.territory,
    ).where((HistoryEntry.subject_type == subject_type) & (HistoryEntry.subject_id == subject_id)).order_by(
        HistoryEntry.id
    )


async def build_agreement_world(world: World, *, state: str = "a_signer") -> AgreementWorld:
    """Grand Angoulême (from build_world) and Charente Limousine, both having deliberated, neither signed,
    one obligation each."""
    async with write_transaction(), lifecycle.deferred():  # one connection and one commit, as build_world
        return await _build_agreement_world(world, state)


async def _build_agreement_world(world: World, state: str) -> AgreementWorld:
    today = arrow.now("Europe/Paris").date()
    cl = await territory("200072049", "CC de Charente Limousine", kind="CC")
    await Territory.update({Territory.typology: "rural"}).where(Territory.id == cl)
    await user(AGREEMENT_EMAILS["cl_referent"], "Jean Référent", roles={cl: "referent"})
    await user(AGREEMENT_EMAILS["cl_editor"], "Chloé Éditrice", roles={cl: "editeur"})
    await user(AGREEMENT_EMAILS["cl_reader"], "Luc Lecteur", roles={cl: "lecteur"})
    ends_on = date(today.year + 3, 12, 31)
    agreement_id = await agreement(world.ga, "Contrat Grand Angoulême – Charente Limousine", state=state,
                                   ends_on=ends_on)
    ga_party = await party(agreement_id, world.ga, 1, deliberation_on=today - timedelta(days=20),
                           deliberation_ref="GA-2026-112")
    cl_party = await party(agreement_id, cl, 2, deliberation_on=today - timedelta(days=10),
                           deliberation_ref="CL-2026-058")
    ga_brings = await obligation(agreement_id, ga_party, "Ouvrir le centre de santé aux habitants",
                                 deadline=today + timedelta(days=200), partner_id=world.ga_pilot)
    cl_brings = await obligation(agreement_id, cl_party, "Livrer des produits locaux aux cantines",
                                 deadline=today + timedelta(days=300))
    return AgreementWorld(cl=cl, agreement=agreement_id, ga_party=ga_party, cl_party=cl_party,
                          ga_brings=ga_brings, cl_brings=cl_brings, ends_on=ends_on)


# --- partners, contacts and commitments (ISSUE 3) ---------------------------------------------------------------

PARTNER_EMAILS = {
    "sa_contact": "contact@solidarite-angoumois.example.org",  # contact of Solidarité Angoumois (GA), signs in
    "sem_contact": "direction@sem-drome.example.org",  # contact of SEM Drôme (VR), another organisation
}


@dataclass
class PartnerWorld:
    sa_user: int
    sa_contact: int  # Solidarité Angoumois' contact with an account
    sa_volunteer: int  # Solidarité Angoumois' contact without an account (answers through signed links)
    sem_user: int
    sem_contact: int
    ga_commitment: int  # Solidarité Angoumois on GA's « upcoming » action, proposé
    vr_commitment: int  # SEM Drôme on VR's action, proposé


async def contact(partner_id: int, full_name: str, email: str, function: str = "",
                  account: int | None = None) -> int:
    from tracker.partners.tables import PartnerContact

    now = arrow.utcnow().datetime
    row = PartnerContact(partner=partner_id, full_name=full_name, email=email, function=function, account=account,
                         version=1, created_at=now, updated_at=now)
    await row.save()
    return row.id


async def commitment(action_id: int, partner_id: int, *, role: str = "contributeur",
                     description: str = "Mise à disposition de deux bénévoles", state: str = "propose",
                     amount: int | None = None, unit: str = "") -> int:
    """A commitment written directly (no history entry): tests then act on it through HTTP."""
    from tracker.commitments.tables import Commitment

    row = await Action.select(Action.territory).where(Action.id == action_id).first()
    now = arrow.utcnow().datetime
    created = Commitment(action=action_id, territory=row["territory"], partner=partner_id, role=role,
                         description=description, amount=amount, amount_unit=unit, state=state, version=1,
                         created_at=now, updated_at=now)
    await created.save()
    await lifecycle.touched("commitment", created.id, row["territory"])
    return created.id


async def commitment_history_count(commitment_id: int) -> int:
    return await HistoryEntry.count().where(
        (HistoryEntry.subject_type == "commitment") & (HistoryEntry.subject_id == commitment_id)
    )


async def build_partner_world(world: World) -> PartnerWorld:
    async with write_transaction(), lifecycle.deferred():  # one connection and one commit, as build_world
        return await _build_partner_world(world)


async def _build_partner_world(world: World) -> PartnerWorld:
    sa_user = await user(PARTNER_EMAILS["sa_contact"], "Sophie Bernard")
    sem_user = await user(PARTNER_EMAILS["sem_contact"], "Marc Durand")
    return PartnerWorld(
        sa_user=sa_user,
        sa_contact=await contact(world.ga_pilot, "Sophie Bernard", PARTNER_EMAILS["sa_contact"], "Présidente",
                                 account=sa_user),
        sa_volunteer=await contact(world.ga_pilot, "Jeanne Martin", "jeanne.martin@solidarite-angoumois.example.org",
                                   "Coordinatrice des bénévoles"),
        sem_user=sem_user,
        sem_contact=await contact(world.vr_pilot, "Marc Durand", PARTNER_EMAILS["sem_contact"], "Directeur",
                                  account=sem_user),
        ga_commitment=await commitment(world.upcoming, world.ga_pilot),
        vr_commitment=await commitment(world.vr_action, world.vr_pilot, role="financeur",
                                       description="Financement de l’outil de suivi", amount=12500, unit="euros"),
    )


async def api_token(email: str, *, name: str = "Script de test", expires_at=None, revoked: bool = False) -> str:
    """A personal API token for the user with this email, created directly (as the « Jetons d’accès » page does);
    returns the token itself."""
    from tracker.api.tables import ApiToken
    from tracker.api.tokens import new_token, token_hash

    owner = await User.select(User.id).where(User.email == email).first()
    token = new_token()
    now = arrow.utcnow().datetime
    await ApiToken(user=owner["id"], name=name, token_hash=token_hash(token), hint=token[:8], created_at=now,
                   expires_at=expires_at, revoked_at=now if revoked else None).save()
    return token


# --- avenants, thèmes (issue 13) --------------------------------------------------------------------------------


async def theme(agreement_id: int, name: str, position: int, description: str = "") -> int:
    from tracker.agreements.tables import AgreementTheme

    row = AgreementTheme(agreement=agreement_id, theme=name, position=position, description=description)
    await row.save()
    return row.id


async def amendment(agreement_id: int, number: int = 1, *, state: str = "brouillon", title: str = "Avenant",
                    new_ends_on: date | None = None) -> tuple[int, dict[int, int]]:
    """An amendment written directly (no history entry), with a deliberation-and-signature row for each party
    of the agreement; returns its id and {agreement party id: amendment party id}."""
    from tracker.agreements.tables import AgreementAmendment, AmendmentParty

    now = arrow.utcnow().datetime
    row = AgreementAmendment(agreement=agreement_id, number=number, title=title, purpose="", state=state,
                             new_ends_on=new_ends_on, version=1, created_at=now, updated_at=now)
    await row.save()
    rows = {}
    for found in await AgreementParty.select(AgreementParty.id).where(
            (AgreementParty.agreement == agreement_id) & (AgreementParty.role == "partie")):
        signing = AmendmentParty(amendment=row.id, party=found["id"], deliberation_ref="", version=1)
        await signing.save()
        rows[found["id"]] = signing.id
    return row.id, rows
