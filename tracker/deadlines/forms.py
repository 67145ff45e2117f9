"""The deadlines' forms, read at the edge into typed values with French messages (query strings: queries.py)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.core.forms import MAX_INT, FormReader

MAX_DAYS_BEFORE = 180
FEED_SCOPES = {"personne": "Mes échéances", "territoire": "Un territoire", "partenaire": "Un partenaire"}
MAIL_KINDS = {
    "echeances": "Rappels d’échéance",
    "engagements": "Relances des engagements sans réponse",
    "codir": "Point hebdomadaire du CODIR",
    "reseau": "Synthèse mensuelle « à relancer » de l’ADGCF",
}


@dataclass(frozen=True)
class FeedRequest:
    """Which calendar to create (or renew): the person's own, a territory's (its SIREN) or a partner's (its id)."""

    scope: str
    siren: str | None = None
    partner: int | None = None


def read_feed_request(data: Mapping[str, Any]) -> FeedRequest:
    form = FormReader(data)
    scope = form.choice("portee", "Calendrier", FEED_SCOPES, required=True)
    siren = partner = None
    if scope == "territoire":
        siren = form.text("territoire", "Territoire", max_length=9, required=True)
        form.check(not siren or (siren.isascii() and siren.isdigit() and len(siren) == 9), "territoire",
                   "« Territoire » : un SIREN a 9 chiffres.")
    elif scope == "partenaire":
        partner = form.integer("partenaire", "Partenaire", required=True, minimum=1, maximum=MAX_INT)
    form.raise_if_errors("Demande de calendrier invalide : " + " ".join(form.errors.values()))
    return FeedRequest(scope=scope, siren=siren, partner=partner)


@dataclass(frozen=True)
class MailPreferences:
    """Which reminder mails a person wants (every box unticked: none)."""

    deadlines: bool
    commitments: bool
    codir: bool
    network: bool


def read_preferences(data: Mapping[str, Any]) -> MailPreferences:
    form = FormReader(data)
    return MailPreferences(
        deadlines=form.boolean("echeances"),
        commitments=form.boolean("engagements"),
        codir=form.boolean("codir"),
        network=form.boolean("reseau"),
    )


@dataclass(frozen=True)
class TerritorySettings:
    """A territory's reminder rules: days before a deadline (0: none), weekly while overdue, weekly CODIR digest."""

    first_days: int
    second_days: int
    overdue_weekly: bool
    codir_digest: bool


def read_territory_settings(data: Mapping[str, Any]) -> tuple[TerritorySettings, int | None]:
    """The settings form and the version it was read at."""
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    first = form.integer("first_days", "Premier rappel", required=True, minimum=0, maximum=MAX_DAYS_BEFORE)
    second = form.integer("second_days", "Second rappel", required=True, minimum=0, maximum=MAX_DAYS_BEFORE)
    if first and second:
        form.check(second < first, "second_days",
                   "Le second rappel doit venir après le premier : choisissez moins de jours avant l’échéance.")
    form.raise_if_errors()
    values = TerritorySettings(
        first_days=first or 0, second_days=second or 0, overdue_weekly=form.boolean("overdue_weekly"),
        codir_digest=form.boolean("codir_digest"),
    )
    return values, version


def read_stop(data: Mapping[str, Any]) -> bool:
    """The stop page's POST: this kind of mail only (the default, and RFC 8058's one-click), or every kind."""
    return FormReader(data).raw("tout") == "1"
