"""Partners' contacts: the forms and the export's query string, read at the edge into typed values with French
messages. Whether the partner already has a contact with this address is checked by the service."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tracker.accounts.service import normalise_email
from tracker.core.errors import BadQuery
from tracker.core.forms import FormReader

NAME_MAX = 120
EMAIL_MAX = 254
FUNCTION_MAX = 120
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ACCOUNT_OPERATIONS = {"relier": "Relier le compte", "delier": "Délier le compte"}
EXPORT_FORMATS = ("json", "csv")


@dataclass(frozen=True)
class ContactInput:
    full_name: str
    email: str  # lower-case
    function: str = ""


def _contact(form: FormReader) -> ContactInput:
    full_name = form.text("full_name", "Nom et prénom", max_length=NAME_MAX, required=True)
    email = normalise_email(form.text("email", "Adresse électronique", max_length=EMAIL_MAX, required=True))
    function = form.text("function", "Fonction", max_length=FUNCTION_MAX)
    if email:
        form.check(bool(_EMAIL.fullmatch(email)), "email",
                   "« Adresse électronique » n’est pas valide (par exemple prenom.nom@exemple.fr).")
    return ContactInput(full_name=full_name, email=email, function=function)


def read_contact(data: Mapping[str, Any]) -> ContactInput:
    """A new contact."""
    form = FormReader(data)
    values = _contact(form)
    form.raise_if_errors()
    return values


def read_rectification(data: Mapping[str, Any]) -> tuple[ContactInput, int]:
    """A contact's data rectified (RGPD art. 16), and the version the form was read at."""
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    values = _contact(form)
    form.raise_if_errors()
    return values, version


def read_erasure(data: Mapping[str, Any]) -> int:
    """The erasure's confirmation (RGPD art. 17); returns the version the page was read at."""
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    form.check(form.boolean("confirmation"), "confirmation",
               "Cochez la case pour confirmer l’effacement : il est définitif.")
    form.raise_if_errors()
    return version


def read_account_operation(data: Mapping[str, Any]) -> Literal["relier", "delier"]:
    form = FormReader(data)
    operation = form.choice("operation", "Opération", ACCOUNT_OPERATIONS, required=True)
    form.raise_if_errors()
    return operation  # type: ignore[return-value]


def read_export_format(query: Mapping[str, Any]) -> Literal["json", "csv"]:
    """`?format=json|csv` (JSON when absent); anything else is a French 400."""
    value = FormReader(query).raw("format")
    if "format" in query and value not in EXPORT_FORMATS:
        raise BadQuery("Format d’export inconnu : choisissez JSON ou CSV.", errors={"format": "Format inconnu."})
    return "csv" if value == "csv" else "json"
