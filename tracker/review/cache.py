"""A short-lived cache for network-wide figures that are costly to rebuild and change slowly (the monthly
progress curve reads every « réalisée » entry of the history). Shared between processes through Redis
when REDIS_URL is set.

Single flight (issue 15): an expired entry is computed once, not by every request that finds it missing. In the
process, an asyncio lock per key: the first caller computes, the others wait for it and read what it kept. With
Redis, the one that computes also holds a short Redis lock (SET NX with an expiry, through redis-py's `Lock`, which
releases only its own token): callers in other processes wait for it (polling every 50 ms) and then read the value
instead of computing it too. A holder that dies lets its lock expire after `LOCK_SECONDS`; a caller that waited
that long computes anyway rather than fail."""
from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.stores.base import Store

from tracker.core.config import settings
from tracker.core.stores import make_store

TTL_SECONDS = 300
LOCK_SECONDS = 30  # far longer than any computation kept here; the Redis lock expires by itself after it
POLL_SECONDS = 0.05
_store: Store | None = None
_redis = None  # redis.asyncio.Redis for the locks between processes, when REDIS_URL is set
_flights: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def store() -> Store:
    global _store
    if _store is None:
        _store = make_store("pilotage")
    return _store


def _lock_client():
    global _redis
    if _redis is None and settings.redis_url:
        from redis.asyncio import Redis

        _redis = Redis.from_url(settings.redis_url)
    return _redis


async def _kept(key: str) -> tuple[bool, Any]:
    raw = await store().get(key)
    return (False, None) if raw is None else (True, json.loads(raw))


async def cached(key: str, compute: Callable[[], Awaitable[Any]], ttl: int = TTL_SECONDS) -> Any:
    """The value kept under `key` if younger than `ttl` seconds, else computed now, once, and kept (JSON)."""
    found, value = await _kept(key)
    if found:
        return value
    flight = _flights.get(key)
    if flight is None:
        flight = _flights[key] = asyncio.Lock()
    async with flight:  # callers of this process wait for the one computing
        found, value = await _kept(key)
        if found:
            return value
        return await computed_once(key, compute, ttl, _lock_client())


async def computed_once(key: str, compute: Callable[[], Awaitable[Any]], ttl: int, redis) -> Any:
    """Compute and keep the value, holding the Redis lock of `key` when there is Redis (`redis`), so that
    callers in other processes wait for this value rather than compute it too."""
    if redis is None:
        return await _compute_and_keep(key, compute, ttl)
    lock = redis.lock(f"{getattr(store(), 'namespace', None) or 'suivi'}:calcul:{key}", timeout=LOCK_SECONDS,
                      sleep=POLL_SECONDS, blocking_timeout=LOCK_SECONDS, thread_local=False)
    acquired = await lock.acquire()
    try:
        found, value = await _kept(key)  # kept by another process while this one waited
        if found:
            return value
        return await _compute_and_keep(key, compute, ttl)
    finally:
        if acquired:
            from redis.exceptions import LockError

            try:
                await lock.release()
            except LockError:  # expired meanwhile: nothing of ours to release
                pass


async def _compute_and_keep(key: str, compute: Callable[[], Awaitable[Any]], ttl: int) -> Any:
    value = await compute()
    await store().set(key, json.dumps(value), expires_in=ttl)
    return value
