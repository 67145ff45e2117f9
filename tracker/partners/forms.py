"""The partner directory's form and query string, read at the edge into typed values with French messages. What
needs the database (the territories one may tick, a SIREN that names a territory, duplicates, open commitments) is
checked by the service."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.core.errors import BadQuery
from tracker.core.forms import FormReader
from tracker.core.identifiers import clean, rna_ok, siren_ok, siret_ok
from tracker.partners.kinds import LEGAL_FORMS, SECTOR_LABELS

NAME_MAX = 200
MAX_OTHER_TERRITORIES = 20
_TICKED = re.compile(r"territoire_(\d{1,12})")


@dataclass(frozen=True)
class PartnerInput:
    """What the directory says of a partner, and the territories it works with as the form gives them: the ones
    ticked (`territoire_<id>`; the service keeps only those the person may tick) and, for administrators, others
    by SIREN."""

    name: str
    legal_form: str
    siren: str | None = None
    siret: str | None = None
    rna: str | None = None
    dsp_contract_end: date | None = None
    ticked: frozenset[int] = frozenset()
    other_sirens: tuple[str, ...] = ()
    confirm_name: bool = False  # « Il s’agit d’un autre partenaire »: a close name is not a duplicate


@dataclass(frozen=True)
class DirectoryQuery:
    """/partenaires?q=…&secteur=…&forme=…&page=…"""

    text: str = ""
    sector: str | None = None
    legal_form: str | None = None
    page: int = 1


def _identifier(form: FormReader, name: str, label: str, check, problem: str) -> str | None:
    value = clean(form.text(name, label, max_length=30))
    if name == "rna":
        value = value.upper()
    if not value:
        return None
    form.check(check(value), name, problem)
    return value if check(value) else None


def _partner(form: FormReader, data: Mapping[str, Any]) -> PartnerInput:
    """Collects its errors in `form`."""
    name = form.text("name", "Nom", max_length=NAME_MAX, required=True)
    legal_form = form.choice("legal_form", "Forme juridique", LEGAL_FORMS, required=True)
    siren = _identifier(form, "siren", "SIREN", siren_ok, "Ce SIREN n’est pas valide : 9 chiffres dont le dernier "
                        "est une clé de contrôle (formule de Luhn). Vérifiez la saisie.")
    siret = _identifier(form, "siret", "SIRET", siret_ok, "Ce SIRET n’est pas valide : 14 chiffres (SIREN puis "
                        "numéro d’établissement), clé de contrôle (formule de Luhn) incorrecte.")
    rna = _identifier(form, "rna", "RNA", rna_ok, "Ce numéro RNA n’est pas valide : la lettre W suivie de "
                      "9 chiffres (par exemple W161000123).")
    dsp_end = form.date("dsp_contract_end", "Fin du contrat de délégation")
    if siren and siret:
        form.check(siret.startswith(siren), "siret", "Le SIRET doit commencer par le SIREN du partenaire.")
    if legal_form == "dsp":
        form.check(dsp_end is not None, "dsp_contract_end",
                   "« Fin du contrat de délégation » est obligatoire pour un délégataire de service public.")
    elif dsp_end is not None:
        form.check(False, "dsp_contract_end",
                   "La fin du contrat de délégation ne concerne que les délégataires de service public.")
    if rna and legal_form and legal_form != "association":
        form.check(False, "rna", "Le numéro RNA ne concerne que les associations loi 1901.")
    ticked = frozenset(
        int(match.group(1)) for key in data if (match := _TICKED.fullmatch(str(key))) and form.boolean(key)
    )
    sirens = form.text("autres_territoires", "Autres territoires", max_length=500).replace(",", " ").split()
    if len(sirens) > MAX_OTHER_TERRITORIES:
        form.check(False, "autres_territoires", f"Ajoutez au plus {MAX_OTHER_TERRITORIES} territoires à la fois.")
        sirens = []
    return PartnerInput(
        name=name,
        legal_form=legal_form or "",
        siren=siren,
        siret=siret,
        rna=rna,
        dsp_contract_end=dsp_end if legal_form == "dsp" else None,
        ticked=ticked,
        other_sirens=tuple(sirens),
        confirm_name=form.boolean("confirmer_nom"),
    )


def read_partner(data: Mapping[str, Any]) -> PartnerInput:
    """The form of a new partner."""
    form = FormReader(data)
    values = _partner(form, data)
    form.raise_if_errors()
    return values


def read_partner_edit(data: Mapping[str, Any]) -> tuple[PartnerInput, int]:
    """The form of a partner's edit, and the version it was read at."""
    form = FormReader(data)
    version = form.integer("version", "Version", required=True, minimum=0)
    values = _partner(form, data)
    form.raise_if_errors()
    return values, version


@dataclass(frozen=True)
class AttachmentInput:
    """The territory a partner is to work with (one whose directory this person keeps: checked by the service),
    and the proof that the partner was offered to this person as a duplicate (`preuve`, may be empty)."""

    territory: int
    proof: str = ""


def read_attachment(data: Mapping[str, Any]) -> AttachmentInput:
    form = FormReader(data)
    territory = form.integer("territoire", "Territoire", required=True)
    proof = form.text("preuve", "Preuve", max_length=64)
    form.raise_if_errors()
    return AttachmentInput(territory=territory, proof=proof)


def read_directory_query(query: Mapping[str, Any]) -> DirectoryQuery:
    """Search (name or identifier) and filters (secteur, forme), 50 per page. Bad parameters: a French 400."""
    form = FormReader(query)
    values = DirectoryQuery(
        text=form.text("q", "Recherche", max_length=100),
        sector=form.choice("secteur", "Secteur", SECTOR_LABELS),
        legal_form=form.choice("forme", "Forme juridique", LEGAL_FORMS),
        page=form.integer("page", "Page", minimum=1, maximum=10_000) or 1,
    )
    if form.errors:
        raise BadQuery("Filtre invalide : " + " ".join(form.errors.values()), errors=form.errors)
    return values
