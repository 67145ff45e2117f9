"""What an import would do, line by line, read against the database and written nowhere: the preview shows it,
and the commit recomputes it inside its transaction before doing exactly that.

A line without a number creates an action (its axis created on the fly, its partners matched by identifier, then by
name, or created). A line with a number comes back from an export: its status, its deadline and its comment are
compared with the action as it is now; a line whose action changed in the app since the export is a conflict and
is not applied."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tracker.core.french import date_fr, datetime_fr
from tracker.core.permissions import Viewer
from tracker.imports.files import RawSheet
from tracker.imports.lines import Line, PartnerRef, Problem, ReadLines, plain
from tracker.partners.similar import name_key, similar_names
from tracker.partners.tables import Partner
from tracker.roadmaps import service as roadmaps
from tracker.roadmaps.lifecycle import ACTION
from tracker.roadmaps.statuses import STATUS_LABELS
from tracker.roadmaps.tables import Action

CREATE, UPDATE, UNCHANGED, CONFLICT = "create", "update", "unchanged", "conflict"
EXISTING, NEW, NONE = "existing", "new", "none"


@dataclass
class PartnerMention:
    """A partner the file names (once, however many lines name it), and how it can be resolved."""

    index: int  # its number in the preview form (partenaire_<index>)
    name: str
    identifier: str | None
    kind: str | None
    rows: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # pilote, contributeur
    match: dict | None = None  # {id, name, linked, by}: found by identifier, or by the exact name
    suggestions: list[dict] = field(default_factory=list)  # {id, name, linked}: names close to it
    can_create: bool = False  # the viewer keeps the territory's partner directory
    can_link: bool = False
    note: str = ""

    @property
    def resolved(self) -> bool:
        """Nothing to choose: the file's partner is known (and linked to the territory, or about to be)."""
        return self.match is not None and (self.match["linked"] or self.can_link)

    @property
    def default(self) -> str:
        """The choice the preview offers first: a known partner, the closest name, else a new partner."""
        if self.resolved:
            return f"p{self.match['id']}"
        if self.suggestions:
            return f"p{self.suggestions[0]['id']}"
        return "nouveau" if self.can_create else "aucun"

    @property
    def default_legal_form(self) -> str:
        return "association" if self.kind == "rna" else ""


@dataclass
class LinePlan:
    line: Line
    kind: str
    action: dict | None = None  # the action as it is now (a line that comes back from an export)
    axis_id: int | None = None
    new_axis: str | None = None
    pilot: PartnerMention | None = None
    contributors: list[PartnerMention] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # what will happen, in French
    notes: list[str] = field(default_factory=list)  # what the person should know (not blocking)
    status: str | None = None  # the status to move to
    deadline_changes: bool = False
    note: str = ""  # a follow-up note to add


@dataclass
class Plan:
    roadmap: dict
    file_name: str
    content_sha256: str
    sheet: RawSheet
    lines: list[LinePlan]
    partners: list[PartnerMention]
    new_axes: list[str]
    problems: list[Problem]
    previous: dict | None  # an earlier import of the same file into this roadmap

    def count(self, kind: str) -> int:
        return sum(1 for line in self.lines if line.kind == kind)

    @property
    def blocked(self) -> bool:
        return bool(self.problems)

    @property
    def choices(self) -> list[PartnerMention]:
        return [p for p in self.partners if not p.resolved]


def _mention_key(ref: PartnerRef) -> str:
    return f"id:{ref.identifier}" if ref.identifier else f"nom:{name_key(ref.name) or plain(ref.name)}"


