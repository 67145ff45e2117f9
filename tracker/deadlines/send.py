"""Sending the reminders written down (plan.py), each by the one run that claims it.

For each reminder « à envoyer » or « en échec »: claim it (→ en_envoi, version checked: a second run at the same
moment gets a conflict and leaves it), compose it from what is true now, send it, record « envoyé », or « échec »
with the cause (the next run retries it). A reminder left « en cours d’envoi » by a run that died is marked
« interrompu » by the next run and not sent again (it may have arrived): administrators see it and decide. What no
longer needs saying (deadlines met or moved, recipient gone, preference turned off, more than a week old) is
cancelled with the reason, in the history."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tracker.accounts.tables import User
from tracker.auth.viewer import viewer_for_user
from tracker.commitments import links
from tracker.commitments.service import load_commitment
from tracker.commitments.tables import CommitmentLink
from tracker.core import clock
from tracker.core.config import settings
from tracker.core.errors import DomainError
from tracker.core.french import date_fr, relative_fr, typo
from tracker.core.permissions import ANONYMOUS
from tracker.deadlines import service
from tracker.deadlines.items import KIND_SINGULAR, Scope, load
from tracker.deadlines.lifecycle import RETRYABLE, system_change
from tracker.deadlines.plan import CODIR_WINDOW_DAYS, upcoming_in
from tracker.deadlines.preferences import Recipient, preferences_of, stop_url, unsubscribe_headers, wants
from tracker.deadlines.tables import Reminder, ReminderItem
from tracker.mail import MailNotSent, send_mail
from tracker.partners.tables import PartnerContact
from tracker.review import codir
from tracker.review.service import follow_ups
from tracker.roadmaps.statuses import STATUS_LABELS
from tracker.territories.tables import Territory

log = logging.getLogger("tracker.reminders")

STALE_CLAIM = timedelta(minutes=15)  # far longer than one SMTP exchange (15 s timeout)
VALIDITY = timedelta(days=7)  # older than this, a reminder is replaced by the next one
DIGEST_ROWS = 10


class Skip(Exception):
    """Nothing to send any more: the reminder is cancelled with this reason."""


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    template: str
    context: dict
    headers: dict


def _common(recipient: Recipient, kind: str) -> dict[str, Any]:
    return {
        "name": recipient.name,
        "base_url": settings.base_url,
        "stop_url": stop_url(recipient.ref, kind),
        "settings_url": f"{settings.base_url}/compte/echeances" if recipient.user_id else None,
    }


async def recipient_of(reminder: dict) -> Recipient:
    """Who the reminder goes to, as they are now; Skip when nobody may receive it any more."""
    if reminder["user"] is not None:
        user = await User.select(User.email, User.full_name, User.is_active).where(User.id == reminder["user"]).first()
        if user is None or not user["is_active"]:
            raise Skip("Compte désactivé : rien n’est envoyé.")
        return Recipient(ref=f"u{reminder['user']}", email=user["email"], name=user["full_name"],
                         user_id=reminder["user"])
    contact = await PartnerContact.select(
        PartnerContact.email, PartnerContact.full_name, PartnerContact.erased_at, PartnerContact.partner,
    ).where(PartnerContact.id == reminder["contact"]).first()
    if contact is None or contact["erased_at"] is not None or not contact["email"]:
        raise Skip("Contact effacé : rien n’est envoyé.")
    return Recipient(ref=f"c{reminder['contact']}", email=contact["email"], name=contact["full_name"],
                     contact_id=reminder["contact"])


async def _viewer(recipient: Recipient):
    user = await User.select(User.id.as_alias("user_id"), User.email, User.full_name, User.is_admin,
                             User.is_reviewer).where(User.id == recipient.user_id).first()
    return await viewer_for_user(user)


async def _deadlines_mail(reminder: dict, recipient: Recipient, today: date) -> Mail:
    """The deadlines written down for this mail that are still to be reminded, as the recipient may read them now."""
    planned = await ReminderItem.select(ReminderItem.subject, ReminderItem.subject_id, ReminderItem.due_on).where(
        ReminderItem.reminder == reminder["id"])
    if recipient.user_id is not None:
        current = await service.person_deadlines(await _viewer(recipient))
    else:
        partner = (await PartnerContact.select(PartnerContact.partner).where(
            PartnerContact.id == recipient.contact_id).first())["partner"]
        current = [d for d in await load(Scope(partners=frozenset({partner}))) if partner in d.partners]
    by_key = {(d.kind, d.id): d for d in current}
    rows = []
    for item in planned:
        deadline = by_key.get((item["subject"], item["subject_id"]))
        # Met, abandoned or moved since it was written down: no longer worth a reminder.
        if deadline is None or not deadline.remind or deadline.due != item["due_on"]:
            continue
        rows.append({
            "kind": KIND_SINGULAR[deadline.kind], "title": deadline.title, "context": deadline.context,
            "due": date_fr(deadline.due), "relative": relative_fr(deadline.due), "late": deadline.is_late(today),
            "status": deadline.status_text(today), "url": settings.base_url + deadline.path, "due_on": deadline.due,
        })
    if not rows:
        raise Skip("Plus rien à rappeler : les échéances ont été tenues, abandonnées ou déplacées.")
    rows.sort(key=lambda r: (not r["late"], r["due_on"]))
    late = sum(1 for r in rows if r["late"])
    count = f"{len(rows)} échéance{'s' if len(rows) > 1 else ''}"
    subject = f"{count} en retard" if late == len(rows) else f"{count} à suivre" + (f", dont {late} en retard" if late else "")
    return Mail(to=recipient.email, subject=subject, template="rappel_echeances",
                context={**_common(recipient, "echeances"), "rows": rows, "late": late,
                         "page_url": f"{settings.base_url}/echeances" if recipient.user_id else None},
                headers=unsubscribe_headers(recipient.ref, "echeances"))


async def _send_commitment_reminder(reminder: dict, recipient: Recipient) -> None:
    """A fresh signed link, through the commitments' own sending (it voids the older links once sent)."""
    item = await ReminderItem.select(ReminderItem.subject_id, ReminderItem.step).where(
        ReminderItem.reminder == reminder["id"]).first()
    commitment = await load_commitment(item["subject_id"])
    if commitment["state"] != "propose":
        raise Skip("L’engagement a reçu sa réponse entre-temps.")
    if commitment["action_confidential"]:
        raise Skip("L’action est devenue confidentielle : les partenaires ne la voient plus.")
    followed = int(item["step"].removeprefix("lien-"))
    newer = await CommitmentLink.exists().where(
        (CommitmentLink.commitment == commitment["id"]) & (CommitmentLink.id > followed)
        & CommitmentLink.created_by.is_not_null())
    if newer:
        raise Skip("Le territoire a envoyé un nouveau lien entre-temps.")
    contact_id = (await CommitmentLink.select(CommitmentLink.contact).where(
        CommitmentLink.id == followed).first())["contact"]
    contact = await PartnerContact.select(PartnerContact.id, PartnerContact.full_name, PartnerContact.email,
                                          PartnerContact.erased_at).where(PartnerContact.id == contact_id).first()
    if contact["erased_at"] is not None or not contact["email"]:
        raise Skip("Contact effacé : rien n’est envoyé.")
    try:
        await links.deliver_link(
            ANONYMOUS, commitment, {**contact, "email": recipient.email},
            sender_name=commitment["territory_name"], reply_to=None,
            template="relance_engagement", subject="Rappel : engagement à confirmer, {title}",
            extra=_common(recipient, "engagements"), headers=unsubscribe_headers(recipient.ref, "engagements"),
        )
    except MailNotSent:
        raise
    except DomainError as error:  # the commitment changed while sending: nothing was sent
        raise Skip(error.message) from error


