"""Reading agreements: one agreement with its parties and themes (and who may edit it), the list with its filters,
the balance of what each party brings, the history. The other modules of this package build on `agreement_for`
and `editable_agreement`."""
from __future__ import annotations

import unicodedata
from datetime import date

from piccolo.query.functions.aggregate import Count

from tracker.agreements.forms import AgreementFilters
from tracker.agreements.lifecycle import NOT_FOUND_AGREEMENT, NotNow, party_rows
from tracker.agreements.states import AGREEMENT_STATE_LABELS, FINAL
from tracker.agreements.tables import Agreement, AgreementAction, AgreementParty, AgreementTheme, Obligation
from tracker.core import clock
from tracker.core.errors import Forbidden, NotFound
from tracker.core.permissions import Viewer
from tracker.history import service as history
from tracker.roadmaps.statuses import STATUS_LABELS, is_overdue

PAGE_SIZE = 50
OPEN = frozenset(AGREEMENT_STATE_LABELS) - FINAL

DRAFT_ONLY = (
    "Le texte du contrat ne se modifie qu’en brouillon ou en négociation ; une fois soumis à la signature, "
    "rouvrez la négociation pour le changer."
)
CLOSED_AGREEMENT = "Ce contrat est échu ou résilié : son suivi est clos."
MAY_NOT_EDIT = "Votre rôle ne permet pas de modifier ce contrat."


def french_order(text: str) -> str:
    """Sort key: « Énergie » between « Eau » and « Habitat », not after « Tourisme »."""
    return unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode().casefold()


# --- one agreement ---------------------------------------------------------------------------------------------


async def agreement_for(viewer: Viewer, agreement_id: int) -> dict:
    """The agreement with its parties and themes, or NotFound when it does not exist or is not readable."""
    agreement = (
        await Agreement.select(
            Agreement.all_columns(),
            Agreement.territory.name.as_alias("lead_name"),
            Agreement.created_by.full_name.as_alias("created_by_name"),
        )
        .where(Agreement.id == agreement_id)
        .first()
    )
    parties = await party_rows(agreement_id) if agreement else []
    if agreement is None or not viewer.can_read_agreement([p["territory"] for p in parties]):
        raise NotFound(NOT_FOUND_AGREEMENT)
    agreement["parties"] = parties
    agreement["party_territories"] = [p["territory"] for p in parties]
    agreement["themes"] = await themes_of(agreement_id)
    today = clock.today()
    # In force but past its end: the `contrats-echus` command has not run yet; the page says so.
    agreement["end_passed"] = bool(
        agreement["state"] in {"en_vigueur", "suspendu"} and agreement["ends_on"] and agreement["ends_on"] < today
    )
    return agreement


def require_edit(viewer: Viewer, agreement: dict, refused: str = MAY_NOT_EDIT) -> None:
    """Éditeurs and référents of any party territory edit the agreement (Forbidden otherwise)."""
    if not viewer.can_edit_agreement(agreement["party_territories"]):
        raise Forbidden(refused)


def require_state(agreement: dict, states: frozenset[str] | set[str], not_now: str) -> None:
    if agreement["state"] not in states:
        raise NotNow(not_now)


async def editable_agreement(
    viewer: Viewer,
    agreement_id: int,
    states: frozenset[str] | None = None,
    not_now: str = DRAFT_ONLY,
    *,
    refused: str = MAY_NOT_EDIT,
) -> dict:
    """The agreement, if this person may edit it (NotFound / Forbidden otherwise) and, when `states` is given,
    if it is in one of them (NotNow with `not_now` otherwise). Routes ask it before reading what was sent."""
    agreement = await agreement_for(viewer, agreement_id)
    require_edit(viewer, agreement, refused)
    if states is not None:
        require_state(agreement, states, not_now)
    return agreement


async def themes_of(agreement_id: int) -> list[str]:
    rows = await AgreementTheme.select(AgreementTheme.theme).where(AgreementTheme.agreement == agreement_id)
    return sorted((r["theme"] for r in rows), key=french_order)


async def history_of(agreement_id: int) -> list[dict]:
    return await history.entries_for("agreement", agreement_id)


# --- the list ----------------------------------------------------------------------------------------------------


def _visible_agreements(viewer: Viewer):
    """Condition on Agreement: all for the ADGCF, else agreements one of whose parties is the viewer's."""
    if viewer.sees_all_territories:
        return Agreement.id.is_not_null()
    if not viewer.roles:
        return Agreement.id.is_null()
    return Agreement.id.is_in(
        AgreementParty.select(AgreementParty.agreement).where(AgreementParty.territory.is_in(list(viewer.roles)))
    )


