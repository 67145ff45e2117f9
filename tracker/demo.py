"""Demo data for `make run`: three territories after their workshops, ~25 actions in every status with months
of history, partners of every sector and their contacts, demo accounts — all through the services, as the people
would have entered them. Idempotent: a second run keeps what is there."""
from __future__ import annotations

from tracker.core import clock
from tracker.core.db import analyse
import arrow

from tracker.accounts.passwords import hash_password
from tracker.core.permissions import Viewer
from tracker.accounts.service import create_user
from tracker.members import invitations
from tracker.members import service as members
from tracker.members.forms import InvitationInput
from tracker.accounts.tables import User
from tracker.agreements.demo import load_agreements_demo
from tracker.commitments.demo import CONTACT_ACCOUNT, load_commitments_demo
from tracker.contacts import service as contacts_service
from tracker.contacts.forms import ContactInput
from tracker.partners import service as partners_service
from tracker.partners.forms import PartnerInput
from tracker.roadmaps.lifecycle import change_action_status
from tracker.roadmaps import service as roadmaps
from tracker.roadmaps.forms import ActionInput, WorkshopInput
from tracker.review import figures as review_figures
from tracker.roadmaps.tables import Action
from tracker.territories.tables import Territory

PASSWORD = "suivi-demo-2026"
GRAND_ANGOULEME = "200071827"
VALENCE_ROMANS = "200068781"
CHARENTE_LIMOUSINE = "200072049"
ROYANS_VERCORS = "200067767"  # rural neighbour of Valence Romans, party to a demo reciprocity agreement

ACCOUNTS = [
    # email, name, admin, reviewer, (siren, role) or None, what to print
    ("admin@adgcf.example.org", "Camille Administratrice", True, False, None, "administrateur"),
    ("revue@adgcf.example.org", "Dominique Revue", False, True, None, "chargé de mission ADGCF"),
    ("codir@grandangouleme.example.org", "Claire Martin", False, False, (GRAND_ANGOULEME, "editeur"),
     "éditeur, Grand Angoulême"),
    ("lecture@grandangouleme.example.org", "Paul Lecteur", False, False, (GRAND_ANGOULEME, "lecteur"),
     "lecteur, Grand Angoulême"),
    ("codir@valenceromans.example.org", "Nadia Benali", False, False, (VALENCE_ROMANS, "editeur"),
     "éditeur, Valence Romans"),
    ("codir@charentelimousine.example.org", "Jean Dupuy", False, False, (CHARENTE_LIMOUSINE, "referent"),
     "référent, Charente Limousine"),
    # Référents sign their territory's reciprocity agreements (tracker/agreements/demo.py).
    ("dgs@grandangouleme.example.org", "Sophie Leroy", False, False, (GRAND_ANGOULEME, "referent"),
     "référente, Grand Angoulême"),
    ("dgs@valenceromans.example.org", "Marc Roux", False, False, (VALENCE_ROMANS, "referent"),
     "référent, Valence Romans"),
    ("codir@royansvercors.example.org", "Élise Faure", False, False, (ROYANS_VERCORS, "referent"),
     "référente, Royans-Vercors"),
    # A partner's contact: confirms, declines, comments its organisation's commitments (tracker/commitments/demo.py).
    (CONTACT_ACCOUNT, "Martine Lacroix", False, False, None,
     "contact partenaire, Solidarité Angoumois"),
]

