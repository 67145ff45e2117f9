"""The « Jetons d’accès » form, read at the edge into a typed value with French messages, and what the form allows
(a name, an expiry within a year). How many tokens one may hold at once needs the database: `tokens.create_token`
checks it."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tracker.core import clock
from tracker.core.forms import FormReader
from tracker.core.french import date_fr

NAME_MAX = 80
MAX_DAYS = 365
DEFAULT_DAYS = 90  # what the form proposes; the owner may clear it


def latest_expiry(today: date | None = None) -> date:
    return (today or clock.today()) + timedelta(days=MAX_DAYS)


def default_expiry(today: date | None = None) -> date:
    return (today or clock.today()) + timedelta(days=DEFAULT_DAYS)


@dataclass(frozen=True)
class TokenInput:
    name: str
    expires_on: date | None = None  # the last day it works (Paris); None: until revoked


def read_token(data: Mapping[str, Any]) -> TokenInput:
    form = FormReader(data)
    name = form.text("name", "Nom du jeton", max_length=NAME_MAX, required=True)
    expiry = form.date("expires_on", "Date d’expiration")
    today = clock.today()
    if expiry is not None:
        form.check(expiry > today, "expires_on", "La date d’expiration doit être postérieure à aujourd’hui.")
        form.check(
            expiry <= latest_expiry(today),
            "expires_on",
            f"Un jeton vaut au plus un an : choisissez une date d’expiration au plus tard le {date_fr(latest_expiry(today))}.",
        )
    form.raise_if_errors()
    return TokenInput(name=name, expires_on=expiry)
