"""CSRF protection bound to the session (ASVS 4.2.2, 3.5): the token every form and htmx request must send is an
HMAC, under SECRET_KEY, of the session cookie — so a token read in one session is worth nothing in another, and a
new session (sign-in, sign-out) gets a new token. Before sign-in, a random pre-session cookie plays that part.

The cookie is HttpOnly: no script reads it. Pages carry the token in their forms (`_csrf_token`) and in
`data-hx-headers` on <body> for htmx (header `x-csrftoken`). Same order as Litestar's CSRFMiddleware, which this
replaces: safe methods pass and get the token for their templates; other methods are refused (403) unless the token
they send is the one of their own session."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from contextvars import ContextVar
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.base import MiddlewareProtocol
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from tracker.accounts.service import SESSION_COOKIE

CSRF_COOKIE = "suivi_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# The token of the request being answered, for the templates' `csrf_field()` (tracker/web/templating.py): a macro
# file then needs no template context to write it, so it is imported once per render, not once per table row.
CURRENT_TOKEN: ContextVar[str] = ContextVar("csrf_token", default="")


def csrf_token(secret: str, session: str | None, presession: str) -> str:
    """The token of a session (its cookie), or of a visitor not signed in (their pre-session cookie)."""
    bound = "session:" + session if session else "avant-session:" + presession
    return hmac.new(secret.encode(), b"csrf\x1f" + hashlib.sha256(bound.encode()).digest(), hashlib.sha256).hexdigest()


class SessionBoundCSRF(MiddlewareProtocol):
    def __init__(self, app: ASGIApp, *, secret: str, secure: bool, exclude: tuple[str, ...]) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure
        self.exclude = exclude

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        # A route may opt out as with Litestar's own CSRF (`opt={"exclude_from_csrf": True}`): the one-click
        # unsubscribe that mail programs POST (RFC 8058), authenticated by its own signed token.
        opted_out = handler is not None and handler.opt.get("exclude_from_csrf")
        if scope["type"] != "http" or scope["path"].startswith(self.exclude) or opted_out:
            await self.app(scope, receive, send)
            return
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        presession = request.cookies.get(CSRF_COOKIE) or ""
        new_cookie = None
        if not presession or len(presession) > 100:
            presession = new_cookie = secrets.token_urlsafe(32)
        session = request.cookies.get(SESSION_COOKIE) or None
        expected = csrf_token(self.secret, session, presession)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER)
            content_type, _ = request.content_type
            if not sent and content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
                sent = (await request.form()).get(CSRF_FIELD)
            if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
                raise PermissionDeniedException("CSRF token verification failed")
        ScopeState.from_scope(scope).csrf_token = expected
        current = CURRENT_TOKEN.set(expected)
        try:
            await self.app(scope, receive, self._with_cookie(send, new_cookie) if new_cookie else send)
        finally:
            CURRENT_TOKEN.reset(current)

    def _with_cookie(self, send: Send, value: str) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = Cookie(key=CSRF_COOKIE, value=value, path="/", httponly=True, secure=self.secure,
                                samesite="lax")
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        return wrapped