PARTNERS = [
    # name, legal form, sirens of the territories it works with, identifiers (real ones for real public bodies; La
    # Poste's head office SIRET), and for a délégataire the end of its contract (days from today)
    ("Ville d’Angoulême", "commune", [GRAND_ANGOULEME], {"siren": "211600150"}),
    ("Département de la Charente", "departement", [GRAND_ANGOULEME, CHARENTE_LIMOUSINE], {}),
    ("Région Auvergne-Rhône-Alpes", "region", [VALENCE_ROMANS], {"siren": "200053767"}),
    ("Préfecture de la Charente", "etat", [GRAND_ANGOULEME, CHARENTE_LIMOUSINE], {}),
    ("Régie des eaux de l’agglomération", "regie", [GRAND_ANGOULEME], {}),
    ("Syndicat mixte de la fourrière", "syndicat", [GRAND_ANGOULEME], {}),
    ("SPL Territoires numériques", "spl", [GRAND_ANGOULEME], {}),
    ("SEM Énergies Drôme-Ardèche", "sem", [VALENCE_ROMANS], {}),
    ("SEMOP Mobilités Valentinoises", "semop", [VALENCE_ROMANS], {}),
    ("Transports de l’agglomération (délégataire)", "dsp", [GRAND_ANGOULEME], {"dsp_contract_end": 1100}),
    ("Eaux de Valence (délégataire)", "dsp", [VALENCE_ROMANS], {"dsp_contract_end": 250}),
    ("Coopérative numérique charentaise", "entreprise", [GRAND_ANGOULEME, CHARENTE_LIMOUSINE], {}),
    ("Solidarité Angoumois", "association", [GRAND_ANGOULEME], {"rna": "W161000123"}),
    ("Fondation pour l’inclusion numérique", "fondation", [GRAND_ANGOULEME, VALENCE_ROMANS], {}),
    ("Collectif des habitants de Basseau", "collectif", [GRAND_ANGOULEME], {}),
    ("Banque alimentaire de la Drôme", "association", [VALENCE_ROMANS], {"rna": "W261000456"}),
    ("Épicerie solidaire de Confolens", "association", [CHARENTE_LIMOUSINE], {}),
    ("La Poste (France services)", "entreprise", [CHARENTE_LIMOUSINE], {"siren": "356000000",
                                                                        "siret": "35600000000048"}),
]
CONTACTS = [
    # partner, name, email, function, linked to the demo account of the same address
    ("Solidarité Angoumois", "Martine Lacroix", CONTACT_ACCOUNT, "Présidente", True),
    ("Solidarité Angoumois", "Jeanne Martin", "jeanne.martin@solidarite-angoumois.example.org",
     "Coordinatrice des bénévoles", False),
    ("Fondation pour l’inclusion numérique", "Karim Haddad", "karim.haddad@inclusion-numerique.example.org",
     "Délégué territorial", False),
    ("SPL Territoires numériques", "Hélène Roux", "helene.roux@spl-territoires.example.org", "Directrice", False),
    ("Banque alimentaire de la Drôme", "Luc Morel", "luc.morel@ba26.example.org", "Président", False),
    ("La Poste (France services)", "Nathalie Petit", "nathalie.petit@laposte.example.org",
     "Responsable France services", False),
]

