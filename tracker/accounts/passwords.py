"""Password hashing with argon2id (OWASP's first choice), always off the event loop, and never more than
`HASH_SLOTS` at once (one per processor): under a flood of sign-ins the others wait their turn instead of taking
the machine's memory (64 MiB each) and processors from every other page."""
from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

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


HASH_SLOTS = max(1, int(os.environ.get("PASSWORD_HASH_SLOTS") or os.cpu_count() or 1))
_slots: anyio.Semaphore | None = None
running = 0  # hashes under way now; `peak`: the most at once since the process started (tests read them)
peak = 0


async def _hashing(function, *args):
    """Run one argon2 computation in a worker thread when one of the `HASH_SLOTS` is free."""
    global _slots, running, peak
    if _slots is None:
        _slots = anyio.Semaphore(HASH_SLOTS)
    async with _slots:
        running += 1
        peak = max(peak, running)
        try:
            return await anyio.to_thread.run_sync(function, *args)
        finally:
            running -= 1


# The 30,000 most common passwords, most frequent first, one a line, lower-case: the « passwords » frequency list
# of zxcvbn (Dropbox, https://github.com/dropbox/zxcvbn, MIT licence; taken from the `zxcvbn` 4.4.28 Python port's
# frequency_lists.py, itself built from Xato's 10 million leaked passwords). Read once, on first use.
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
COMMON = "Ce mot de passe fait partie des mots de passe les plus courants : choisissez-en un autre."


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip())


def password_problem(password: str) -> str | None:
    """Why a new password is refused (a French sentence), or None: 12 to 128 characters, and not one of the common
    passwords (compared without regard to case)."""
    if len(password) < MIN_LENGTH:
        return f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères."
    if len(password) > MAX_LENGTH:
        return f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères."
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        return COMMON
    return None


async def hash_password(password: str) -> str:
    return await _hashing(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await _hashing(_verify, password_hash, password)
