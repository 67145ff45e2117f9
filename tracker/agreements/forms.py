"""The agreements' forms and query strings, read at the edge into typed values with French messages (shape checks
only). What needs the database — a party of this agreement, a partner of that party, a territory that exists, the
contract's dates, how many parties or reviews it has — is checked by the services."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.agreements.states import (
    AGREEMENT_STATE_LABELS,
    THEME_MAX_LENGTH,
    THEME_SUGGESTIONS,
    THEMES_MAX,
    normalise_theme,
)
from tracker.core.errors import BadQuery, InvalidInput
from tracker.core.forms import MAX_INT, FormReader

TITLE_MAX = 200
TEXT_MAX = 10_000
REFERENCE_MAX = 120
REVIEW_TITLE_MAX = 120
SEARCH_MAX = 100
MIN_YEAR, MAX_YEAR = 1990, 2100
PAGES_MAX = 10_000
DEFAULT_REVIEW_TITLE = "Revue à mi-parcours"

PICK_A_TERRITORY = "Choisissez un territoire dans les résultats de la recherche."
LINK_REFUSED = (
    "Cette action ne peut être liée : choisissez une action non confidentielle d’une feuille de route de "
    "votre territoire, partie au contrat."
)


# --- typed values ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementInput:
    """What the contract says while it is drafted (not its state, parties or obligations)."""

    title: str
    purpose: str = ""
    in_force_on: date | None = None
    ends_on: date | None = None
    themes: tuple[str, ...] = ()  # normalised spelling (states.normalise_theme), no duplicates


@dataclass(frozen=True)
class ObligationInput:
    """What a party brings: the party (owner), for whom, carried by which partner, by when."""

    title: str
    owner: int  # an AgreementParty id
    description: str = ""
    beneficiary: int | None = None  # an AgreementParty id; None: the other party (or all the others)
    partner: int | None = None
    deadline: date | None = None


@dataclass(frozen=True)
class DeliberationInput:
    """A party's deliberation that authorises its signature."""

    deliberation_on: date
    reference: str


@dataclass(frozen=True)
class SignatureInput:
    signed_on: date | None  # None is refused by the life cycle, after it has said whether a deliberation is missing
    version: int | None


@dataclass(frozen=True)
class ReviewInput:
    review_on: date
    title: str = DEFAULT_REVIEW_TITLE


@dataclass(frozen=True)
class AgreementFilters:
    """The query string of /contrats."""

    state: str | None = None
    theme: str = ""
    action: int | None = None
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.state or self.theme or self.action)

    def query(self, **changes: Any) -> dict[str, str]:
        params = {"etat": self.state, "theme": self.theme, "action": self.action, "page": self.page, **changes}
        return {k: str(v) for k, v in params.items() if v and not (k == "page" and v == 1)}


# --- shared pieces ---------------------------------------------------------------------------------------------


def read_date(form: FormReader, name: str, label: str, *, required: bool = False) -> date | None:
    """A date of the life of a contract: ISO format, and a plausible year."""
    value = form.date(name, label, required=required)
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        form.check(False, name, f"« {label} » doit se situer entre {MIN_YEAR} et {MAX_YEAR}.")
        return None
    return value


def themes_problem(themes: Iterable[str]) -> str | None:
    """Why these themes cannot be kept (too long, too many), or None. The form asks it, and the service again for
    the callers that build an AgreementInput themselves."""
    themes = list(themes)
    if any(len(theme) > THEME_MAX_LENGTH for theme in themes):
        return f"Un thème tient en {THEME_MAX_LENGTH} caractères au plus."
    if len(themes) > THEMES_MAX:
        return f"Un contrat compte {THEMES_MAX} thèmes au plus."
    return None


def _themes(form: FormReader) -> tuple[str, ...]:
    """Checked suggestions (theme_<code>) and free themes separated by ; or , (autres_themes)."""
    themes = [label for code, label in THEME_SUGGESTIONS.items() if form.boolean(f"theme_{code}")]
    other = form.text("autres_themes", "Autres thèmes", max_length=1000)
    for part in re.split(r"[;,]", other):
        theme = normalise_theme(part)
        if theme and theme.casefold() not in {t.casefold() for t in themes}:
            themes.append(theme)
    problem = themes_problem(themes)
    form.check(problem is None, "autres_themes", problem or "")
    return tuple(themes)


def _version(form: FormReader, data: Mapping[str, Any]) -> int | None:
    return form.integer("version", "Version", required=True, minimum=0) if "version" in data else None


# --- the agreement's text --------------------------------------------------------------------------------------


def _agreement(form: FormReader) -> AgreementInput:
    values = AgreementInput(
        title=form.text("title", "Intitulé", max_length=TITLE_MAX, required=True),
        purpose=form.text("purpose", "Objet du contrat", max_length=TEXT_MAX, multiline=True),
        in_force_on=read_date(form, "in_force_on", "Date d’entrée en vigueur"),
        ends_on=read_date(form, "ends_on", "Date de fin"),
        themes=_themes(form),
    )
    start, end = values.in_force_on, values.ends_on
    form.check(not (start and end and end <= start), "ends_on",
               "La date de fin doit être postérieure à la date d’entrée en vigueur.")
    return values


