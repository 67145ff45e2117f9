"""Reading and checking submitted forms and query strings, with French messages. Collects every error
before refusing, so the user fixes everything at once; nothing is written while errors remain."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.core.errors import BadQuery, InvalidInput

GENERIC = "Le formulaire contient des erreurs : corrigez les champs signalés."


class FormReader:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> str:
        value = self._data.get(name, "")
        if isinstance(value, list):
            value = value[-1] if value else ""
        return value if isinstance(value, str) else ""

    def _fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def text(self, name: str, label: str, *, max_length: int, required: bool = False, multiline: bool = False) -> str:
        value = self.raw(name).strip()
        if not multiline:
            value = " ".join(value.split())
        if "\x00" in value:
            self._fail(name, f"« {label} » contient un caractère interdit.")
            return ""
        if required and not value:
            self._fail(name, f"« {label} » est obligatoire.")
        elif len(value) > max_length:
            self._fail(name, f"« {label} » ne peut dépasser {max_length} caractères (vous en avez saisi {len(value)}).")
        return value

    def date(self, name: str, label: str, *, required: bool = False) -> date | None:
        value = self.raw(name).strip()
        if not value:
            if required:
                self._fail(name, f"« {label} » est obligatoire.")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self._fail(name, f"« {label} » n’est pas une date valide (format attendu : AAAA-MM-JJ).")
            return None

    def integer(
        self, name: str, label: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self.raw(name).strip()
        if not value:
            if required:
                self._fail(name, f"« {label} » est obligatoire.")
            return None
        if not value.isascii() or not value.lstrip("-").isdigit() or len(value) > 12:
            self._fail(name, f"« {label} » doit être un nombre entier.")
            return None
        number = int(value)
        low = -MAX_INT - 1 if minimum is None else minimum
        high = MAX_INT if maximum is None else maximum  # never beyond what the database's INTEGER holds
        if not low <= number <= high:
            if minimum is None:
                self._fail(name, f"« {label} » doit être au plus {high}.")
            else:
                self._fail(name, f"« {label} » doit être compris entre {low} et {high}.")
            return None
        return number

    def choice(self, name: str, label: str, choices: Mapping[str, Any], *, required: bool = False) -> str | None:
        value = self.raw(name).strip()
        if not value:
            if required:
                self._fail(name, f"« {label} » est obligatoire.")
            return None
        if value not in choices:
            self._fail(name, f"« {label} » : valeur inconnue, choisissez dans la liste.")
            return None
        return value

    def id_in(self, name: str, label: str, allowed: set[int], *, required: bool = False) -> int | None:
        number = self.integer(name, label, required=required)
        if number is not None and number not in allowed:
            self._fail(name, f"« {label} » : valeur inconnue, choisissez dans la liste.")
            return None
        return number

    def boolean(self, name: str) -> bool:
        return self.raw(name) in {"1", "on", "true", "oui"}

    def check(self, condition: bool, name: str, message: str) -> None:
        if not condition:
            self._fail(name, message)

    def raise_if_errors(self, message: str = GENERIC) -> None:
        if self.errors:
            raise InvalidInput(message, errors=self.errors)

    def raise_if_bad_query(self, intro: str = "Paramètre invalide : ") -> None:
        """For a query string (filters, a page number): a 400 (`BadQuery`) naming every bad parameter."""
        if self.errors:
            raise BadQuery(intro + " ".join(self.errors.values()), errors=self.errors)


MAX_INT = 2_147_483_647  # the database's INTEGER: anything larger is refused here, never sent to PostgreSQL


@dataclass(frozen=True)
class StateChangeInput:
    """Every state-change form of the product (actions, commitments, agreements, obligations, signed links):
    `status`, `comment`, `version`, and where to go back (`retour`, a local path or None)."""

    status: str
    comment: str
    version: int | None
    back: str | None = None


def read_state_change(data: Mapping[str, Any]) -> StateChangeInput:
    """Parse a state-change form; the rules (allowed transitions, comment required…) are the kernel's."""
    form = FormReader(data)
    version = form.integer("version", "Version", minimum=0, maximum=MAX_INT)
    status = form.text("status", "Statut", max_length=30)
    comment = form.text("comment", "Commentaire", max_length=2000, multiline=True)
    if "version" in form.errors:
        raise InvalidInput("Version invalide : rechargez la page.", errors=form.errors)
    if form.errors:
        raise InvalidInput(" ".join(form.errors.values()), errors=form.errors)
    back = form.raw("retour")
    return StateChangeInput(status=status, comment=comment, version=version, back=back or None)
