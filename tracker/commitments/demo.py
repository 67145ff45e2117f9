"""Demo data for partners and commitments: identifiers, contacts, the partner-contact account, and commitments in
every state with their history — written through the lifecycle functions, as a user would. Called at the end of
tracker.demo.load_demo(), which runs once per database."""
from __future__ import annotations

from tracker.core import clock
import secrets

import arrow

from tracker.core.permissions import Viewer
from tracker.accounts.tables import Membership
from tracker.commitments import lifecycle
from tracker.commitments.links import LINK_DAYS, send_link, token_hash
from tracker.commitments.tables import Commitment, CommitmentComment, CommitmentLink
from tracker.core.db import write_transaction
from tracker.lifecycle import record_created
from tracker.mail import MailNotSent, mail_settings
from tracker.partners.kinds import sector_of
from tracker.partners.tables import Partner, PartnerContact, PartnerTerritory
from tracker.roadmaps.tables import Action
from tracker.territories.tables import Territory

CONTACT_ACCOUNT = "contact@solidarite-angoumois.example.org"
CONTACT_NAME = "Martine Lacroix"

# Identifiers of demo partners (real ones for real public bodies; La Poste's head office SIRET).
IDENTIFIERS = {
    "Région Auvergne-Rhône-Alpes": {"siren": "200053767"},
}
NEW_PARTNERS = [
    # name, legal form, territory sirens, identifiers
    ("La Poste (France services)", "entreprise", ["200072049"], {"siren": "356000000", "siret": "35600000000048"}),
]
CONTACTS = [
    # partner, name, email, function, has the demo account
    ("Solidarité Angoumois", CONTACT_NAME, CONTACT_ACCOUNT, "Présidente", True),
    ("Solidarité Angoumois", "Jeanne Martin", "jeanne.martin@solidarite-angoumois.example.org",
     "Coordinatrice des bénévoles", False),
    ("Fondation pour l’inclusion numérique", "Karim Haddad", "karim.haddad@inclusion-numerique.example.org",
     "Délégué territorial", False),
    ("SPL Territoires numériques", "Hélène Roux", "helene.roux@spl-territoires.example.org", "Directrice", False),
    ("Banque alimentaire de la Drôme", "Luc Morel", "luc.morel@ba26.example.org", "Président", False),
    ("La Poste (France services)", "Nathalie Petit", "nathalie.petit@laposte.example.org",
     "Responsable France services", False),
]
# action, partner, role, what, amount, unit, created days ago, path [(state, days ago, comment, by)]
# by: "compte" (the partner's contact signed in), "lien" (a signed link), "territoire" (the territory's editor)
COMMITMENTS = [
    ("Créer un guichet unique pour les associations", "Solidarité Angoumois", "contributeur",
     "Tenir une permanence hebdomadaire au guichet avec deux bénévoles", None, "", 30, []),
    ("Convention de portage de repas avec les bénévoles", "Solidarité Angoumois", "pilote",
     "Piloter la convention et recruter quinze bénévoles", 40, "jours", 200,
     [("confirme", 195, "", "compte")]),
    ("Cartographier les initiatives citoyennes d’entraide", "Solidarité Angoumois", "pilote",
     "Recenser les initiatives d’entraide des quartiers", None, "", 235,
     [("confirme", 230, "", "compte"), ("tenu", 70, "Carte remise à l’agglomération.", "compte")]),
    ("Budget participatif intercommunal", "Solidarité Angoumois", "copilote",
     "Animer deux réunions publiques par commune", None, "", 225,
     [("confirme", 220, "", "compte"),
      ("retire", 45, "L’association n’a plus de salarié pour l’animation.", "territoire")]),
    ("Ateliers d’inclusion numérique dans les quartiers", "Fondation pour l’inclusion numérique", "financeur",
     "Financer trente ateliers et le matériel prêté", 15000, "euros", 150,
     [("confirme", 140, "", "lien")]),
    ("Plateforme de mise en relation des bénévoles", "SPL Territoires numériques", "contributeur",
     "Développer le module de mise en relation", 20, "jours", 170,
     [("decline", 160, "Plan de charge complet jusqu’à l’an prochain.", "lien")]),
    ("Plan alimentaire avec la banque alimentaire", "Banque alimentaire de la Drôme", "pilote",
     "Coordonner les collectes et la distribution", None, "", 20, []),
    ("Navettes vers les services d’Angoulême", "La Poste (France services)", "contributeur",
     "Accueillir les usagers des navettes dans l’espace France services", None, "", 10, []),
]


async def _territory(siren: str) -> int:
    row = await Territory.select(Territory.id).where(Territory.siren == siren).first()
    return row["id"]