def read_new_agreement(data: Mapping[str, Any]) -> tuple[int, AgreementInput]:
    """The creation form: the lead territory (porteur, a territory id) and the text."""
    form = FormReader(data)
    lead = form.integer("territory", "Territoire porteur", required=True, minimum=1)
    values = _agreement(form)
    form.raise_if_errors()
    return lead, values


def read_agreement(data: Mapping[str, Any]) -> tuple[AgreementInput, int | None]:
    """The edit form, and the version it was read at (None when the form sent none: refused by the service)."""
    form = FormReader(data)
    version = _version(form, data)
    values = _agreement(form)
    form.raise_if_errors()
    return values, version


# --- parties, deliberations, signatures ------------------------------------------------------------------------


def read_party(data: Mapping[str, Any]) -> int:
    """The territory to add as a party (an id from the search results)."""
    form = FormReader(data)
    territory = form.integer("territory", "Territoire", required=True, minimum=1, maximum=MAX_INT)
    form.raise_if_errors(PICK_A_TERRITORY)
    return territory


def read_party_search(query: Mapping[str, Any]) -> str:
    """`q` on the parties page: a name or a SIREN. Too long → BadQuery (400)."""
    form = FormReader(query)
    text = form.text("q", "Recherche", max_length=SEARCH_MAX)
    if form.errors:
        raise BadQuery("Recherche invalide : " + " ".join(form.errors.values()), errors=form.errors)
    return text


def kept_search(data: Mapping[str, Any]) -> str:
    """The search a refused form came with, to show the same results again (never refused)."""
    return " ".join(FormReader(data).raw("q").replace("\x00", "").split())[:SEARCH_MAX]  # never a NUL to the database


def read_deliberation(data: Mapping[str, Any]) -> tuple[DeliberationInput, int | None]:
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    deliberation_on = read_date(form, "deliberation_on", "Date de la délibération", required=True)
    reference = form.text("deliberation_ref", "Référence de la délibération", max_length=REFERENCE_MAX,
                          required=True)
    form.raise_if_errors()
    return DeliberationInput(deliberation_on=deliberation_on, reference=reference), version


def read_signature(data: Mapping[str, Any]) -> SignatureInput:
    form = FormReader(data)
    version = form.integer("version", "Version", minimum=0)
    signed_on = read_date(form, "signed_on", "Date de signature")
    if form.errors:
        raise InvalidInput(" ".join(form.errors.values()), errors=form.errors)
    return SignatureInput(signed_on=signed_on, version=version)


# --- obligations -----------------------------------------------------------------------------------------------


def read_obligation(data: Mapping[str, Any]) -> tuple[ObligationInput, int | None]:
    """An obligation form, and the version it was read at (None when creating)."""
    form = FormReader(data)
    version = _version(form, data)
    title = form.text("title", "Ce qui est apporté", max_length=TITLE_MAX, required=True)
    description = form.text("description", "Précisions", max_length=TEXT_MAX, multiline=True)
    # Any integer: one that is not a party of this agreement (or a partner of that party) is the service's
    # « valeur inconnue ».
    owner = form.integer("owner", "Partie qui apporte", required=True)
    beneficiary = form.integer("beneficiary", "Au bénéfice de")
    partner = form.integer("partner", "Porté par le partenaire")
    deadline = read_date(form, "deadline", "Échéance")
    form.check(not (owner and beneficiary and owner == beneficiary), "beneficiary",
               "Une partie ne s’apporte pas quelque chose à elle-même : choisissez une autre partie.")
    form.raise_if_errors()
    values = ObligationInput(title=title, owner=owner, description=description, beneficiary=beneficiary,
                             partner=partner, deadline=deadline)
    return values, version


def read_version(data: Mapping[str, Any]) -> int | None:
    """The version a one-button form (withdraw an obligation) was read at."""
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    form.raise_if_errors("Version manquante : rechargez la page.")
    return version


# --- linked actions and review dates ---------------------------------------------------------------------------


def read_linked_action(data: Mapping[str, Any]) -> int:
    form = FormReader(data)
    action = form.integer("action", "Action", required=True, minimum=1, maximum=MAX_INT)
    form.raise_if_errors(LINK_REFUSED)
    return action


def read_review(data: Mapping[str, Any]) -> ReviewInput:
    form = FormReader(data)
    review_on = read_date(form, "review_on", "Date de la revue", required=True)
    title = form.text("review_title", "Intitulé de la revue", max_length=REVIEW_TITLE_MAX) or DEFAULT_REVIEW_TITLE
    form.raise_if_errors()
    return ReviewInput(review_on=review_on, title=title)


# --- the list ----------------------------------------------------------------------------------------------------


def read_agreement_filters(query: Mapping[str, Any]) -> AgreementFilters:
    """Query string of /contrats: etat, theme, action, page. Bad values → BadQuery (400) with a French message."""
    form = FormReader(query)
    filters = AgreementFilters(
        state=form.choice("etat", "État", AGREEMENT_STATE_LABELS),
        theme=normalise_theme(form.text("theme", "Thème", max_length=THEME_MAX_LENGTH)),
        action=form.integer("action", "Action", minimum=1, maximum=MAX_INT),
        page=form.integer("page", "Page", minimum=1, maximum=PAGES_MAX) or 1,
    )
    if form.errors:
        raise BadQuery("Filtre invalide : " + " ".join(form.errors.values()), errors=form.errors)
    return filters
