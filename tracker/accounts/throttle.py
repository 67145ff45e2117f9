"""Sign-in under attack (ASVS V2.2): growing delays instead of a lock an attacker could put on someone else.

Failures are counted, for `WINDOW_SECONDS`, under three keys:
- the account and the address it was tried from: after `FREE_TRIES` failures, the next try from that address waits
  1 s, and each new failure doubles the wait (1 s, 2 s, 4 s… at most `MAX_DELAY`). An attacker slows only themself:
  the owner, coming from another address, signs in as usual;
- the address alone (one address trying many accounts): the same, after `FREE_TRIES_PER_ADDRESS` failures;
- the account alone (many addresses against one account): the same after `FREE_TRIES_PER_ACCOUNT`, and only for
  addresses the account never signed in from (`KNOWN_DAYS`): the owner's usual address is never slowed.
While a wait runs, a try is answered 429 with Retry-After and no password is hashed. Kept in Redis when REDIS_URL is
set (shared by every app process), else in this process's memory."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from litestar.stores.base import Store

from tracker.core import clock
from tracker.core.stores import make_store

FREE_TRIES = 5
FREE_TRIES_PER_ADDRESS = 30
FREE_TRIES_PER_ACCOUNT = 100
MAX_DELAY = 15 * 60
WINDOW_SECONDS = 60 * 60
KNOWN_DAYS = 90

_store: Store | None = None


def store() -> Store:
    global _store
    if _store is None:
        _store = make_store("connexion")
    return _store


def _digest(value: str) -> str:
    """Keys hold no address in clear (the store may be shared): a SHA-256 of it."""
    return hashlib.sha256(value.strip().lower()[:254].encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Attempt:
    email: str
    address: str  # the client's IP address

    def keys(self, known: bool) -> list[tuple[str, int]]:
        """(key, free tries) of each counter that applies."""
        account, address = _digest(self.email), _digest(self.address)
        keys = [(f"compte-adresse:{account}:{address}", FREE_TRIES), (f"adresse:{address}", FREE_TRIES_PER_ADDRESS)]
        if not known:
            keys.append((f"compte:{account}", FREE_TRIES_PER_ACCOUNT))
        return keys

    @property
    def known_key(self) -> str:
        return f"connu:{_digest(self.email)}:{_digest(self.address)}"


async def _read(key: str) -> dict:
    raw = await store().get(key)
    return json.loads(raw) if raw else {"failures": 0, "until": 0.0}


async def is_known(attempt: Attempt) -> bool:
    return await store().exists(attempt.known_key)


async def wait_seconds(attempt: Attempt) -> int:
    """How long this address must still wait before trying this account again (0: it may try now)."""
    now = clock.now().timestamp()
    waits = [(await _read(key))["until"] - now for key, _ in attempt.keys(await is_known(attempt))]
    return max(0, math.ceil(max(waits)))


async def record_failure(attempt: Attempt) -> None:
    now = clock.now().timestamp()
    for key, free in attempt.keys(await is_known(attempt)):
        counter = await _read(key)
        counter["failures"] += 1
        beyond = counter["failures"] - free  # from the `free`-th failure on: wait 1 s, then 2 s, 4 s…
        if beyond >= 0:
            counter["until"] = now + min(2 ** min(beyond, 20), MAX_DELAY)
        await store().set(key, json.dumps(counter), expires_in=WINDOW_SECONDS)


async def record_success(attempt: Attempt) -> None:
    """The account's counters for this address start again, and the address is now one the owner uses."""
    await store().delete(attempt.keys(True)[0][0])
    await store().set(attempt.known_key, "1", expires_in=KNOWN_DAYS * 24 * 3600)
