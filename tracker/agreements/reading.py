"""Reading agreements: one agreement with its parties, witnesses and themes (and who may edit it), the list with its
filters, a territory's agreements, the balance of what each party brings theme by theme, the history (the
agreement's and its amendments'). The other modules of this package build on `agreement_for` and
`editable_agreement`."""
from __future__ import annotations

import unicodedata
from datetime import date

from piccolo.query.functions.aggregate import Count

from tracker.agreements.forms import AgreementFilters
from tracker.agreements.lifecycle import NOT_FOUND_AGREEMENT, NotNow, party_rows
from tracker.agreements.states import AGREEMENT_STATE_LABELS, FINAL
from tracker.agreements.tables import (
    Agreement,
    AgreementAction,
    AgreementAmendment,
    AgreementParty,
    AgreementTheme,
    Obligation,
)
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
            Agreement.recorded_by.full_name.as_alias("recorded_by_name"),
        )
        .where(Agreement.id == agreement_id)
        .first()
    )
    everyone = await party_rows(agreement_id) if agreement else []
    if agreement is None or not viewer.can_read_agreement([p["territory"] for p in everyone]):
        raise NotFound(NOT_FOUND_AGREEMENT)
    # Parties bring and receive, and edit the agreement; witnesses (État, Région) read it and may sign it.
    agreement["parties"] = [p for p in everyone if p["role"] == "partie"]
    agreement["witnesses"] = [p for p in everyone if p["role"] != "partie"]
    agreement["signatories"] = everyone
    agreement["party_territories"] = [p["territory"] for p in agreement["parties"]]
    agreement["member_territories"] = [p["territory"] for p in everyone]
    signatures = [p["signed_on"] for p in agreement["parties"]]
    # The day the last party signed, once all have: the date the agreement was signed.
    agreement["signed_on"] = max(signatures) if signatures and all(signatures) else None
    agreement["theme_rows"] = await theme_rows(agreement_id)
    agreement["themes"] = [t["theme"] for t in agreement["theme_rows"]]
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


async def theme_rows(agreement_id: int) -> list[dict]:
    """The agreement's themes in its order: id, theme, description, position."""
    return await AgreementTheme.select(
        AgreementTheme.id, AgreementTheme.theme, AgreementTheme.description, AgreementTheme.position
    ).where(AgreementTheme.agreement == agreement_id).order_by(AgreementTheme.position).order_by(AgreementTheme.id)


async def themes_of(agreement_id: int) -> list[str]:
    """The themes' names, in the agreement's order."""
    return [row["theme"] for row in await theme_rows(agreement_id)]


async def history_of(agreement_id: int) -> list[dict]:
    """The agreement's history and its amendments', newest first; an amendment's entries carry its number
    (`amendment_number`)."""
    numbers = {
        row["id"]: row["number"]
        for row in await AgreementAmendment.select(AgreementAmendment.id, AgreementAmendment.number).where(
            AgreementAmendment.agreement == agreement_id)
    }
    entries = await history.entries_for_subjects({"agreement": [agreement_id], "amendment": list(numbers)})
    for entry in entries:
        entry["amendment_number"] = numbers.get(entry["subject_id"]) if entry["subject_type"] == "amendment" else None
    return entries


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
    if filters.region:
        where &= Agreement.id.is_in(
            AgreementParty.select(AgreementParty.agreement).where(AgreementParty.territory.region == filters.region)
        )
    if filters.kind:
        where &= Agreement.id.is_in(
            AgreementParty.select(AgreementParty.agreement).where(AgreementParty.territory.kind == filters.kind)
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
    ).order_by(AgreementTheme.position).order_by(AgreementTheme.id)
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


def _progress() -> dict:
    return {"by_status": {code: 0 for code in STATUS_LABELS}, "total": 0, "done": 0, "overdue": 0, "share": None}


def _count(progress: dict, row: dict) -> None:
    progress["by_status"][row["status"]] += 1
    progress["total"] += 1
    progress["overdue"] += row["overdue"]


