"""Personal access tokens: created and revoked by their owner, checked on every API request.

A token is « sfr_ » + 43 URL-safe characters from `secrets` (256 bits). Only its SHA-256 is stored: a copy of the
database lets no one call the API. A token acts as its owner does now (the same Viewer, built from the owner's
current roles at each request): a role removed or an account disabled applies to the token at once."""
from __future__ import annotations

from tracker.core import audit, clock
import hashlib
import secrets
from datetime import date, datetime, timedelta

import arrow

from tracker.core.permissions import Viewer
from tracker.api.forms import TokenInput
from tracker.api.tables import ApiToken
from tracker.auth.viewer import viewer_of, viewer_statement
from tracker.core.db import fetch, write_transaction
from tracker.core.errors import InvalidInput, NotFound
from tracker.core.french import PARIS

PREFIX = "sfr_"
TOKEN_BYTES = 32  # 256 bits of randomness
MAX_ACTIVE = 20  # per person: enough for every script, not a cupboard full of forgotten keys
# last_used_at is written at most this often, so that reading the API does not mean writing the database.
TOUCH_EVERY = timedelta(seconds=60)
NOT_FOUND = "Ce jeton n’existe pas ou ne vous appartient pas."


class TokenRefused(Exception):
    """No valid token: the API answers 401 with this French message."""

    def __init__(self, message: str, *, presented: bool) -> None:
        super().__init__(message)
        self.message = message
        self.presented = presented  # a token was sent (RFC 6750: error="invalid_token")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def _end_of_day(day: date) -> datetime:
    """A token « valable jusqu’au 27 novembre 2026 » works until midnight, Paris time, that night."""
    return arrow.get(day).replace(tzinfo=PARIS).shift(days=1).to("UTC").datetime


def state_of(row: dict, now: datetime | None = None) -> str:
    """actif, expire or revoque."""
    if row["revoked_at"] is not None:
        return "revoque"
    if row["expires_at"] is not None and clock.aware(row["expires_at"]) <= (now or clock.now()):
        return "expire"
    return "actif"


async def tokens_of(viewer: Viewer) -> list[dict]:
    """The viewer's own tokens, newest first, each with its `state`."""
    rows = await ApiToken.select(
        ApiToken.id,
        ApiToken.name,
        ApiToken.hint,
        ApiToken.created_at,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        ApiToken.revoked_at,
    ).where(ApiToken.user == viewer.user_id).order_by(ApiToken.id, ascending=False)
    now = clock.now()
    for row in rows:
        row["state"] = state_of(row, now)
        # The last day it works, in Paris (expires_at is the midnight that ends it).
        row["valid_until"] = ((clock.aware(row["expires_at"]).astimezone(clock.PARIS) - timedelta(days=1)).date()
                              if row["expires_at"] else None)
    return rows


async def _active_count(user_id: int) -> int:
    now = clock.now()
    return await ApiToken.count().where(
        (ApiToken.user == user_id)
        & ApiToken.revoked_at.is_null()
        & (ApiToken.expires_at.is_null() | (ApiToken.expires_at > now))
    )


async def create_token(viewer: Viewer, values: TokenInput) -> tuple[str, int]:
    """A new token for the signed-in viewer (`values` read by `forms.read_token`); returns (the token, shown once;
    its id)."""
    token = new_token()
    now = clock.now()
    async with write_transaction():
        if await _active_count(viewer.user_id) >= MAX_ACTIVE:
            message = f"Vous avez déjà {MAX_ACTIVE} jetons actifs : révoquez ceux qui ne servent plus avant d’en créer un autre."
            raise InvalidInput(message, errors={"name": message})
        row = ApiToken(
            user=viewer.user_id,
            name=values.name,
            token_hash=token_hash(token),
            hint=token[: len(PREFIX) + 4],
            created_at=now,
            expires_at=_end_of_day(values.expires_on) if values.expires_on else None,
        )
        await row.save()
    audit.record("jeton_api_cree", utilisateur=viewer.user_id, acces_api=row.id)
    return token, row.id


async def revoke_token(viewer: Viewer, token_id: int) -> None:
    """Revoke one of the viewer's own tokens (again: nothing changes); anyone else's is not found."""
    async with write_transaction():
        row = (
            await ApiToken.select(ApiToken.id, ApiToken.revoked_at)
            .where((ApiToken.id == token_id) & (ApiToken.user == viewer.user_id))
            .first()
        )
        if row is None:
            raise NotFound(NOT_FOUND)
        if row["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: clock.now()}).where(ApiToken.id == token_id)
            audit.record("jeton_api_revoque", utilisateur=viewer.user_id, acces_api=token_id)


def bearer_token(authorization: str | None) -> str:
    """The token from « Authorization: Bearer … », or TokenRefused."""
    if not authorization:
        raise TokenRefused(
            "Authentification requise : envoyez votre jeton d’accès dans l’en-tête « Authorization: Bearer … ». "
            "Créez-en un depuis la page « Jetons d’accès » de votre compte.",
            presented=False,
        )
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise TokenRefused("En-tête Authorization invalide : le format attendu est « Bearer <jeton> ».", presented=True)
    return token


# The token, its owner and the owner's rights now, in one statement (tracker.auth.viewer).
_BY_TOKEN = viewer_statement(
    'SELECT id, "user" AS user_id, expires_at, revoked_at, last_used_at FROM api_token WHERE token_hash = {}',
    ("id", "expires_at", "revoked_at", "last_used_at"))


async def viewer_for_api_token(token: str) -> Viewer:
    """The Viewer the token's owner has now, or TokenRefused (unknown, revoked, expired, account disabled)."""
    refused = TokenRefused("Jeton d’accès invalide.", presented=True)
    if not token.startswith(PREFIX) or len(token) > 100:
        raise refused
    row, viewer = viewer_of(await fetch(_BY_TOKEN, token_hash(token)))
    if row is None or not row["is_active"]:
        raise refused
    now = clock.now()
    if row["revoked_at"] is not None:
        raise TokenRefused("Ce jeton d’accès a été révoqué.", presented=True)
    if row["expires_at"] is not None and clock.aware(row["expires_at"]) <= now:
        raise TokenRefused("Ce jeton d’accès a expiré : créez-en un nouveau.", presented=True)
    if row["last_used_at"] is None or now - clock.aware(row["last_used_at"]) > TOUCH_EVERY:
        async with write_transaction():
            # The condition again in the WHERE: several processes seeing the same token write once.
            await fetch("UPDATE api_token SET last_used_at = {} WHERE id = {} "
                        "AND (last_used_at IS NULL OR last_used_at < {})", now, row["id"], now - TOUCH_EVERY)
    return viewer
