"""A rate limit per API token (ASVS 11.1.4): `API_RATE_LIMIT` requests a minute (120 by default) for each token —
for each Authorization header, so that guessing tokens is limited too — and per client address for requests without
one. Litestar's own RateLimitMiddleware, on the /api/v1 router; its counts are kept in Redis when REDIS_URL is set
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
    authorization = request.headers.get("authorization")
    if authorization:
        return "jeton:" + hashlib.sha256(authorization.strip().encode()).hexdigest()
    return "adresse:" + (request.client.host if request.client else "inconnue")


def rate_limit_store() -> Store:
    return make_store("api-limite")


RATE_LIMIT = RateLimitConfig(rate_limit=("minute", PER_MINUTE), identifier_for_request=_identifier,
                             store="rate_limit")
