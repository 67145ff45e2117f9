"""Security headers on every response — pages, redirects, error pages, static files, the API and its 401s — set in
one place: a hook on every message the application sends (Litestar's `before_send`), which runs even for the
responses made by exception handlers and for paths no route matches."""
from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = ("strict-transport-security", "max-age=31536000; includeSubDomains")


def security_headers(*, https: bool):
    """The `before_send` hook; with `https` (SECURE_COOKIES=1, behind TLS) browsers are also told to keep to
    HTTPS (HSTS)."""
    headers = dict(SECURITY_HEADERS)
    if https:
        headers[HSTS[0]] = HSTS[1]

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            mutable = MutableScopeHeaders.from_message(message)
            for name, value in headers.items():
                if name not in mutable:
                    mutable[name] = value

    return add_headers
