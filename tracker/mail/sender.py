"""Compose a French message from two templates (templates/mail/<name>.txt and .html) and hand it to the backend."""
from __future__ import annotations

from tracker.core import clock
import logging
import re
import secrets
import smtplib
import ssl
import sys
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import anyio
import arrow
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tracker.core.config import ROOT
from tracker.core.errors import DomainError
from tracker.mail.settings import BACKENDS, MailSettings, mail_settings
from tracker.core import french

log = logging.getLogger("tracker.mail")


class MailNotSent(DomainError):
    status_code = 503
    title = "Message non envoyé"


_templates = Environment(
    loader=FileSystemLoader(ROOT / "templates" / "mail"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_templates.filters.update(date_fr=french.date_fr, money_fr=french.money_fr, number_fr=french.number_fr,
                          typo=french.typo, datetime_fr=french.datetime_fr)


_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def _header(value: str) -> str:
    """No line breaks in a header: what users typed never adds a header of its own. (Non-breaking spaces stay.)"""
    return _LINE_BREAKS.sub(" ", str(value)).strip()


def compose(settings: MailSettings, *, to: str, subject: str, template: str, context: dict,
            reply_to: str | None = None, headers: Mapping[str, str] | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = _header(to)
    message["Subject"] = _header(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = "fr"
    if reply_to:
        message["Reply-To"] = _header(reply_to)
    for name, value in (headers or {}).items():  # e.g. List-Unsubscribe (RFC 2369, RFC 8058)
        message[name] = _header(value)
    message.set_content(_templates.get_template(f"{template}.txt").render(context), charset="utf-8")
    message.add_alternative(_templates.get_template(f"{template}.html").render(context), subtype="html",
                            charset="utf-8")
    return message


def _send_smtp(settings: MailSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
        smtp.ehlo()
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _write_file(settings: MailSettings, message: EmailMessage) -> None:
    settings.outbox.mkdir(parents=True, exist_ok=True)
    name = f"{arrow.get(clock.now()).format('YYYYMMDD-HHmmss')}-{secrets.token_hex(4)}.eml"
    path = settings.outbox / name
    path.write_bytes(message.as_bytes())
    path.chmod(0o600)  # the message holds a signed link and personal data


async def send_mail(*, to: str, subject: str, template: str, context: dict, reply_to: str | None = None,
                    headers: Mapping[str, str] | None = None) -> None:
    """Send one message; raise MailNotSent (a French 503 page) if the backend refuses or is unreachable.
    `headers`: more headers (List-Unsubscribe…), their line breaks removed."""
    settings = mail_settings()
    if settings.backend not in BACKENDS or (settings.backend == "smtp" and settings.smtp_port is None):
        log.error("messagerie mal configurée : MAIL_BACKEND=%r (attendu : %s), SMTP_PORT invalide ?",
                  settings.backend, ", ".join(BACKENDS))
        raise MailNotSent("La messagerie de l’application est mal configurée : le message n’a pas été envoyé. "
                          "Prévenez l’administrateur.")
    message = compose(settings, to=to, subject=subject, template=template, context=context, reply_to=reply_to,
                      headers=headers)
    try:
        if settings.backend == "console":
            sys.stdout.write(message.as_string() + "\n")
        elif settings.backend == "fichier":
            await anyio.to_thread.run_sync(_write_file, settings, message)
        else:
            await anyio.to_thread.run_sync(_send_smtp, settings, message)
    except (OSError, smtplib.SMTPException) as error:
        log.error("envoi de courriel impossible (%s) : %s", settings.backend, type(error).__name__)
        raise MailNotSent(
            "Le message n’a pas pu être envoyé (serveur de messagerie injoignable ou refus). "
            "Rien n’a été envoyé : réessayez plus tard ou prévenez l’administrateur."
        ) from error
    log.info("courriel « %s » envoyé (%s)", _header(subject), settings.backend)