async def list_agreements(viewer: Viewer, filters: AgreementFilters) -> dict:
    where = _visible_agreements(viewer)
    visible = where
    if filters.state:
        where &= Agreement.state == filters.state
    if filters.theme:
        where &= Agreement.id.is_in(
            AgreementTheme.select(AgreementTheme.agreement).where(AgreementTheme.theme == filters.theme)
        )
    if filters.action:
        where &= Agreement.id.is_in(
            AgreementAction.select(AgreementAction.agreement).where(AgreementAction.action == filters.action)
        )
    total = await Agreement.count().where(where)
    rows = (
        await Agreement.select(
            Agreement.id, Agreement.title, Agreement.state, Agreement.in_force_on, Agreement.ends_on
        )
        .where(where)
        .order_by(Agreement.updated_at, ascending=False)
        .order_by(Agreement.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((filters.page - 1) * PAGE_SIZE)
    )
    ids = [r["id"] for r in rows] or [0]
    parties = await AgreementParty.select(
        AgreementParty.agreement, AgreementParty.territory.name.as_alias("name")
    ).where(AgreementParty.agreement.is_in(ids)).order_by(AgreementParty.position).order_by(AgreementParty.id)
    themes = await AgreementTheme.select(AgreementTheme.agreement, AgreementTheme.theme).where(
        AgreementTheme.agreement.is_in(ids)
    )
    progress = await Obligation.select(
        Obligation.agreement, Obligation.status, Count(Obligation.id).as_alias("n")
    ).where(Obligation.agreement.is_in(ids)).group_by(Obligation.agreement, Obligation.status)
    by_id = {r["id"]: r for r in rows}
    for row in rows:
        row.update(parties=[], themes=[], total=0, done=0)
    for p in parties:
        by_id[p["agreement"]]["parties"].append(p["name"])
    for t in themes:
        by_id[t["agreement"]]["themes"].append(t["theme"])
    for g in progress:
        by_id[g["agreement"]]["total"] += g["n"]
        if g["status"] == "realisee":
            by_id[g["agreement"]]["done"] += g["n"]
    for row in rows:
        row["themes"].sort(key=french_order)
    # Themes in use among the agreements this person may see (never those of others).
    used = await AgreementTheme.select(AgreementTheme.theme).where(
        AgreementTheme.agreement.is_in(Agreement.select(Agreement.id).where(visible))
    ).distinct()
    return {
        "rows": rows,
        "total": total,
        "page": filters.page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "themes": sorted({r["theme"] for r in used}, key=french_order),
    }


# --- balance: what each party brings -----------------------------------------------------------------------------


def beneficiary_label(obligation: dict, parties: list[dict]) -> str:
    """Whom an obligation is for: the named beneficiary, else the other party, else all the others."""
    if obligation.get("beneficiary"):
        return next((p["name"] for p in parties if p["id"] == obligation["beneficiary"]), "")
    others = [p["name"] for p in parties if p["id"] != obligation["owner"]]
    if len(others) == 1:
        return others[0]
    return "l’ensemble des autres parties"


async def balance_of(agreement: dict) -> dict:
    """Obligations grouped under the party that brings them, and each side's progress (counts by status,
    overdue, share done = réalisées / total)."""
    today = clock.today()
    parties = agreement["parties"]
    rows = await Obligation.select(
        Obligation.id,
        Obligation.title,
        Obligation.description,
        Obligation.owner,
        Obligation.beneficiary,
        Obligation.partner,
        Obligation.deadline,
        Obligation.status,
        Obligation.version,
        Obligation.partner.name.as_alias("partner_name"),
    ).where(Obligation.agreement == agreement["id"])
    rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or date.max, r["id"]))
    by_party: dict[int, list[dict]] = {p["id"]: [] for p in parties}
    summary: dict[int, dict] = {}
    for party in parties:
        summary[party["id"]] = {"by_status": {code: 0 for code in STATUS_LABELS}, "total": 0, "done": 0,
                                "overdue": 0, "share": None}
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today)
        row["for_label"] = beneficiary_label(row, parties)
        by_party.setdefault(row["owner"], []).append(row)
        side = summary.get(row["owner"])
        if side is not None:
            side["by_status"][row["status"]] += 1
            side["total"] += 1
            side["overdue"] += row["overdue"]
    for side in summary.values():
        side["done"] = side["by_status"]["realisee"]
        side["share"] = round(100 * side["done"] / side["total"]) if side["total"] else None
    return {"by_party": by_party, "summary": summary, "count": len(rows)}