async def _partners(viewer: Viewer, roadmap: dict, refs: list[tuple[int, str, PartnerRef]]) -> dict[str, PartnerMention]:
    """One mention per partner named in the file, matched against the directory."""
    territory = roadmap["territory"]
    may_manage = viewer.can_manage_territory(territory)
    mentions: dict[str, PartnerMention] = {}
    for row, role, ref in refs:
        key = _mention_key(ref)
        mention = mentions.get(key)
        if mention is None:
            mention = mentions[key] = PartnerMention(index=len(mentions) + 1, name=ref.name, identifier=ref.identifier,
                                                     kind=ref.kind, can_create=may_manage, can_link=may_manage)
        if row not in mention.rows:
            mention.rows.append(row)
        if role not in mention.roles:
            mention.roles.append(role)
    if not mentions:
        return mentions

    linked = await roadmaps.partners_of(territory)
    linked_ids = {p["id"] for p in linked}
    identifiers = {m.identifier for m in mentions.values() if m.identifier}
    sirens = {i[:9] for i in identifiers if len(i) == 14} | {i for i in identifiers if len(i) == 9}
    by_identifier: list[dict] = []
    if identifiers:
        where = Partner.rna.is_in(sorted(identifiers)) | Partner.siret.is_in(sorted(identifiers))
        if sirens:
            where |= Partner.siren.is_in(sorted(sirens))
        by_identifier = await Partner.select(Partner.id, Partner.name, Partner.siren, Partner.siret, Partner.rna).where(
            where)
    others: list[dict] | None = None
    for mention in mentions.values():
        if mention.identifier:
            ident = mention.identifier
            found = next((p for p in by_identifier if ident in (p["rna"], p["siret"], p["siren"])
                          or (len(ident) == 14 and p["siren"] == ident[:9])
                          or (len(ident) == 9 and (p["siret"] or "").startswith(ident))), None)
            if found:
                mention.match = {"id": found["id"], "name": found["name"], "linked": found["id"] in linked_ids,
                                 "by": "identifiant"}
        if mention.match is None:
            key = name_key(mention.name)
            same = [p for p in linked if key and name_key(p["name"]) == key]
            if len(same) == 1:
                mention.match = {"id": same[0]["id"], "name": same[0]["name"], "linked": True, "by": "nom"}
        if mention.match is not None and not mention.resolved:
            # Known to the directory, but not to this territory, and this person does not keep its directory.
            mention.note = (f"« {mention.match['name']} » est dans l’annuaire mais ne travaille pas encore avec le "
                            "territoire : seul un référent peut l’y rattacher.")
        if mention.resolved:
            continue
        mention.suggestions = [{**p, "linked": True} for p in similar_names(mention.name, linked)]
        if mention.can_link:
            if others is None:
                others = [p for p in await Partner.select(Partner.id, Partner.name) if p["id"] not in linked_ids]
            mention.suggestions += [{**p, "linked": False} for p in similar_names(mention.name, others)]
    return mentions


