"""The agreements' forms and query strings, read at the edge into typed values with French messages (shape checks
only). What needs the database — a party of this agreement, a partner of that party, a territory that exists, the
contract's dates, how many parties or reviews it has — is checked by the services."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.agreements.states import (
    AGREEMENT_STATE_LABELS,
    CHANGE_KINDS,
    PARTY_ROLE_LABELS,
    RECORDABLE,
    THEME_DESCRIPTION_MAX,
    THEME_MAX_LENGTH,
    THEMES_MAX,
    normalise_theme,
)
from tracker.core.errors import BadQuery, InvalidInput
from tracker.core.forms import MAX_INT, FormReader
from tracker.territories.reference import KIND_LABELS, regions

TITLE_MAX = 200
TEXT_MAX = 10_000
REFERENCE_MAX = 120
PLACE_MAX = 200
URL_MAX = 500
# The themes' rows of the form: the agreement's themes and a few empty ones (more: save, and come back).
THEME_ROWS = THEMES_MAX + 3
EMPTY_THEME_ROWS = 3
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
class ThemeInput:
    """One theme, in the agreement's order: its name (never split), a short description, and which of the
    agreement's themes it is (None: a new one)."""

    name: str
    description: str = ""
    id: int | None = None


@dataclass(frozen=True)
class AgreementInput:
    """What the contract says while it is drafted (not its state, parties or obligations)."""

    title: str
    purpose: str = ""
    in_force_on: date | None = None
    ends_on: date | None = None
    # In the agreement's order; a plain name is a new theme. Names normalised (states.normalise_theme), no duplicates.
    themes: tuple[ThemeInput | str, ...] = ()
    protocol_on: date | None = None  # protocole ou accord préalable


@dataclass(frozen=True)
class DocumentInput:
    """What the signed document says about itself: where it was signed, its reference, a link to it."""

    signing_place: str = ""
    document_ref: str = ""
    document_url: str = ""


@dataclass(frozen=True)
class RecordedParty:
    """One party's deliberation and signature, as they happened (recording after the fact)."""

    party: int  # an AgreementParty id
    deliberation_on: date | None = None
    deliberation_ref: str = ""
    signed_on: date | None = None


@dataclass(frozen=True)
class RecordingInput:
    """An agreement already signed, recorded as it was: the state it is in and the real dates."""

    state: str  # one of states.RECORDABLE
    in_force_on: date
    parties: tuple[RecordedParty, ...]
    ends_on: date | None = None
    terminated_on: date | None = None
    reason: str = ""  # why it was terminated
    document: DocumentInput = DocumentInput()


@dataclass(frozen=True)
class AmendmentInput:
    """What an amendment says: its title and purpose, the end date it sets (None: unchanged), its date."""

    title: str
    purpose: str = ""
    new_ends_on: date | None = None
    in_force_on: date | None = None  # None: the day every party has signed


@dataclass(frozen=True)
class ObligationInput:
    """What a party brings: the party (owner), for whom, carried by which partner, by when."""

    title: str
    owner: int  # an AgreementParty id
    description: str = ""
    beneficiary: int | None = None  # an AgreementParty id; None: the other party (or all the others)
    partner: int | None = None
    deadline: date | None = None
    theme: int | None = None  # an AgreementTheme id; required when the agreement has themes


@dataclass(frozen=True)
class AmendmentChangeInput:
    """One change of an amendment: « ajout » (`obligation_input`), « modification » (`obligation` and its new
    title, description, deadline) or « fin » (`obligation`, `reason`)."""

    kind: str
    obligation: int | None = None
    new: ObligationInput | None = None
    title: str = ""
    description: str = ""
    deadline: date | None = None
    reason: str = ""


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
    region: str | None = None  # a party's région (code)
    kind: str | None = None  # a party's kind (CC, METRO, PETR…)

    @property
    def active(self) -> bool:
        return bool(self.state or self.theme or self.action or self.region or self.kind)

    def query(self, **changes: Any) -> dict[str, str]:
        params = {"etat": self.state, "theme": self.theme, "region": self.region, "nature": self.kind,
                  "action": self.action, "page": self.page, **changes}
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


