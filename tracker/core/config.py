"""Settings read once from the environment. Every default suits `make run` on a laptop."""
from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
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