# Actions: (title, module, axis index, pilot name, start offset days, deadline offset days, priority,
#           status path [(status, days ago, comment)], confidential, parent title)
GA_ACTIONS = [
    ("Cartographier les initiatives citoyennes d’entraide", 1, 0, "Solidarité Angoumois", -240, -60, "haute",
     [("en_cours", 230, ""), ("realisee", 70, "Carte publiée sur le site de l’agglomération.")], False, None),
    ("Créer un guichet unique pour les associations", 1, 0, "Ville d’Angoulême", -200, 60, "haute",
     [("en_cours", 190, "")], False, None),
    ("Rédiger la charte d’accueil des associations", 1, 0, "Ville d’Angoulême", -190, -10, "normale",
     [("en_cours", 180, "")], False, "Créer un guichet unique pour les associations"),
    ("Former les agents d’accueil au guichet", 1, 0, "Ville d’Angoulême", -100, 120, "normale",
     [], False, "Créer un guichet unique pour les associations"),
    ("Convention de portage de repas avec les bénévoles", 1, 0, "Solidarité Angoumois", -210, -30, "haute",
     [("en_cours", 200, ""), ("bloquee", 90, "Assurance des bénévoles non réglée.")], False, None),
    ("Plateforme de mise en relation des bénévoles", 4, 1, "SPL Territoires numériques", -180, 200, "normale",
     [("en_cours", 170, ""), ("en_pause", 80, "Attente du budget supplémentaire."),
      ("en_cours", 20, "")], False, None),
    ("Ateliers d’inclusion numérique dans les quartiers", 4, 1, "Fondation pour l’inclusion numérique", -160, -20,
     "normale", [("en_cours", 150, "")], False, None),
    ("Covoiturage solidaire pour les personnes âgées", 4, 1, "Transports de l’agglomération (délégataire)", -150,
     90, "normale", [("en_cours", 140, ""), ("abandonnee", 60, "Doublon avec l’offre départementale.")], False,
     None),
    ("Ouvrir les données des services publics locaux", 4, 1, "SPL Territoires numériques", -120, 300, "basse",
     [], False, None),
    ("Audit de la délégation de transport", 4, 1, "Transports de l’agglomération (délégataire)", -100, 45, "haute",
     [("en_cours", 90, "")], True, None),
    ("Budget participatif intercommunal", 1, 0, "Collectif des habitants de Basseau", -230, -90, "normale",
     [("en_cours", 220, ""), ("realisee", 100, "Premier budget voté en conseil."),
      ("en_cours", 40, "Seconde édition lancée.")], False, None),
    ("Réseau des tiers-lieux", 4, 1, "Coopérative numérique charentaise", -90, -5, "normale",
     [("en_cours", 80, "")], False, None),
]
VR_ACTIONS = [
    ("Tableau de bord des satellites (EPL, délégataires)", 2, 0, "SEM Énergies Drôme-Ardèche", -200, 30, "haute",
     [("en_cours", 190, "")], False, None),
    ("Clauses de qualité dans le renouvellement de la DSP eau", 2, 0, "Eaux de Valence (délégataire)", -220, -45,
     "haute", [("en_cours", 210, ""), ("bloquee", 50, "Contentieux en cours avec le délégataire.")], False, None),
    ("Comité annuel des opérateurs", 2, 0, "SEMOP Mobilités Valentinoises", -180, -100, "normale",
     [("en_cours", 170, ""), ("realisee", 110, "Premier comité tenu.")], False, None),
    ("Évaluation des satellites par les usagers", 2, 1, "SEMOP Mobilités Valentinoises", -150, 150, "normale",
     [], False, None),
    ("Charte de gouvernance des EPL", 2, 1, "SEM Énergies Drôme-Ardèche", -160, -15, "normale",
     [("en_cours", 150, ""), ("en_pause", 40, "Attente des élections des conseils d’administration.")], False, None),
    ("Mutualiser les achats avec la Région", 2, 1, "Région Auvergne-Rhône-Alpes", -140, 200, "basse",
     [("abandonnee", 100, "La Région a retenu une autre méthode.")], False, None),
    ("Plan alimentaire avec la banque alimentaire", 2, 1, "Banque alimentaire de la Drôme", -130, -25, "normale",
     [("en_cours", 120, "")], False, None),
]
CL_ACTIONS = [
    ("Épiceries solidaires itinérantes", 3, 0, "Épicerie solidaire de Confolens", -150, 90, "haute",
     [("en_cours", 140, "")], False, None),
    ("Accord de santé avec le Grand Angoulême", 3, 0, "Département de la Charente", -140, -40, "haute",
     [("en_cours", 130, ""), ("bloquee", 30, "Le médecin coordinateur a quitté le territoire.")], False, None),
    ("Navettes vers les services d’Angoulême", 3, 0, "Département de la Charente", -120, 240, "normale",
     [], False, None),
    ("Mutualiser un technicien numérique", 3, 0, "Coopérative numérique charentaise", -110, -70, "normale",
     [("en_cours", 100, ""), ("realisee", 75, "Poste pourvu et partagé.")], False, None),
]

