"""The commitments' forms and query strings, read at the edge into typed values with French messages. What needs
the database (a partner of this territory, one pilot per action, a contact of this partner) is checked by the
services; state changes are read by `tracker.core.forms.read_state_change`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.commitments.states import GROUP_LABELS, ROLE_LABELS, UNIT_LABELS
from tracker.core.errors import BadQuery, InvalidInput
from tracker.core.forms import FormReader, StateChangeInput, read_state_change

DESCRIPTION_MAX = 2000
COMMENT_MAX = 2000
AMOUNT_MAX = 2_000_000_000
LINK_ANSWERS = ("confirme", "decline")
ANSWER_INVALID = "Réponse invalide : rechargez la page et choisissez « Confirmer » ou « Décliner »."


@dataclass(frozen=True)
class Terms:
    """What a commitment says: role, what is committed, an optional amount (euros or days) and due date."""

    role: str
    description: str
    amount: int | None = None
    amount_unit: str = ""  # '' when there is no amount
    due_on: date | None = None


@dataclass(frozen=True)
class NewCommitment:
    """A commitment recorded by the territory: which partner (one of the territory's, checked by the service)."""

    partner: int
    terms: Terms


@dataclass(frozen=True)
class TermsEdit:
    """An edit of what a commitment says, the version it was read at, and an optional note for the history."""

    terms: Terms
    version: int
    note: str = ""


def _amount(form: FormReader) -> int | None:
    raw = form.raw("amount")
    cleaned = "".join(raw.split()).replace("\u00a0", "").replace("\u202f", "").replace("€", "").replace(".", "")
    if not cleaned:
        return None
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 10:
        form.check(False, "amount", "« Montant » doit être un nombre entier (par exemple 12 500).")
        return None
    amount = int(cleaned)
    form.check(0 < amount <= AMOUNT_MAX, "amount", "« Montant » doit être positif et raisonnable.")
    return amount


def _terms(form: FormReader) -> Terms:
    """Collects its errors in `form`."""
    role = form.choice("role", "Rôle", ROLE_LABELS, required=True)
    description = form.text("description", "Ce qui est engagé", max_length=DESCRIPTION_MAX, required=True,
                            multiline=True)
    amount = _amount(form)
    unit = form.choice("amount_unit", "Unité du montant", UNIT_LABELS) or ""
    if amount is not None and not unit:
        form.check(False, "amount_unit", "Précisez si le montant est en euros ou en jours.")
    if amount is None:
        unit = ""
    due_on = form.date("due_on", "Échéance de l’engagement")
    return Terms(role=role or "", description=description, amount=amount, amount_unit=unit, due_on=due_on)


def read_new_commitment(data: Mapping[str, Any]) -> NewCommitment:
    form = FormReader(data)
    partner = form.integer("partner", "Partenaire", required=True)
    terms = _terms(form)
    form.raise_if_errors()
    return NewCommitment(partner=partner, terms=terms)


def read_terms_edit(data: Mapping[str, Any]) -> TermsEdit:
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    terms = _terms(form)
    note = form.text("comment", "Commentaire", max_length=COMMENT_MAX, multiline=True)
    form.raise_if_errors()
    return TermsEdit(terms=terms, version=version, note=note)


def read_comment(data: Mapping[str, Any]) -> str:
    form = FormReader(data)
    body = form.text("body", "Commentaire", max_length=COMMENT_MAX, required=True, multiline=True)
    form.raise_if_errors()
    return body


def read_recipient(data: Mapping[str, Any]) -> int:
    """The contact a signed link is sent to (one of the partner's, checked by the service)."""
    form = FormReader(data)
    contact = form.integer("contact", "Contact", required=True)
    form.raise_if_errors()
    return contact


def read_link_answer(data: Mapping[str, Any]) -> StateChangeInput:
    """The answer behind a signed link: a state change that may only confirm or decline, at a given version."""
    try:
        answer = read_state_change(data)
    except InvalidInput as error:
        if "comment" in error.errors:
            raise
        raise InvalidInput(ANSWER_INVALID, errors=error.errors) from None
    errors = {}
    if answer.status not in LINK_ANSWERS:
        errors["status"] = "« Réponse » : valeur inconnue, choisissez dans la liste."
    if answer.version is None:
        errors["version"] = "« Version » est obligatoire."
    if errors:
        raise InvalidInput(ANSWER_INVALID, errors=errors)
    return answer


def read_group_filter(query: Mapping[str, Any]) -> str | None:
    """`/engagements?etat=propose|confirme|clos`; anything else is a French 400."""
    form = FormReader(query)
    group = form.choice("etat", "État", GROUP_LABELS)
    if form.errors:
        raise BadQuery("Filtre invalide : " + " ".join(form.errors.values()), errors=form.errors)
    return group
