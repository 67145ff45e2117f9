"""A rate limit per API token (ASVS 11.1.4): `API_RATE_LIMIT` requests a minute (120 by default) for each token
(each Authorization header: a made-up token is counted as one). A request without one is refused at once (401) and
costs nothing, so it is not counted. Litestar's own RateLimitMiddleware, on the /api/v1 router; its counts are kept in Redis when REDIS_URL is set
(every process shares them), else in this process's memory. Beyond the limit: 429 with Retry-After (api.errors)."""
from __future__ import annotations

import hashlib
import os

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store

from tracker.core.stores import make_store

PER_MINUTE = int(os.environ.get("API_RATE_LIMIT") or 120)


def _identifier(request: Request) -> str:
    return "jeton:" + hashlib.sha256(request.headers.get("authorization", "").strip().encode()).hexdigest()


def _with_token(request: Request) -> bool:
    return bool(request.headers.get("authorization"))


def rate_limit_store() -> Store:
    return make_store("api-limite")


RATE_LIMIT = RateLimitConfig(rate_limit=("minute", PER_MINUTE), identifier_for_request=_identifier,
                             check_throttle_handler=_with_token, store="rate_limit")
