"""A short-lived cache for network-wide figures that are costly to rebuild and change slowly (the monthly
progress curve reads every « réalisée » entry of the history). Shared between processes through Redis
when REDIS_URL is set."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.stores.base import Store

from tracker.core.stores import make_store

TTL_SECONDS = 300
_store: Store | None = None


def store() -> Store:
    global _store
    if _store is None:
        _store = make_store("pilotage")
    return _store


async def cached(key: str, compute: Callable[[], Awaitable[Any]], ttl: int = TTL_SECONDS) -> Any:
    """The value kept under `key` if younger than `ttl` seconds, else computed now and kept (JSON)."""
    raw = await store().get(key)
    if raw is not None:
        return json.loads(raw)
    value = await compute()
    await store().set(key, json.dumps(value), expires_in=ttl)
    return value
