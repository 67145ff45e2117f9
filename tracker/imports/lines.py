"""Each line of the file read into typed values, every problem named by its line and column in French
(« Ligne 7, colonne Échéance : “31/02/2027” n’est pas une date. »). No database here."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tracker.core.identifiers import clean, rna_ok, siren_ok, siret_ok
from tracker.imports.files import CELL_MAX, RawSheet
from tracker.roadmaps.forms import DESCRIPTION_MAX, TITLE_MAX
from tracker.roadmaps.statuses import MODULE_TITLES, PRIORITY_LABELS, STATUS_LABELS

COMMENT_MAX = 2000
NAME_MAX = 200
MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORDS_DATE = re.compile(r"(\d{1,2})(?:er)? ([a-z]+) (\d{4})")
YES = {"oui", "o", "x", "vrai", "true", "1", "yes"}
NO = {"non", "n", "faux", "false", "0", "no"}


def plain(text: str) -> str:
    """Lower case, no accents, single spaces: how labels typed by hand are compared."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


STATUS_BY_TEXT = {plain(label): code for code, label in STATUS_LABELS.items()} | {code: code for code in STATUS_LABELS}
PRIORITY_BY_TEXT = {plain(label): code for code, label in PRIORITY_LABELS.items()}
MODULE_BY_TEXT = {plain(title): number for number, title in MODULE_TITLES.items()}


@dataclass(frozen=True)
class Problem:
    row: int
    column: str  # the header as the file writes it, or "" for the whole line
    message: str

    def __str__(self) -> str:
        where = f"Ligne {self.row}, colonne {self.column}" if self.column else f"Ligne {self.row}"
        return f"{where} : {self.message}"


@dataclass(frozen=True)
class PartnerRef:
    """A partner as the file names it: a name, and an identifier when the file gives one."""

    name: str
    identifier: str | None = None
    kind: str | None = None  # siren | siret | rna


@dataclass
class Line:
    row: int
    number: int | None = None  # the action's number, for a line that comes back from an export
    version: int | None = None
    title: str = ""
    description: str = ""
    axis: str = ""
    module: int | None = None
    pilot: PartnerRef | None = None
    contributors: list[PartnerRef] = field(default_factory=list)
    start_on: date | None = None
    deadline: date | None = None
    status: str | None = None  # None: the cell is empty
    priority: str | None = None
    confidential: bool | None = None
    comment: str = ""


@dataclass
class ReadLines:
    lines: list[Line]
    problems: list[Problem]
    present: set[str]  # the column keys the file has
    headers: dict[str, str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value).replace("\x00", "").strip()[:CELL_MAX]


def parse_date(value: Any) -> date | None:
    """A date cell, « 31/12/2026 », « 31 décembre 2026 », « 1er mars 2027 » or « 2026-12-31 »; raises ValueError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = plain(_text(value))
    if not text:
        return None
    for pattern, order in ((_NUMERIC_DATE, "dmy"), (_ISO_DATE, "ymd")):
        found = pattern.fullmatch(text)
        if found:
            parts = dict(zip(order, (int(g) for g in found.groups())))
            return date(parts["y"], parts["m"], parts["d"])
    found = _WORDS_DATE.fullmatch(text)
    if found and found.group(2) in MONTHS:
        return date(int(found.group(3)), MONTHS[found.group(2)], int(found.group(1)))
    raise ValueError(text)


def parse_identifier(value: Any) -> tuple[str, str] | None:
    """(identifier, kind) for a SIREN, a SIRET or an RNA number; raises ValueError for anything else."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean(_text(value)).upper()
    if not text:
        return None
    if rna_ok(text):
        return text, "rna"
    # A spreadsheet drops a number's leading zeros.
    if isinstance(value, int) and len(text) in (8, 13):
        text = "0" + text
    if siren_ok(text):
        return text, "siren"
    if siret_ok(text):
        return text, "siret"
    raise ValueError(text)


def parse_module(value: Any) -> int | None:
    text = plain(_text(value))
    if not text:
        return None
    # « 2 », « Module 2 », « 2 – Pilotage des satellites… » (the export's), the dash gone with the accents.
    found = re.fullmatch(r"(?:module )?([1-4])(?:[\s\-:.)].*)?", text)
    if found:
        return int(found.group(1))
    if text in MODULE_BY_TEXT:
        return MODULE_BY_TEXT[text]
    raise ValueError(text)


def split_names(value: Any) -> list[str]:
    """Contributors: separated by semicolons or line breaks."""
    return [" ".join(part.split()) for part in re.split(r"[;\n]", _text(value)) if part.strip()]


