"""Settings read once from the environment. Every default suits `make run` on a laptop."""
from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("SUIVI_VAR_DIR", ROOT / "var"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (fine for one machine)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "oui"}


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    sqlite_path: Path
    redis_url: str | None
    secret_key: str
    secure_cookies: bool
    session_idle_minutes: int
    session_absolute_hours: int
    base_url: str
    debug: bool
    cheap_password_hashing: bool  # tests only: see load_settings
    adgcf_contact_email: str = "contact@adgcf.fr"  # whom a person without any role asks (ADGCF_CONTACT_EMAIL)

    @property
    def engine_name(self) -> str:
        return "postgres" if self.database_url else "sqlite"


def load_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        sqlite_path=Path(os.environ.get("SQLITE_PATH", VAR_DIR / "suivi.sqlite3")),
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=_secret_key(),
        secure_cookies=_flag("SECURE_COOKIES"),
        session_idle_minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "120")),
        session_absolute_hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")),
        base_url=os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        debug=_flag("DEBUG"),
        # The test suite signs in hundreds of times: argon2id at its production cost would be most of its time.
        # Honoured only inside pytest, so that the variable left in a server's environment cannot weaken passwords.
        cheap_password_hashing=_flag("SUIVI_TESTS_CHEAP_PASSWORD_HASHING") and "pytest" in sys.modules,
        adgcf_contact_email=os.environ.get("ADGCF_CONTACT_EMAIL", "").strip() or "contact@adgcf.fr",
    )


settings = load_settings()


# --- the publisher, as the pages public bodies must publish name it (/mentions-legales, /accessibilite,
# /donnees-personnelles) -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Publisher:
    """Who publishes the service, who hosts it, whom to write to. An empty value shows as « non renseigné »."""

    name: str
    address: str
    email: str
    phone: str
    director: str  # directeur ou directrice de la publication
    host_name: str
    host_address: str
    host_phone: str
    privacy_email: str  # délégué à la protection des données (DPO), or whoever answers the RGPD requests
    accessibility_email: str  # where to report an accessibility problem
    accessibility_declared_on: date  # date the accessibility declaration was made (or last updated)


DEFAULT_ACCESSIBILITY_DATE = "2026-12-02"


def load_publisher() -> Publisher:
    env = os.environ.get
    email = env("PUBLISHER_EMAIL", "contact@adgcf.example.org").strip()
    declared = env("ACCESSIBILITY_DECLARED_ON", DEFAULT_ACCESSIBILITY_DATE).strip()
    try:
        declared_on = date.fromisoformat(declared)
    except ValueError:
        raise SystemExit(f"ACCESSIBILITY_DECLARED_ON : date attendue au format AAAA-MM-JJ, reçu {declared!r}") from None
    return Publisher(
        name=env("PUBLISHER_NAME", "ADGCF – Association des directeurs généraux des communautés de France").strip(),
        address=env("PUBLISHER_ADDRESS", "").strip(),
        email=email,
        phone=env("PUBLISHER_PHONE", "").strip(),
        director=env("PUBLICATION_DIRECTOR", "").strip(),
        host_name=env("HOSTING_NAME", "").strip(),
        host_address=env("HOSTING_ADDRESS", "").strip(),
        host_phone=env("HOSTING_PHONE", "").strip(),
        privacy_email=env("PRIVACY_EMAIL", "").strip() or email,
        accessibility_email=env("ACCESSIBILITY_EMAIL", "").strip() or email,
        accessibility_declared_on=declared_on,
    )


publisher = load_publisher()
