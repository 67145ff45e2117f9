"""The typed input of the members' forms: an invitation, a change of role, the password an invitee chooses."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracker.accounts.passwords import password_problem
from tracker.core.forms import GENERIC, FormReader
from tracker.core.permissions import ROLE_LABELS

TERRITORY_ROLES = dict(ROLE_LABELS)  # lecteur, editeur, referent
ADGCF_ROLES = {"reviewer": "Chargé de mission ADGCF", "admin": "Administrateur ADGCF"}
CONTACT_ROLE = "contact"
ALL_ROLE_LABELS = {**TERRITORY_ROLES, **ADGCF_ROLES, CONTACT_ROLE: "Contact d’un partenaire"}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class InvitationInput:
    email: str
    full_name: str
    role: str
    partner_contact: int | None = None


def read_email(reader: FormReader, name: str = "email") -> str:
    email = reader.text(name, "Adresse électronique", max_length=254, required=True).lower()
    if email and not _EMAIL.match(email):
        reader.check(False, name, "Adresse électronique invalide : elle s’écrit nom@domaine.fr.")
    return email


def read_invitation(data: Mapping[str, Any], roles: Mapping[str, str]) -> InvitationInput:
    """An invitation to a territory (`roles`: lecteur, editeur, referent) or to the ADGCF (reviewer, admin)."""
    reader = FormReader(data)
    email = read_email(reader)
    full_name = reader.text("nom", "Nom", max_length=120)
    role = reader.choice("role", "Rôle", roles, required=True)
    reader.raise_if_errors()
    return InvitationInput(email=email, full_name=full_name, role=role or "")


def read_contact_invitation(data: Mapping[str, Any], contacts: set[int]) -> int:
    reader = FormReader(data)
    contact = reader.id_in("contact", "Contact", contacts, required=True)
    reader.raise_if_errors()
    return contact or 0


def read_role(data: Mapping[str, Any]) -> str:
    reader = FormReader(data)
    role = reader.choice("role", "Rôle", TERRITORY_ROLES, required=True)
    reader.raise_if_errors()
    return role or ""


@dataclass(frozen=True)
class AcceptInput:
    full_name: str
    password: str


def read_acceptance(data: Mapping[str, Any], *, needs_password: bool) -> AcceptInput:
    reader = FormReader(data)
    full_name = reader.text("nom", "Votre nom", max_length=120, required=needs_password)
    password = reader.raw("password")
    if needs_password:
        problem = password_problem(password)
        if problem:
            reader.check(False, "password", problem)
        elif password != reader.raw("password2"):
            reader.check(False, "password2", "Les deux mots de passe saisis diffèrent.")
    reader.raise_if_errors(GENERIC)
    return AcceptInput(full_name=full_name, password=password if needs_password else "")