async def make_plan(
    viewer: Viewer, roadmap: dict, sheet: RawSheet, read: ReadLines, *, file_name: str, content_sha256: str,
    previous: dict | None,
) -> Plan:
    """What the file would do in this roadmap, seen by `viewer` (who may import into it)."""
    problems = list(read.problems)
    headers = read.headers
    lines = read.lines

    # Axes: the roadmap's, then those the file names for the first time, in the order it names them.
    axes = {plain(a["title"]): a["id"] for a in await roadmaps.axes_of(roadmap["id"])}
    new_axes: dict[str, str] = {}

    # Lines that come back from an export: the actions as they are now.
    numbers = sorted({line.number for line in lines if line.number is not None})
    current: dict[int, dict] = {}
    if numbers:
        rows = await Action.select(
            Action.id, Action.title, Action.status, Action.deadline, Action.start_on, Action.version,
            Action.roadmap, Action.territory, Action.confidential, Action.updated_at,
        ).where(Action.id.is_in(numbers))
        current = {r["id"]: r for r in rows if r["roadmap"] == roadmap["id"]
                   and viewer.can_read_action(r["territory"], r["confidential"])}
    existing_titles = {plain(r["title"]) for r in await Action.select(Action.title).where(
        Action.roadmap == roadmap["id"])}

    refs: list[tuple[int, str, PartnerRef]] = []
    for line in lines:
        if line.number is None:
            if line.pilot:
                refs.append((line.row, "pilote", line.pilot))
            refs += [(line.row, "contributeur", c) for c in line.contributors]
    mentions = await _partners(viewer, roadmap, refs)

    plans: list[LinePlan] = []
    titles_seen: set[str] = set()
    for line in lines:
        if line.number is not None:
            plans.append(_update_plan(line, current.get(line.number), headers, problems))
            continue
        plan = LinePlan(line=line, kind=CREATE, status=line.status or ACTION.initial)
        if line.axis:
            key = plain(line.axis)
            if key in axes:
                plan.axis_id = axes[key]
            else:
                plan.new_axis = new_axes.setdefault(key, line.axis)
        if line.pilot:
            plan.pilot = mentions[_mention_key(line.pilot)]
        plan.contributors = [mentions[_mention_key(c)] for c in line.contributors]
        plan.changes.append(f"Action créée au statut « {STATUS_LABELS[plan.status]} »")
        if plan.new_axis:
            plan.changes.append(f"dans un nouvel axe « {plan.new_axis} »")
        if line.comment:
            plan.note = line.comment
            plan.changes.append("avec une note de suivi")
        title = plain(line.title)
        if title in existing_titles:
            plan.notes.append("Une action de même intitulé existe déjà dans la feuille de route.")
        elif title in titles_seen:
            plan.notes.append("Une autre ligne du fichier porte le même intitulé.")
        titles_seen.add(title)
        plans.append(plan)

    problems.sort(key=lambda p: p.row)
    return Plan(roadmap=roadmap, file_name=file_name, content_sha256=content_sha256, sheet=sheet, lines=plans,
                partners=list(mentions.values()), new_axes=list(new_axes.values()), problems=problems,
                previous=previous)


def _update_plan(line: Line, action: dict | None, headers: dict[str, str], problems: list[Problem]) -> LinePlan:
    """A line of an exported roadmap, compared with its action as it is now."""
    plan = LinePlan(line=line, kind=UNCHANGED, action=action)
    if action is None:
        problems.append(Problem(line.row, headers.get("number", ""),
                                f"l’action n° {line.number} n’existe pas dans cette feuille de route."))
        return plan
    if line.status is not None and line.status != action["status"]:
        transition = ACTION.transition(action["status"], line.status)
        if transition is not None and transition.needs_comment("editor") and not line.comment:
            problems.append(Problem(line.row, headers.get("comment") or headers.get("status", ""), transition.comment))
        plan.status = line.status
        plan.changes.append(f"Statut : {STATUS_LABELS[action['status']]} → {STATUS_LABELS[line.status]}"
                            + (f" (« {line.comment} »)" if line.comment else ""))
    if "deadline" in headers and line.deadline != action["deadline"]:
        if line.deadline and action["start_on"] and line.deadline < action["start_on"]:
            problems.append(Problem(line.row, headers["deadline"], "l’échéance précède la date de début de l’action "
                                    f"({date_fr(action['start_on'])})."))
        plan.deadline_changes = True
        plan.changes.append(f"Échéance : {_day(action['deadline'])} → {_day(line.deadline)}")
    if line.comment and plan.status is None:
        plan.note = line.comment
        plan.changes.append(f"Note de suivi : « {line.comment} »")
    if plan.changes:
        plan.kind = UPDATE
        if line.version != action["version"]:
            plan.kind = CONFLICT
            plan.notes.append(
                f"Conflit : l’action a été modifiée dans l’application depuis l’export (le "
                f"{datetime_fr(action['updated_at'])}). Cette ligne n’est pas appliquée : exportez à nouveau la "
                "feuille de route pour la reprendre."
            )
    return plan


def _day(value: date | None) -> str:
    return date_fr(value) if value else "aucune"