NOTES = [
    ("Créer un guichet unique pour les associations", 45, "Trois associations pilotes ont testé le formulaire."),
    ("Convention de portage de repas avec les bénévoles", 20, "Rendez-vous pris avec l’assureur le mois prochain."),
    ("Clauses de qualité dans le renouvellement de la DSP eau", 15, "Avis juridique demandé au cabinet conseil."),
]


async def _territory_id(siren: str) -> int:
    row = await Territory.select(Territory.id).where(Territory.siren == siren).first()
    if row is None:
        raise SystemExit(f"Territoire {siren} absent : lancez d’abord le chargement des EPCI.")
    return row["id"]


async def _workshop(admin: Viewer, siren: str, held_days_ago: int, modules: tuple[int, int | None],
                    participants: int, title: str, axes: list[str]) -> tuple[int, int, list[int]]:
    today = arrow.get(clock.now()).to("Europe/Paris")
    territory = await _territory_id(siren)
    held = today.shift(days=-held_days_ago)
    values = WorkshopInput(
        host=siren, held_on=held.date(), module_primary=modules[0], module_secondary=modules[1],
        participants=participants, experts="Experts de l’ADGCF et d’un cabinet partenaire", title=title,
        adopted_on=held.shift(days=21).date(), horizon=today.shift(years=2).replace(month=12, day=31).date(),
        axes=axes,
    )
    roadmap = await roadmaps.create_workshop(admin, values, at=held.datetime)
    return territory, roadmap, [axis["id"] for axis in await roadmaps.axes_of(roadmap)]


async def _actions(viewer: Viewer, roadmap: int, axes: list[int], specs: list, partners: dict):
    """Each action created and moved through its statuses by the services, as its editor would, back in time."""
    today = arrow.get(clock.now()).to("Europe/Paris")
    ids: dict[str, int] = {}
    for title, module, axis, pilot, start, deadline, priority, path, confidential, parent in specs:
        created = today.shift(days=start)
        values = ActionInput(
            title=title, module=module, axis=axes[axis], pilot=partners[pilot], parent=ids.get(parent),
            start_on=created.date(), deadline=today.shift(days=deadline).date(), priority=priority,
            confidential=confidential,
        )
        ids[title] = action_id = await roadmaps.create_action(viewer, roadmap, values, at=created.datetime)
        version = 1
        for status, days_ago, comment in path:
            change = await change_action_status(viewer, action_id, status, comment, version,
                                                at=today.shift(days=-days_ago).datetime)
            version = change.version
    return ids


async def _partners(admin: Viewer) -> dict[str, int]:
    """The directory, entered by an administrator naming each partner's territories by SIREN."""
    today = arrow.get(clock.now()).to("Europe/Paris")
    ids: dict[str, int] = {}
    for name, legal_form, sirens, identifiers in PARTNERS:
        dsp_end = identifiers.get("dsp_contract_end")
        values = PartnerInput(
            name=name, legal_form=legal_form, siren=identifiers.get("siren"), siret=identifiers.get("siret"),
            rna=identifiers.get("rna"), dsp_contract_end=today.shift(days=dsp_end).date() if dsp_end else None,
            other_sirens=tuple(sirens), confirm_name=True,  # the demo's partners are distinct organisations
        )
        ids[name] = await partners_service.create_partner(admin, values)
    return ids


async def _contacts(admin: Viewer, partners: dict[str, int]) -> dict[str, int]:
    """The partners' contacts, recorded months ago; the first one of each partner receives its signed links.
    Returns partner name → that contact."""
    recorded = arrow.get(clock.now()).shift(days=-240).datetime
    first: dict[str, int] = {}
    for partner, full_name, email, function, has_account in CONTACTS:
        values = ContactInput(full_name=full_name, email=email, function=function)
        contact_id = await contacts_service.add_contact(admin, partners[partner], values, at=recorded)
        if has_account:
            await contacts_service.set_account(admin, contact_id, "relier")
        first.setdefault(partner, contact_id)
    return first