def _share(progress: dict) -> None:
    progress["done"] = progress["by_status"]["realisee"]
    progress["share"] = round(100 * progress["done"] / progress["total"]) if progress["total"] else None


async def balance_of(agreement: dict) -> dict:
    """What each party brings, theme by theme, and how far it has gone.

    - `themes`: in the agreement's order (then « Sans thème » when some obligations have none, or the agreement
      has no themes): {"theme": the theme row or None, "key": its id or 0, "sides": [{"party", "obligations",
      "progress"} for each party]};
    - `by_party`: each party's obligations (all themes); `summary`: each party's progress over all themes (counts
      by status, overdue, share done = réalisées / total); `count`.
    Obligations ended by an amendment stay listed (`ended`) but no longer count in the progress."""
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
        Obligation.theme,
        Obligation.ended_on,
        Obligation.partner.name.as_alias("partner_name"),
        Obligation.added_by.number.as_alias("added_by_number"),
        Obligation.ended_by.number.as_alias("ended_by_number"),
    ).where(Obligation.agreement == agreement["id"])
    rows.sort(key=lambda r: (r["deadline"] is None, r["deadline"] or date.max, r["id"]))
    themes = agreement.get("theme_rows", [])
    known = {t["id"] for t in themes}
    groups = [{"theme": t, "key": t["id"]} for t in themes]
    if not themes or any(r["theme"] not in known for r in rows):
        groups.append({"theme": None, "key": 0})
    cells = {(g["key"], p["id"]): {"party": p, "obligations": [], "progress": _progress()} for g in groups for p in parties}
    by_party: dict[int, list[dict]] = {p["id"]: [] for p in parties}
    summary = {p["id"]: _progress() for p in parties}
    for row in rows:
        row["overdue"] = is_overdue(row["status"], row["deadline"], today) and row["ended_on"] is None
        row["ended"] = row["ended_on"] is not None
        row["for_label"] = beneficiary_label(row, parties)
        row["theme_key"] = row["theme"] if row["theme"] in known else 0
        by_party.setdefault(row["owner"], []).append(row)
        cell = cells.get((row["theme_key"], row["owner"]))
        if cell is not None:
            cell["obligations"].append(row)
        if row["ended"]:
            continue
        if cell is not None:
            _count(cell["progress"], row)
        if row["owner"] in summary:
            _count(summary[row["owner"]], row)
    for progress in [*summary.values(), *(c["progress"] for c in cells.values())]:
        _share(progress)
    for group in groups:
        group["sides"] = [cells[(group["key"], p["id"])] for p in parties]
    return {"by_party": by_party, "summary": summary, "themes": groups, "count": len(rows)}


# --- a territory's agreements ---------------------------------------------------------------------------------


async def agreements_of_territory(viewer: Viewer, territory_id: int) -> list[dict]:
    """The agreements this territory is a party (or a witness) to that this person may read, with their state and
    the other parties: on the territory's page, and on its public card for the other parties' members."""
    ids = [r["agreement"] for r in await AgreementParty.select(AgreementParty.agreement).where(
        AgreementParty.territory == territory_id)]
    if not ids:
        return []
    rows = await Agreement.select(
        Agreement.id, Agreement.title, Agreement.state, Agreement.in_force_on, Agreement.ends_on
    ).where(Agreement.id.is_in(ids)).order_by(Agreement.title)
    members: dict[int, list[dict]] = {}
    for party in await AgreementParty.select(
        AgreementParty.agreement, AgreementParty.territory, AgreementParty.role,
        AgreementParty.territory.name.as_alias("name"),
    ).where(AgreementParty.agreement.is_in(ids)).order_by(AgreementParty.position).order_by(AgreementParty.id):
        members.setdefault(party["agreement"], []).append(party)
    found = []
    for row in rows:
        everyone = members.get(row["id"], [])
        if not viewer.can_read_agreement([p["territory"] for p in everyone]):
            continue
        row["others"] = [p["name"] for p in everyone if p["territory"] != territory_id]
        row["role"] = next((p["role"] for p in everyone if p["territory"] == territory_id), "partie")
        found.append(row)
    return found
