"""Outgoing email in French (text and HTML bodies), through the backend that MAIL_BACKEND names:
`console` (printed on standard output), `fichier` (one .eml file per message in var/outbox/, the default) or `smtp`.
Standard library only: `email` composes, `smtplib` sends from a worker thread."""
from tracker.mail.sender import MailNotSent, send_mail
from tracker.mail.settings import mail_settings

__all__ = ["MailNotSent", "send_mail", "mail_settings"]