async def load_commitments_demo(users: dict[str, int], partners: dict[str, int], actions: dict[str, int]) -> None:
    """`users`: email → id; `partners`: name → id; `actions`: title → id (as tracker.demo.load_demo made them)."""
    now = arrow.get(clock.now())
    partners = dict(partners)
    async with write_transaction():
        for name, identifiers in IDENTIFIERS.items():
            await Partner.update(identifiers).where(Partner.id == partners[name])
        for name, legal_form, sirens, identifiers in NEW_PARTNERS:
            partner = Partner(name=name, sector=sector_of(legal_form), legal_form=legal_form, version=1,
                              created_at=now.datetime, updated_at=now.datetime, **identifiers)
            await partner.save()
            for siren in sirens:
                await PartnerTerritory.insert(PartnerTerritory(partner=partner.id, territory=await _territory(siren)))
            partners[name] = partner.id
        contacts: dict[str, int] = {}
        for partner_name, full_name, email, function, has_account in CONTACTS:
            contact = PartnerContact(partner=partners[partner_name], full_name=full_name, email=email,
                                     function=function, account=users.get(email) if has_account else None,
                                     version=1, created_at=now.shift(days=-240).datetime,
                                     updated_at=now.shift(days=-240).datetime)
            await contact.save()
            contacts[partner_name] = contacts.get(partner_name) or contact.id

    editors: dict[int, Viewer] = {}
    for email in ("codir@grandangouleme.example.org", "codir@valenceromans.example.org",
                  "codir@charentelimousine.example.org"):
        membership = await Membership.select(
            Membership.territory, Membership.role, Membership.user.full_name.as_alias("name")
        ).where(Membership.user == users[email]).first()
        editors[membership["territory"]] = Viewer(user_id=users[email], email=email, full_name=membership["name"],
                                                  roles={membership["territory"]: membership["role"]})
    sa_contact = Viewer(user_id=users[CONTACT_ACCOUNT], email=CONTACT_ACCOUNT, full_name=CONTACT_NAME,
                        partner_ids=frozenset({partners["Solidarité Angoumois"]}))

    count = 0
    for title, partner_name, role, what, amount, unit, created_days, path in COMMITMENTS:
        action = await Action.select(Action.id, Action.territory).where(Action.id == actions[title]).first()
        created = now.shift(days=-created_days).datetime
        editor = editors[action["territory"]]
        async with write_transaction():
            commitment = Commitment(action=action["id"], territory=action["territory"], partner=partners[partner_name],
                                    role=role, description=what, amount=amount, amount_unit=unit, state="propose",
                                    version=1, created_by=editor.user_id, created_at=created, updated_at=created)
            await commitment.save()
            await record_created(lifecycle.COMMITMENT, commitment.id, action["territory"], editor,
                                 comment="Engagement proposé au partenaire", at=created)
        version = 1
        for state, days_ago, comment, by in path:
            at = now.shift(days=-days_ago).datetime
            link = None
            if by == "lien":
                # A link as the editor sent it then (its token is gone with the email: only the hash is kept).
                async with write_transaction():
                    row = CommitmentLink(commitment=commitment.id, contact=contacts[partner_name],
                                         token_hash=token_hash(secrets.token_urlsafe(32)), created_by=editor.user_id,
                                         created_at=now.shift(days=-days_ago - 1).datetime,
                                         expires_at=now.shift(days=-days_ago - 1 + LINK_DAYS).datetime)
                    await row.save()
                link = lifecycle.LinkUse(link_id=row.id, contact_id=contacts[partner_name],
                                         commitment_id=commitment.id)
            who = sa_contact if by == "compte" else editor
            change = await lifecycle.change_commitment_state(who, commitment.id, state, comment, version, link=link,
                                                             at=at)
            version = change.version
        count += 1
        if title == "Convention de portage de repas avec les bénévoles":
            async with write_transaction():
                await CommitmentComment.insert(CommitmentComment(
                    commitment=commitment.id, author=users[CONTACT_ACCOUNT], author_contact=contacts[partner_name],
                    body="Nous attendons l’attestation d’assurance des bénévoles pour démarrer.",
                    created_at=now.shift(days=-15).datetime))

    # One link really sent, so that `make run` shows what a partner without an account receives (file outbox).
    sent = ""
    if mail_settings().backend in ("fichier", "console"):
        pending = await Commitment.select(Commitment.id, Commitment.territory).where(
            Commitment.partner == partners["Banque alimentaire de la Drôme"]).first()
        try:
            await send_link(editors[pending["territory"]], pending["id"],
                            {"contact": str(contacts["Banque alimentaire de la Drôme"])})
            where = mail_settings().outbox if mail_settings().backend == "fichier" else "sortie standard"
            sent = f" Un lien signé de démonstration a été envoyé ({where})."
        except MailNotSent:
            sent = " (Le lien signé de démonstration n’a pas pu être envoyé.)"
    print(f"Engagements de démonstration : {count} engagements, {len(CONTACTS)} contacts.{sent}")
