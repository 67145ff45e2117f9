"""Password hashing with argon2id (OWASP's first choice), always off the event loop."""
from __future__ import annotations

import anyio
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from tracker.core.config import settings

MIN_LENGTH = 12
MAX_LENGTH = 128


def make_hasher(*, cheap: bool = False) -> PasswordHasher:
    """argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4); `cheap` (the test suite only) keeps argon2id
    at its lowest cost."""
    return PasswordHasher.from_parameters(profiles.CHEAPEST if cheap else profiles.RFC_9106_LOW_MEMORY)


_hasher = make_hasher(cheap=settings.cheap_password_hashing)
# Verified against when the email is unknown, so that both paths cost the same time.
_DUMMY_HASH = _hasher.hash("mot-de-passe-factice-pour-egaliser-les-temps")


def password_problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères."
    if len(password) > MAX_LENGTH:
        return f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères."
    return None


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(_verify, password_hash, password)
