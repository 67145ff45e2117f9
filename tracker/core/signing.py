"""Values the server hands out and must recognise later without storing them (a partner offered as a duplicate
to this person): an HMAC-SHA256 under SECRET_KEY, bound to a purpose and to every part given."""
from __future__ import annotations

import hashlib
import hmac

from tracker.core.config import settings


def sign(purpose: str, *parts: object) -> str:
    message = "\x1f".join([purpose, *(str(p) for p in parts)]).encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def verify(signature: str, purpose: str, *parts: object) -> bool:
    return bool(signature) and hmac.compare_digest(signature.encode(), sign(purpose, *parts).encode())
