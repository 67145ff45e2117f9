"""Demo commitments in every state with their history, signed links and a comment — written through the services
and the life cycle, as the territory's editors and the partners would, back in time. Called at the end of
tracker.demo.load_demo() (which makes the partners, their contacts and the contact's account), once per database."""
from __future__ import annotations

import arrow

from tracker.accounts.tables import User
from tracker.auth.viewer import viewer_for_user
from tracker.commitments import lifecycle, links, service
from tracker.commitments.forms import NewCommitment, Terms
from tracker.core import clock
from tracker.core.forms import StateChangeInput
from tracker.core.permissions import Viewer
from tracker.mail import MailNotSent, mail_settings
from tracker.roadmaps.tables import Action

CONTACT_ACCOUNT = "contact@solidarite-angoumois.example.org"  # Solidarité Angoumois' contact, who signs in
EDITORS = ("codir@grandangouleme.example.org", "codir@valenceromans.example.org",
           "codir@charentelimousine.example.org")

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
# commitment's action, author, days ago, text
COMMENTS = [
    ("Convention de portage de repas avec les bénévoles", CONTACT_ACCOUNT, 15,
     "Nous attendons l’attestation d’assurance des bénévoles pour démarrer."),
]


async def _viewer(email: str) -> Viewer:
    """The demo person as the application sees them when they sign in."""
    user = await User.select(
        User.id.as_alias("user_id"), User.email, User.full_name, User.is_admin, User.is_reviewer
    ).where(User.email == email).first()
    return await viewer_for_user(user)


async def load_commitments_demo(partners: dict[str, int], actions: dict[str, int], contacts: dict[str, int]) -> None:
    """`partners`: name → id; `actions`: title → id; `contacts`: partner name → the contact signed links go to
    (as tracker.demo.load_demo made them)."""
    now = arrow.get(clock.now())
    editors: dict[int, Viewer] = {}
    for email in EDITORS:
        editor = await _viewer(email)
        for territory in editor.roles:
            editors[territory] = editor
    partner_contact = await _viewer(CONTACT_ACCOUNT)

    created: dict[str, int] = {}
    for title, partner_name, role, what, amount, unit, created_days, path in COMMITMENTS:
        action = await Action.select(Action.territory).where(Action.id == actions[title]).first()
        editor = editors[action["territory"]]
        terms = Terms(role=role, description=what, amount=amount, amount_unit=unit)
        commitment_id = await service.create_commitment(
            editor, actions[title], NewCommitment(partner=partners[partner_name], terms=terms),
            at=now.shift(days=-created_days).datetime,
        )
        created[title] = commitment_id
        version = 1
        for state, days_ago, comment, by in path:
            at = now.shift(days=-days_ago).datetime
            if by == "lien":
                # A link as the editor sent it the day before (its token is gone with the email: only the hash
                # is kept), answered by the contact it was sent to.
                token = await links.record_sent_link(editor, commitment_id, contacts[partner_name],
                                                     at=now.shift(days=-days_ago - 1).datetime)
                change = await links.answer_link(token, StateChangeInput(state, comment, version), at=at)
            else:
                who = partner_contact if by == "compte" else editor
                change = await lifecycle.change_commitment_state(who, commitment_id, state, comment, version, at=at)
            version = change.version
    for title, email, days_ago, body in COMMENTS:
        author = partner_contact if email == CONTACT_ACCOUNT else await _viewer(email)
        await service.add_comment(author, created[title], body, at=now.shift(days=-days_ago).datetime)

    # One link really sent, so that `make run` shows what a partner without an account receives (file outbox).
    sent = ""
    if mail_settings().backend in ("fichier", "console"):
        pending = created["Plan alimentaire avec la banque alimentaire"]
        territory = (await Action.select(Action.territory).where(
            Action.id == actions["Plan alimentaire avec la banque alimentaire"]).first())["territory"]
        try:
            await links.send_link(editors[territory], pending, contacts["Banque alimentaire de la Drôme"])
            where = mail_settings().outbox if mail_settings().backend == "fichier" else "sortie standard"
            sent = f" Un lien signé de démonstration a été envoyé ({where})."
        except MailNotSent:
            sent = " (Le lien signé de démonstration n’a pas pu être envoyé.)"
    print(f"Engagements de démonstration : {len(created)} engagements.{sent}")