def _themes(form: FormReader) -> tuple[ThemeInput, ...]:
    """The themes' rows (theme_<n>_nom, _description, _rang, _id), each theme in its own field, never split. In the
    order of their rank (« Rang »), then of the rows; a row left empty is no theme (an existing one is removed)."""
    rows: list[tuple[int, int, ThemeInput]] = []
    seen: dict[str, int] = {}
    for row in range(1, THEME_ROWS + 1):
        prefix = f"theme_{row}_"
        name = normalise_theme(form.text(prefix + "nom", f"Thème {row}", max_length=1000))
        description = form.text(prefix + "description", f"Description du thème {row}",
                                max_length=THEME_DESCRIPTION_MAX)
        rank = form.integer(prefix + "rang", f"Rang du thème {row}", minimum=1, maximum=99)
        ident = form.integer(prefix + "id", f"Thème {row}", minimum=1, maximum=MAX_INT)
        if not name:
            form.check(not description, prefix + "nom", f"Le thème {row} a une description mais pas d’intitulé.")
            continue
        if len(name) > THEME_MAX_LENGTH:
            form.check(False, prefix + "nom", f"Un thème tient en {THEME_MAX_LENGTH} caractères au plus.")
            continue
        key = name.casefold()
        if key in seen:
            form.check(False, prefix + "nom", f"Le thème « {name} » figure deux fois.")
            continue
        seen[key] = row
        rows.append((rank if rank is not None else 100, row, ThemeInput(name=name, description=description, id=ident)))
    themes = tuple(theme for _, _, theme in sorted(rows, key=lambda r: (r[0], r[1])))
    problem = themes_problem(t.name for t in themes)
    form.check(problem is None, "themes", problem or "")
    return themes


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
        protocol_on=read_date(form, "protocol_on", "Date du protocole ou de l’accord préalable"),
    )
    start, end, protocol = values.in_force_on, values.ends_on, values.protocol_on
    form.check(not (start and end and end <= start), "ends_on",
               "La date de fin doit être postérieure à la date d’entrée en vigueur.")
    form.check(not (protocol and start and protocol > start), "protocol_on",
               "Le protocole précède l’entrée en vigueur du contrat.")
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


def read_party(data: Mapping[str, Any]) -> tuple[int, str]:
    """The territory to add (an id from the search results) and its role: « partie » (default) or « temoin »."""
    form = FormReader(data)
    territory = form.integer("territory", "Territoire", required=True, minimum=1, maximum=MAX_INT)
    role = form.choice("role", "Qualité", PARTY_ROLE_LABELS) or "partie"
    form.raise_if_errors(PICK_A_TERRITORY)
    return territory, role


def read_obligation_preset(query: Mapping[str, Any]) -> dict[str, str]:
    """The query string of the obligation forms: `partie` (or `owner`, sent by htmx when the party changes), the
    party that brings, preselected so that « Au bénéfice de » offers only the others; `theme`, the theme
    preselected. Returned as the form's values; not a number → BadQuery (400)."""
    form = FormReader(query)
    owner = form.integer("partie", "Partie", minimum=1, maximum=MAX_INT)
    if owner is None:
        owner = form.integer("owner", "Partie", minimum=1, maximum=MAX_INT)
    theme = form.integer("theme", "Thème", minimum=1, maximum=MAX_INT)
    form.raise_if_bad_query()
    return {key: str(value) for key, value in (("owner", owner), ("theme", theme)) if value}


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
    values = _obligation(form)
    form.raise_if_errors()
    return values, version


def _obligation(form: FormReader) -> ObligationInput:
    title = form.text("title", "Ce qui est apporté", max_length=TITLE_MAX, required=True)
    description = form.text("description", "Précisions", max_length=TEXT_MAX, multiline=True)
    # Any integer: one that is not a party of this agreement (or a partner of that party) is the service's
    # « valeur inconnue ».
    owner = form.integer("owner", "Partie qui apporte", required=True)
    beneficiary = form.integer("beneficiary", "Au bénéfice de")
    partner = form.integer("partner", "Porté par le partenaire")
    deadline = read_date(form, "deadline", "Échéance")
    theme = form.integer("theme", "Thème")
    form.check(not (owner and beneficiary and owner == beneficiary), "beneficiary",
               "Une partie ne s’apporte pas quelque chose à elle-même : choisissez une autre partie.")
    return ObligationInput(title=title, owner=owner or 0, description=description, beneficiary=beneficiary,
                           partner=partner, deadline=deadline, theme=theme)


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
    """Query string of /contrats: etat, theme, region, nature (a party's kind), action, page. Bad values →
    BadQuery (400) with a French message."""
    form = FormReader(query)
    filters = AgreementFilters(
        state=form.choice("etat", "État", AGREEMENT_STATE_LABELS),
        theme=normalise_theme(form.text("theme", "Thème", max_length=THEME_MAX_LENGTH)),
        action=form.integer("action", "Action", minimum=1, maximum=MAX_INT),
        page=form.integer("page", "Page", minimum=1, maximum=PAGES_MAX) or 1,
        region=form.choice("region", "Région", regions()),
        kind=form.choice("nature", "Nature d’une partie", KIND_LABELS),
    )
    if form.errors:
        raise BadQuery("Filtre invalide : " + " ".join(form.errors.values()), errors=form.errors)
    return filters


# --- the signed document, recording after the fact, amendments (issue 13) --------------------------------------


