"""Sign-in throttling: after too many failures for one address, further attempts are refused for a while.
Kept in Redis when REDIS_URL is set (shared by every app process), else in this process's memory."""
from __future__ import annotations

from litestar.stores.base import Store

from tracker.core.stores import make_store

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60

_store: Store | None = None


def store() -> Store:
    global _store
    if _store is None:
        _store = make_store("connexion")
    return _store


def _key(email: str) -> str:
    return "connexion-echecs:" + email.strip().lower()[:254]


async def is_locked(email: str) -> bool:
    raw = await store().get(_key(email))
    return raw is not None and int(raw) >= MAX_FAILURES


async def record_failure(email: str) -> None:
    raw = await store().get(_key(email))
    await store().set(_key(email), str(int(raw or 0) + 1), expires_in=WINDOW_SECONDS)


async def clear(email: str) -> None:
    await store().delete(_key(email))
