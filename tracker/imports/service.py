"""The import's rules: who may import, keeping the uploaded file between the preview and the commit, and the commit
itself — everything the file says written in ONE transaction through the domains' own services (partners, axes,
actions with their « import » history entry, commitments, status changes through the action's life cycle), or
nothing at all.

The file is kept server-side (`PendingImport`), found by the SHA-256 of a random token that only the uploader's
preview page holds, and read again at commit: nothing the browser sends back is trusted but the person's choices."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import anyio.to_thread

from tracker.commitments import service as commitments
from tracker.core import clock
from tracker.core.db import analyse, write_transaction
from tracker.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tracker.core.permissions import Viewer
from tracker.imports.files import RawSheet, read_file
from tracker.imports.forms import CommitInput, PartnerChoice, UploadInput
from tracker.imports.lines import ReadLines, plain, read_lines
from tracker.imports.plan import CONFLICT, CREATE, EXISTING, NEW, NONE, UPDATE, Plan, make_plan
from tracker.imports.tables import PendingImport, RoadmapImport
from tracker.commitments.forms import NewCommitment, Terms
from tracker.partners import attachments
from tracker.partners import service as partners
from tracker.partners.forms import PartnerInput
from tracker.partners.kinds import LEGAL_FORM_LABELS
from tracker.roadmaps import service as roadmaps
from tracker.roadmaps.forms import ActionInput
from tracker import lifecycle
from tracker.roadmaps.lifecycle import change_action_status

PENDING_FOR = timedelta(hours=6)
# What an import writes many rows into: their statistics are refreshed after it (core.db.analyse).
IMPORTED_TABLES = ("action", "commitment", "partner", "partner_territory", "roadmap_axis", "action_note", "history_entry")
REFUSED = "Votre rôle ne permet pas d’importer des actions dans cette feuille de route."
EXPIRED = ("Cet aperçu n’est plus disponible (il expire au bout de six heures, ou une fois l’import fait) : "
           "déposez à nouveau le fichier.")
BLOCKED = "Le fichier contient des erreurs : rien n’a été importé. Corrigez les lignes signalées et déposez-le à nouveau."
CONTRIBUTION = "Contribution prévue par la feuille de route de l’atelier (à préciser avec le partenaire)."


class PreviewRefused(InvalidInput):
    """The import cannot go ahead as it stands; the preview is shown again with the reason and nothing is written."""

    def __init__(self, plan: Plan, message: str, *, errors: dict[str, str] | None = None, status_code: int = 422):
        super().__init__(message, errors=errors)
        self.plan = plan
        self.status_code = status_code


async def importable_roadmap(viewer: Viewer, roadmap_id: int) -> tuple[dict, Viewer]:
    """The roadmap (NotFound unless readable) if this person may import into it (Forbidden otherwise), and who acts:
    an administrator acts with the territory's référent rights (help desk), everyone else as themselves."""
    roadmap = await roadmaps.roadmap_for(viewer, roadmap_id)
    if not viewer.can_import_roadmap(roadmap["territory"]):
        raise Forbidden(REFUSED)
    return roadmap, viewer.as_help_desk(roadmap["territory"])


async def imports_of(roadmap_id: int) -> list[dict]:
    """The imports written into a roadmap, newest first, with who made them."""
    return await RoadmapImport.raw(  # on every roadmap page: SQL through `raw`, not a select built each time
        "SELECT i.*, u.full_name AS author_name FROM roadmap_import i LEFT JOIN app_user u ON u.id = i.author "
        "WHERE i.roadmap = {} ORDER BY i.id DESC",
        roadmap_id,
    )


def _read(content: bytes, file_name: str) -> tuple[RawSheet, ReadLines]:
    sheet = read_file(content, file_name)
    return sheet, read_lines(sheet)


async def _previous(roadmap_id: int, sha256: str) -> dict | None:
    """The last import of the same file (same content) into this roadmap."""
    return await RoadmapImport.select(
        RoadmapImport.created_at, RoadmapImport.file_name, RoadmapImport.author.full_name.as_alias("author_name")
    ).where((RoadmapImport.roadmap == roadmap_id) & (RoadmapImport.content_sha256 == sha256)).order_by(
        RoadmapImport.id, ascending=False).first()


async def _plan(viewer: Viewer, roadmap: dict, file_name: str, content: bytes, sha256: str) -> Plan:
    # Unpacking and reading a workbook is CPU work: a worker thread, so the other requests go on.
    sheet, read = await anyio.to_thread.run_sync(_read, content, file_name)
    return await make_plan(viewer, roadmap, sheet, read, file_name=file_name, content_sha256=sha256,
                           previous=await _previous(roadmap["id"], sha256))