def _document(form: FormReader) -> DocumentInput:
    url = form.text("document_url", "Lien vers le document", max_length=URL_MAX)
    form.check(not url or url.startswith(("https://", "http://")) and " " not in url and "." in url,
               "document_url", "« Lien vers le document » doit être une adresse web (https://…).")
    return DocumentInput(
        signing_place=form.text("signing_place", "Lieu de signature", max_length=PLACE_MAX),
        document_ref=form.text("document_ref", "Référence du document", max_length=REFERENCE_MAX),
        document_url=url,
    )


def read_document(data: Mapping[str, Any]) -> tuple[DocumentInput, int | None]:
    """The signed document's place, reference and link, and the agreement's version the form was read at."""
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    values = _document(form)
    form.raise_if_errors()
    return values, version


def read_recording(data: Mapping[str, Any], party_ids: Iterable[int]) -> tuple[RecordingInput, int | None]:
    """The form recording an agreement already signed: its state, real dates, each party's deliberation and
    signature (fields partie_<id>_deliberation_on, _deliberation_ref, _signed_on), and the document."""
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    state = form.choice("state", "État du contrat", RECORDABLE, required=True)
    in_force_on = read_date(form, "in_force_on", "Date d’entrée en vigueur", required=True)
    ends_on = read_date(form, "ends_on", "Date de fin", required=state == "echu")
    terminated_on = read_date(form, "terminated_on", "Date de résiliation", required=state == "resilie")
    reason = form.text("reason", "Motif de la résiliation", max_length=2000, multiline=True,
                       required=state == "resilie")
    parties = []
    for party in party_ids:
        prefix = f"partie_{party}_"
        parties.append(RecordedParty(
            party=party,
            deliberation_on=read_date(form, prefix + "deliberation_on", "Date de la délibération"),
            deliberation_ref=form.text(prefix + "deliberation_ref", "Référence de la délibération",
                                       max_length=REFERENCE_MAX),
            signed_on=read_date(form, prefix + "signed_on", "Date de signature"),
        ))
    form.check(not (in_force_on and ends_on and ends_on <= in_force_on), "ends_on",
               "La date de fin doit être postérieure à la date d’entrée en vigueur.")
    form.check(not (in_force_on and terminated_on and terminated_on < in_force_on), "terminated_on",
               "La résiliation ne peut précéder l’entrée en vigueur.")
    document = _document(form)
    form.raise_if_errors()
    values = RecordingInput(state=state, in_force_on=in_force_on, parties=tuple(parties), ends_on=ends_on,
                            terminated_on=terminated_on if state == "resilie" else None,
                            reason=reason if state == "resilie" else "", document=document)
    return values, version


def read_amendment(data: Mapping[str, Any]) -> tuple[AmendmentInput, int | None]:
    """An amendment's text, and the version it was read at (None when creating)."""
    form = FormReader(data)
    version = _version(form, data)
    values = AmendmentInput(
        title=form.text("title", "Intitulé de l’avenant", max_length=TITLE_MAX, required=True),
        purpose=form.text("purpose", "Objet de l’avenant", max_length=TEXT_MAX, multiline=True),
        new_ends_on=read_date(form, "new_ends_on", "Nouvelle date de fin"),
        in_force_on=read_date(form, "in_force_on", "Date d’effet"),
    )
    form.raise_if_errors()
    return values, version


def read_amendment_change(data: Mapping[str, Any]) -> AmendmentChangeInput:
    """One change of an amendment; `kind` says which fields count."""
    form = FormReader(data)
    kind = form.choice("kind", "Nature du changement", CHANGE_KINDS, required=True)
    if kind == "ajout":
        new = _obligation(form)
        form.raise_if_errors()
        return AmendmentChangeInput(kind=kind, new=new)
    obligation = form.integer("obligation", "Obligation", required=True, minimum=1, maximum=MAX_INT)
    if kind == "fin":
        reason = form.text("reason", "Motif", max_length=2000, multiline=True, required=True)
        form.raise_if_errors()
        return AmendmentChangeInput(kind=kind, obligation=obligation, reason=reason)
    title = form.text("title", "Ce qui est apporté", max_length=TITLE_MAX, required=kind == "modification")
    description = form.text("description", "Précisions", max_length=TEXT_MAX, multiline=True)
    deadline = read_date(form, "deadline", "Échéance")
    form.raise_if_errors()
    return AmendmentChangeInput(kind=kind or "", obligation=obligation, title=title, description=description,
                                deadline=deadline)


def read_amendment_query(query: Mapping[str, Any]) -> int | None:
    """`modifier` on an amendment's page: the obligation whose new text to write. Not a number → BadQuery (400)."""
    form = FormReader(query)
    obligation = form.integer("modifier", "Obligation à modifier", minimum=1, maximum=MAX_INT)
    form.raise_if_bad_query()
    return obligation
