"""The review cache computes an expired entry once (issue 15, single flight): callers of this process wait for the
one computing; with Redis, callers in other processes wait for the value rather than compute it too."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.test_accounts import _redis_url
from tracker.review import cache

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fresh_cache():
    """An empty store of this process's memory (no database needed here)."""
    cache._store = None
    yield
    cache._store = None


def _slow_computation(runs: list[int]):
    async def compute() -> dict:
        runs.append(1)
        await asyncio.sleep(0.05)  # long enough for every caller to find the entry missing
        return {"courbe": [1, 2, 3], "run": len(runs)}

    return compute


async def test_twenty_callers_of_an_expired_entry_run_the_computation_once():
    runs: list[int] = []
    compute = _slow_computation(runs)
    values = await asyncio.gather(*(cache.cached("courbe:reseau", compute) for _ in range(20)))
    assert runs == [1]
    assert values == [{"courbe": [1, 2, 3], "run": 1}] * 20
    await cache.store().delete("courbe:reseau")  # expired: computed again, once
    values = await asyncio.gather(*(cache.cached("courbe:reseau", compute) for _ in range(5)))
    assert runs == [1, 1] and values == [{"courbe": [1, 2, 3], "run": 2}] * 5
    assert await asyncio.gather(cache.cached("autre", compute), cache.cached("autre", compute)) == [
        {"courbe": [1, 2, 3], "run": 3}] * 2  # another key has its own flight


async def test_with_redis_callers_in_other_processes_wait_for_the_value():
    """Each caller as another process would be: its own Redis connection and no lock of this process in common
    (`computed_once` directly, past the in-process lock)."""
    url = _redis_url()
    if url is None:
        pytest.skip("pas de Redis joignable sur cette machine (TEST_REDIS_URL) : chemin Redis non vérifié ici")
    from litestar.stores.redis import RedisStore
    from redis.asyncio import Redis

    cache._store = RedisStore.with_client(url=url, namespace=f"suivi-tests-{uuid.uuid4().hex[:8]}")
    processes = [Redis.from_url(url) for _ in range(6)]
    runs: list[int] = []
    try:
        values = await asyncio.gather(*(
            cache.computed_once("courbe:reseau", _slow_computation(runs), 60, redis) for redis in processes))
        assert runs == [1]
        assert values == [{"courbe": [1, 2, 3], "run": 1}] * 6
    finally:
        await cache._store.delete_all()
        await cache._store._redis.aclose()
        for redis in processes:
            await redis.aclose()
