"""Mail settings, read from the environment at each send (so that a test or an operator can change them)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tracker.core.config import VAR_DIR

BACKENDS = ("console", "fichier", "smtp")
DEFAULT_FROM = "Suivi des feuilles de route <ne-pas-repondre@localhost>"


@dataclass(frozen=True)
class MailSettings:
    backend: str
    sender: str
    smtp_host: str
    smtp_port: int | None  # None: SMTP_PORT is not a port number
    smtp_starttls: bool
    smtp_user: str
    smtp_password: str
    outbox: Path
    timeout: float = 15.0


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "oui"}


def mail_settings() -> MailSettings:
    """MAIL_BACKEND (console | fichier | smtp, default fichier), MAIL_FROM, SMTP_HOST, SMTP_PORT,
    SMTP_STARTTLS (default on), SMTP_USER, SMTP_PASSWORD. A bad backend or port is reported when sending."""
    starttls = _flag("SMTP_STARTTLS", True)
    port = os.environ.get("SMTP_PORT", "").strip()
    return MailSettings(
        backend=os.environ.get("MAIL_BACKEND", "fichier").strip().lower() or "fichier",
        sender=os.environ.get("MAIL_FROM", "").strip() or DEFAULT_FROM,
        smtp_host=os.environ.get("SMTP_HOST", "localhost").strip() or "localhost",
        smtp_port=(int(port) if port.isascii() and port.isdigit() and 0 < int(port) < 65536 else None)
        if port else (587 if starttls else 25),
        smtp_starttls=starttls,
        smtp_user=os.environ.get("SMTP_USER", ""),
        smtp_password=os.environ.get("SMTP_PASSWORD", ""),
        outbox=VAR_DIR / "outbox",
    )