async def load_demo() -> None:
    if await User.exists().where(User.email == ACCOUNTS[0][0]):
        print("Données de démonstration déjà chargées : rien n’est modifié.")
        return
    password_hash = await hash_password(PASSWORD)
    users: dict[str, int] = {}
    for email, name, admin, reviewer, membership, _ in ACCOUNTS:
        user = await create_user(email=email, full_name=name, password="", is_admin=admin,
                                 is_reviewer=reviewer, password_hash=password_hash)
        users[email] = user.id
        if membership:  # granted by the administrator (the first account), as from the members page
            await members.grant(user.id, await _territory_id(membership[0]), membership[1],
                                users[ACCOUNTS[0][0]], "")

    admin = Viewer(user_id=users[ACCOUNTS[0][0]], email=ACCOUNTS[0][0], is_admin=True)
    partners = await _partners(admin)
    contacts = await _contacts(admin, partners)

    def editor(email: str, territory: int) -> Viewer:
        return Viewer(user_id=users[email], email=email, roles={territory: "editeur"})

    ga, ga_roadmap, ga_axes = await _workshop(
        admin, GRAND_ANGOULEME, 250, (1, 4), 31, "Feuille de route 2026-2028",
        ["Faire avec les initiatives citoyennes", "Services publics hybrides et numériques"])
    vr, vr_roadmap, vr_axes = await _workshop(
        admin, VALENCE_ROMANS, 230, (2, None), 27, "Feuille de route des satellites",
        ["Piloter les opérateurs", "Évaluer et associer les usagers"])
    cl, cl_roadmap, cl_axes = await _workshop(
        admin, CHARENTE_LIMOUSINE, 160, (3, None), 24, "Alliances territoriales", ["Chaînes de solidarité"])

    editors = {
        ga: editor("codir@grandangouleme.example.org", ga),
        vr: editor("codir@valenceromans.example.org", vr),
        cl: editor("codir@charentelimousine.example.org", cl),
    }
    ids = await _actions(editors[ga], ga_roadmap, ga_axes, GA_ACTIONS, partners)
    ids |= await _actions(editors[vr], vr_roadmap, vr_axes, VR_ACTIONS, partners)
    ids |= await _actions(editors[cl], cl_roadmap, cl_axes, CL_ACTIONS, partners)
    for title, days_ago, body in NOTES:
        action = await Action.select(Action.territory).where(Action.id == ids[title]).first()
        await roadmaps.add_note(editors[action["territory"]], ids[title], body,
                                at=arrow.get(clock.now()).shift(days=-days_ago).datetime)
    print(f"Données de démonstration chargées : {len(ids)} actions, {len(partners)} partenaires, "
          f"{len(CONTACTS)} contacts.")
    await load_agreements_demo(users, partners, ids)
    await load_commitments_demo(partners, ids, contacts)
    await _invitation_demo(users)
    done = await review_figures.rebuild()  # kept by every change above too: this checks nothing was missed
    print(f"Indicateurs du pilotage recalculés : {done['territoires']} territoires.")
    await analyse()  # statistics for the query planners, once everything is in


async def _invitation_demo(users: dict[str, int]) -> None:
    """Every demo territory has a référent who invites people (its members page); one invitation is pending."""
    email = "dgs@grandangouleme.example.org"
    ga = await _territory_id(GRAND_ANGOULEME)
    referent = Viewer(user_id=users[email], email=email, full_name="Sophie Leroy", roles={ga: "referent"})
    await invitations.invite(referent, ga, InvitationInput(email="charge.mission@grandangouleme.example.org",
                                                           full_name="Hugo Petit", role="editeur"))
    print("Invitation de démonstration : charge.mission@grandangouleme.example.org (éditeur, Grand Angoulême), "
          "lien dans var/outbox/.")


def print_sign_in_help(host: str, port: int) -> None:
    print()
    print(f"  Suivi des feuilles de route : http://{host}:{port}/")
    print(f"  Comptes de démonstration (mot de passe « {PASSWORD} ») :")
    for email, *_, label in ACCOUNTS:
        print(f"    {email:40} {label}")
    print()