async def _codir_mail(reminder: dict, recipient: Recipient, today: date, packs: dict[int, dict]) -> Mail:
    viewer = await _viewer(recipient)
    territory = await Territory.select(Territory.siren, Territory.name).where(
        Territory.id == reminder["territory"]).first()
    if territory is None or reminder["territory"] not in viewer.roles:
        raise Skip("Le destinataire n’est plus membre du territoire.")
    # Every member reads the same pack (confidential actions included): built once per territory and run.
    if reminder["territory"] not in packs:
        packs[reminder["territory"]] = await codir.meeting_pack(
            viewer, territory["siren"], today - timedelta(days=CODIR_WINDOW_DAYS))
    pack = packs[reminder["territory"]]
    url = f"{settings.base_url}/territoires/{territory['siren']}/point-codir"
    return Mail(to=recipient.email, subject=f"Point hebdomadaire du CODIR : {territory['name']}",
                template="point_codir",
                context={**_common(recipient, "codir"), "pack": pack, "territory": territory, "url": url,
                         "upcoming": upcoming_in(pack, today), "labels": STATUS_LABELS,
                         "settings_territory_url": f"{settings.base_url}/territoires/{territory['siren']}/rappels"},
                headers=unsubscribe_headers(recipient.ref, "codir"))


async def _network_mail(recipient: Recipient) -> Mail:
    viewer = await _viewer(recipient)
    if not viewer.is_reviewer:
        raise Skip("Le destinataire n’est plus chargé de mission de l’ADGCF.")
    data = await follow_ups(viewer, limit=DIGEST_ROWS)
    return Mail(to=recipient.email, subject="Synthèse mensuelle : à relancer dans le réseau", template="synthese_reseau",
                context={**_common(recipient, "reseau"), "data": data, "rows": DIGEST_ROWS,
                         "url": f"{settings.base_url}/pilotage/relances"},
                headers=unsubscribe_headers(recipient.ref, "reseau"))