def read_lines(sheet: RawSheet) -> ReadLines:
    """Every line of the sheet typed, and every problem found (nothing is refused here: the plan decides)."""
    problems: list[Problem] = []
    lines: list[Line] = []
    headers = sheet.headers

    for row, values in sheet.rows:
        cells = {key: values[position] if position < len(values) else None
                 for position, key in sheet.columns.items()}
        line = Line(row=row)

        def fail(key: str, message: str) -> None:
            problems.append(Problem(row, headers.get(key, ""), message))

        def shown(key: str) -> str:
            return _text(cells.get(key))[:60]

        def text(key: str, maximum: int) -> str:
            value = _text(cells.get(key))
            if key != "description" and key != "comment":
                value = " ".join(value.split())
            if len(value) > maximum:
                fail(key, f"{len(value)} caractères, {maximum} au plus.")
                return value[:maximum]
            return value

        line.title = text("title", TITLE_MAX)
        line.description = text("description", DESCRIPTION_MAX)
        line.axis = text("axis", TITLE_MAX)
        line.comment = text("comment", COMMENT_MAX)

        for key in ("number", "version"):
            raw = cells.get(key)
            if not _text(raw):
                continue
            number = raw if isinstance(raw, int) else None
            if isinstance(raw, float) and raw.is_integer():
                number = int(raw)
            if number is None and _text(raw).isascii() and _text(raw).isdigit() and len(_text(raw)) < 10:
                number = int(_text(raw))
            if number is None or not 0 < number < 2_147_483_647:
                fail(key, f"“{shown(key)}” n’est pas un numéro (ne modifiez pas cette colonne de l’export).")
            else:
                setattr(line, key, number)
        if line.number is not None and line.version is None and "version" not in {p.column for p in problems
                                                                                 if p.row == row}:
            fail("version", "la version de l’action manque (ne modifiez pas cette colonne de l’export).")

        if line.version is not None and line.number is None and "number" not in {p.column for p in problems
                                                                                if p.row == row}:
            # An exported line that lost its number would create a copy of its action.
            fail("number", "le numéro de l’action manque alors que sa version est donnée (ne modifiez pas ces "
                           "colonnes de l’export).")
        if not line.title and line.number is None:
            fail("title", "le titre de l’action est obligatoire.")

        try:
            line.module = parse_module(cells.get("module"))
        except ValueError:
            fail("module", f"“{shown('module')}” n’est pas un module : indiquez 1, 2, 3 ou 4.")

        for key in ("start_on", "deadline"):
            try:
                setattr(line, key, parse_date(cells.get(key)))
            except ValueError:
                fail(key, f"“{shown(key)}” n’est pas une date.")
        if line.start_on and line.deadline and line.deadline < line.start_on:
            fail("deadline", "l’échéance précède la date de début.")

        status_text = plain(_text(cells.get("status")))
        if status_text:
            line.status = STATUS_BY_TEXT.get(status_text)
            if line.status is None:
                labels = ", ".join(STATUS_LABELS.values())
                fail("status", f"“{shown('status')}” n’est pas un statut ({labels}).")
        priority_text = plain(_text(cells.get("priority")))
        if priority_text:
            line.priority = PRIORITY_BY_TEXT.get(priority_text)
            if line.priority is None:
                fail("priority", f"“{shown('priority')}” n’est pas une priorité (Haute, Normale ou Basse).")
        confidential = cells.get("confidential")
        if isinstance(confidential, bool):
            line.confidential = confidential
        elif plain(_text(confidential)):
            answer = plain(_text(confidential))
            if answer in YES or answer in NO:
                line.confidential = answer in YES
            else:
                fail("confidential", f"“{shown('confidential')}” : répondez Oui ou Non.")

        pilot_name = text("pilot", NAME_MAX)
        identifier = None
        try:
            identifier = parse_identifier(cells.get("pilot_id"))
        except ValueError:
            fail("pilot_id", f"“{shown('pilot_id')}” n’est ni un SIREN, ni un SIRET, ni un numéro RNA valide.")
        if identifier and not pilot_name:
            fail("pilot", "l’identifiant du pilote est donné mais pas son nom.")
        if pilot_name:
            line.pilot = PartnerRef(pilot_name, *(identifier or (None, None)))
        for name in split_names(cells.get("contributors")):
            if len(name) > NAME_MAX:
                fail("contributors", f"un nom de {len(name)} caractères, {NAME_MAX} au plus.")
            elif name not in [c.name for c in line.contributors]:
                line.contributors.append(PartnerRef(name))
        if line.confidential and line.contributors:
            fail("contributors", "une action confidentielle ne peut avoir de contributeurs (les partenaires ne "
                                 "la voient pas) : retirez-les ou ôtez le caractère confidentiel.")
        lines.append(line)

    numbers = [line.number for line in lines if line.number is not None]
    for line in lines:
        if line.number is not None and numbers.count(line.number) > 1:
            problems.append(Problem(line.row, headers.get("number", ""),
                                    f"l’action n° {line.number} figure sur plusieurs lignes du fichier."))
    return ReadLines(lines=lines, problems=problems, present=set(headers), headers=headers)
