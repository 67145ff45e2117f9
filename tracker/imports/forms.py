"""The import's two forms, read at the edge: the upload (a multipart form with the file) and the preview's
confirmation (a choice for each partner the file names, and whether to import the same file again)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.datastructures import UploadFile

from tracker.core.errors import InvalidInput
from tracker.core.forms import FormReader
from tracker.imports.files import MAX_FILE_BYTES, FileTooLarge, megabytes
from tracker.partners.kinds import LEGAL_FORMS

EXTENSIONS = (".xlsx", ".csv", ".txt")
NAME_MAX = 200
_CHOICE = re.compile(r"partenaire_(\d{1,4})")


@dataclass(frozen=True)
class UploadInput:
    file_name: str
    content: bytes


@dataclass(frozen=True)
class PartnerChoice:
    """For a partner the file names: an existing partner (`partner_id`), a new one (`legal_form`), or none."""

    kind: str  # existing | new | none
    partner_id: int | None = None
    legal_form: str | None = None


@dataclass(frozen=True)
class CommitInput:
    choices: dict[int, PartnerChoice]  # by the partner's number in the preview
    confirm_duplicate: bool = False


def _file_name(raw: str) -> str:
    """The name as the person's computer gave it, without any folder, control character or excess length."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[-NAME_MAX:]


async def read_upload(data: Mapping[str, Any]) -> UploadInput:
    """The uploaded file (`fichier`), at most 5 MB, .xlsx or .csv; InvalidInput (FileTooLarge: 413) otherwise."""
    upload = data.get("fichier")
    if isinstance(upload, list):
        upload = upload[-1] if upload else None
    if not isinstance(upload, UploadFile) or not _file_name(upload.filename):
        message = "Choisissez le fichier à importer (.xlsx ou .csv)."
        raise InvalidInput(message, errors={"fichier": message})
    name = _file_name(upload.filename)
    if not name.lower().endswith(EXTENSIONS):
        message = f"« {name} » n’est ni un classeur Excel (.xlsx) ni un fichier CSV : enregistrez-le dans l’un de ces formats."
        raise InvalidInput(message, errors={"fichier": message})
    content = await upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise FileTooLarge(f"Le fichier « {name} » dépasse {megabytes(MAX_FILE_BYTES)} : découpez-le ou allégez-le "
                           "(images, feuilles inutiles).", errors={"fichier": "5 Mo au plus."})
    if not content:
        message = f"Le fichier « {name} » est vide."
        raise InvalidInput(message, errors={"fichier": message})
    return UploadInput(file_name=name, content=content)


def read_commit(data: Mapping[str, Any]) -> CommitInput:
    """The preview's confirmation: `partenaire_<n>` = p<id> | nouveau | aucun, `forme_<n>` = a legal form,
    `confirmer_doublon`. Whether each choice fits the file is the plan's business."""
    form = FormReader(data)
    choices: dict[int, PartnerChoice] = {}
    for key in data:
        found = _CHOICE.fullmatch(key)
        if not found:
            continue
        index = int(found.group(1))
        value = form.raw(key).strip()
        if value == "nouveau":
            legal_form = form.choice(f"forme_{index}", "Forme juridique", LEGAL_FORMS)
            choices[index] = PartnerChoice("new", legal_form=legal_form)
        elif value == "aucun":
            choices[index] = PartnerChoice("none")
        elif value[:1] == "p" and value[1:].isascii() and value[1:].isdigit() and len(value) < 12:
            choices[index] = PartnerChoice("existing", partner_id=int(value[1:]))
        else:
            form.check(False, key, "Choix inconnu : choisissez dans la liste.")
    form.raise_if_errors()
    return CommitInput(choices=choices, confirm_duplicate=form.boolean("confirmer_doublon"))
