"""Key-value stores for what every app process must see alike: Redis when REDIS_URL is set, else this
process's memory (enough for a single process, the embedded default)."""
from __future__ import annotations

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from tracker.core.config import settings


def make_store(namespace: str) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace=f"suivi-{namespace}")
    return MemoryStore()