def _hash(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


async def receive(viewer: Viewer, roadmap_id: int, upload: UploadInput) -> str:
    """Read an uploaded file and keep it for its preview; returns the preview's token. A file that cannot be read
    (FileRefused) or holds a bad line (PreviewRefused, with the plan to show) is not kept."""
    roadmap, acting = await importable_roadmap(viewer, roadmap_id)
    sha256 = _hash(upload.content)
    plan = await _plan(acting, roadmap, upload.file_name, upload.content, sha256)
    if plan.blocked:
        raise PreviewRefused(plan, BLOCKED)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    async with write_transaction():
        # One file waiting per person and roadmap; none older than a few hours.
        await PendingImport.delete().where(
            (PendingImport.created_at < now - PENDING_FOR)
            | ((PendingImport.author == viewer.user_id) & (PendingImport.roadmap == roadmap_id))
        )
        await PendingImport.insert(PendingImport(
            token_hash=_hash(token.encode()), roadmap=roadmap_id, author=viewer.user_id, file_name=upload.file_name,
            content=upload.content, content_sha256=sha256, created_at=now,
        ))
    return token


async def _pending(viewer: Viewer, roadmap_id: int, token: str) -> dict:
    row = await PendingImport.select().where(
        (PendingImport.token_hash == _hash(token.encode()))
        & (PendingImport.roadmap == roadmap_id)
        & (PendingImport.author == viewer.user_id)
        & (PendingImport.created_at >= clock.now() - PENDING_FOR)
    ).first()
    if row is None or _hash(bytes(row["content"])) != row["content_sha256"]:
        raise NotFound(EXPIRED)
    row["content"] = bytes(row["content"])
    return row


async def preview(viewer: Viewer, roadmap_id: int, token: str) -> Plan:
    """What the kept file would do now (the database may have changed since it was uploaded)."""
    roadmap, acting = await importable_roadmap(viewer, roadmap_id)
    pending = await _pending(viewer, roadmap_id, token)
    return await _plan(acting, roadmap, pending["file_name"], pending["content"], pending["content_sha256"])


def _decide(plan: Plan, decisions: CommitInput) -> dict[int, PartnerChoice]:
    """Each partner the file names: as the person chose on the preview (or its default), checked against what the
    preview offered; PreviewRefused naming the choice otherwise."""
    chosen: dict[int, PartnerChoice] = {}
    errors: dict[str, str] = {}
    for mention in plan.partners:
        if mention.resolved:
            chosen[mention.index] = PartnerChoice(EXISTING, partner_id=mention.match["id"])
            continue
        choice = decisions.choices.get(mention.index)
        if choice is None:
            default = mention.default
            choice = (PartnerChoice(EXISTING, partner_id=int(default[1:])) if default.startswith("p")
                      else PartnerChoice(NEW, legal_form=mention.default_legal_form or None) if default == "nouveau"
                      else PartnerChoice(NONE))
        field = f"partenaire_{mention.index}"
        if choice.kind == EXISTING and choice.partner_id not in {s["id"] for s in mention.suggestions}:
            errors[field] = f"« {mention.name} » : choisissez l’un des partenaires proposés."
        elif choice.kind == NEW and not mention.can_create:
            errors[field] = (f"« {mention.name} » : seuls les référents du territoire et les administrateurs "
                             "ajoutent des partenaires à l’annuaire.")
        elif choice.kind == NEW and not choice.legal_form:
            errors[f"forme_{mention.index}"] = f"« {mention.name} » : choisissez sa forme juridique."
        chosen[mention.index] = choice
    if errors:
        raise PreviewRefused(plan, "Précisez les partenaires signalés : rien n’a été importé.", errors=errors)
    return chosen


async def _partner_ids(acting: Viewer, plan: Plan, chosen: dict[int, PartnerChoice]) -> tuple[dict[int, int | None], int]:
    """The partner of each mention, created or linked to the territory through the partners service."""
    territory = plan.roadmap["territory"]
    linked = {p["id"] for p in await roadmaps.partners_of(territory)}
    ids: dict[int, int | None] = {}
    created = 0
    for mention in plan.partners:
        choice = chosen[mention.index]
        try:
            if choice.kind == EXISTING:
                # A partner of another territory is attached only if this person keeps it; else its territories
                # get a request (issue 9) and the line goes without it until they accept.
                if choice.partner_id in linked or await attachments.attach_matched(acting, choice.partner_id,
                                                                                   territory):
                    linked.add(choice.partner_id)
                    ids[mention.index] = choice.partner_id
                else:
                    ids[mention.index] = None
            elif choice.kind == NEW:
                identifier = {mention.kind: mention.identifier} if mention.kind else {}
                values = PartnerInput(name=mention.name, legal_form=choice.legal_form or "",
                                      ticked=frozenset({territory}), confirm_name=True, **identifier)
                ids[mention.index] = await partners.create_partner(acting, values)
                created += 1
            else:
                ids[mention.index] = None
        except DomainError as error:
            details = " ".join(error.errors.values()) if error.errors else error.message
            form = f" ({LEGAL_FORM_LABELS.get(choice.legal_form or '', '')})" if choice.kind == NEW else ""
            error.message = f"Partenaire « {mention.name} »{form} : {details}"
            raise
    return ids, created


async def commit(viewer: Viewer, roadmap_id: int, token: str, decisions: CommitInput) -> dict:
    """Write what the kept file says, in one transaction, or nothing; returns the kept import record."""
    roadmap, acting = await importable_roadmap(viewer, roadmap_id)
    pending = await _pending(viewer, roadmap_id, token)
    sheet, read = await anyio.to_thread.run_sync(_read, pending["content"], pending["file_name"])
    now = clock.now()
    async with write_transaction(), lifecycle.deferred():  # the figures kept for the review: once, at the end
        # Planned again inside the transaction: the database as it is when the import is written.
        plan = await make_plan(acting, roadmap, sheet, read, file_name=pending["file_name"],
                               content_sha256=pending["content_sha256"],
                               previous=await _previous(roadmap_id, pending["content_sha256"]))
        if plan.blocked:
            raise PreviewRefused(plan, BLOCKED)
        if plan.previous and not decisions.confirm_duplicate:
            raise PreviewRefused(
                plan, "Ce fichier a déjà été importé dans cette feuille de route : cochez « Importer quand même » "
                "pour créer ses actions une seconde fois. Rien n’a été importé.", status_code=409,
                errors={"confirmer_doublon": "Confirmez pour importer ce fichier une seconde fois."})
        chosen = _decide(plan, decisions)
        partner_ids, created_partners = await _partner_ids(acting, plan, chosen)
        axes = {plain(title): await roadmaps.create_axis(acting, roadmap_id, title) for title in plan.new_axes}
        creations = [step for step in plan.lines if step.kind == CREATE]
        created = await roadmaps.create_actions(acting, roadmap_id, [(ActionInput(
            title=step.line.title, description=step.line.description, module=step.line.module,
            axis=step.axis_id or (axes[plain(step.new_axis)] if step.new_axis else None),
            pilot=partner_ids[step.pilot.index] if step.pilot else None, start_on=step.line.start_on,
            deadline=step.line.deadline, priority=step.line.priority or "normale",
            confidential=bool(step.line.confidential),
        ), step.status) for step in creations], at=now, comment="import") if creations else []
        action_ids = {id(step): action_id for step, action_id in zip(creations, created)}
        for step in plan.lines:
            line = step.line
            try:
                if step.kind == CREATE:
                    action_id = action_ids[id(step)]
                    contributors = {partner_ids[c.index] for c in step.contributors} - {None}
                    for partner_id in sorted(contributors):
                        await commitments.create_commitment(acting, action_id, NewCommitment(
                            partner=partner_id, terms=Terms(role="contributeur", description=CONTRIBUTION)), at=now)
                    if step.note:
                        await roadmaps.add_note(acting, action_id, step.note, at=now)
                elif step.kind == UPDATE:
                    action_id, version = step.action["id"], line.version
                    if step.deadline_changes:
                        version = await roadmaps.change_deadline(acting, action_id, line.deadline, version,
                                                                 comment="import", at=now)
                    if step.status:
                        version = (await change_action_status(acting, action_id, step.status, line.comment, version,
                                                              at=now)).version
                    if step.note:
                        await roadmaps.add_note(acting, action_id, step.note, at=now)
            except DomainError as error:
                error.message = f"Ligne {line.row} : {error.message}"
                if isinstance(error, Conflict):
                    error.message += " Rien n’a été importé : déposez à nouveau le fichier pour voir l’aperçu à jour."
                raise
        record = RoadmapImport(
            roadmap=roadmap_id, territory=roadmap["territory"], author=viewer.user_id, file_name=pending["file_name"],
            content_sha256=pending["content_sha256"], lines=len(plan.lines), created_actions=plan.count(CREATE),
            updated_actions=plan.count(UPDATE), conflicts=plan.count(CONFLICT), created_partners=created_partners,
            created_axes=len(axes), created_at=now,
        )
        await record.save()
        await PendingImport.delete().where(PendingImport.id == pending["id"])
    await analyse(*IMPORTED_TABLES)  # a bulk load: the planners' statistics follow it, after the commit
    return {"id": record.id, "created_actions": record.created_actions, "updated_actions": record.updated_actions,
            "conflicts": record.conflicts}