async def _send(reminder: dict, today: date, packs: dict[int, dict]) -> None:
    recipient = await recipient_of(reminder)
    if not wants((await preferences_of([recipient.ref]))[recipient.ref], reminder["kind"]):
        raise Skip("Le destinataire a désactivé ce type de courriel.")
    if reminder["kind"] == "engagements":
        await _send_commitment_reminder(reminder, recipient)
        return
    if reminder["kind"] == "echeances":
        mail = await _deadlines_mail(reminder, recipient, today)
    elif reminder["kind"] == "codir":
        mail = await _codir_mail(reminder, recipient, today, packs)
    else:
        mail = await _network_mail(recipient)
    await send_mail(to=mail.to, subject=typo(mail.subject), template=mail.template, context=mail.context,
                    headers=mail.headers)


def _cause(error: MailNotSent) -> str:
    cause = error.__cause__
    detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
    return f"Échec de l’envoi{detail}. {error.message}"[:2000]


def _describe(reminder: dict) -> str:
    return f"n° {reminder['id']} « {reminder['kind']} » ({reminder['key']})"


async def mark_interrupted(report: SendReport) -> None:
    """Reminders a dead run left « en cours d’envoi »: maybe sent, never sent again without an administrator."""
    limit = clock.now() - STALE_CLAIM
    for row in await Reminder.select(Reminder.id, Reminder.version, Reminder.key, Reminder.kind).where(
        (Reminder.state == "en_envoi") & (Reminder.updated_at < limit)
    ).order_by(Reminder.id):
        try:
            await system_change(row["id"], "interrompu", row["version"],
                                "Un envoi précédent s’est arrêté pendant l’envoi : le courriel est peut-être parti. "
                                "Il ne sera renvoyé que si un administrateur le demande.")
        except DomainError:
            continue
        report.interrupted.append(_describe(row))


async def pending() -> list[dict]:
    return await Reminder.select(
        Reminder.id, Reminder.key, Reminder.kind, Reminder.user, Reminder.contact, Reminder.territory,
        Reminder.state, Reminder.version, Reminder.attempts, Reminder.created_at,
    ).where(Reminder.state.is_in(sorted(RETRYABLE))).order_by(Reminder.id)


async def deliver(report: SendReport) -> SendReport:
    """Send every reminder waiting or failed, each claimed first. Another run at the same moment skips those this
    one claimed, and the other way round."""
    await mark_interrupted(report)
    today, now = clock.today(), clock.now()
    packs: dict[int, dict] = {}
    for row in await pending():
        if row["created_at"] < now - VALIDITY:
            try:
                await system_change(row["id"], "annule", row["version"],
                                    "Périmé : pas envoyé dans la semaine, le rappel suivant le remplace.")
                report.cancelled.append(_describe(row))
            except DomainError:
                pass
            continue
        try:
            claimed = await system_change(row["id"], "en_envoi", row["version"], f"Tentative n° {row['attempts'] + 1}.")
        except DomainError:
            continue  # another run has it
        version = claimed.version
        try:
            await _send(row, today, packs)
        except Skip as reason:
            await system_change(row["id"], "annule", version, str(reason))
            report.cancelled.append(f"{_describe(row)} : {reason}")
            continue
        except MailNotSent as error:
            await system_change(row["id"], "echec", version, _cause(error))
            report.failed.append(f"{_describe(row)} : {_cause(error)}")
            continue
        except Exception as error:  # noqa: BLE001 - one broken reminder must not stop the others
            log.exception("rappel %s : erreur inattendue", row["id"])
            await system_change(row["id"], "echec", version, f"Erreur inattendue : {type(error).__name__}.")
            report.failed.append(f"{_describe(row)} : erreur inattendue ({type(error).__name__})")
            continue
        await system_change(row["id"], "envoye", version)
        report.sent.append(_describe(row))
    return report
